//! The policy's behaviour through its public API, fixture by fixture and
//! case by case, checked against the reference model where it applies.

use std::net::IpAddr;

use rstest::rstest;
use serde_json::{Value, json};

use host_gateway_policy::{
    HANDLED_KINDS, HOSTNAMES_ANNOTATION, INJECT_ANNOTATION, IpFamily, LookupError,
    MAX_REJECTION_BYTES, Miss, Rejection, SettingsError, Shortfall, Verdict, evaluate,
};
use host_gateway_test_support::{
    INGRESS_ADDRESS, INGRESS_SERVICE, REFERENCE_KINDS, ScriptedDns, outcomes, payload,
    read_fixture, reference_expected, reference_has_host_gateway, reference_intent,
};

const DOCKER: &str = "host.docker.internal";
const K3D: &str = "host.k3d.internal";
const DOCKER_V4: &str = "192.168.65.254";
const DOCKER_V6: &str = "fdc4:f303:9324::254";

/// Runs the policy on a request with this DNS.
trait Evaluate {
    fn evaluate(&mut self, request: &Value, settings: &Value) -> Verdict;
}

impl Evaluate for ScriptedDns {
    fn evaluate(&mut self, request: &Value, settings: &Value) -> Verdict {
        evaluate(&payload(settings, request), |name| self.resolve(name))
    }
}

fn ips(texts: &[&str]) -> Vec<IpAddr> {
    texts.iter().map(|s| s.parse().unwrap()).collect()
}

fn path_of(request: &Value) -> &'static [&'static str] {
    host_gateway_test_support::reference_path(
        request["kind"]["group"].as_str().unwrap(),
        request["kind"]["kind"].as_str().unwrap(),
    )
    .unwrap()
}

fn mutated_object(verdict: &Verdict) -> Value {
    match verdict {
        Verdict::Mutate(mutation) => serde_json::from_str(&mutation.object).unwrap(),
        other => panic!("expected a mutation, got {other:?}"),
    }
}

#[test]
fn every_fixture_has_its_outcome() {
    let outcomes = outcomes();
    let fixtures: Vec<String> = std::fs::read_dir(host_gateway_test_support::test_data(""))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json") && name != "outcomes.json")
        .collect();
    assert!(fixtures.len() >= 19, "{fixtures:?}");
    for name in &fixtures {
        assert!(
            outcomes.contains_key(name),
            "{name} has no entry in outcomes.json"
        );
    }

    for (name, expected) in outcomes {
        let request = read_fixture(&name);
        let mut dns = ScriptedDns::docker_desktop();
        let verdict = dns.evaluate(&request, &json!({}));
        match expected.as_str() {
            "accept" => {
                assert_eq!(verdict, Verdict::Accept, "{name}");
                assert!(dns.asked.is_empty(), "{name}: looked up {:?}", dns.asked);
            }
            "current" => {
                assert_eq!(verdict, Verdict::Accept, "{name}");
                assert_eq!(dns.asked, [DOCKER], "{name}");
            }
            "warn" => {
                assert!(matches!(verdict, Verdict::Warn(_)), "{name}: {verdict:?}");
                assert!(dns.asked.is_empty(), "{name}: looked up {:?}", dns.asked);
            }
            "reject" => {
                assert!(matches!(verdict, Verdict::Reject(_)), "{name}: {verdict:?}");
                assert!(dns.asked.is_empty(), "{name}: looked up {:?}", dns.asked);
            }
            // An UPDATE that keeps the pod spec as stored: the stored
            // entries come back, and nothing is looked up.
            "stored" => {
                assert_eq!(mutated_object(&verdict), request["oldObject"], "{name}");
                assert!(dns.asked.is_empty(), "{name}: looked up {:?}", dns.asked);
            }
            // A template UPDATE that only edits entries: the edited names
            // leave the annotation, and nothing is looked up.
            "edited" => {
                let expected = host_gateway_test_support::reference_followed_edit(&request);
                assert_eq!(mutated_object(&verdict), expected, "{name}");
                assert!(dns.asked.is_empty(), "{name}: looked up {:?}", dns.asked);
            }
            "mutate" | "refresh" => {
                let path = path_of(&request);
                let expected_object = reference_expected(
                    &request["object"],
                    path,
                    &reference_intent(&request, path),
                    &ips(&[DOCKER_V4]),
                    &[],
                );
                assert_ne!(expected_object, request["object"], "{name}");
                assert_eq!(mutated_object(&verdict), expected_object, "{name}");
                assert_eq!(dns.asked, [DOCKER], "{name}");
            }
            // `dns:` entries get the target's address; the host is looked
            // up first where host-gateway asks for it too.
            "target" => {
                let mut dns =
                    ScriptedDns::docker_desktop().with(INGRESS_SERVICE, &[INGRESS_ADDRESS]);
                let verdict = dns.evaluate(&request, &json!({}));
                let path = path_of(&request);
                let asks_host = reference_has_host_gateway(&request["object"], path);
                let host = if asks_host { ips(&[DOCKER_V4]) } else { vec![] };
                let expected_object = reference_expected(
                    &request["object"],
                    path,
                    &reference_intent(&request, path),
                    &host,
                    &[(INGRESS_SERVICE.to_string(), ips(&[INGRESS_ADDRESS]))],
                );
                assert_ne!(expected_object, request["object"], "{name}");
                assert_eq!(mutated_object(&verdict), expected_object, "{name}");
                let mut asked = if asks_host { vec![DOCKER] } else { vec![] };
                asked.push(INGRESS_SERVICE);
                assert_eq!(dns.asked, asked, "{name}");
            }
            other => panic!("{name}: unknown outcome {other}"),
        }
    }
}

/// Fields no Kubernetes release has, at every level, survive: the object
/// differs from the input only in the rewritten `ip` values and, for a
/// template, the intent annotation added last to its metadata.
#[rstest]
#[case::pod("pod_host_gateway.json")]
#[case::pod_template("podtemplate_host_gateway.json")]
#[case::deployment("deployment_host_gateway.json")]
#[case::cron_job("cronjob_host_gateway.json")]
fn unknown_fields_survive(#[case] fixture: &str) {
    let request = read_fixture(fixture);
    let original = serde_json::to_string_pretty(&request["object"]).unwrap();
    assert!(
        original.matches("zzFuture").count() >= 5,
        "the fixture lacks unknown fields"
    );

    let verdict = ScriptedDns::docker_desktop().evaluate(&request, &json!({}));
    let Verdict::Mutate(mutation) = &verdict else {
        panic!("expected a mutation, got {verdict:?}");
    };
    let mut expected = request["object"].clone();
    let mut spec = &mut expected;
    for key in path_of(&request) {
        spec = &mut spec[*key];
    }
    spec["hostAliases"][1]["ip"] = json!(DOCKER_V4);
    let template = request["kind"]["kind"] != "Pod";
    if template {
        let mut metadata = &mut expected;
        for key in &path_of(&request)[..path_of(&request).len() - 1] {
            metadata = &mut metadata[*key];
        }
        metadata["metadata"]["annotations"] = json!({HOSTNAMES_ANNOTATION: "db.local,cache.local"});
    }
    assert_eq!(mutated_object(&verdict), expected);

    // Byte for byte: the text is the input's with one value swapped.
    let input_object = serde_json::to_string(&request["object"]).unwrap();
    let verdict = evaluate(&payload(&json!({}), &request), |_| Ok(ips(&[DOCKER_V4])));
    let Verdict::Mutate(mutation_compact) = verdict else {
        panic!("expected a mutation");
    };
    let mut expected_text = input_object.replacen(
        "\"ip\":\"host-gateway\"",
        &format!("\"ip\":\"{DOCKER_V4}\""),
        1,
    );
    if template {
        expected_text = expected_text.replacen(
            "\"zzFutureTemplateField\":true",
            "\"zzFutureTemplateField\":true,\"annotations\":{\"host-gateway.kubewarden.io/hostnames\":\"db.local,cache.local\"}",
            1,
        );
    }
    assert_eq!(mutation_compact.object, expected_text);
    assert!(mutation.warnings.is_empty());
}

#[test]
fn families_in_settings_order_each_copy_the_entry() {
    let request = read_fixture("statefulset_host_gateway.json");
    let verdict =
        ScriptedDns::docker_desktop().evaluate(&request, &json!({"ipFamilies": ["IPv6", "IPv4"]}));
    let aliases = &mutated_object(&verdict)["spec"]["template"]["spec"]["hostAliases"];
    assert_eq!(
        aliases,
        &json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": DOCKER_V6, "hostnames": ["db.local", "cache.local"], "zzFutureAliasField": 7},
            {"ip": DOCKER_V4, "hostnames": ["db.local", "cache.local"], "zzFutureAliasField": 7},
        ])
    );
}

#[test]
fn looks_each_name_up_once_per_request() {
    let request = read_fixture("pod_two_host_gateway_entries.json");
    let mut dns = ScriptedDns::default().with(K3D, &["172.19.0.1"]);
    let settings = json!({"hostnames": [DOCKER, K3D]});
    let verdict = dns.evaluate(&request, &settings);
    // One address for both entries: they become one entry.
    assert_eq!(
        mutated_object(&verdict)["spec"]["hostAliases"],
        json!([{"ip": "172.19.0.1", "hostnames": ["a.local", "b.local"]}])
    );
    assert_eq!(dns.asked, [DOCKER, K3D]);
}

#[test]
fn fallback_is_used_with_a_warning() {
    let request = read_fixture("daemonset_host_gateway.json");
    let mut dns = ScriptedDns::default();
    let settings = json!({
        "hostnames": [DOCKER, K3D],
        "ipFamilies": ["IPv4", "IPv6"],
        "fallbackAddresses": ["172.18.0.1", "fc00:f853:ccd:e793::1"]
    });
    let verdict = dns.evaluate(&request, &settings);
    let Verdict::Mutate(mutation) = &verdict else {
        panic!("expected a mutation, got {verdict:?}");
    };
    let warnings: Vec<String> = mutation.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "host-gateway: no IPv4 or IPv6 address for host.docker.internal, host.k3d.internal \
             (Name does not resolve); used fallback 172.18.0.1, fc00:f853:ccd:e793::1"
        ]
    );
    let expected = reference_expected(
        &request["object"],
        path_of(&request),
        &reference_intent(&request, path_of(&request)),
        &ips(&["172.18.0.1", "fc00:f853:ccd:e793::1"]),
        &[],
    );
    assert_eq!(mutated_object(&verdict), expected);
    assert_eq!(
        mutation.summary,
        "[default] DaemonSet/web: host-gateway -> 172.18.0.1, fc00:f853:ccd:e793::1 (fallbackAddresses)"
    );
}

#[test]
fn rejects_when_nothing_resolves_and_there_is_no_fallback() {
    let request = read_fixture("job_host_gateway.json");
    let mut dns = ScriptedDns::default().with(K3D, &["fd00::1"]);
    let verdict = dns.evaluate(&request, &json!({"hostnames": [DOCKER, K3D]}));
    assert_eq!(
        verdict,
        Verdict::Reject(Rejection::NoAddress(Shortfall::NoAddress {
            families: vec![IpFamily::IPv4],
            misses: vec![
                Miss::LookupFailed {
                    name: DOCKER.into(),
                    reason: "Name does not resolve".into()
                },
                Miss::NoMatchingAddress { name: K3D.into() },
            ],
        }))
    );
    let Verdict::Reject(rejection) = verdict else {
        unreachable!()
    };
    assert_eq!(
        rejection.to_string(),
        "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal \
         (Name does not resolve), host.k3d.internal (no usable address in the answer); make one \
         of these names resolvable from the policy server or set fallbackAddresses"
    );
}

#[test]
fn host_error_is_quoted_in_the_resolvers_words() {
    let request = read_fixture("pod_host_gateway.json");
    let verdict = evaluate(&payload(&json!(null), &request), |_| {
        Err(LookupError::failed("failed to lookup address information"))
    });
    let Verdict::Reject(rejection) = verdict else {
        panic!("expected a rejection, got {verdict:?}");
    };
    let message = rejection.to_string();
    assert!(
        message.contains("host.minikube.internal (failed to lookup address information)"),
        "{message}"
    );
}

#[rstest]
#[case::named(
    "pod_host_gateway.json",
    "[default] Pod/web: host-gateway -> 192.168.65.254 (host.docker.internal)"
)]
#[case::generate_name(
    "pod_generate_name.json",
    "[default] Pod/web-*: host-gateway -> 192.168.65.254 (host.docker.internal)"
)]
#[case::cron_job(
    "cronjob_host_gateway.json",
    "[default] CronJob/nightly: host-gateway -> 192.168.65.254 (host.docker.internal)"
)]
fn summary_names_the_object_and_the_source(#[case] fixture: &str, #[case] expected: &str) {
    let Verdict::Mutate(mutation) =
        ScriptedDns::docker_desktop().evaluate(&read_fixture(fixture), &json!({}))
    else {
        panic!("expected a mutation");
    };
    assert_eq!(mutation.summary, expected);
}

/// Both families come from the first name that answers, named once; a
/// family its answer lacks is not taken from a later name.
#[test]
fn both_families_come_from_one_name() {
    let settings = json!({"hostnames": [DOCKER, K3D], "ipFamilies": ["IPv4", "IPv6"]});
    let mut request = read_fixture("pod_host_gateway.json");
    request["namespace"] = json!("");
    let summary = |docker: &[&str]| {
        let mut dns = ScriptedDns::default()
            .with(DOCKER, docker)
            .with(K3D, &["fd00::1"]);
        let Verdict::Mutate(mutation) = dns.evaluate(&request, &settings) else {
            panic!("expected a mutation");
        };
        (mutation.summary, dns.asked)
    };
    assert_eq!(
        summary(&[DOCKER_V4, "fdc4::254"]).0,
        "Pod/web: host-gateway -> 192.168.65.254, fdc4::254 (host.docker.internal)"
    );
    assert_eq!(
        summary(&[DOCKER_V4]),
        (
            "Pod/web: host-gateway -> 192.168.65.254 (host.docker.internal)".to_string(),
            vec![DOCKER.to_string()]
        )
    );
}

#[test]
fn invalid_settings_reject_requests_that_need_them() {
    let request = read_fixture("pod_host_gateway.json");
    let verdict = ScriptedDns::docker_desktop().evaluate(&request, &json!({"ipFamily": ["IPv4"]}));
    assert_eq!(
        verdict,
        Verdict::Reject(Rejection::InvalidSettings(SettingsError::UnknownField(
            "ipFamily".into()
        )))
    );
}

#[test]
fn requests_without_host_gateway_are_not_parsed() {
    // Not even valid JSON: the prefilter answers before any parsing.
    assert_eq!(
        evaluate(b"{\"request\": ", |_| panic!("no lookup")),
        Verdict::Accept
    );
}

#[rstest]
#[case::truncated(br#"{"request": {"object": {"ip": "host-gateway""#.as_slice())]
#[case::not_utf8(b"{\"request\": \"host-gateway\xff\"}".as_slice())]
#[case::kind_a_string(br#"{"request": {"kind": "host-gateway"}}"#.as_slice())]
#[case::no_request(br#"{"settings": {"hostnames": ["host-gateway"]}}"#.as_slice())]
fn unreadable_requests_are_rejected_briefly(#[case] payload: &[u8]) {
    let verdict = evaluate(payload, |_| panic!("no lookup"));
    let Verdict::Reject(Rejection::UnreadableRequest(_)) = &verdict else {
        panic!("expected an unreadable request, got {verdict:?}");
    };
}

/// Found by fuzzing: invalid UTF-8 in a field the policy skips.
#[test]
fn invalid_utf8_anywhere_is_unreadable() {
    let request = read_fixture("pod_host_gateway.json");
    let mut bytes = payload(&json!({}), &request);
    let uid = bytes.windows(4).position(|w| w == b"1299").unwrap();
    bytes[uid] = 0xff;
    assert_eq!(
        evaluate(&bytes, |_| panic!("no lookup")),
        Verdict::Reject(Rejection::UnreadableRequest(format!(
            "invalid utf-8 sequence of 1 bytes from index {uid}"
        )))
    );
}

#[test]
fn a_huge_bad_value_does_not_flood_the_message() {
    let payload = format!(
        r#"{{"request": {{"kind": "host-gateway{}"}}}}"#,
        "x".repeat(1 << 20)
    );
    let Verdict::Reject(rejection) = evaluate(payload.as_bytes(), |_| panic!("no lookup")) else {
        panic!("expected a rejection");
    };
    assert!(
        rejection.to_string().len() <= MAX_REJECTION_BYTES,
        "{}",
        rejection.to_string().len()
    );
}

#[rstest]
#[case::delete("DELETE")]
#[case::connect("CONNECT")]
#[case::missing("")]
fn only_create_and_update_are_rewritten(#[case] operation: &str) {
    let mut request = read_fixture("pod_host_gateway.json");
    request["operation"] = json!(operation);
    let mut dns = ScriptedDns::docker_desktop();
    assert_eq!(dns.evaluate(&request, &json!({})), Verdict::Accept);
    assert!(dns.asked.is_empty());
}

#[test]
fn a_pod_kind_from_another_group_is_left_alone() {
    let mut request = read_fixture("pod_host_gateway.json");
    request["kind"]["group"] = json!("example.com");
    assert_eq!(
        ScriptedDns::docker_desktop().evaluate(&request, &json!({})),
        Verdict::Accept
    );
}

/// The rejection of the sample Pod when none of `hostnames` resolves.
fn pod_rejection_with_hostnames(hostnames: Value) -> String {
    let verdict = ScriptedDns::default().evaluate(
        &read_fixture("pod_host_gateway.json"),
        &json!({ "hostnames": hostnames }),
    );
    let Verdict::Reject(rejection) = verdict else {
        panic!("expected a rejection, got {verdict:?}");
    };
    rejection.to_string()
}

/// Found by fuzzing: many long host names made a long rejection.
#[test]
fn many_long_names_make_a_short_rejection() {
    let names: Value = (0..16)
        .map(|i| format!("{}.n{i}.internal", "h".repeat(60)))
        .collect();
    let message = pod_rejection_with_hostnames(names);
    assert!(
        message.len() <= MAX_REJECTION_BYTES,
        "{} bytes: {message}",
        message.len()
    );
    assert!(
        message.contains(" and 12 more; make one of these names resolvable"),
        "{message}"
    );
}

/// Found by fuzzing: a long name was cut short in the rejection.
#[test]
fn long_names_are_named_whole() {
    let long = format!("{}.docker.internal", "h".repeat(63));
    let names = json!([long, "gateway.local"]);
    let message = pod_rejection_with_hostnames(names);
    assert!(
        message.contains(&format!("{long}, gateway.local (Name does not resolve)")),
        "{message}"
    );
}

/// `kubectl apply` after the entry was removed from the manifest while
/// other entries remain: kubectl sends `{"$patch":"delete","ip":"host-gateway"}`,
/// which matches nothing stored, so the stored list comes back as it was,
/// rewritten entry included. Neither the Pod nor the template, which
/// this UPDATE leaves as stored, is looked up.
#[rstest]
#[case::deployment("deployment_reapplied.json")]
#[case::pod("pod_reapplied.json")]
fn an_entry_removed_from_the_manifest_stays_stored(#[case] fixture: &str) {
    let mut request = read_fixture(fixture);
    request["object"] = request["oldObject"].clone();
    let mut dns = ScriptedDns::docker_desktop();
    assert_eq!(dns.evaluate(&request, &json!({})), Verdict::Accept);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

/// A second apply of an unchanged manifest, with the server's merge putting
/// the `host-gateway` entry before or after the stored one: the stored
/// object comes back.
#[rstest]
#[case::added_after(false)]
#[case::added_before(true)]
fn a_reapplied_manifest_gives_back_the_stored_object(#[case] before: bool) {
    let mut request = read_fixture("deployment_reapplied.json");
    let stored = request["oldObject"].clone();
    let aliases = request["object"]["spec"]["template"]["spec"]["hostAliases"]
        .as_array_mut()
        .unwrap();
    if before {
        let added = aliases.pop().unwrap();
        aliases.insert(0, added);
    }
    let mutated = mutated_object(&ScriptedDns::docker_desktop().evaluate(&request, &json!({})));
    assert_eq!(mutated, stored);
}

/// The sample Pod without host-gateway, with `hostAliases` replaced.
fn plain_pod(aliases: Option<Value>, annotation: Option<&str>) -> Value {
    let mut request = read_fixture("pod_without_host_aliases.json");
    match aliases {
        Some(aliases) => request["object"]["spec"]["hostAliases"] = aliases,
        None => {
            request["object"]["spec"]
                .as_object_mut()
                .unwrap()
                .remove("hostAliases");
        }
    }
    if let Some(value) = annotation {
        request["object"]["metadata"]["annotations"] = json!({ INJECT_ANNOTATION: value });
    }
    request
}

fn inject_settings() -> Value {
    json!({"injectHostnames": [DOCKER]})
}

#[rstest]
#[case::no_host_aliases(None, json!([{"ip": DOCKER_V4, "hostnames": [DOCKER]}]))]
#[case::null_host_aliases(Some(json!(null)), json!([{"ip": DOCKER_V4, "hostnames": [DOCKER]}]))]
#[case::after_other_entries(
    Some(json!([{"ip": "10.0.0.7", "hostnames": ["db"]}])),
    json!([{"ip": "10.0.0.7", "hostnames": ["db"]}, {"ip": DOCKER_V4, "hostnames": [DOCKER]}])
)]
#[case::into_the_entry_with_the_address(
    Some(json!([{"ip": DOCKER_V4, "hostnames": ["db"]}])),
    json!([{"ip": DOCKER_V4, "hostnames": ["db", DOCKER]}])
)]
fn injects_the_name_into_a_new_pod(#[case] aliases: Option<Value>, #[case] expected: Value) {
    let request = plain_pod(aliases, None);
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = dns.evaluate(&request, &inject_settings());
    let mutated = mutated_object(&verdict);
    assert_eq!(mutated["spec"]["hostAliases"], expected);
    let mut rest = mutated.clone();
    rest["spec"].as_object_mut().unwrap().remove("hostAliases");
    let mut original = request["object"].clone();
    original["spec"]
        .as_object_mut()
        .unwrap()
        .remove("hostAliases");
    assert_eq!(rest, original, "only hostAliases changes");
    assert_eq!(dns.asked, [DOCKER]);
}

#[rstest]
#[case::opted_out(plain_pod(None, Some("false")))]
#[case::name_present(plain_pod(Some(json!([{"ip": "10.1.1.1", "hostnames": ["HOST.docker.internal."]}])), None))]
fn leaves_alone_a_pod_that_opts_out_or_has_the_name(#[case] request: Value) {
    let mut dns = ScriptedDns::docker_desktop();
    assert_eq!(dns.evaluate(&request, &inject_settings()), Verdict::Accept);
    assert!(dns.asked.is_empty());
}

#[rstest]
#[case::update({
    let mut request = plain_pod(None, None);
    request["operation"] = json!("UPDATE");
    request
})]
#[case::deployment(read_fixture("deployment_update_host_gateway.json"))]
fn injects_only_into_pods_being_created(#[case] mut request: Value) {
    if request["kind"]["kind"] == "Deployment" {
        request["operation"] = json!("CREATE");
        request["object"]["spec"]["template"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("hostAliases");
    }
    let mut dns = ScriptedDns::docker_desktop();
    assert_eq!(dns.evaluate(&request, &inject_settings()), Verdict::Accept);
    assert!(dns.asked.is_empty());
}

#[test]
fn a_pod_that_asked_for_nothing_is_admitted_with_a_warning_when_nothing_resolves() {
    let verdict = ScriptedDns::default().evaluate(&plain_pod(None, None), &inject_settings());
    let Verdict::Warn(warnings) = verdict else {
        panic!("expected a warning, got {verdict:?}");
    };
    assert_eq!(
        warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "host-gateway: host.docker.internal not added: no IPv4 address for \
          host.docker.internal, host.lima.internal, host.containers.internal, \
          host.k3d.internal, host.minikube.internal (Name does not resolve)"
        ]
    );
}

#[test]
fn host_gateway_and_injection_share_one_lookup_and_one_entry() {
    let mut request = read_fixture("pod_host_gateway.json");
    let mut dns = ScriptedDns::docker_desktop();
    let verdict = dns.evaluate(&request, &inject_settings());
    assert_eq!(dns.asked, [DOCKER]);
    assert_eq!(
        mutated_object(&verdict)["spec"]["hostAliases"],
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": DOCKER_V4, "hostnames": ["db.local", "cache.local", DOCKER], "zzFutureAliasField": 7},
        ])
    );
    // Without an address, host-gateway still refuses the pod.
    request["uid"] = json!("again");
    assert!(matches!(
        ScriptedDns::default().evaluate(&request, &inject_settings()),
        Verdict::Reject(Rejection::NoAddress(_))
    ));
}

#[test]
fn invalid_settings_never_refuse_a_pod_that_asked_for_nothing() {
    let request = plain_pod(None, None);
    let settings = json!({"injectHostnames": ["not a name"]});
    assert_eq!(
        ScriptedDns::docker_desktop().evaluate(&request, &settings),
        Verdict::Accept
    );
}

/// What `serde_json::Value` refuses but never reaches the policy (the
/// runtime reads every request into a `Value` first): outside `hostAliases`
/// serde_json skips it, and the rewrite carries it byte for byte.
#[rstest]
#[case::number_out_of_range(r#""zz":[1e400]"#)]
#[case::lone_surrogate(r#""zz":"\ud800""#)]
#[case::too_deep(&format!(r#""zz":{}1{}"#, "[".repeat(200), "]".repeat(200)))]
fn what_only_value_refuses_is_carried_verbatim(#[case] member: &str) {
    let request = read_fixture("pod_host_gateway.json");
    let text = serde_json::to_string(&request).unwrap();
    let broken = text.replacen(r#""spec":{"#, &format!(r#""spec":{{{member},"#), 1);
    assert_ne!(broken, text);
    assert!(serde_json::from_str::<Value>(&broken).is_err());
    let payload = format!(r#"{{"settings":{{}},"request":{broken}}}"#);
    let verdict = evaluate(payload.as_bytes(), |_| Ok(ips(&["192.168.65.254"])));
    let Verdict::Mutate(mutation) = &verdict else {
        panic!("expected a mutation, got {verdict:?}");
    };
    assert!(mutation.object.contains(member), "{}", mutation.object);
    assert!(!mutation.object.contains("host-gateway"));
}

/// Found by fuzzing: a repeated field whose first value has the wrong type.
/// A JSON reader takes the last value; the policy refuses the request as
/// unreadable, and the oracle agrees (the API server never repeats keys).
#[test]
fn a_repeated_request_field_is_unreadable() {
    let request = read_fixture("pod_host_gateway.json");
    let text = serde_json::to_string(&request).unwrap();
    let broken = text.replacen(r#""name":"web""#, r#""name":{"x":1},"name":"web""#, 1);
    assert_ne!(broken, text);
    let payload = format!(r#"{{"settings":{{}},"request":{broken}}}"#);
    assert!(matches!(
        evaluate(payload.as_bytes(), |_| panic!("no lookup")),
        Verdict::Reject(Rejection::UnreadableRequest(_))
    ));
    host_gateway_test_support::check_evaluation(payload.as_bytes(), &ScriptedDns::docker_desktop());
}

/// Found by fuzzing the oracle: a long unknown key is quoted briefly, so the
/// message names it by its start.
#[test]
fn a_long_unknown_setting_is_named_briefly() {
    let key = format!("injectHostnam{}es", "&".repeat(200));
    let settings = json!({ key: [] });
    let payload = payload(&settings, &read_fixture("pod_host_gateway.json"));
    let verdict = evaluate(&payload, |_| panic!("no lookup"));
    let Verdict::Reject(Rejection::InvalidSettings(SettingsError::UnknownField(quoted))) = &verdict
    else {
        panic!("expected an unknown setting, got {verdict:?}");
    };
    assert!(
        quoted.starts_with("injectHostnam&&&") && quoted.ends_with("..."),
        "{quoted}"
    );
    host_gateway_test_support::check_evaluation(&payload, &ScriptedDns::docker_desktop());
}

#[test]
fn the_table_of_kinds_matches_the_reference_kept_by_the_tests() {
    let table: Vec<_> = HANDLED_KINDS
        .iter()
        .map(|k| (k.group, k.kind, k.resource, k.pod_spec))
        .collect();
    assert_eq!(table, REFERENCE_KINDS);
}

/// Found by fuzzing: a request field given as `null` reads as absent, as
/// serde reads an `Option`; the request is rewritten like any other.
#[test]
fn a_null_request_field_reads_as_absent() {
    let mut request = read_fixture("pod_host_gateway.json");
    request["namespace"] = Value::Null;
    request["kind"]["group"] = Value::Null;
    let payload = payload(&json!({}), &request);
    let verdict = evaluate(&payload, |_| Ok(ips(&[DOCKER_V4])));
    let Verdict::Mutate(mutation) = &verdict else {
        panic!("expected a mutation, got {verdict:?}");
    };
    assert_eq!(
        mutation.summary,
        "Pod/web: host-gateway -> 192.168.65.254 (host.docker.internal)"
    );
    host_gateway_test_support::check_evaluation(&payload, &ScriptedDns::docker_desktop());
}

/// An UPDATE of a Pod or a Job, whose pod spec cannot change once created
/// (the API server refuses any change): the re-sent host-gateway takes the
/// stored addresses of its names, whatever DNS says now, and nothing is
/// looked up.
#[rstest]
#[case::the_host_moved(ScriptedDns::default().with(DOCKER, &["192.168.65.3"]))]
#[case::nothing_resolves(ScriptedDns::default())]
fn a_reapplied_pod_keeps_its_stored_addresses(#[case] mut dns: ScriptedDns) {
    let request = read_fixture("pod_reapplied.json");
    let verdict = dns.evaluate(&request, &json!({}));
    assert_eq!(mutated_object(&verdict), request["oldObject"]);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[test]
fn a_labelled_job_is_left_alone_after_the_host_moved() {
    let request = read_fixture("job_labelled.json");
    let mut dns = ScriptedDns::default().with(DOCKER, &["192.168.65.3"]);
    assert_eq!(dns.evaluate(&request, &json!({})), Verdict::Accept);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[test]
fn a_reapplied_job_keeps_its_stored_addresses() {
    let mut request = read_fixture("job_labelled.json");
    request["object"] = request["oldObject"].clone();
    let aliases = request["object"]["spec"]["template"]["spec"]["hostAliases"]
        .as_array_mut()
        .unwrap();
    aliases.push(json!({"ip": "host-gateway", "hostnames": ["db.local", "cache.local"]}));
    let mut dns = ScriptedDns::default().with(DOCKER, &["192.168.65.3"]);
    let verdict = dns.evaluate(&request, &json!({}));
    // Merged into the stored entry, which holds the same names.
    assert_eq!(mutated_object(&verdict), request["oldObject"]);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[rstest]
#[case::pod(
    "pod_reapplied.json",
    &["spec"],
    "cannot replace host-gateway in hostAliases: a Pod's spec cannot change once created, and the \
     stored Pod does not hold every name of its host-gateway entries; apply the Pod as stored, or \
     delete it and create it again"
)]
#[case::job(
    "job_labelled.json",
    &["spec", "template", "spec"],
    "cannot replace host-gateway in hostAliases: a Job's pod template cannot change once created, \
     and the stored Job does not hold every name of its host-gateway entries; apply the Job as \
     stored, or delete it and create it again"
)]
fn a_name_the_stored_object_lacks_is_refused_without_a_lookup(
    #[case] fixture: &str,
    #[case] spec: &[&str],
    #[case] message: &str,
) {
    let mut request = read_fixture(fixture);
    let pointer: String =
        spec.iter().map(|key| format!("/{key}")).collect::<String>() + "/hostAliases";
    request["object"]
        .pointer_mut(&pointer)
        .unwrap()
        .as_array_mut()
        .unwrap()
        .push(json!({"ip": "host-gateway", "hostnames": ["api.local"]}));
    let mut dns = ScriptedDns::docker_desktop();
    let Verdict::Reject(rejection) = dns.evaluate(&request, &json!({})) else {
        panic!("expected a rejection");
    };
    assert_eq!(rejection.to_string(), message);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}
