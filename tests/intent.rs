//! The intent annotation, case by case: templates carry the names, each Pod
//! gets the address current at its creation.

use host_gateway_policy::{HOSTNAMES_ANNOTATION, Verdict, evaluate};
use host_gateway_test_support::{ScriptedDns, payload, read_fixture};
use serde_json::{Value, json};

const DOCKER: &str = "host.docker.internal";
const THEN: &str = "192.168.65.254";
const NOW: &str = "192.168.65.3";

fn dns(address: &str) -> ScriptedDns {
    ScriptedDns::default().with(DOCKER, &[address])
}

fn run(request: &Value, settings: &Value, dns: &mut ScriptedDns) -> Verdict {
    evaluate(&payload(settings, request), |name| dns.resolve(name))
}

fn mutated(verdict: &Verdict) -> Value {
    match verdict {
        Verdict::Mutate(mutation) => serde_json::from_str(&mutation.object).unwrap(),
        other => panic!("expected a mutation, got {other:?}"),
    }
}

fn template(object: &Value) -> &Value {
    &object["spec"]["template"]
}

#[test]
fn a_deployment_with_host_gateway_gets_the_address_and_the_annotation() {
    let request = read_fixture("deployment_host_gateway.json");
    let object = mutated(&run(&request, &json!({}), &mut dns(THEN)));
    assert_eq!(
        template(&object)["metadata"]["annotations"],
        json!({HOSTNAMES_ANNOTATION: "db.local,cache.local"})
    );
    assert_eq!(
        template(&object)["spec"]["hostAliases"],
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": THEN, "hostnames": ["db.local", "cache.local"], "zzFutureAliasField": 7},
        ])
    );
}

#[test]
fn a_pod_made_from_the_template_gets_todays_address_and_no_stale_entry() {
    let request = read_fixture("pod_from_template.json");
    let mut lookups = dns(NOW);
    let verdict = run(&request, &json!({}), &mut lookups);
    let object = mutated(&verdict);
    assert_eq!(
        object["spec"]["hostAliases"],
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": NOW, "hostnames": ["db.local", "cache.local"], "zzFutureAliasField": 7},
        ])
    );
    assert_eq!(object["metadata"], request["object"]["metadata"]);
    assert_eq!(lookups.asked, [DOCKER]);
    let Verdict::Mutate(mutation) = verdict else {
        unreachable!()
    };
    assert_eq!(
        mutation.summary,
        "[default] Pod/web-6d8f7b9c5-*: host-gateway -> 192.168.65.3 (host.docker.internal)"
    );
}

#[test]
fn the_same_pod_with_dns_failing_is_admitted_with_the_template_address_and_a_warning() {
    let request = read_fixture("pod_from_template.json");
    let verdict = run(
        &request,
        &json!({"hostnames": [DOCKER]}),
        &mut ScriptedDns::default(),
    );
    let Verdict::Warn(warnings) = verdict else {
        panic!("expected a warning, got {verdict:?}");
    };
    assert_eq!(
        warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "host-gateway: db.local, cache.local left at the address they had: no IPv4 address \
          for host.docker.internal (Name does not resolve)"
        ]
    );
}

#[test]
fn a_template_with_only_the_annotation_is_unchanged_and_its_pod_gets_the_entry() {
    let mut lookups = dns(THEN);
    let request = read_fixture("deployment_annotation_only.json");
    assert_eq!(run(&request, &json!({}), &mut lookups), Verdict::Accept);
    assert!(
        lookups.asked.is_empty(),
        "no lookup for a template that holds no entry"
    );

    let pod = read_fixture("pod_annotation_only.json");
    let object = mutated(&run(&pod, &json!({}), &mut lookups));
    assert_eq!(
        object["spec"]["hostAliases"],
        json!([{"ip": THEN, "hostnames": ["db.local", "cache.local"]}])
    );
}

#[test]
fn a_client_side_reapply_with_the_address_unchanged_changes_nothing() {
    let request = read_fixture("deployment_reapplied.json");
    let object = mutated(&run(&request, &json!({}), &mut dns(THEN)));
    assert_eq!(object, request["oldObject"]);
}

/// Server-side apply sends the whole manifest, `host-gateway` and no
/// annotation, merged into the stored object: what the policy wrote at
/// creation (the annotation, the address entry) belongs to no field
/// manager (the API server records managed fields before mutating
/// admission), so it stays, and the `host-gateway` entry joins it. The
/// policy gives back the stored object, looking nothing up.
#[test]
fn a_server_side_reapply_with_the_address_unchanged_changes_nothing() {
    let mut request = read_fixture("deployment_reapplied.json");
    let manifest = read_fixture("deployment_host_gateway.json")["object"].clone();
    let mut object = request["oldObject"].clone();
    let aliases = object["spec"]["template"]["spec"]["hostAliases"]
        .as_array_mut()
        .unwrap();
    aliases.push(template(&manifest)["spec"]["hostAliases"][1].clone());
    assert_eq!(aliases.last().unwrap()["ip"], "host-gateway");
    request["object"] = object;
    let mut lookups = dns(NOW);
    let object = mutated(&run(&request, &json!({}), &mut lookups));
    assert_eq!(object, request["oldObject"]);
    assert!(lookups.asked.is_empty(), "looked up {:?}", lookups.asked);
}

#[test]
fn rollout_restart_with_a_new_address_refreshes_the_template() {
    let request = read_fixture("deployment_rollout_restart.json");
    let mut lookups = dns(NOW);
    let object = mutated(&run(&request, &json!({}), &mut lookups));
    assert_eq!(
        template(&object)["spec"]["hostAliases"],
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": NOW, "hostnames": ["db.local", "cache.local"], "zzFutureAliasField": 7},
        ])
    );
    assert_eq!(
        template(&object)["metadata"],
        template(&request["object"])["metadata"],
        "the annotations, restartedAt included, stay as they were"
    );
    // The address unchanged: the object comes back as it came.
    assert_eq!(run(&request, &json!({}), &mut dns(THEN)), Verdict::Accept);
}

#[test]
fn a_replicaset_its_deployment_owns_is_never_refreshed() {
    let mut request = read_fixture("replicaset_owned.json");
    for operation in ["CREATE", "UPDATE"] {
        request["operation"] = json!(operation);
        let mut lookups = dns(NOW);
        assert_eq!(
            run(&request, &json!({}), &mut lookups),
            Verdict::Accept,
            "{operation}"
        );
        assert!(lookups.asked.is_empty(), "{operation}");
    }
    // A literal host-gateway there is still rewritten: the API server
    // would refuse it.
    request["object"]["spec"]["template"]["spec"]["hostAliases"][1]["ip"] = json!("host-gateway");
    let object = mutated(&run(&request, &json!({}), &mut dns(NOW)));
    assert_eq!(
        object["spec"]["template"]["spec"]["hostAliases"][1]["ip"],
        NOW
    );
    assert_eq!(
        object["spec"]["template"]["metadata"],
        request["object"]["spec"]["template"]["metadata"]
    );
}

#[test]
fn a_malformed_annotation_is_refused_on_a_deployment_and_warned_about_on_a_pod() {
    let verdict = run(
        &read_fixture("deployment_bad_annotation.json"),
        &json!({}),
        &mut dns(THEN),
    );
    let Verdict::Reject(rejection) = verdict else {
        panic!("expected a rejection, got {verdict:?}");
    };
    assert_eq!(
        rejection.to_string(),
        "the pod template's annotation host-gateway.kubewarden.io/hostnames is invalid: item 2 \
         is empty; write lowercase host names separated by commas, each alone for the host or as \
         NAME=dns:TARGET"
    );

    let mut lookups = dns(THEN);
    let verdict = run(
        &read_fixture("pod_bad_annotation.json"),
        &json!({}),
        &mut lookups,
    );
    let Verdict::Warn(warnings) = verdict else {
        panic!("expected a warning, got {verdict:?}");
    };
    assert_eq!(
        warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "host-gateway: annotation host-gateway.kubewarden.io/hostnames ignored: item \
          \"DB.local\" is not a valid DNS-1123 subdomain"
        ]
    );
    assert!(lookups.asked.is_empty());
}

#[test]
fn the_annotation_and_inject_hostnames_naming_one_host_share_one_lookup_and_one_entry() {
    let mut request = read_fixture("pod_annotation_only.json");
    request["object"]["metadata"]["annotations"][HOSTNAMES_ANNOTATION] = json!(DOCKER);
    let mut lookups = dns(THEN);
    let object = mutated(&run(
        &request,
        &json!({"injectHostnames": [DOCKER]}),
        &mut lookups,
    ));
    assert_eq!(
        object["spec"]["hostAliases"],
        json!([{"ip": THEN, "hostnames": [DOCKER]}])
    );
    assert_eq!(lookups.asked, [DOCKER]);
}

#[test]
fn a_pod_update_is_never_refreshed() {
    let mut request = read_fixture("pod_from_template.json");
    request["operation"] = json!("UPDATE");
    let mut lookups = dns(NOW);
    assert_eq!(run(&request, &json!({}), &mut lookups), Verdict::Accept);
    assert!(lookups.asked.is_empty());
}

/// Found by fuzzing the reference model: a Pod with the annotation and no
/// pod spec has nowhere to take an entry; it is admitted as it is (the API
/// server refuses it anyway), and the model writes no `spec` either.
#[test]
fn a_pod_with_the_annotation_and_no_spec_is_admitted_as_it_is() {
    let mut request = read_fixture("pod_annotation_only.json");
    request["object"].as_object_mut().unwrap().remove("spec");
    let mut lookups = dns(THEN);
    assert_eq!(run(&request, &json!({}), &mut lookups), Verdict::Accept);
    host_gateway_test_support::check_evaluation(&payload(&json!({}), &request), &dns(THEN));
}

/// `deployment_reapplied.json` as `kubectl edit` sends it: its stored
/// object, changed by `edit`.
fn edited(edit: impl FnOnce(&mut Vec<Value>)) -> Value {
    let mut request = read_fixture("deployment_reapplied.json");
    let mut object = request["oldObject"].clone();
    let aliases = object["spec"]["template"]["spec"]["hostAliases"]
        .as_array_mut()
        .unwrap();
    edit(aliases);
    request["object"] = object;
    request
}

/// `kubectl edit` gives db.local an address of the user's: db.local leaves
/// the annotation, so new Pods keep the edit. Nothing is looked up, and
/// nothing else changes.
#[test]
fn an_edit_to_another_address_takes_the_name_out_of_the_annotation() {
    let request = edited(|aliases| {
        aliases[1]["hostnames"] = json!(["cache.local"]);
        aliases.push(json!({"ip": "10.9.9.9", "hostnames": ["db.local"]}));
    });
    let mut lookups = dns(NOW);
    let object = mutated(&run(&request, &json!({}), &mut lookups));
    assert!(lookups.asked.is_empty(), "looked up {:?}", lookups.asked);
    let mut expected = request["object"].clone();
    expected["spec"]["template"]["metadata"]["annotations"][HOSTNAMES_ANNOTATION] =
        json!("cache.local");
    assert_eq!(object, expected);
}

/// Removing the policy's entry removes its names; the annotation goes
/// with the last of them.
#[test]
fn removing_the_entry_removes_the_annotation() {
    let request = edited(|aliases| drop(aliases.remove(1)));
    let object = mutated(&run(&request, &json!({}), &mut dns(NOW)));
    let metadata = &template(&object)["metadata"];
    assert_eq!(metadata["annotations"], json!({}), "{metadata}");
    assert_eq!(
        template(&object)["spec"],
        template(&request["object"])["spec"]
    );
}

/// Re-sent host-gateway and names kept where they were are no edits.
#[test]
fn names_kept_or_asked_of_the_host_stay_annotated() {
    let request = edited(|aliases| {
        aliases.push(json!({"ip": "host-gateway", "hostnames": ["db.local"]}));
    });
    let object = mutated(&run(&request, &json!({}), &mut dns(NOW)));
    assert_eq!(object, request["oldObject"]);
}

/// An edit beside a change of the template: the other names are brought
/// to the current address, the edited one stays where the user put it.
#[test]
fn a_changed_template_refreshes_only_the_names_not_edited() {
    let mut request = read_fixture("deployment_rollout_restart.json");
    let aliases = request["object"]["spec"]["template"]["spec"]["hostAliases"]
        .as_array_mut()
        .unwrap();
    aliases[1]["hostnames"] = json!(["cache.local"]);
    aliases.push(json!({"ip": "10.9.9.9", "hostnames": ["db.local"]}));
    let object = mutated(&run(&request, &json!({}), &mut dns(NOW)));
    assert_eq!(
        template(&object)["spec"]["hostAliases"],
        json!([
            {"ip": "10.0.0.7", "hostnames": ["static.internal"]},
            {"ip": NOW, "hostnames": ["cache.local"], "zzFutureAliasField": 7},
            {"ip": "10.9.9.9", "hostnames": ["db.local"]},
        ])
    );
    assert_eq!(
        template(&object)["metadata"]["annotations"][HOSTNAMES_ANNOTATION],
        "cache.local"
    );
}

/// The policy's own refresh is no edit: the refreshed template, sent again
/// against the same stored object, comes back as it is.
#[test]
fn a_refreshed_template_is_no_edit() {
    let mut request = read_fixture("deployment_rollout_restart.json");
    let object = mutated(&run(&request, &json!({}), &mut dns(NOW)));
    request["object"] = object;
    assert_eq!(run(&request, &json!({}), &mut dns(NOW)), Verdict::Accept);
}

/// The GitOps form (the annotation, no entries) holds its names nowhere:
/// an UPDATE never edits its annotation.
#[test]
fn the_gitops_form_is_never_edited() {
    let mut request = read_fixture("deployment_annotation_only.json");
    request["operation"] = json!("UPDATE");
    request["oldObject"] = request["object"].clone();
    template_mut(&mut request["object"])["metadata"]["labels"]["tier"] = json!("web");
    let mut lookups = dns(NOW);
    assert_eq!(run(&request, &json!({}), &mut lookups), Verdict::Accept);
    assert!(lookups.asked.is_empty(), "looked up {:?}", lookups.asked);
}

fn template_mut(object: &mut Value) -> &mut Value {
    &mut object["spec"]["template"]
}
