//! The kinds the policy handles and where each keeps its pod spec: one
//! table, from which the code, and the tests of `metadata.yml` and the CEL
//! in `deploy/`, derive what they need.

/// A kind the policy handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandledKind {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    /// The kind, as in `request.kind.kind`.
    pub kind: &'static str,
    /// The resource, as in a webhook rule.
    pub resource: &'static str,
    /// The object keys leading to the pod spec.
    pub pod_spec: &'static [&'static str],
}

const POD: &[&str] = &["spec"];
const POD_TEMPLATE: &[&str] = &["template", "spec"];
const WORKLOAD: &[&str] = &["spec", "template", "spec"];
const CRON_JOB: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];

const fn kind(
    group: &'static str,
    kind: &'static str,
    resource: &'static str,
    pod_spec: &'static [&'static str],
) -> HandledKind {
    HandledKind {
        group,
        kind,
        resource,
        pod_spec,
    }
}

/// Every kind the policy handles, all at version `v1`.
///
/// ```
/// use host_gateway_policy::HANDLED_KINDS;
///
/// let cron_job = HANDLED_KINDS.iter().find(|k| k.kind == "CronJob").unwrap();
/// assert_eq!(cron_job.pod_spec, ["spec", "jobTemplate", "spec", "template", "spec"]);
/// ```
pub const HANDLED_KINDS: [HandledKind; 9] = [
    kind("", "Pod", "pods", POD),
    kind("", "PodTemplate", "podtemplates", POD_TEMPLATE),
    kind(
        "",
        "ReplicationController",
        "replicationcontrollers",
        WORKLOAD,
    ),
    kind("apps", "Deployment", "deployments", WORKLOAD),
    kind("apps", "ReplicaSet", "replicasets", WORKLOAD),
    kind("apps", "StatefulSet", "statefulsets", WORKLOAD),
    kind("apps", "DaemonSet", "daemonsets", WORKLOAD),
    kind("batch", "Job", "jobs", WORKLOAD),
    kind("batch", "CronJob", "cronjobs", CRON_JOB),
];

/// The object keys leading to the pod spec of a `group`/`kind`, or `None`
/// for kinds the policy does not handle.
pub fn pod_spec_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    HANDLED_KINDS
        .iter()
        .find(|handled| handled.kind == kind && handled.group == group)
        .map(|handled| handled.pod_spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

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
