//! The report form (`reportStale: true`) through the public API, with the
//! audit scanner's requests (test_data/audit/: a CREATE of the stored
//! object, as Go writes `admissionv1.AdmissionRequest` with only those
//! fields set: an empty `userInfo`, a null `oldObject` and `options`).

use rstest::rstest;
use serde_json::{Value, json};

use host_gateway_policy::{Rejection, Verdict, evaluate};
use host_gateway_test_support::{ScriptedDns, payload, pod_holding_stale_addresses, test_data};

fn audit_request(name: &str) -> Value {
    let path = test_data(&format!("audit/{name}"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn report(request: &Value, settings: Value, dns: &mut ScriptedDns) -> Verdict {
    let mut settings = settings;
    settings["reportStale"] = json!(true);
    evaluate(&payload(&settings, request), |name| dns.resolve(name))
}

fn message(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Reject(rejection) => rejection.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_pod_at_the_hosts_address_passes() {
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = report(&audit_request("pod_current.json"), json!({}), &mut dns);
    assert_eq!(verdict, Verdict::Accept);
    assert_eq!(dns.asked, ["host.docker.internal"]);
}

#[rstest]
#[case::a_deployments_pod(
    "pod_moved.json",
    "db.local, cache.local point at 192.168.65.3, but the host is now at 192.168.65.254; restart \
     the Pod's owner: kubectl -n dev rollout restart deployment/web"
)]
#[case::a_bare_pod(
    "pod_bare_moved.json",
    "db.local, cache.local point at 192.168.65.3, but the host is now at 192.168.65.254; \
     recreate the Pod: kubectl -n dev delete pod debug"
)]
fn a_pod_whose_host_moved_is_refused_naming_the_fix(#[case] fixture: &str, #[case] expected: &str) {
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = report(&audit_request(fixture), json!({}), &mut dns);
    assert_eq!(message(&verdict), expected);
}

#[rstest]
#[case::statefulset("StatefulSet", "web", None, "statefulset/web")]
#[case::daemonset("DaemonSet", "agent", None, "daemonset/agent")]
#[case::replicaset_of_a_deployment("ReplicaSet", "api-5f7d8c", Some("5f7d8c"), "deployment/api")]
fn the_owner_to_restart_is_read_from_the_pod(
    #[case] kind: &str,
    #[case] name: &str,
    #[case] hash: Option<&str>,
    #[case] owner: &str,
) {
    let mut request = audit_request("pod_moved.json");
    let metadata = &mut request["object"]["metadata"];
    metadata["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "u", "controller": true}]);
    metadata["labels"]["pod-template-hash"] = json!(hash);
    let mut dns = ScriptedDns::docker_desktop();
    let text = message(&report(&request, json!({}), &mut dns));
    assert!(
        text.ends_with(&format!("rollout restart {owner}")),
        "{text}"
    );
}

#[rstest]
// A ReplicaSet whose name is not its Pods' hash after a name: no
// Deployment's, so no rollout to name.
#[case::replicaset_alone("ReplicaSet", "cache", Some("5f7d8c"))]
#[case::job("Job", "migrate", None)]
#[case::no_controller_flag("StatefulSet", "web", None)]
fn without_an_owner_to_restart_the_pod_is_named(
    #[case] kind: &str,
    #[case] name: &str,
    #[case] hash: Option<&str>,
) {
    let mut request = audit_request("pod_moved.json");
    let controller = kind != "StatefulSet";
    let metadata = &mut request["object"]["metadata"];
    metadata["ownerReferences"] = json!([{"apiVersion": "v1", "kind": kind, "name": name, "uid": "u", "controller": controller}]);
    metadata["labels"]["pod-template-hash"] = json!(hash);
    let mut dns = ScriptedDns::docker_desktop();
    let text = message(&report(&request, json!({}), &mut dns));
    assert!(
        text.ends_with("recreate the Pod: kubectl -n dev delete pod web-6d8f7b9c5-x2k4p"),
        "{text}"
    );
}

#[test]
fn no_name_resolving_is_an_error_to_check_not_a_stale_pod() {
    let mut dns = ScriptedDns::default();
    let verdict = report(&audit_request("pod_moved.json"), json!({}), &mut dns);
    let Verdict::Reject(rejection @ Rejection::CannotCheck(_)) = &verdict else {
        panic!("expected an error to check, got {verdict:?}");
    };
    assert_eq!(rejection.code(), Some(500));
    assert_eq!(
        rejection.to_string(),
        "cannot check the host's address: no IPv4 address for host.docker.internal, \
         host.lima.internal, host.containers.internal, host.k3d.internal, host.minikube.internal \
         (Name does not resolve); make one of these names resolvable from the policy server, \
         then run the audit again"
    );
    // The fallback stands for the host when writing, not when checking.
    let mut dns = ScriptedDns::default();
    let verdict = report(
        &audit_request("pod_moved.json"),
        json!({"fallbackAddresses": ["192.168.65.3"]}),
        &mut dns,
    );
    assert!(
        matches!(verdict, Verdict::Reject(Rejection::CannotCheck(_))),
        "{verdict:?}"
    );
}

#[rstest]
#[case::pod_without_names("pod_without_names.json")]
#[case::deployment("deployment.json")]
fn what_holds_no_name_for_the_host_passes_unlooked(#[case] fixture: &str) {
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = report(&audit_request(fixture), json!({}), &mut dns);
    assert_eq!(verdict, Verdict::Accept);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[test]
fn injected_names_are_checked_unless_the_pod_opts_out() {
    let mut request = audit_request("pod_without_names.json");
    request["object"]["spec"]["hostAliases"] =
        json!([{"ip": "192.168.65.3", "hostnames": ["host.docker.internal"]}]);
    let settings = json!({"injectHostnames": ["host.docker.internal"]});
    let mut dns = ScriptedDns::docker_desktop();
    assert_eq!(
        message(&report(&request, settings.clone(), &mut dns)),
        "host.docker.internal points at 192.168.65.3, but the host is now at 192.168.65.254; \
         recreate the Pod: kubectl -n dev delete pod plain"
    );
    request["object"]["metadata"]["annotations"] =
        json!({"host-gateway.kubewarden.io/inject": "false"});
    let mut dns = ScriptedDns::docker_desktop();
    assert_eq!(report(&request, settings, &mut dns), Verdict::Accept);
}

#[test]
fn a_name_pointed_at_a_target_is_not_the_hosts() {
    let mut request = audit_request("pod_moved.json");
    request["object"]["metadata"]["annotations"]["host-gateway.kubewarden.io/hostnames"] =
        json!("db.local=dns:db.default.svc.cluster.local,cache.local");
    let mut dns = ScriptedDns::docker_desktop();
    assert!(
        message(&report(&request, json!({}), &mut dns)).starts_with(
            "cache.local points at 192.168.65.3, but the host is now at 192.168.65.254;"
        )
    );
}

#[test]
fn without_the_setting_the_same_request_is_rewritten() {
    let request = audit_request("pod_moved.json");
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = evaluate(&payload(&json!({"reportStale": false}), &request), |name| {
        dns.resolve(name)
    });
    assert!(matches!(verdict, Verdict::Mutate(_)), "{verdict:?}");
}

/// A Pod holding a name at 50,000 addresses (a 2 MiB object): refused in
/// one short sentence that names the first addresses and keeps its fix.
#[test]
fn a_pod_holding_a_name_at_many_addresses_is_told_its_fix_in_one_sentence() {
    let request = pod_holding_stale_addresses(50_000);
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = report(&request, json!({}), &mut dns);
    assert_eq!(
        message(&verdict),
        "db.local points at 10.0.0.0, 10.0.0.1, 10.0.0.2, 10.0.0.3 and 49996 more, but the host \
         is now at 192.168.65.254; recreate the Pod: kubectl -n dev delete pod debug"
    );
}
