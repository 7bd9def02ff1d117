//! The compiled policy.wasm, run in a waPC host as policy-server runs it.

use host_gateway_test_support::wasm_host as common;
use host_gateway_test_support::{INGRESS_ADDRESS, INGRESS_SERVICE, reference_followed_edit};

use std::collections::BTreeMap;

use common::{
    Answer, Policy, expected_patch, fixture, host_aliases_pointer, ips, patched, payload, test_data,
};
use serde_json::{Value, json};

const DOCKER: &str = "host.docker.internal";
const DOCKER_V4: &str = "192.168.65.254";
const DOCKER_V6: &str = "fdc4:f303:9324::254";

/// Docker Desktop's host name, and an ingress controller's Service as
/// cluster DNS answers it.
fn docker_desktop() -> Policy {
    Policy::new(&[
        (DOCKER, ips(&[DOCKER_V6, DOCKER_V4])),
        (INGRESS_SERVICE, ips(&[INGRESS_ADDRESS])),
    ])
}

#[test]
fn speaks_protocol_v1() {
    assert_eq!(docker_desktop().protocol_version(), json!("v1"));
}

#[test]
fn every_fixture_gets_its_outcome_and_only_its_patch() {
    let outcomes: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(test_data("outcomes.json")).unwrap())
            .unwrap();
    let mut mutated = 0;
    for (name, outcome) in &outcomes {
        let request = fixture(name);
        let policy = docker_desktop();
        let evaluation = policy.evaluate(&json!({}), &request);
        if outcome == "reject" {
            assert!(!evaluation.accepted(), "{name}");
            assert!(policy.host_log().lookups.is_empty(), "{name}");
            continue;
        }
        assert!(evaluation.accepted(), "{name}: {evaluation:?}");
        match outcome.as_str() {
            "accept" | "warn" | "current" => {
                assert_eq!(evaluation.patch, None, "{name}");
                assert_eq!(
                    evaluation.response.as_ref().unwrap()["mutated_object"],
                    Value::Null,
                    "{name}"
                );
                assert_eq!(
                    evaluation.warnings().is_empty(),
                    outcome != "warn",
                    "{name}"
                );
                let lookups: &[&str] = if outcome == "current" { &[DOCKER] } else { &[] };
                assert_eq!(policy.host_log().lookups, lookups, "{name}");
                assert!(
                    policy.host_log().logs.is_empty(),
                    "{name}: logged on the accept path"
                );
            }
            "refresh" => {
                let patch = evaluation.patch.clone().expect("a patch");
                assert_eq!(
                    patched(&request["object"], &patch),
                    common::expected_object(&request, DOCKER_V4),
                    "{name}"
                );
                assert_eq!(policy.host_log().lookups, [DOCKER], "{name}");
                mutated += 1;
            }
            // An UPDATE that keeps the pod spec as stored (a Pod's, a
            // Job's, a template the UPDATE leaves alone): the stored
            // entries come back, and nothing is looked up.
            "stored" => {
                let patch = evaluation.patch.clone().expect("a patch");
                assert_eq!(
                    patched(&request["object"], &patch),
                    request["oldObject"],
                    "{name}"
                );
                assert!(policy.host_log().lookups.is_empty(), "{name}");
                mutated += 1;
            }
            // A template UPDATE that only edits entries: the edited names
            // leave the annotation, and nothing is looked up.
            "edited" => {
                let patch = evaluation.patch.clone().expect("a patch");
                assert_eq!(
                    patched(&request["object"], &patch),
                    reference_followed_edit(&request),
                    "{name}"
                );
                assert!(policy.host_log().lookups.is_empty(), "{name}");
                mutated += 1;
            }
            "mutate" => {
                let patch = evaluation.patch.clone().expect("a patch");
                assert_eq!(patch, expected_patch(&request, DOCKER_V4), "{name}");
                assert_eq!(policy.host_log().lookups, [DOCKER], "{name}");
                mutated += 1;
            }
            // `dns:` entries get the Service's address, and only it is
            // looked up.
            "target" => {
                let patch = evaluation.patch.clone().expect("a patch");
                let path = host_gateway_test_support::reference_path(
                    request["kind"]["group"].as_str().unwrap(),
                    request["kind"]["kind"].as_str().unwrap(),
                )
                .unwrap();
                let expected = host_gateway_test_support::reference_expected(
                    &request["object"],
                    path,
                    &host_gateway_test_support::reference_intent(&request, path),
                    &[],
                    &[(
                        INGRESS_SERVICE.to_string(),
                        vec![INGRESS_ADDRESS.parse().unwrap()],
                    )],
                );
                assert_eq!(patched(&request["object"], &patch), expected, "{name}");
                assert_eq!(policy.host_log().lookups, [INGRESS_SERVICE], "{name}");
                mutated += 1;
            }
            other => panic!("{name}: unknown outcome {other}"),
        }
        assert!(policy.host_log().unexpected.is_empty(), "{name}");
    }
    assert!(mutated >= 10, "only {mutated} fixtures were rewritten");
}

#[test]
fn two_families_patch_only_inside_host_aliases() {
    for name in [
        "pod_host_gateway.json",
        "deployment_host_gateway.json",
        "cronjob_host_gateway.json",
    ] {
        let request = fixture(name);
        let evaluation =
            docker_desktop().evaluate(&json!({"ipFamilies": ["IPv4", "IPv6"]}), &request);
        let kind = request["kind"]["kind"].as_str().unwrap();
        let pointer = host_aliases_pointer(kind);
        let annotations = format!("{}/annotations", common::pod_metadata_pointer(kind));
        let patch = evaluation.patch.expect("a patch");
        for op in patch.as_array().unwrap() {
            let path = op["path"].as_str().unwrap();
            assert!(
                path.starts_with(&format!("{pointer}/")) || (kind != "Pod" && path == annotations),
                "{name}: {op}"
            );
            assert!(
                ["replace", "add", "remove"].contains(&op["op"].as_str().unwrap()),
                "{name}: {op}"
            );
        }
        // Applying the patch gives the entry twice, IPv4 then IPv6.
        let mut object = request["object"].clone();
        json_patch::patch(
            &mut object,
            &serde_json::from_value::<json_patch::Patch>(patch).unwrap(),
        )
        .unwrap();
        let aliases = object.pointer(&pointer).unwrap().as_array().unwrap();
        let ips: Vec<&str> = aliases.iter().map(|a| a["ip"].as_str().unwrap()).collect();
        assert_eq!(ips, ["10.0.0.7", DOCKER_V4, DOCKER_V6], "{name}");
        assert_eq!(aliases[1]["hostnames"], aliases[2]["hostnames"]);
        assert_eq!(aliases[2]["zzFutureAliasField"], 7);
    }
}

#[test]
fn logs_each_rewrite_once() {
    let policy = docker_desktop();
    policy.evaluate(&json!({}), &fixture("deployment_host_gateway.json"));
    let logs = &policy.host_log().logs;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["level"], "info");
    assert_eq!(
        logs[0]["message"],
        "[default] Deployment/web: host-gateway -> 192.168.65.254 (host.docker.internal)"
    );
}

#[test]
fn unresolvable_name_rejects_with_one_sentence() {
    let policy = Policy::new(&[(DOCKER, Answer::Error("Name does not resolve".into()))]);
    let evaluation = policy.evaluate(&json!({}), &fixture("pod_host_gateway.json"));
    assert!(!evaluation.accepted());
    assert_eq!(evaluation.patch, None);
    assert_eq!(
        evaluation.message(),
        Some(
            "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal, \
             host.lima.internal, host.containers.internal, host.k3d.internal, \
             host.minikube.internal (Name does not resolve); make one of these names resolvable \
             from the policy server or set fallbackAddresses"
        )
    );
}

#[test]
fn a_refused_capability_gets_its_own_sentence() {
    let policy = Policy::new(&[(DOCKER, Answer::NotGranted)]);
    let evaluation = policy.evaluate(&json!({}), &fixture("pod_host_gateway.json"));
    assert!(!evaluation.accepted());
    assert_eq!(
        evaluation.message(),
        Some(
            "cannot replace host-gateway in hostAliases: this policy is not granted the \
             net/v1/dns_lookup_host host capability; add it to the PolicyServer's \
             spec.namespacedPoliciesCapabilities or set fallbackAddresses"
        )
    );
    let policy = Policy::new(&[(DOCKER, Answer::NotGranted)]);
    let evaluation = policy.evaluate(
        &json!({"hostnames": [DOCKER, "host.k3d.internal"], "fallbackAddresses": ["172.18.0.1"]}),
        &fixture("pod_host_gateway.json"),
    );
    assert_eq!(
        evaluation.warnings(),
        ["host-gateway: net/v1/dns_lookup_host is not granted; used fallback 172.18.0.1"]
    );
    assert_eq!(
        policy.host_log().lookups,
        [DOCKER],
        "no lookup after a refusal"
    );
}

#[test]
fn a_reapplied_deployment_is_left_as_stored() {
    // What the API server hands the policy after a second `kubectl apply`:
    // the stored list with the manifest's host-gateway entry added beside.
    let request = fixture("deployment_host_gateway.json");
    let stored = docker_desktop().evaluate(&json!({}), &request);
    let mut stored_object = request["object"].clone();
    json_patch::patch(
        &mut stored_object,
        &serde_json::from_value::<json_patch::Patch>(stored.patch.unwrap()).unwrap(),
    )
    .unwrap();
    let manifest_entry = request["object"]["spec"]["template"]["spec"]["hostAliases"][1].clone();
    for at_front in [false, true] {
        let mut update = request.clone();
        update["operation"] = json!("UPDATE");
        update["oldObject"] = stored_object.clone();
        update["object"] = stored_object.clone();
        let aliases = update["object"]["spec"]["template"]["spec"]["hostAliases"]
            .as_array_mut()
            .unwrap();
        if at_front {
            aliases.insert(0, manifest_entry.clone());
        } else {
            aliases.push(manifest_entry.clone());
        }
        let evaluation = docker_desktop().evaluate(&json!({}), &update);
        let mut result = update["object"].clone();
        json_patch::patch(
            &mut result,
            &serde_json::from_value::<json_patch::Patch>(evaluation.patch.unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            result, stored_object,
            "added before: {at_front}: the template changed, a rollout"
        );
    }
}

/// A DNS server that does not answer: each lookup waits, then fails for
/// now. The lookups stop once they took 2 s in all, and the fallback
/// applies well inside policy-server's time limit.
#[test]
fn a_dns_server_that_does_not_answer_ends_in_the_fallback() {
    let slow = Box::new(|_: &str| {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        Err("Callback evaluation failure: failed to lookup address information: Try again".into())
    });
    let policy = Policy::with_resolver(common::policy_pre(), slow);
    let settings = json!({"fallbackAddresses": ["172.18.0.1"]});
    let started = std::time::Instant::now();
    let evaluation = policy.evaluate(&settings, &fixture("pod_host_gateway.json"));
    let took = started.elapsed();
    assert!(evaluation.accepted());
    assert_eq!(policy.host_log().lookups, [DOCKER, "host.lima.internal"]);
    assert_eq!(
        evaluation.warnings(),
        [
            "host-gateway: no IPv4 address for host.docker.internal, host.lima.internal (failed \
             for now: Try again), host.containers.internal, host.k3d.internal, \
             host.minikube.internal (not looked up: DNS too slow); used fallback 172.18.0.1"
        ]
    );
    assert!(took.as_secs_f64() < 3.0, "took {took:?}");
}

#[test]
fn fallback_is_used_with_a_warning() {
    let policy = Policy::new(&[]);
    let settings =
        json!({"hostnames": [DOCKER, "host.k3d.internal"], "fallbackAddresses": ["172.18.0.1"]});
    let evaluation = policy.evaluate(&settings, &fixture("job_host_gateway.json"));
    assert!(evaluation.accepted());
    assert_eq!(
        evaluation.patch,
        Some(json!([
            {"op": "add", "path": "/spec/template/metadata/annotations",
             "value": {"host-gateway.kubewarden.io/hostnames": "db.local,cache.local"}},
            {"op": "replace", "path": "/spec/template/spec/hostAliases/1/ip", "value": "172.18.0.1"}
        ]))
    );
    assert_eq!(
        evaluation.warnings(),
        [
            "host-gateway: no IPv4 address for host.docker.internal, host.k3d.internal \
             (Name does not resolve); used fallback 172.18.0.1"
        ]
    );
    assert_eq!(policy.host_log().lookups, [DOCKER, "host.k3d.internal"]);
}

#[test]
fn invalid_settings_are_refused_naming_the_field() {
    for (settings, message) in [
        (
            json!({"hostname": ["a"]}),
            "unknown setting `hostname`: expected hostnames, ipFamilies, fallbackAddresses, injectHostnames, allowedTargets or reportStale",
        ),
        (
            json!({"ipFamilies": ["IPv5"]}),
            "`ipFamilies` entry \"IPv5\" is not IPv4 or IPv6",
        ),
        (
            json!({"fallbackAddresses": ["gateway"]}),
            "`fallbackAddresses` entry \"gateway\" is not a valid IP address",
        ),
        (json!({"hostnames": []}), "`hostnames` must not be empty"),
        (json!([1]), "settings must be a JSON object"),
    ] {
        let evaluation = docker_desktop().evaluate(&settings, &fixture("pod_host_gateway.json"));
        assert!(!evaluation.settings_valid, "{settings}");
        assert_eq!(evaluation.settings_message.as_deref(), Some(message));
        assert!(evaluation.response.is_none());
    }
    let answer = docker_desktop().validate_settings(&json!({}));
    assert_eq!(answer, json!({"valid": true, "message": null}));
}

#[test]
fn settings_that_are_not_json_are_refused_not_trapped() {
    let answer = docker_desktop()
        .call("validate_settings", b"{not json")
        .expect("no trap");
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["valid"], false);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("settings are not valid JSON")
    );
}

/// Every answer to malformed input: no trap, JSON, a short message if any,
/// and a patch, if any, only inside the kind's `hostAliases`.
fn assert_well_behaved(policy: &Policy, payload: &[u8], request: Option<&Value>, what: &str) {
    let response = policy
        .validate_raw(payload)
        .unwrap_or_else(|e| panic!("{what}: the module trapped: {e}"));
    if let Some(message) = response["message"].as_str() {
        assert!(
            message.len() <= host_gateway_policy::MAX_REJECTION_BYTES,
            "{what}: a {}-byte message",
            message.len()
        );
    }
    let mutated = &response["mutated_object"];
    if !mutated.is_null() {
        let request = request.unwrap_or_else(|| panic!("{what}: mutated an unreadable request"));
        let pointer = host_aliases_pointer(request["kind"]["kind"].as_str().unwrap_or_default());
        let patch = json_patch::diff(&request["object"], mutated);
        for op in serde_json::to_value(patch).unwrap().as_array().unwrap() {
            assert!(
                op["path"].as_str().unwrap().starts_with(pointer.as_str()),
                "{what}: {op}"
            );
        }
    }
    assert!(policy.host_log().unexpected.is_empty(), "{what}");
}

#[test]
fn truncated_payloads_never_trap() {
    let policy = docker_desktop();
    let full = payload(&json!({}), &fixture("pod_host_gateway.json"));
    for cut in (0..full.len()).step_by(7) {
        assert_well_behaved(&policy, &full[..cut], None, &format!("cut at {cut}"));
    }
}

fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                pointers(
                    inner,
                    format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                pointers(inner, format!("{prefix}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(prefix);
}

#[test]
fn wrong_types_at_every_level_never_trap() {
    let policy = docker_desktop();
    let request = fixture("pod_host_gateway.json");
    let mut all = Vec::new();
    pointers(&request, String::new(), &mut all);
    assert!(all.len() > 70, "{} nodes", all.len());
    let odd_values = [
        json!(null),
        json!(42),
        json!(-1.5e300),
        json!(true),
        json!("host-gateway"),
        json!([]),
        json!({}),
        json!([{"ip": "host-gateway"}]),
    ];
    let mut calls = 0;
    for pointer in all.iter().filter(|p| !p.is_empty()) {
        for odd in &odd_values {
            let mut broken = request.clone();
            *broken.pointer_mut(pointer).unwrap() = odd.clone();
            let bytes = payload(&json!({}), &broken);
            assert_well_behaved(
                &policy,
                &bytes,
                Some(&broken),
                &format!("{pointer} = {odd}"),
            );
            calls += 1;
        }
    }
    assert!(calls > 500, "{calls} calls");
}

#[test]
fn huge_strings_and_deep_nesting_never_trap() {
    let policy = docker_desktop();
    let huge = "x".repeat(2 << 20);

    let mut request = fixture("pod_host_gateway.json");
    request["name"] = json!(huge);
    request["object"]["spec"]["hostAliases"][1]["hostnames"] = json!([huge]);
    assert_well_behaved(
        &policy,
        &payload(&json!({}), &request),
        Some(&request),
        "huge strings",
    );

    let mut request = fixture("pod_host_gateway.json");
    request["kind"] = json!(format!("host-gateway{huge}"));
    assert_well_behaved(
        &policy,
        &payload(&json!({}), &request),
        None,
        "huge wrong-typed kind",
    );

    let settings = json!({ "hostnames": [huge] });
    assert_well_behaved(
        &policy,
        &payload(&settings, &fixture("pod_host_gateway.json")),
        None,
        "huge invalid setting",
    );

    // Nesting deeper than serde_json's `Value` reads, where the policy only
    // skips it and inside the object it returns.
    let depth = 100_000;
    let mut request = fixture("pod_host_gateway.json");
    request["oldObject"] = json!("DEEP");
    let deep = payload(&json!({}), &request);
    let deep_old = String::from_utf8(deep).unwrap().replace(
        r#""DEEP""#,
        &format!(
            r#"{}"host-gateway"{}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    let deep_object = format!(
        r#"{{"request": {{"kind": {{"kind": "Pod"}}, "operation": "CREATE", "object": {{"spec": {{"hostAliases": [{{"ip": "host-gateway"}}], "x": {}0{}}}}}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    // serde_json skips what the policy does not read without a depth limit
    // and without recursion; policy-evaluator never sends such nesting (it
    // reads at most 128 deep). The deep text is never trapped on nor
    // changed: outside the object it is not returned, inside it is carried
    // byte for byte.
    let answer = policy.validate_raw(deep_old.as_bytes()).expect("no trap");
    assert_eq!(
        answer["mutated_object"]["spec"]["hostAliases"][1]["ip"],
        "192.168.65.254"
    );
    let answer = policy
        .call("validate", deep_object.as_bytes())
        .expect("no trap");
    let answer = String::from_utf8(answer).unwrap();
    let deep_value = format!("{}0{}", "[".repeat(depth), "]".repeat(depth));
    assert!(answer.contains(&format!(r#""x": {deep_value}"#)));
    assert!(answer.contains(r#"[{"ip": "192.168.65.254"}]"#));
}

#[test]
fn inject_hostnames_in_the_compiled_module() {
    let settings = json!({"injectHostnames": [DOCKER]});
    let policy = docker_desktop();
    let evaluation = policy.evaluate(&settings, &fixture("pod_without_host_aliases.json"));
    assert!(evaluation.accepted());
    assert_eq!(
        evaluation.patch,
        Some(json!([{"op": "add", "path": "/spec/hostAliases",
            "value": [{"ip": DOCKER_V4, "hostnames": [DOCKER]}]}]))
    );
    let evaluation = docker_desktop().evaluate(&settings, &fixture("pod_inject_opted_out.json"));
    assert!(evaluation.accepted());
    assert_eq!(evaluation.patch, None);

    let policy = Policy::new(&[]);
    let evaluation = policy.evaluate(&settings, &fixture("pod_without_host_aliases.json"));
    assert!(evaluation.accepted(), "a pod that asked for nothing");
    assert_eq!(evaluation.patch, None);
    assert_eq!(
        evaluation.warnings(),
        [
            "host-gateway: host.docker.internal not added: no IPv4 address for \
          host.docker.internal, host.lima.internal, host.containers.internal, \
          host.k3d.internal, host.minikube.internal (Name does not resolve)"
        ]
    );
}

/// The merge's worst cases, at 1–2.5 MiB each, through the compiled
/// module: the result, not the time (that is `cargo bench`'s).
#[test]
fn worst_case_lists_merge_in_the_compiled_module() {
    let policy = docker_desktop();
    for (index, shape) in common::worst_case_shapes().iter().enumerate() {
        assert!(
            (1 << 20..3 << 20).contains(&shape.payload.len()),
            "{}: {} bytes",
            shape.name,
            shape.payload.len()
        );
        let response = policy.validate_raw(&shape.payload).expect("no trap");
        assert_eq!(response["accepted"], true, "{}", shape.name);
        common::check_worst_case(index, &shape.request, &response["mutated_object"]);
    }
}

/// A Pod made from a template rewritten with one address, created after
/// the host moved: the compiled module gives it the new address, and the
/// ReplicaSet that made it is left alone.
#[test]
fn a_pod_gets_the_address_current_at_its_creation() {
    let moved = "192.168.65.3";
    let policy = Policy::new(&[(DOCKER, ips(&[moved]))]);
    let request = fixture("pod_from_template.json");
    let evaluation = policy.evaluate(&json!({}), &request);
    let patch = evaluation.patch.clone().expect("a patch");
    assert_eq!(
        patched(&request["object"], &patch),
        common::expected_object(&request, moved)
    );
    assert_eq!(
        patched(&request["object"], &patch)["spec"]["hostAliases"][1],
        json!({"ip": moved, "hostnames": ["db.local", "cache.local"], "zzFutureAliasField": 7}),
        "refreshed where it stands, its other fields kept"
    );
    let owned = policy.evaluate(&json!({}), &fixture("replicaset_owned.json"));
    assert_eq!(owned.patch, None);
    assert_eq!(
        policy.host_log().lookups,
        [DOCKER],
        "one lookup, for the Pod"
    );
}

/// The module's size budget: policy-server downloads and compiles the
/// module on every start, and kwctl pulls it for every run.
#[test]
fn the_module_stays_under_300_kb() {
    let bytes = std::fs::metadata(common::policy_wasm()).unwrap().len();
    assert!(
        bytes < 300_000,
        "policy.wasm has {bytes} bytes; the budget is 300,000"
    );
}
