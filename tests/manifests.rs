//! The deployment manifests: they parse, fit Kubewarden's CRD schemas, agree
//! with metadata.yml and the crate version, carry settings the policy
//! accepts, and their CEL matchConditions select exactly the requests the
//! policy would change or refuse.

use std::path::{Path, PathBuf};

use host_gateway_policy::{Settings, Verdict, evaluate};
use host_gateway_test_support::REFERENCE_KINDS;
use serde_json::{Value, json};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            let value: serde_yaml::Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            serde_json::to_value(value).unwrap()
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn manifest(name: &str) -> Value {
    let mut docs = yaml_documents(&root().join("deploy").join(name));
    assert_eq!(docs.len(), 1, "{name}");
    docs.remove(0)
}

fn policies() -> Vec<Value> {
    vec![
        manifest("cluster-admission-policy.yaml"),
        manifest("admission-policy.yaml"),
    ]
}

fn crate_version() -> String {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    cargo
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap()
        .to_string()
}

#[test]
fn every_yaml_file_parses() {
    let mut count = 0;
    for dir in [root().join("deploy"), root().join("test_data/sessions")] {
        for file in yaml_files(&dir) {
            yaml_documents(&file);
            count += 1;
        }
    }
    for file in [
        "metadata.yml",
        "artifacthub-pkg.yml",
        "artifacthub-repo.yml",
        "questions-ui.yml",
    ] {
        yaml_documents(&root().join(file));
        count += 1;
    }
    assert!(count >= 12, "{count} files");
}

/// A small checker of the OpenAPI v3 subset CRDs use: types, enums,
/// required fields and unknown fields (where the schema lists properties;
/// `metadata` is checked by the API server itself).
fn check_schema(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let preserve_unknown = schema["x-kubernetes-preserve-unknown-fields"] == true;
    if schema["x-kubernetes-int-or-string"] == true {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!("{path}: not an int or string"));
        }
        return;
    }
    let type_ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !type_ok {
        errors.push(format!("{path}: expected {}", schema["type"]));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let Some(object) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap_or_default()) {
                errors.push(format!("{path}: missing {required}"));
            }
        }
        for (key, inner) in object {
            let child = format!("{path}.{key}");
            if let Some(property) = schema["properties"].get(key) {
                check_schema(inner, property, &child, errors);
            } else if schema["additionalProperties"].is_object() {
                check_schema(inner, &schema["additionalProperties"], &child, errors);
            } else if schema.get("properties").is_some()
                && !preserve_unknown
                && schema["additionalProperties"] != true
            {
                errors.push(format!("{child}: unknown field"));
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check_schema(item, schema, &format!("{path}[{i}]"), errors);
        }
    }
}

#[test]
fn kubewarden_manifests_fit_the_crd_schemas() {
    // Kubewarden v1.36's CRDs, vendored from its Helm chart.
    let crds_dir = root().join("test_data/kubewarden-crds");
    let mut schemas = Vec::new();
    for file in yaml_files(&crds_dir) {
        for crd in yaml_documents(&file) {
            for version in crd["spec"]["versions"].as_array().unwrap() {
                let api_version = format!(
                    "{}/{}",
                    crd["spec"]["group"].as_str().unwrap(),
                    version["name"].as_str().unwrap()
                );
                let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_string();
                schemas.push((
                    api_version,
                    kind,
                    version["schema"]["openAPIV3Schema"].clone(),
                ));
            }
        }
    }
    let mut checked = 0;
    for file in yaml_files(&root().join("deploy")) {
        for doc in yaml_documents(&file) {
            let Some((_, _, schema)) = schemas.iter().find(|(api, kind, _)| {
                doc["apiVersion"] == api.as_str() && doc["kind"] == kind.as_str()
            }) else {
                continue;
            };
            let mut errors = Vec::new();
            check_schema(&doc, schema, "", &mut errors);
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
            checked += 1;
        }
    }
    assert_eq!(
        checked, 4,
        "three ClusterAdmissionPolicies and an AdmissionPolicy"
    );

    // The checker itself notices mistakes.
    let mut broken = manifest("cluster-admission-policy.yaml");
    broken["spec"]["mutatng"] = json!(true);
    broken["spec"]["mode"] = json!("enforce");
    let (_, _, schema) = schemas
        .iter()
        .find(|(_, kind, _)| kind == "ClusterAdmissionPolicy")
        .unwrap();
    let mut errors = Vec::new();
    check_schema(&broken, schema, "", &mut errors);
    assert_eq!(errors.len(), 2, "{errors:?}");
}

/// The default `namespacedPoliciesAllowedResources` of Kubewarden 1.38's
/// chart: an AdmissionPolicy whose rules name any other resource is
/// `rejected` and gets no webhook (kubewarden/helm-charts
/// `charts/admission-controller/values.yaml`; docs version-1.38
/// `howtos/security-hardening/security-hardening.adoc`).
const NAMESPACED_ALLOWED_1_38: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "replicationcontrollers",
            "configmaps",
            "secrets",
            "services",
            "persistentvolumeclaims",
        ],
    ),
    (
        "apps",
        &["deployments", "statefulsets", "replicasets", "daemonsets"],
    ),
    ("batch", &["jobs", "cronjobs"]),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("policy", &["poddisruptionbudgets"]),
];

/// `rules` without the resources 1.38's default list leaves out.
fn allowed_for_namespaced_policies(rules: &Value) -> Value {
    let allowed = |group: &str, resource: &str| {
        NAMESPACED_ALLOWED_1_38
            .iter()
            .any(|(g, resources)| *g == group && resources.contains(&resource))
    };
    let mut rules = rules.clone();
    for rule in rules.as_array_mut().unwrap() {
        let group = rule["apiGroups"][0].as_str().unwrap().to_string();
        let resources = rule["resources"].as_array_mut().unwrap();
        resources.retain(|r| allowed(&group, r.as_str().unwrap()));
    }
    rules
}

#[test]
fn policies_match_metadata_and_version() {
    let metadata = yaml_documents(&root().join("metadata.yml")).remove(0);
    let version = crate_version();
    assert_eq!(
        metadata["annotations"]["io.kubewarden.policy.version"],
        version.as_str()
    );
    let artifacthub = yaml_documents(&root().join("artifacthub-pkg.yml")).remove(0);
    assert_eq!(artifacthub["version"], version.as_str());
    assert_eq!(artifacthub["annotations"]["kubewarden/mutation"], "true");
    let artifacthub_rules: Value = serde_json::to_value(
        serde_yaml::from_str::<serde_yaml::Value>(
            artifacthub["annotations"]["kubewarden/rules"]
                .as_str()
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(artifacthub_rules, metadata["rules"]);

    let cluster_rules = &policies()[0]["spec"]["rules"];
    assert_eq!(cluster_rules, &metadata["rules"]);
    assert_eq!(
        policies()[1]["spec"]["rules"],
        allowed_for_namespaced_policies(&metadata["rules"]),
        "the namespaced policy covers what Kubewarden 1.38 deploys by default"
    );
    for policy in policies() {
        let spec = &policy["spec"];
        assert_eq!(spec["mutating"], metadata["mutating"]);
        assert_eq!(spec["backgroundAudit"], metadata["backgroundAudit"]);
        let module = spec["module"].as_str().unwrap();
        assert_eq!(
            module,
            format!(
                "registry://{}:v{version}",
                metadata["annotations"]["io.kubewarden.policy.ociUrl"]
                    .as_str()
                    .unwrap()
            )
        );
        let settings = serde_json::to_vec(&spec["settings"]).unwrap();
        assert_eq!(
            Settings::from_json(&settings),
            Ok(Settings::default()),
            "the defaults, spelled out"
        );
    }
    for policy in policies() {
        let spec = &policy["spec"];
        let eval = spec["timeoutEvalSeconds"].as_u64().unwrap();
        let call = spec["timeoutSeconds"].as_u64().unwrap();
        // Room for one unanswered fully qualified lookup (5 s x 2 attempts).
        assert!(eval > 10 && eval < call && call <= 30, "{eval} s, {call} s");
    }
    // Applied with `kubectl apply -n <namespace>`.
    assert!(policies()[1]["metadata"].get("namespace").is_none());
    let cluster = &policies()[0]["spec"];
    let excluded = &cluster["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["operator"], "NotIn");
    assert_eq!(excluded["values"], json!(["kube-system"]));
    assert!(
        cluster["namespaceSelector"].get("matchLabels").is_none(),
        "Kubewarden drops matchLabels"
    );
    assert_eq!(
        cluster["matchConditions"],
        policies()[1]["spec"]["matchConditions"]
    );
}

/// What the API server gives CEL: the object decoded into its Go type,
/// which drops fields that are null.
fn as_decoded(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), as_decoded(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(as_decoded).collect()),
        other => other.clone(),
    }
}

fn match_condition(request: &Value) -> bool {
    match_condition_of("cluster-admission-policy.yaml", request)
}

fn match_condition_of(file: &str, request: &Value) -> bool {
    let policy = manifest(file);
    let conditions = policy["spec"]["matchConditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 1);
    let program = cel::Program::compile(conditions[0]["expression"].as_str().unwrap())
        .expect("the CEL compiles");
    let mut context = cel::Context::default();
    context
        .add_variable("object", as_decoded(&request["object"]))
        .unwrap();
    context
        .add_variable("oldObject", as_decoded(&request["oldObject"]))
        .unwrap();
    context
        .add_variable("request", as_decoded(request))
        .unwrap();
    match program.execute(&context) {
        Ok(cel::Value::Bool(selected)) => selected,
        other => panic!("the condition must give a boolean, not {other:?}"),
    }
}

/// A workload whose template carries the intent annotation and that no
/// controller owns.
fn annotated_unowned_template(request: &Value) -> bool {
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let template = match kind {
        "Pod" => return false,
        "PodTemplate" => &request["object"]["template"],
        "CronJob" => &request["object"]["spec"]["jobTemplate"]["spec"]["template"],
        _ => &request["object"]["spec"]["template"],
    };
    let owned = request["object"]["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|owners| owners.iter().any(|o| o["controller"] == true));
    !owned
        && template["metadata"]["annotations"]
            .get("host-gateway.kubewarden.io/hostnames")
            .is_some()
}

#[test]
fn match_conditions_select_exactly_what_the_policy_changes_or_refuses() {
    let mut requests = Vec::new();
    for entry in std::fs::read_dir(root().join("test_data")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") && name != "outcomes.json" {
            let request: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            // The same request as a DELETE, whose object is null.
            let mut delete = request.clone();
            delete["operation"] = json!("DELETE");
            delete["oldObject"] = request["object"].clone();
            delete["object"] = Value::Null;
            requests.push((name.clone(), request));
            requests.push((format!("{name} as DELETE"), delete));
        }
    }
    let mut selected = 0;
    for (name, request) in &requests {
        let payload = serde_json::to_vec(&json!({"settings": {}, "request": request})).unwrap();
        // Where the address has moved: every object that asks for the host
        // is then changed, refused or warned about.
        let acts = evaluate(&payload, |_| Ok(vec![[192, 168, 65, 3].into()])) != Verdict::Accept;
        // A template that carries only the annotation (the GitOps form) is
        // let through to have it checked, and comes back unchanged.
        let checked_only = !acts && annotated_unowned_template(request);
        assert_eq!(match_condition(request), acts || checked_only, "{name}");
        selected += usize::from(acts);
    }
    assert!(
        selected >= 10,
        "only {selected} of {} requests selected",
        requests.len()
    );
}

/// hostNetwork mode binds every pod's ports on the node: the controller's
/// (9443 webhook, 8081 health probe: chart defaults) and each policy
/// server's (8443 webhook, 8081 readiness: PolicyServer defaults) must not
/// meet on one node.
#[test]
fn host_network_values_leave_no_port_to_share() {
    let dir = root().join("deploy/host-network");
    let values = |name: &str| yaml_documents(&dir.join(name)).remove(0);
    let admission_controller = values("values-admission-controller.yaml");
    let controller_136 = values("values-1.36-controller.yaml");
    let defaults_136 = values("values-1.36-defaults.yaml");
    assert_eq!(admission_controller["hostNetwork"], true);
    assert_eq!(controller_136["hostNetwork"], true);
    for policy_server in [
        &admission_controller["policyServer"],
        &defaults_136["policyServer"],
    ] {
        let port = |key: &str, default: u64| policy_server[key].as_u64().unwrap_or(default);
        let mut ports = vec![
            9443,
            8081,
            port("webhookPort", 8443),
            port("readinessProbePort", 8081),
        ];
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 4, "a port is bound twice: {policy_server}");
    }
}

/// metadata.yml's rules (and so every manifest's) are the kinds the code
/// handles: one rule a group, CREATE and UPDATE, version v1.
#[test]
fn metadata_rules_are_the_handled_kinds() {
    let metadata = yaml_documents(&root().join("metadata.yml")).remove(0);
    let mut rules: Vec<Value> = Vec::new();
    for (group, _, resource, _) in REFERENCE_KINDS {
        match rules.iter_mut().find(|rule| rule["apiGroups"][0] == group) {
            Some(rule) => rule["resources"]
                .as_array_mut()
                .unwrap()
                .push(json!(resource)),
            None => rules.push(json!({
                "apiGroups": [group],
                "apiVersions": ["v1"],
                "resources": [resource],
                "operations": ["CREATE", "UPDATE"],
            })),
        }
    }
    assert_eq!(metadata["rules"], Value::Array(rules));
}

/// The CEL selects each handled kind's object when, and only when, its pod
/// spec holds host-gateway or a `dns:` target.
#[rstest::rstest]
fn match_conditions_know_every_handled_kind(
    #[values("host-gateway", "dns:web.default.svc.cluster.local")] ip: &str,
) {
    for (group, kind, _, pod_spec) in REFERENCE_KINDS {
        let mut object = json!({"hostAliases": [{"ip": ip}]});
        for key in pod_spec.iter().rev() {
            object = json!({ *key: object });
        }
        let mut one_level_up = json!({"hostAliases": [{"ip": ip}]});
        for key in pod_spec[1..].iter().rev() {
            one_level_up = json!({ *key: one_level_up });
        }
        for (object, expected) in [(object, true), (one_level_up, false)] {
            let request = json!({
                "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": "CREATE",
                "object": object,
            });
            assert_eq!(match_condition(&request), expected, "{}: {object}", kind);
        }
    }
}

/// deploy/stale-address-report.yaml: the report form of the same module,
/// for the audit scanner only (backgroundAudit, a CREATE rule for Pods,
/// monitor, never mutating), never called at admission (its one match
/// condition is `false`, whatever the request), with the names and
/// fallbacks of the rewrite.
#[test]
fn the_stale_address_report_is_for_the_audit_scanner_only() {
    let report = manifest("stale-address-report.yaml");
    let spec = &report["spec"];
    assert_eq!(spec["mutating"], false);
    assert_eq!(spec["backgroundAudit"], true);
    assert_eq!(spec["mode"], "monitor");
    assert_eq!(
        spec["rules"],
        json!([{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["CREATE"]}])
    );
    let rewrite = manifest("cluster-admission-policy.yaml");
    assert_eq!(spec["module"], rewrite["spec"]["module"]);
    assert_eq!(
        spec["namespaceSelector"],
        rewrite["spec"]["namespaceSelector"]
    );
    let settings = |spec: &Value| {
        Settings::from_json(&serde_json::to_vec(&spec["settings"]).unwrap()).unwrap()
    };
    let (checking, rewriting) = (settings(spec), settings(&rewrite["spec"]));
    assert!(checking.report_stale);
    assert_eq!(
        Settings {
            report_stale: false,
            ..checking
        },
        rewriting,
        "the rewrite's names and fallbacks"
    );
    let conditions = spec["matchConditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0]["expression"], "false");
}

/// deploy/inject-policy.yaml: Pod CREATE only, in labelled namespaces
/// (matchExpressions, which Kubewarden keeps), failurePolicy Ignore, valid
/// settings with names to inject; and its CEL selects exactly the pods the
/// policy, with those settings, adds the name to.
#[test]
fn the_inject_policy_selects_the_pods_it_changes() {
    let policy = manifest("inject-policy.yaml");
    let spec = &policy["spec"];
    assert_eq!(spec["failurePolicy"], "Ignore");
    assert_eq!(
        spec["rules"],
        json!([{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["CREATE"]}])
    );
    let selector = &spec["namespaceSelector"];
    assert!(selector.get("matchLabels").is_none());
    assert_eq!(
        selector["matchExpressions"][0],
        json!({"key": "host-gateway.kubewarden.io/inject", "operator": "In", "values": ["enabled"]})
    );
    let settings = serde_json::to_vec(&spec["settings"]).unwrap();
    let parsed = Settings::from_json(&settings).unwrap();
    assert_eq!(parsed.inject_hostnames, ["host.docker.internal"]);
    assert_eq!(
        spec["module"],
        manifest("cluster-admission-policy.yaml")["spec"]["module"]
    );

    let pod = |aliases: Value, annotations: Value| {
        json!({
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE", "name": "web", "namespace": "dev",
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web", "annotations": annotations},
                "spec": {"containers": [{"name": "app", "image": "nginx"}], "hostAliases": aliases},
            },
        })
    };
    let cases = [
        ("plain", pod(Value::Null, Value::Null)),
        (
            "other entries",
            pod(
                json!([{"ip": "10.0.0.7", "hostnames": ["db"]}]),
                Value::Null,
            ),
        ),
        (
            "has the name",
            pod(
                json!([{"ip": "10.0.0.9", "hostnames": ["host.docker.internal"]}]),
                Value::Null,
            ),
        ),
        (
            "opted out",
            pod(
                Value::Null,
                json!({"host-gateway.kubewarden.io/inject": "false"}),
            ),
        ),
        (
            "annotated true",
            pod(
                Value::Null,
                json!({"host-gateway.kubewarden.io/inject": "true"}),
            ),
        ),
        ("other annotations", pod(Value::Null, json!({"team": "a"}))),
    ];
    for (name, request) in &cases {
        let payload =
            serde_json::to_vec(&json!({"settings": spec["settings"], "request": request})).unwrap();
        let acts = evaluate(&payload, |_| Ok(vec![[192, 168, 65, 254].into()])) != Verdict::Accept;
        assert_eq!(
            match_condition_of("inject-policy.yaml", request),
            acts,
            "{name}"
        );
    }
}
