//! In-cluster targets through the public API: an entry whose `ip` is
//! `dns:NAME` gets NAME's address, behind `allowedTargets`.

use rstest::rstest;
use serde_json::{Value, json};

use host_gateway_policy::{Verdict, evaluate};
use host_gateway_test_support::{
    Answer, INGRESS_ADDRESS, INGRESS_SERVICE, ScriptedDns, payload, read_fixture,
};

const TRAEFIK: &str = "traefik.kube-system.svc.cluster.local";
const TRAEFIK_IP: &str = "10.43.0.20";
const DOCKER: &str = "host.docker.internal";

fn dns() -> ScriptedDns {
    ScriptedDns::docker_desktop()
        .with(INGRESS_SERVICE, &[INGRESS_ADDRESS])
        .with(TRAEFIK, &[TRAEFIK_IP])
}

fn target(name: &str) -> String {
    format!("dns:{name}")
}

/// The sample Pod with these `hostAliases`.
fn pod(aliases: Value) -> Value {
    let mut request = read_fixture("pod_without_host_aliases.json");
    request["object"]["spec"]["hostAliases"] = aliases;
    request
}

fn run(dns: &mut ScriptedDns, request: &Value, settings: Value) -> Verdict {
    evaluate(&payload(&settings, request), |name| dns.resolve(name))
}

fn aliases_of(verdict: &Verdict, pointer: &str) -> Value {
    match verdict {
        Verdict::Mutate(mutation) => {
            let object: Value = serde_json::from_str(&mutation.object).unwrap();
            object.pointer(pointer).unwrap().clone()
        }
        other => panic!("expected a mutation, got {other:?}"),
    }
}

fn rejection(verdict: Verdict) -> String {
    match verdict {
        Verdict::Reject(rejection) => rejection.to_string(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn an_entry_gets_its_targets_address_and_keeps_the_rest() {
    let request = pod(json!([
        {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
        {"hostnames": ["keycloak.localtest.me"], "ip": target(INGRESS_SERVICE), "zzFuture": 1},
    ]));
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"hostnames": ["keycloak.localtest.me"], "ip": INGRESS_ADDRESS, "zzFuture": 1},
        ])
    );
    // Only the target is looked up: no host, no chain.
    assert_eq!(dns.asked, [INGRESS_SERVICE]);
    let Verdict::Mutate(mutation) = verdict else {
        unreachable!()
    };
    assert_eq!(
        mutation.summary,
        format!("[default] Pod/web: host-gateway -> {INGRESS_ADDRESS} (dns:{INGRESS_SERVICE})")
    );
    assert!(mutation.warnings.is_empty());
}

#[test]
fn each_distinct_target_is_looked_up_once_in_order() {
    let request = pod(json!([
        {"ip": target(TRAEFIK), "hostnames": ["a.localtest.me"]},
        {"ip": target(INGRESS_SERVICE), "hostnames": ["b.localtest.me"]},
        {"ip": target(TRAEFIK), "hostnames": ["c.localtest.me"]},
    ]));
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(dns.asked, [TRAEFIK, INGRESS_SERVICE]);
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([
            {"ip": TRAEFIK_IP, "hostnames": ["a.localtest.me", "c.localtest.me"]},
            {"ip": INGRESS_ADDRESS, "hostnames": ["b.localtest.me"]},
        ])
    );
}

#[rstest]
#[case::in_order(&["10.96.0.9", "fd00::2", "10.96.0.3", "fd00::1"])]
#[case::shuffled(&["fd00::1", "10.96.0.3", "fd00::2", "10.96.0.9"])]
fn the_lowest_address_of_each_family_in_settings_order(#[case] answer: &[&str]) {
    let request = pod(json!([{"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]}]));
    let mut dns = ScriptedDns::default().with(INGRESS_SERVICE, answer);
    let verdict = run(&mut dns, &request, json!({"ipFamilies": ["IPv6", "IPv4"]}));
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([
            {"ip": "fd00::1", "hostnames": ["k.localtest.me"]},
            {"ip": "10.96.0.3", "hostnames": ["k.localtest.me"]},
        ])
    );
}

#[test]
fn targets_host_gateway_and_literals_merge_by_ip() {
    let request = pod(json!([
        {"ip": "host-gateway", "hostnames": ["host.local"]},
        {"ip": INGRESS_ADDRESS, "hostnames": ["old.localtest.me"]},
        {"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]},
        {"ip": target(TRAEFIK), "hostnames": ["t.localtest.me"]},
    ]));
    // Traefik's Service answers at the host's address here.
    let mut dns = ScriptedDns::default()
        .with(DOCKER, &["192.168.65.254"])
        .with(INGRESS_SERVICE, &[INGRESS_ADDRESS])
        .with(TRAEFIK, &["192.168.65.254"]);
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(dns.asked, [DOCKER, INGRESS_SERVICE, TRAEFIK]);
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([
            {"ip": "192.168.65.254", "hostnames": ["host.local", "t.localtest.me"]},
            {"ip": INGRESS_ADDRESS, "hostnames": ["old.localtest.me", "k.localtest.me"]},
        ])
    );
}

#[rstest]
#[case::outside_the_default(
    json!({}),
    "keycloak.localtest.me",
    "hostAliases ip \"dns:keycloak.localtest.me\" is not looked up: the policy's allowedTargets \
     setting (*.svc.cluster.local) does not cover it; add the name, or a *. pattern that covers \
     it, to allowedTargets, or write the address itself"
)]
#[case::none_allowed(
    json!({"allowedTargets": []}),
    INGRESS_SERVICE,
    "hostAliases ip \"dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local\" is not \
     looked up: the policy's allowedTargets setting (none) does not cover it; add the name, or \
     a *. pattern that covers it, to allowedTargets, or write the address itself"
)]
#[case::a_lookalike(
    json!({}),
    "evilsvc.cluster.local",
    "hostAliases ip \"dns:evilsvc.cluster.local\" is not looked up: the policy's allowedTargets \
     setting (*.svc.cluster.local) does not cover it; add the name, or a *. pattern that covers \
     it, to allowedTargets, or write the address itself"
)]
#[case::uppercase(
    json!({}),
    "Web.default.svc.cluster.local",
    "hostAliases ip \"dns:Web.default.svc.cluster.local\" does not name a lowercase DNS name; \
     write dns: and a Service's name, e.g. \
     dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local"
)]
#[case::empty(
    json!({}),
    "",
    "hostAliases ip \"dns:\" does not name a lowercase DNS name; write dns: and a Service's name, \
     e.g. dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local"
)]
#[case::a_newline_as_written(
    json!({}),
    "web.default.svc.cluster.local\n",
    "hostAliases ip \"dns:web.default.svc.cluster.local\\n\" does not name a lowercase DNS name; \
     write dns: and a Service's name, e.g. \
     dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local"
)]
fn a_name_that_may_not_be_looked_up_is_refused_before_any_lookup(
    #[case] settings: Value,
    #[case] name: &str,
    #[case] message: &str,
) {
    let request = pod(json!([
        {"ip": "host-gateway", "hostnames": ["host.local"]},
        {"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]},
        {"ip": target(name), "hostnames": ["x.localtest.me"]},
    ]));
    let mut dns = dns().with(name, &["10.0.0.1"]);
    assert_eq!(rejection(run(&mut dns, &request, settings)), message);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[rstest]
#[case::exact(json!({"allowedTargets": ["keycloak.localtest.me"]}))]
#[case::suffix(json!({"allowedTargets": ["*.svc.cluster.local", "*.localtest.me"]}))]
fn allowed_targets_widen_what_may_be_looked_up(#[case] settings: Value) {
    let request = pod(json!([{"ip": "dns:keycloak.localtest.me", "hostnames": ["k"]}]));
    let mut dns = ScriptedDns::default().with("keycloak.localtest.me", &["172.18.0.3"]);
    let verdict = run(&mut dns, &request, settings);
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([{"ip": "172.18.0.3", "hostnames": ["k"]}])
    );
}

fn services(count: usize) -> (Value, ScriptedDns) {
    let mut dns = ScriptedDns::default();
    let mut aliases = Vec::new();
    for i in 0..count {
        let name = format!("s{i}.default.svc.cluster.local");
        dns = dns.with(&name, &[&format!("10.96.0.{}", i + 1)]);
        aliases.push(json!({"ip": target(&name), "hostnames": [format!("s{i}.local")]}));
    }
    (pod(Value::Array(aliases)), dns)
}

#[test]
fn sixteen_targets_are_looked_up_and_seventeen_refused_before_any_lookup() {
    let (request, mut dns) = services(16);
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases")
            .as_array()
            .unwrap()
            .len(),
        16
    );
    assert_eq!(dns.asked.len(), 16);

    let (request, mut dns) = services(17);
    assert_eq!(
        rejection(run(&mut dns, &request, json!({}))),
        "hostAliases ask for more than 16 different dns: names, and at most 16 are looked up \
         for one object; write the others' addresses themselves"
    );
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[test]
fn fifty_thousand_entries_with_two_targets_ask_two_names() {
    let aliases: Vec<Value> = (0..50_000)
        .map(|i| {
            let name = if i % 2 == 0 { INGRESS_SERVICE } else { TRAEFIK };
            json!({"ip": target(name), "hostnames": [format!("h{i}.local")]})
        })
        .collect();
    let request = pod(Value::Array(aliases));
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(dns.asked, [INGRESS_SERVICE, TRAEFIK]);
    let written = aliases_of(&verdict, "/spec/hostAliases");
    assert_eq!(written.as_array().unwrap().len(), 2);
    assert_eq!(written[0]["hostnames"].as_array().unwrap().len(), 25_000);
}

#[rstest]
#[case::does_not_resolve(
    Answer::Error("Name does not resolve".into()),
    "cannot replace dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local in hostAliases: \
     no IPv4 address for ingress-nginx-controller.ingress-nginx.svc.cluster.local (Name does \
     not resolve); check that the name resolves from the policy server, or write the address \
     itself"
)]
#[case::fails_for_now(
    Answer::Error("Try again".into()),
    "cannot replace dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local in hostAliases: \
     no IPv4 address for ingress-nginx-controller.ingress-nginx.svc.cluster.local (failed for \
     now: Try again); retry, or check that the name resolves from the policy server, or write \
     the address itself"
)]
#[case::only_loopback(
    Answer::Ips(vec!["127.0.0.1".into()]),
    "cannot replace dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local in hostAliases: \
     no IPv4 address for ingress-nginx-controller.ingress-nginx.svc.cluster.local (skipped \
     127.0.0.1, a loopback address); check that the name resolves from the policy server, or \
     write the address itself"
)]
#[case::not_granted(
    Answer::NotGranted,
    "cannot replace dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local in hostAliases: \
     this policy is not granted the net/v1/dns_lookup_host host capability; add it to the \
     PolicyServer's spec.namespacedPoliciesCapabilities"
)]
fn a_target_without_address_refuses_the_object_naming_it(
    #[case] answer: Answer,
    #[case] message: &str,
) {
    let request = pod(json!([{"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]}]));
    let mut dns = ScriptedDns::docker_desktop().with_answer(INGRESS_SERVICE, answer);
    // The fallback stands for the host, never for a target.
    let settings = json!({"fallbackAddresses": ["172.18.0.1"]});
    assert_eq!(rejection(run(&mut dns, &request, settings)), message);
    assert_eq!(dns.asked, [INGRESS_SERVICE]);
}

#[test]
fn a_pod_a_controller_made_is_admitted_without_the_entry() {
    let mut request = pod(json!([
        {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
        {"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]},
    ]));
    request["object"]["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c",
        "uid": "u", "controller": true,
    }]);
    let mut dns = ScriptedDns::default();
    let Verdict::Mutate(mutation) = run(&mut dns, &request, json!({})) else {
        panic!("expected a mutation");
    };
    let object: Value = serde_json::from_str(&mutation.object).unwrap();
    assert_eq!(
        object["spec"]["hostAliases"],
        json!([{"ip": "10.0.0.7", "hostnames": ["static.internal"]}])
    );
    let warnings: Vec<String> = mutation.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!(
            "host-gateway: the hostAliases entry dns:{INGRESS_SERVICE} left out: no IPv4 address for \
             {INGRESS_SERVICE} (Name does not resolve)"
        )]
    );
}

#[test]
fn a_skipped_address_is_told_of() {
    let request = pod(json!([{"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]}]));
    let mut dns = ScriptedDns::default().with(INGRESS_SERVICE, &["127.0.0.1", INGRESS_ADDRESS]);
    let Verdict::Mutate(mutation) = run(&mut dns, &request, json!({})) else {
        panic!("expected a mutation");
    };
    let warnings: Vec<String> = mutation.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!(
            "host-gateway: {INGRESS_SERVICE} (skipped 127.0.0.1, a loopback address); used {INGRESS_ADDRESS} \
             from {INGRESS_SERVICE}"
        )]
    );
}

#[test]
fn a_template_gets_the_address_too() {
    let mut request = read_fixture("deployment_host_gateway.json");
    request["object"]["spec"]["template"]["spec"]["hostAliases"] =
        json!([{"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]}]);
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/template/spec/hostAliases"),
        json!([{"ip": INGRESS_ADDRESS, "hostnames": ["k.localtest.me"]}])
    );
    // The intent stays with the template, for each Pod to follow.
    assert_eq!(
        aliases_of(&verdict, "/spec/template/metadata/annotations"),
        json!({ANNOTATION: format!("k.localtest.me=dns:{INGRESS_SERVICE}")})
    );
    assert_eq!(dns.asked, [INGRESS_SERVICE]);
}

#[test]
fn invalid_settings_refuse_an_object_with_a_target() {
    let request = pod(json!([{"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]}]));
    let mut dns = dns();
    let message = rejection(run(
        &mut dns,
        &request,
        json!({"allowedTargets": ["db.*.com"]}),
    ));
    assert!(
        message.starts_with("host-gateway policy settings are invalid: `allowedTargets` item"),
        "{message}"
    );
    assert!(dns.asked.is_empty());
}

#[test]
fn a_reapplied_pod_keeps_the_stored_address_of_its_target() {
    let mut request = pod(json!([
        {"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]},
        {"ip": "host-gateway", "hostnames": ["host.local"]},
    ]));
    request["operation"] = json!("UPDATE");
    let mut stored = request["object"].clone();
    stored["spec"]["hostAliases"] = json!([
        {"ip": INGRESS_ADDRESS, "hostnames": ["k.localtest.me"]},
        {"ip": "192.168.65.254", "hostnames": ["host.local"]},
    ]);
    request["oldObject"] = stored.clone();
    // Both moved since: the stored addresses stand, and nothing is asked.
    let mut dns = ScriptedDns::default()
        .with(INGRESS_SERVICE, &["10.96.99.99"])
        .with(DOCKER, &["192.168.65.3"]);
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        stored["spec"]["hostAliases"]
    );
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[test]
fn a_reapplied_pod_naming_what_the_stored_one_lacks_is_refused_without_a_lookup() {
    let mut request = pod(json!([
        {"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me", "new.localtest.me"]},
    ]));
    request["operation"] = json!("UPDATE");
    let mut stored = request["object"].clone();
    stored["spec"]["hostAliases"] =
        json!([{"ip": INGRESS_ADDRESS, "hostnames": ["k.localtest.me"]}]);
    request["oldObject"] = stored;
    let mut dns = dns();
    assert_eq!(
        rejection(run(&mut dns, &request, json!({}))),
        "cannot replace dns: in hostAliases: a Pod's spec cannot change once created, and the \
         stored Pod does not hold every name of its dns: entries; apply the Pod as stored, or \
         delete it and create it again"
    );
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[test]
fn a_long_name_outside_the_list_still_gets_the_fix() {
    let label = "a".repeat(63);
    let name = format!("{label}.{label}.{label}.{}", "b".repeat(61));
    assert_eq!(name.len(), 253);
    let request = pod(json!([{"ip": target(&name), "hostnames": ["k.localtest.me"]}]));
    let patterns: Vec<String> = (0..64).map(|i| format!("*.{label}{i}.example")).collect();
    let mut dns = dns();
    let message = rejection(run(&mut dns, &request, json!({"allowedTargets": patterns})));
    assert!(message.len() <= 512, "{} bytes", message.len());
    assert!(message.contains(&name), "{message}");
    assert!(
        message.ends_with("or write the address itself"),
        "{message}"
    );
}

const ANNOTATION: &str = "host-gateway.kubewarden.io/hostnames";

/// A Pod a ReplicaSet made, with this intent annotation and these
/// `hostAliases` (none when null).
fn pod_from_template(annotation: &str, aliases: Value) -> Value {
    let mut request = pod(aliases);
    if request["object"]["spec"]["hostAliases"].is_null() {
        request["object"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("hostAliases");
    }
    let metadata = &mut request["object"]["metadata"];
    metadata["annotations"] = json!({ANNOTATION: annotation});
    metadata["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c",
        "uid": "u", "controller": true,
    }]);
    request
}

fn warnings_of(verdict: &Verdict) -> Vec<String> {
    match verdict {
        Verdict::Mutate(mutation) => mutation.warnings.iter().map(ToString::to_string).collect(),
        Verdict::Warn(warnings) => warnings.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn a_pod_follows_the_target_its_annotation_names() {
    let annotation = format!("k.localtest.me=dns:{INGRESS_SERVICE}");
    // The address its template held when it was applied, since moved.
    let request = pod_from_template(
        &annotation,
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": "10.96.0.99", "hostnames": ["k.localtest.me"]},
        ]),
    );
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": INGRESS_ADDRESS, "hostnames": ["k.localtest.me"]},
        ])
    );
    assert_eq!(dns.asked, [INGRESS_SERVICE]);
    assert!(warnings_of(&verdict).is_empty());
}

#[test]
fn the_annotation_alone_gives_a_pod_its_entry_beside_the_hosts() {
    let annotation = format!("db.local, k.localtest.me=dns:{INGRESS_SERVICE}");
    let request = pod_from_template(&annotation, Value::Null);
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/hostAliases"),
        json!([
            {"ip": "192.168.65.254", "hostnames": ["db.local"]},
            {"ip": INGRESS_ADDRESS, "hostnames": ["k.localtest.me"]},
        ])
    );
    assert_eq!(dns.asked, [DOCKER, INGRESS_SERVICE]);
}

#[test]
fn a_pod_whose_annotated_target_gives_no_address_is_admitted_as_it_is() {
    let annotation = format!("k.localtest.me=dns:{INGRESS_SERVICE}");
    let request = pod_from_template(
        &annotation,
        json!([{"ip": "10.96.0.99", "hostnames": ["k.localtest.me"]}]),
    );
    let mut dns = ScriptedDns::default();
    let verdict = run(&mut dns, &request, json!({}));
    assert!(matches!(verdict, Verdict::Warn(_)), "{verdict:?}");
    assert_eq!(
        warnings_of(&verdict),
        [format!(
            "host-gateway: k.localtest.me not pointed at dns:{INGRESS_SERVICE}, left as they \
             were: no IPv4 address for {INGRESS_SERVICE} (Name does not resolve)"
        )]
    );
}

#[test]
fn a_pods_annotated_target_outside_the_list_is_not_looked_up() {
    let request = pod_from_template("k.localtest.me=dns:keycloak.localtest.me", Value::Null);
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    assert!(matches!(verdict, Verdict::Warn(_)), "{verdict:?}");
    assert_eq!(
        warnings_of(&verdict),
        [
            "host-gateway: k.localtest.me not pointed at dns:keycloak.localtest.me, left as they \
          were: allowedTargets (*.svc.cluster.local) does not cover it"
        ]
    );
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

/// The sample Deployment with this intent annotation and these
/// `hostAliases`.
fn deployment(annotation: &str, aliases: Value) -> Value {
    let mut request = read_fixture("deployment_annotation_only.json");
    let template = &mut request["object"]["spec"]["template"];
    template["metadata"]["annotations"] = json!({ANNOTATION: annotation});
    template["spec"]["hostAliases"] = aliases;
    request
}

#[test]
fn a_template_carrying_only_the_intent_is_left_as_git_has_it() {
    let request = deployment(&format!("k.localtest.me=dns:{INGRESS_SERVICE}"), json!([]));
    let mut dns = dns();
    assert_eq!(run(&mut dns, &request, json!({})), Verdict::Accept);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

#[rstest]
#[case::not_allowed(
    "k.localtest.me=dns:keycloak.localtest.me",
    "hostAliases ip \"dns:keycloak.localtest.me\" is not looked up: the policy's allowedTargets \
     setting (*.svc.cluster.local) does not cover it; add the name, or a *. pattern that covers \
     it, to allowedTargets, or write the address itself"
)]
#[case::no_target(
    "k.localtest.me=10.0.0.1",
    "the pod template's annotation host-gateway.kubewarden.io/hostnames is invalid: item \
     \"k.localtest.me=10.0.0.1\" points at no dns: name; write lowercase host names separated \
     by commas, each alone for the host or as NAME=dns:TARGET"
)]
#[case::two_places(
    "k.localtest.me,k.localtest.me=dns:a.svc.cluster.local",
    "the pod template's annotation host-gateway.kubewarden.io/hostnames is invalid: \
     k.localtest.me is given two places to point at; write lowercase host names separated by \
     commas, each alone for the host or as NAME=dns:TARGET"
)]
fn a_template_whose_annotated_target_cannot_be_followed_is_refused(
    #[case] annotation: &str,
    #[case] message: &str,
) {
    let request = deployment(annotation, json!([]));
    let mut dns = dns();
    assert_eq!(rejection(run(&mut dns, &request, json!({}))), message);
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

/// `count` items, each pointing at its own Service.
fn annotated_services(count: usize) -> String {
    let items: Vec<String> = (0..count)
        .map(|i| format!("n{i}.local=dns:s{i}.default.svc.cluster.local"))
        .collect();
    items.join(",")
}

#[test]
fn sixteen_targets_in_the_entries_and_annotation_together_at_most() {
    let entry = json!([{"ip": "dns:x.default.svc.cluster.local", "hostnames": ["x.local"]}]);
    let mut dns = dns();
    let request = deployment(&annotated_services(16), entry.clone());
    assert_eq!(
        rejection(run(&mut dns, &request, json!({}))),
        "hostAliases ask for more than 16 different dns: names, and at most 16 are looked up for \
         one object; write the others' addresses themselves"
    );
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
    // A Pod is never refused for its annotation: it goes without it.
    let request = pod_from_template(&annotated_services(16), entry);
    let mut dns = dns.with("x.default.svc.cluster.local", &["10.96.1.1"]);
    let verdict = run(&mut dns, &request, json!({}));
    assert_eq!(
        warnings_of(&verdict),
        [
            "host-gateway: annotation host-gateway.kubewarden.io/hostnames ignored: 17 dns: names; \
          at most 16 are looked up"
        ]
    );
    assert_eq!(dns.asked, ["x.default.svc.cluster.local"]);
}

#[test]
fn a_user_who_points_a_name_elsewhere_takes_it_out_of_the_intent() {
    let annotation = format!("k.localtest.me=dns:{INGRESS_SERVICE}");
    let mut request = deployment(
        &annotation,
        json!([{"ip": "10.0.0.5", "hostnames": ["k.localtest.me"]}]),
    );
    let mut old = request["object"].clone();
    old["spec"]["template"]["spec"]["hostAliases"] =
        json!([{"ip": INGRESS_ADDRESS, "hostnames": ["k.localtest.me"]}]);
    request["operation"] = json!("UPDATE");
    request["oldObject"] = old;
    let mut dns = dns();
    let verdict = run(&mut dns, &request, json!({}));
    let annotations = aliases_of(&verdict, "/spec/template/metadata");
    assert_eq!(annotations.get("annotations"), Some(&json!({})));
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
    // Re-applied as stored, with the dns: entry, it keeps its intent.
    let mut kept = request.clone();
    kept["object"]["spec"]["template"]["spec"]["hostAliases"] =
        json!([{"ip": target(INGRESS_SERVICE), "hostnames": ["k.localtest.me"]}]);
    let mut dns = self::dns();
    let verdict = run(&mut dns, &kept, json!({}));
    assert_eq!(
        aliases_of(&verdict, "/spec/template/metadata/annotations"),
        json!({ANNOTATION: annotation})
    );
}
