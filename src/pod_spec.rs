//! Where the pod spec lives in each kind the policy handles.

/// The object keys leading to the pod spec of a `group`/`kind`, or `None`
/// for kinds that carry no pod spec (or that the policy does not handle).
///
/// ```
/// use host_gateway_policy::pod_spec::pod_spec_path;
///
/// assert_eq!(pod_spec_path("apps", "Deployment"), Some(&["spec", "template", "spec"][..]));
/// assert_eq!(pod_spec_path("example.com", "Deployment"), None);
/// ```
pub fn pod_spec_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    const POD: &[&str] = &["spec"];
    const POD_TEMPLATE: &[&str] = &["template", "spec"];
    const WORKLOAD: &[&str] = &["spec", "template", "spec"];
    const CRON_JOB: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];

    match (group, kind) {
        ("", "Pod") => Some(POD),
        ("", "PodTemplate") => Some(POD_TEMPLATE),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job") => Some(WORKLOAD),
        ("batch", "CronJob") => Some(CRON_JOB),
        _ => None,
    }
}

/// Every kind the policy handles, as `(group, kind)`.
pub const HANDLED_KINDS: [(&str, &str); 9] = [
    ("", "Pod"),
    ("", "PodTemplate"),
    ("", "ReplicationController"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::pod("", "Pod", "spec")]
    #[case::pod_template("", "PodTemplate", "template.spec")]
    #[case::replication_controller("", "ReplicationController", "spec.template.spec")]
    #[case::deployment("apps", "Deployment", "spec.template.spec")]
    #[case::replica_set("apps", "ReplicaSet", "spec.template.spec")]
    #[case::stateful_set("apps", "StatefulSet", "spec.template.spec")]
    #[case::daemon_set("apps", "DaemonSet", "spec.template.spec")]
    #[case::job("batch", "Job", "spec.template.spec")]
    #[case::cron_job("batch", "CronJob", "spec.jobTemplate.spec.template.spec")]
    fn knows_each_handled_kind(#[case] group: &str, #[case] kind: &str, #[case] dotted: &str) {
        let path = pod_spec_path(group, kind).unwrap();
        assert_eq!(path.join("."), dotted);
        assert!(HANDLED_KINDS.contains(&(group, kind)));
    }

    #[rstest]
    #[case::service("", "Service")]
    #[case::deployment_in_core("", "Deployment")]
    #[case::pod_in_a_crd_group("example.com", "Pod")]
    #[case::lowercase_kind("apps", "deployment")]
    #[case::empty("", "")]
    fn ignores_other_kinds(#[case] group: &str, #[case] kind: &str) {
        assert_eq!(pod_spec_path(group, kind), None);
    }
}
