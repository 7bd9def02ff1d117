//! Property tests: generated objects of every kind, with unknown fields and
//! `hostAliases` of every shape, generated DNS answers and settings, all
//! checked against the reference model of the test support crate.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use host_gateway_policy::{HOSTNAMES_ANNOTATION, INJECT_ANNOTATION, Verdict, evaluate};
use host_gateway_test_support::{
    Answer, REFERENCE_KINDS, ScriptedDns, check_evaluation, reference_path,
};

const NAMES: [&str; 4] = [
    "host.docker.internal",
    "host.k3d.internal",
    "host.lima.internal",
    "gateway.local",
];

/// Names `dns:` entries ask for: in-cluster Services (allowed by default)
/// and one name outside the default `allowedTargets`.
const TARGETS: [&str; 3] = [
    "a.default.svc.cluster.local",
    "b.default.svc.cluster.local",
    "keycloak.localtest.me",
];

/// Addresses that DNS answers and stored entries share, so entries collide.
const SHARED: [&str; 4] = ["192.168.65.254", "172.19.0.1", "fd00::1", "fd00::2"];

fn ip_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(SHARED.to_vec()).prop_map(str::to_string),
        1 => any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
        1 => any::<[u16; 8]>().prop_map(|s| std::net::Ipv6Addr::from(s).to_string()),
        1 => Just("::ffff:172.19.0.1".to_string()),
        1 => Just("fe80::1%eth0".to_string()),
        1 => Just("not-an-ip".to_string()),
    ]
}

/// Any JSON value of a few levels, for unknown fields and odd shapes.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z\\-]{0,12}".prop_map(Value::String),
        Just(json!("host-gateway")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn extra_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("zz[A-Za-z]{1,6}", any_json(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

fn host_alias() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (prop::collection::vec("[a-z]{1,6}\\.local", 0..3), extra_fields()).prop_map(|(hostnames, mut extra)| {
            extra.insert("ip".into(), json!("host-gateway"));
            extra.insert("hostnames".into(), json!(hostnames));
            Value::Object(extra)
        }),
        2 => (target_ip(), prop::collection::vec("[a-z]{1,6}\\.local", 0..3), extra_fields()).prop_map(|(ip, hostnames, mut extra)| {
            extra.insert("ip".into(), json!(ip));
            extra.insert("hostnames".into(), json!(hostnames));
            Value::Object(extra)
        }),
        2 => (ip_text(), prop::collection::vec("[a-z]{1,6}\\.local", 0..3), extra_fields()).prop_map(|(ip, hostnames, mut extra)| {
            extra.insert("ip".into(), json!(ip));
            extra.insert("hostnames".into(), json!(hostnames));
            Value::Object(extra)
        }),
        1 => any_json(),
        1 => any_json().prop_map(|ip| json!({"ip": ip})),
        1 => Just(json!({"ip": "host\u{2d}gateway ", "hostnames": []})),
    ]
}

/// An `ip` asking for a target: mostly one of [`TARGETS`], at times a name
/// that is no lowercase DNS name.
fn target_ip() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(TARGETS.to_vec()).prop_map(|name| format!("dns:{name}")),
        1 => prop::sample::select(vec!["dns:", "dns:A.default.svc.cluster.local", "dns:a..svc"])
            .prop_map(str::to_string),
    ]
}

fn host_aliases() -> impl Strategy<Value = Option<Value>> {
    host_aliases_of(0..5)
}

fn host_aliases_of(entries: std::ops::Range<usize>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => prop::collection::vec(host_alias(), entries).prop_map(|a| Some(Value::Array(a))),
        1 => Just(None),
        1 => any_json().prop_map(Some),
    ]
}

/// An object of `path`'s shape, with unknown fields at every level.
fn object_for(path: &'static [&'static str]) -> impl Strategy<Value = Value> {
    object_with(path, host_aliases())
}

/// The intent annotation's value: names shared with the generated
/// entries, sometimes malformed, sometimes at its bounds (64 names; a
/// name of 253 characters) or just past them.
fn annotation_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::collection::vec("[a-z]{1,6}\\.local", 1..4)
            .prop_map(|names| json!(names.join(","))),
        1 => prop::sample::select(vec![
            "", "a.local,,b.local", "A.local", "a_b.local", " a.local , b.local ",
            "a.local,\u{a0}b.local", "a.local\n",
        ])
            .prop_map(|v| json!(v)),
        1 => prop::sample::select(vec![64, 65]).prop_map(|count: usize| {
            json!((0..count).map(|i| format!("n{i}.local")).collect::<Vec<_>>().join(","))
        }),
        1 => prop::sample::select(vec![253, 254]).prop_map(|length: usize| json!(long_name(length))),
        1 => any_json(),
        2 => annotated_items(),
    ]
}

/// The annotation's items with targets (`NAME=dns:TARGET`), names drawn
/// from a few so that entries share them; at times malformed or past the
/// bound of 16 targets.
fn annotated_items() -> impl Strategy<Value = Value> {
    let item = (
        prop::sample::select(SHARED_NAMES.to_vec()),
        prop::option::of(prop::sample::select(TARGETS.to_vec())),
    )
        .prop_map(|(name, target)| match target {
            None => name.to_string(),
            Some(target) => format!("{name}=dns:{target}"),
        });
    prop_oneof![
        6 => prop::collection::vec(item, 1..4).prop_map(|items| json!(items.join(","))),
        1 => prop::sample::select(vec![
            "db.local=dns:", "db.local=a.default.svc.cluster.local", "db.local=dns:A.svc",
            "db.local,db.local=dns:a.default.svc.cluster.local", "=dns:a.default.svc.cluster.local",
        ])
            .prop_map(|v| json!(v)),
        1 => prop::sample::select(vec![16, 17]).prop_map(|count: usize| {
            let items: Vec<String> = (0..count)
                .map(|i| format!("n{i}.local=dns:s{i}.default.svc.cluster.local"))
                .collect();
            json!(items.join(","))
        }),
    ]
}

/// Names that entries and the annotation share in [`sharing_targets`].
const SHARED_NAMES: [&str; 3] = ["db.local", "cache.local", "sso.local"];

/// A Pod or a Deployment whose entries (the host, targets, addresses
/// answers share) and annotated items share a few names.
fn sharing_targets() -> impl Strategy<Value = Value> {
    let ips: Vec<String> = ["host-gateway", "10.0.0.7"]
        .into_iter()
        .map(str::to_string)
        .chain(SHARED.iter().map(|ip| ip.to_string()))
        .chain(TARGETS.iter().map(|t| format!("dns:{t}")))
        .collect();
    let names = prop::collection::vec(prop::sample::select(SHARED_NAMES.to_vec()), 0..3);
    let entry = (prop::sample::select(ips), names)
        .prop_map(|(ip, names)| json!({"ip": ip, "hostnames": names}));
    (
        prop::collection::vec(entry, 0..4),
        annotated_items(),
        any::<bool>(),
        prop::option::weighted(0.5, any::<bool>()),
    )
        .prop_map(|(entries, annotation, as_pod, controller)| {
            let mut pod = json!({
                "metadata": {"annotations": {HOSTNAMES_ANNOTATION: annotation}},
                "spec": {"containers": [{"name": "app", "image": "nginx"}], "hostAliases": entries},
            });
            if let Some(controller) = controller {
                pod["metadata"]["ownerReferences"] =
                    json!([{"kind": "ReplicaSet", "name": "o", "controller": controller}]);
            }
            let (group, kind, object) = match as_pod {
                true => ("", "Pod", pod),
                false => (
                    "apps",
                    "Deployment",
                    json!({"metadata": {"name": "web"}, "spec": {"template": pod}}),
                ),
            };
            json!({
                "uid": "u", "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": "CREATE", "name": "web", "namespace": "default", "object": object,
            })
        })
}

/// A DNS name of exactly `length` characters: labels of 62 `a`s, then
/// the rest, ending in `.local`.
fn long_name(length: usize) -> String {
    let mut name = String::new();
    while length - name.len() > 63 + ".local".len() {
        name.push_str(&"a".repeat(62));
        name.push('.');
    }
    name.push_str(&"b".repeat(length - name.len() - ".local".len()));
    name + ".local"
}

/// An object of `path`'s shape: `hostAliases` as generated, unknown fields
/// at every level, and at times the intent annotation and a controller.
fn object_with(
    path: &'static [&'static str],
    aliases: impl Strategy<Value = Option<Value>>,
) -> impl Strategy<Value = Value> {
    (
        aliases,
        prop::collection::vec(extra_fields(), path.len() + 1),
        prop::option::weighted(0.3, annotation_value()),
        prop::option::weighted(0.15, any::<bool>()),
    )
        .prop_map(move |(aliases, extras, annotation, controller)| {
            let mut levels = extras.into_iter();
            let mut spec = levels.next().unwrap_or_default();
            spec.insert(
                "containers".into(),
                json!([{"name": "app", "image": "nginx"}]),
            );
            if let Some(aliases) = aliases {
                spec.insert("hostAliases".into(), aliases);
            }
            let mut value = Value::Object(spec);
            for (key, mut level) in path.iter().rev().zip(levels) {
                level.insert((*key).to_string(), value);
                value = Value::Object(level);
            }
            if let Some(annotation) = annotation {
                let mut metadata = &mut value;
                for key in &path[..path.len() - 1] {
                    metadata = &mut metadata[*key];
                }
                metadata["metadata"]["annotations"][HOSTNAMES_ANNOTATION] = annotation;
            }
            if let Some(controller) = controller {
                value["metadata"]["ownerReferences"] =
                    json!([{"kind": "Owner", "name": "o", "controller": controller}]);
            }
            value
        })
}

fn request() -> impl Strategy<Value = Value> {
    request_with(0..5)
}

/// Requests whose `hostAliases`, when a list, have `entries` entries.
fn request_with(entries: std::ops::Range<usize>) -> impl Strategy<Value = Value> {
    let kinds: Vec<(&'static str, &'static str)> = REFERENCE_KINDS
        .iter()
        .map(|(group, kind, _, _)| (*group, *kind))
        .chain([("", "Service"), ("example.com", "Pod")])
        .collect();
    (
        prop::sample::select(kinds),
        prop::sample::select(vec!["CREATE", "UPDATE", "DELETE"]),
        "[a-z]{0,5}",
    )
        .prop_flat_map(move |((group, kind), operation, name)| {
            let path = reference_path(group, kind).unwrap_or(&["spec"]);
            object_with(path, host_aliases_of(entries.clone())).prop_map(move |object| {
                json!({
                    "uid": "u", "kind": {"group": group, "version": "v1", "kind": kind},
                    "operation": operation, "name": name, "namespace": "default", "object": object,
                })
            })
        })
}

/// UPDATEs with a stored object: the object itself with other
/// `hostAliases` (the template kept), also without the intent annotation,
/// with one more template label (the template changed), or no template.
fn update_with_stored() -> impl Strategy<Value = Value> {
    (request(), host_aliases(), 0u8..4).prop_map(|(mut request, stored_aliases, how)| {
        request["operation"] = json!("UPDATE");
        let path = reference_path(
            request["kind"]["group"].as_str().unwrap_or_default(),
            request["kind"]["kind"].as_str().unwrap_or_default(),
        )
        .unwrap_or(&["spec"]);
        let mut old = request["object"].clone();
        let template = path[..path.len() - 1]
            .iter()
            .fold(&mut old, |level, key| &mut level[*key]);
        match (how, stored_aliases) {
            (3, _) => *template = Value::Null,
            (_, Some(aliases)) => template["spec"]["hostAliases"] = aliases,
            (_, None) => drop(
                template["spec"]
                    .as_object_mut()
                    .map(|s| s.remove("hostAliases")),
            ),
        }
        if let (1, Some(annotations)) = (how, template["metadata"]["annotations"].as_object_mut()) {
            annotations.remove(HOSTNAMES_ANNOTATION);
        }
        if how == 2 && template.is_object() {
            template["metadata"]["labels"]["changed"] = json!("yes");
        }
        request["oldObject"] = old;
        request
    })
}

/// A Pod whose entries and intent annotation share a few names, at a few
/// addresses, with at least one host-gateway entry.
fn pod_sharing_names() -> impl Strategy<Value = Value> {
    let names = || {
        prop::collection::vec(
            prop::sample::select(vec!["db.local", "cache.local", "api.local"]),
            0..3,
        )
    };
    let ips = vec!["host-gateway", "10.0.0.7", "192.168.65.254", "fd00::1"];
    let entry =
        (prop::sample::select(ips), names(), any::<bool>()).prop_map(|(ip, names, extra)| {
            let mut entry = json!({"ip": ip, "hostnames": names});
            if extra {
                entry["zzFutureAliasField"] = json!(7);
            }
            entry
        });
    (prop::collection::vec(entry, 0..5), prop::option::of(names())).prop_map(|(mut entries, annotated)| {
        entries.push(json!({"ip": "host-gateway", "hostnames": ["db.local"]}));
        let mut pod = json!({"spec": {"containers": [{"name": "app", "image": "nginx"}], "hostAliases": entries}});
        if let Some(names) = annotated.filter(|names| !names.is_empty()) {
            pod["metadata"]["annotations"][HOSTNAMES_ANNOTATION] = json!(names.join(","));
        }
        pod
    })
}

fn settings() -> impl Strategy<Value = Value> {
    (
        prop::sample::subsequence(NAMES.to_vec(), 1..=4).prop_shuffle(),
        prop::sample::select(vec![
            vec!["IPv4"],
            vec!["IPv6"],
            vec!["IPv4", "IPv6"],
            vec!["IPv6", "IPv4"],
        ]),
        prop::collection::vec(
            ip_text().prop_filter("valid", |t| t.parse::<std::net::IpAddr>().is_ok()),
            0..3,
        ),
        any::<u8>(),
        prop::sample::select(vec![
            vec!["*.svc.cluster.local", "keycloak.localtest.me"],
            vec!["*.default.svc.cluster.local"],
            vec![],
        ]),
    )
        .prop_map(|(hostnames, families, fallback, omit, targets)| {
            let mut settings = Map::new();
            // Leave settings out at times, so defaults are exercised too.
            if omit & 1 == 0 {
                settings.insert("hostnames".into(), json!(hostnames));
            }
            if omit & 2 == 0 {
                settings.insert("ipFamilies".into(), json!(families));
            }
            settings.insert("fallbackAddresses".into(), json!(fallback));
            if omit & 4 == 0 {
                settings.insert("allowedTargets".into(), json!(targets));
            }
            Value::Object(settings)
        })
}

/// Settings objects with the real setting names (and a stray one) and
/// values of every kind: lists of valid and invalid names, families and
/// addresses, and any JSON.
fn settings_of_every_shape() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        4 => prop::sample::select(NAMES.to_vec()).prop_map(str::to_string),
        1 => prop::sample::select(vec![
            "HOST.docker.internal.", "host_docker", "-bad.local", "a..b", "",
        ])
        .prop_map(str::to_string),
        1 => Just(format!("{}.internal", "a".repeat(64))),
    ];
    let families = prop::sample::select(vec!["IPv4", "IPv6", "IPv4", "IPv6", "ipv4", "IPv5"])
        .prop_map(str::to_string);
    let addresses = prop_oneof![
        4 => prop::sample::select(SHARED.to_vec()).prop_map(str::to_string),
        3 => prop::sample::select(vec![
            "::ffff:172.18.0.1", "127.0.0.1", "::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1",
            "169.254.1.1", "fe80::1", "255.255.255.255", "010.0.0.1", "not-an-ip",
        ])
        .prop_map(str::to_string),
    ];
    let patterns = prop::sample::select(vec![
        "*.svc.cluster.local",
        "*.nip.io",
        "keycloak.localtest.me",
        "*.nip.io",
        "db.*.com",
        "*",
        "*.Svc.cluster.local",
        "",
        "*.",
    ])
    .prop_map(str::to_string);
    let list = |texts: BoxedStrategy<String>, most: usize| {
        prop_oneof![
            8 => prop::collection::vec(texts, 0..=most).prop_map(|v| json!(v)),
            1 => any_json(),
        ]
    };
    (
        prop::option::of(list(names.clone().boxed(), 4)),
        prop::option::of(list(families.boxed(), 3)),
        prop::option::of(list(addresses.boxed(), 3)),
        prop::option::of(list(names.boxed(), 18)),
        prop::option::of(list(patterns.boxed(), 3)),
        prop::option::weighted(0.1, any_json()),
        prop::option::weighted(
            0.3,
            prop_oneof![3 => any::<bool>().prop_map(|b| json!(b)), 1 => any_json()],
        ),
    )
        .prop_map(
            |(hostnames, families, fallback, inject, targets, stray, report)| {
                let mut settings = Map::new();
                for (key, value) in [
                    ("hostnames", hostnames),
                    ("ipFamilies", families),
                    ("fallbackAddresses", fallback),
                    ("injectHostnames", inject),
                    ("allowedTargets", targets),
                    ("hostname", stray),
                    ("reportStale", report),
                ] {
                    if let Some(value) = value {
                        settings.insert(key.into(), value);
                    }
                }
                Value::Object(settings)
            },
        )
}

/// Every request fixture in test_data/.
fn fixture_names() -> Vec<String> {
    host_gateway_test_support::outcomes().into_keys().collect()
}

/// `text` with some characters of `host-gateway` and of the keys the policy
/// reads written as JSON `\u` escapes, as a JSON writer may.
fn escape_some(text: &str, seed: u64) -> String {
    const WORDS: [&str; 7] = [
        "host-gateway",
        "hostAliases",
        "ip",
        "spec",
        "template",
        "kind",
        "request",
    ];
    let mut out = String::with_capacity(text.len() * 2);
    let mut n = seed;
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        // The string's content ends at the first quote no backslash escapes.
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let end = end.min(rest.len());
        let content = &rest[..end];
        if WORDS.contains(&content) && !n.is_multiple_of(3) {
            for (i, c) in content.chars().enumerate() {
                if (n >> (i % 60)) & 1 == 1 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push(c);
                }
            }
        } else {
            out.push_str(content);
        }
        n = n.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix('"') {
            out.push('"');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// An address in an answer: at times one no pod can use to reach it.
fn answer_ip() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => ip_text(),
        1 => prop::sample::select(vec!["127.0.0.1", "::1", "0.0.0.0"]).prop_map(str::to_string),
    ]
}

fn dns() -> impl Strategy<Value = ScriptedDns> {
    let answer = prop_oneof![
        6 => prop::collection::vec(answer_ip(), 0..4).prop_map(Answer::Ips),
        2 => "[A-Za-z ]{1,20}(\n[a-z ]{0,20})?".prop_map(Answer::Error),
        1 => prop::sample::select(&["Try again", "Temporary failure in name resolution"][..])
            .prop_map(|words| Answer::Error(words.to_string())),
        1 => Just(Answer::NotGranted),
    ];
    prop::collection::vec(answer, NAMES.len() + TARGETS.len()).prop_map(|answers| ScriptedDns {
        answers: NAMES
            .iter()
            .chain(&TARGETS)
            .map(|n| n.to_string())
            .zip(answers)
            .collect(),
        asked: Vec::new(),
    })
}

/// The payload as text: compact, as policy-server writes it, or with
/// whitespace everywhere JSON allows it.
fn written(payload: &Value, layout: u8) -> Vec<u8> {
    use serde::Serialize;
    let indent: &[u8] = match layout % 3 {
        0 => return serde_json::to_vec(payload).unwrap(),
        1 => b"  ",
        _ => b"\t \r\n",
    };
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    payload.serialize(&mut serializer).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Lists of a thousand entries and more, as the linear merge must take.
    #[test]
    fn long_lists_follow_the_specification(
        request in request_with(1000..1400), settings in settings(), dns in dns(), layout in any::<u8>()
    ) {
        let payload = written(&json!({"settings": settings, "request": request}), layout);
        check_evaluation(&payload, &dns);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn written_with_whitespace_follows_the_specification(
        request in request(), settings in settings(), dns in dns(), layout in any::<u8>()
    ) {
        check_evaluation(&written(&json!({"settings": settings, "request": request}), layout), &dns);
    }

    #[test]
    fn updates_against_a_stored_object_follow_the_specification(
        request in update_with_stored(), settings in settings(), dns in dns()
    ) {
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        check_evaluation(&payload, &dns);
    }

    /// One pod spec that holds host-gateway, as a bare Pod and as a
    /// Deployment's template, created with the same settings and DNS: the
    /// same `hostAliases` come out.
    #[test]
    fn a_pod_and_a_template_of_one_spec_get_the_same_entries(
        pod in pod_sharing_names(), settings in settings(), dns in dns()
    ) {
        let create = |group: &str, kind: &str, object: Value| {
            let request = json!({
                "uid": "u", "kind": {"group": group, "version": "v1", "kind": kind},
                "operation": "CREATE", "name": "web", "namespace": "default", "object": object,
            });
            let mut lookups = dns.clone();
            let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
            evaluate(&payload, |n| lookups.resolve(n))
        };
        let as_template = create("apps", "Deployment", json!({"spec": {"template": pod.clone()}}));
        let as_pod = create("", "Pod", pod);
        let entries = |verdict: &Verdict, pointer: &str| match verdict {
            Verdict::Mutate(m) => serde_json::from_str::<Value>(&m.object).unwrap().pointer(pointer).cloned(),
            _ => None,
        };
        match (&as_pod, &as_template) {
            (Verdict::Mutate(_), Verdict::Mutate(_)) => prop_assert_eq!(
                entries(&as_pod, "/spec/hostAliases"),
                entries(&as_template, "/spec/template/spec/hostAliases")
            ),
            (Verdict::Reject(_), Verdict::Reject(_)) => {}
            (pod, template) => prop_assert!(false, "{pod:?} against {template:?}"),
        }
    }

    #[test]
    fn every_request_follows_the_specification(request in request(), settings in settings(), dns in dns()) {
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        check_evaluation(&payload, &dns);
    }

    /// The report form on every kind of request, with and without
    /// injected names, and on Pods whose entries share their names.
    #[test]
    fn the_report_form_follows_the_specification(
        request in prop_oneof![request(), sharing_targets()],
        settings in settings(),
        inject in prop::option::of(prop::sample::subsequence(SHARED_NAMES.to_vec(), 1..=2)),
        dns in dns(),
    ) {
        let mut settings = settings;
        settings["reportStale"] = json!(true);
        if let Some(inject) = inject {
            settings["injectHostnames"] = json!(inject);
        }
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        check_evaluation(&payload, &dns);
    }

    /// Entries and annotated items share names: each Pod points them at
    /// the host or its target as the specification says.
    #[test]
    fn annotated_targets_follow_the_specification(
        request in sharing_targets(), settings in settings(), dns in dns()
    ) {
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        check_evaluation(&payload, &dns);
    }

    #[test]
    fn settings_of_every_shape_follow_the_specification(settings in settings_of_every_shape(), dns in dns()) {
        let request = host_gateway_test_support::read_fixture("pod_host_gateway.json");
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        check_evaluation(&payload, &dns);
    }

    #[test]
    fn mutated_fixture_bytes_follow_the_specification(
        fixture in prop::sample::select(fixture_names()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
        dns in dns(),
    ) {
        let request = host_gateway_test_support::read_fixture(&fixture);
        let mut bytes = host_gateway_test_support::payload(&json!({}), &request);
        for (at, byte, how) in edits {
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] ^= byte | 1,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
            if bytes.is_empty() {
                break;
            }
        }
        check_evaluation(&bytes, &dns);
    }

    #[test]
    fn escaped_keys_and_values_read_as_plain_ones(
        request in request(), settings in settings(), dns in dns(), seed in any::<u64>()
    ) {
        let plain = serde_json::to_string(&json!({"settings": settings, "request": request})).unwrap();
        let escaped = escape_some(&plain, seed);
        let mut first = dns.clone();
        let mut second = dns.clone();
        let verdict_plain = evaluate(plain.as_bytes(), |n| first.resolve(n));
        let verdict_escaped = evaluate(escaped.as_bytes(), |n| second.resolve(n));
        prop_assert_eq!(&first.asked, &second.asked);
        match (&verdict_plain, &verdict_escaped) {
            (Verdict::Mutate(a), Verdict::Mutate(b)) => {
                prop_assert_eq!(
                    serde_json::from_str::<Value>(&a.object).unwrap(),
                    serde_json::from_str::<Value>(&b.object).unwrap()
                );
                prop_assert_eq!(&a.warnings, &b.warnings);
            }
            _ => prop_assert_eq!(verdict_plain, verdict_escaped),
        }
        check_evaluation(escaped.as_bytes(), &dns);
    }

    #[test]
    fn a_shuffled_dns_answer_gives_the_same_output(
        request in request(), settings in settings(), dns in dns(), seed in any::<u64>()
    ) {
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        let mut shuffled = dns.clone();
        for (i, (_, answer)) in shuffled.answers.iter_mut().enumerate() {
            if let Answer::Ips(ips) = answer {
                ips.reverse();
                let len = ips.len().max(1);
                ips.rotate_left((seed as usize + i) % len);
            }
        }
        let mut first = dns.clone();
        let mut second = shuffled;
        prop_assert_eq!(
            evaluate(&payload, |n| first.resolve(n)),
            evaluate(&payload, |n| second.resolve(n))
        );
    }

    #[test]
    fn a_reapplied_manifest_gives_back_the_stored_object(
        request in request(), settings in settings(), dns in dns(), at in any::<prop::sample::Index>()
    ) {
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        let mut lookups = dns.clone();
        let Verdict::Mutate(mutation) = evaluate(&payload, |n| lookups.resolve(n)) else {
            return Ok(());
        };
        let stored: Value = serde_json::from_str(&mutation.object).unwrap();
        // Client-side apply adds the manifest's host-gateway entries beside
        // the stored list (kubectl's three-way merge sends them as new).
        let path = reference_path(
            request["kind"]["group"].as_str().unwrap(),
            request["kind"]["kind"].as_str().unwrap(),
        ).unwrap();
        let pointer: String = path.iter().map(|k| format!("/{k}")).collect::<String>() + "/hostAliases";
        // Only a manifest with host-gateway is sent again as new: one that
        // the intent alone changed has nothing for the merge to add.
        let Some(entries) = request["object"].pointer(&pointer).and_then(Value::as_array) else {
            return Ok(());
        };
        let manifest_entries: Vec<Value> = entries.iter()
            .filter(|e| e.get("ip") == Some(&json!("host-gateway")))
            .cloned().collect();
        if manifest_entries.is_empty() {
            return Ok(());
        }
        // A name asked of the host and of a target at once is held at two
        // addresses: the stored object cannot say which is the host's.
        let names_of = |entry: &Value| entry["hostnames"].as_array().cloned().unwrap_or_default();
        let targeted: Vec<Value> = entries.iter()
            .filter(|e| e["ip"].as_str().is_some_and(|ip| ip.starts_with("dns:")))
            .flat_map(names_of)
            .collect();
        if manifest_entries.iter().flat_map(names_of).any(|name| targeted.contains(&name)) {
            return Ok(());
        }
        let mut reapplied = stored.clone();
        // Wherever the API server's merge puts them.
        let list = reapplied.pointer_mut(&pointer).unwrap().as_array_mut().unwrap();
        let at = at.index(list.len() + 1);
        list.splice(at..at, manifest_entries);
        let mut update = request.clone();
        update["operation"] = json!("UPDATE");
        update["object"] = reapplied;
        update["oldObject"] = stored.clone();
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": update})).unwrap();
        let mut again = dns.clone();
        let Verdict::Mutate(second) = evaluate(&payload, |n| again.resolve(n)) else {
            panic!("the re-applied host-gateway entry was not rewritten");
        };
        prop_assert_eq!(serde_json::from_str::<Value>(&second.object).unwrap(), stored);
    }

    /// A template that went through the policy, then a Pod made from it as
    /// the ReplicaSet controller makes one (the template's metadata and
    /// spec), with any DNS answer at the Pod's creation: each annotated
    /// name ends up pointing at that answer's addresses and nowhere else;
    /// where the answer gives the template's addresses, the Pod comes out
    /// unchanged.
    #[test]
    fn pods_of_a_rewritten_template_point_each_annotated_name_at_the_current_address(
        object in object_for(&["spec", "template", "spec"]),
        families in prop::sample::select(vec![vec!["IPv4"], vec!["IPv6"], vec!["IPv4", "IPv6"]]),
        at_template in prop::collection::vec(ip_text(), 1..3),
        at_pod in prop::option::of(prop::collection::vec(ip_text(), 0..3)),
    ) {
        // Only lists the API server takes: objects with a string ip and
        // string hostnames.
        let mut object = object;
        let spec = &mut object["spec"]["template"]["spec"];
        match spec["hostAliases"].as_array().cloned() {
            Some(entries) => {
                spec["hostAliases"] = entries.into_iter().filter(|e| {
                    e["ip"].is_string()
                        && e["hostnames"].as_array().is_some_and(|h| h.iter().all(Value::is_string))
                }).collect();
            }
            None => {
                spec.as_object_mut().unwrap().remove("hostAliases");
            }
        }
        let settings = json!({"hostnames": ["host.docker.internal"], "ipFamilies": families});
        let deployment = json!({
            "uid": "u", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "operation": "CREATE", "name": "web", "namespace": "default", "object": object,
        });
        let dns_of = |ips: &[String]| ScriptedDns::default().with(
            "host.docker.internal", &ips.iter().map(String::as_str).collect::<Vec<_>>());
        let first = dns_of(&at_template);
        let mut lookups = first.clone();
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": deployment})).unwrap();
        let template = match evaluate(&payload, |n| lookups.resolve(n)) {
            Verdict::Mutate(m) => serde_json::from_str::<Value>(&m.object).unwrap()["spec"]["template"].clone(),
            Verdict::Accept | Verdict::Warn(_) => deployment["object"]["spec"]["template"].clone(),
            Verdict::Reject(_) => return Ok(()),
        };
        let Some(Some(items)) = template["metadata"]["annotations"].get(HOSTNAMES_ANNOTATION)
            .map(host_gateway_test_support::reference_annotation_items) else {
            return Ok(());
        };
        // The names that point at the host; DNS here answers no target.
        let names: Vec<String> = items.iter().filter(|(_, t)| t.is_none()).map(|(n, _)| n.clone()).collect();
        let targeted = names.len() < items.len();
        let pod = json!({
            "uid": "p", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE", "name": "", "namespace": "default",
            "object": {"metadata": template["metadata"], "spec": template["spec"]},
        });
        let second = match &at_pod {
            Some(ips) => dns_of(ips),
            None => ScriptedDns::default(),
        };
        let parsed_settings = host_gateway_test_support::reference_settings(&settings).unwrap();
        let (then, _) = host_gateway_test_support::reference_choice(&parsed_settings, &first);
        let (now, _) = host_gateway_test_support::reference_choice(&parsed_settings, &second);
        let mut lookups = second.clone();
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": pod})).unwrap();
        let verdict = evaluate(&payload, |n| lookups.resolve(n));
        let made = match &verdict {
            Verdict::Mutate(m) => serde_json::from_str::<Value>(&m.object).unwrap(),
            Verdict::Accept | Verdict::Warn(_) => pod["object"].clone(),
            Verdict::Reject(r) => panic!("a Pod made from an admitted template was refused: {r}"),
        };
        if now.is_empty() {
            prop_assert!(names.is_empty() || matches!(verdict, Verdict::Warn(_)), "{:?}", verdict);
            return Ok(());
        }
        // A template that holds the names (not the annotation alone, the
        // GitOps form) already points them at its address.
        let held = |name: &String| template["spec"]["hostAliases"].as_array().is_some_and(|entries| {
            entries.iter().any(|e| e["hostnames"].as_array().is_some_and(|h| h.contains(&json!(name))))
        });
        if now == then && names.iter().all(held) && !targeted {
            // Unchanged; a warning tells of an answer skipped on the way.
            match host_gateway_test_support::reference_passed_over(&parsed_settings, &second, 1) {
                true => prop_assert!(matches!(verdict, Verdict::Warn(ref w) if w.len() == 1), "{:?}", verdict),
                false => prop_assert_eq!(&verdict, &Verdict::Accept),
            }
        }
        let entries = made["spec"]["hostAliases"].as_array().cloned().unwrap_or_default();
        for name in &names {
            let mut at: Vec<std::net::IpAddr> = entries.iter()
                .filter(|e| e["hostnames"].as_array().is_some_and(|h| h.contains(&json!(name))))
                .filter_map(|e| e["ip"].as_str()?.parse().ok())
                .collect();
            at.sort();
            let mut expected = now.clone();
            expected.sort();
            prop_assert_eq!(at, expected, "{} in {:?}", name, entries);
        }
    }

    #[test]
    fn injection_never_refuses_and_never_repeats_a_name_or_an_address(
        object in object_for(&["spec"]),
        inject in prop::sample::subsequence(NAMES.to_vec(), 1..=3),
        fallback in prop::collection::vec(prop::sample::select(SHARED.to_vec()), 0..2),
        opt_out in prop::sample::select(vec![None, Some("false"), Some("true"), Some("mirror")]),
        present in prop::option::of((prop::sample::select(NAMES.to_vec()), any::<bool>(), any::<bool>())),
        dns in dns(),
    ) {
        let mut object = object;
        // A name the pod has already, written as DNS allows: another case,
        // a root dot.
        if let Some((name, upper, dot)) = present {
            let mut name = if upper { name.to_uppercase() } else { name.to_string() };
            if dot {
                name.push('.');
            }
            let entry = json!({"ip": "10.9.9.9", "hostnames": [name]});
            match object["spec"]["hostAliases"].as_array_mut() {
                Some(list) => list.push(entry),
                None => object["spec"]["hostAliases"] = json!([entry]),
            }
        }
        match opt_out {
            // A mirror pod, as a kubelet makes one of a static pod.
            Some("mirror") => {
                object["metadata"] = json!({"annotations": {"kubernetes.io/config.mirror": "4f1e2a"}});
            }
            Some(value) => object["metadata"] = json!({"annotations": {INJECT_ANNOTATION: value}}),
            None => {}
        }
        let mut fallback = fallback;
        fallback.dedup();
        // IPv4 alone, the default family: an IPv6 fallback is refused.
        fallback.retain(|address| !address.contains(':'));
        let settings = json!({"hostnames": NAMES, "injectHostnames": inject, "fallbackAddresses": fallback});
        let request = json!({
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE", "name": "web", "namespace": "default", "object": object,
        });
        let payload = serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap();
        check_evaluation(&payload, &dns);
    }
}
#[test]
fn escape_some_escapes_every_word_it_may() {
    let text = r#"{"request":{"kind":{"kind":"Pod"},"object":{"spec":{"hostAliases":[{"ip":"host-gateway","x":"a\"ip"}]}}}}"#;
    let escaped = escape_some(text, u64::MAX - 2);
    assert_eq!(
        serde_json::from_str::<Value>(&escaped).unwrap(),
        serde_json::from_str::<Value>(text).unwrap()
    );
    assert!(!escaped.contains("host-gateway"), "{escaped}");
    assert!(escaped.contains(r#""a\"ip""#), "{escaped}");
}
