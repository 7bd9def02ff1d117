//! Test support shared by the integration and property tests, the bench,
//! `examples/run.rs` and the fuzz targets: the fixtures, a scripted DNS, and
//! a reference model of the specification written over `serde_json::Value`,
//! so the text-splicing implementation is checked against independent code.
//! It uses only the policy's public API.

#[cfg(feature = "wasm-host")]
pub mod wasm_host;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::Value;

use host_gateway_policy::{
    HOST_GATEWAY, INJECT_ANNOTATION, IpFamily, LookupError, MAX_REJECTION_BYTES, MAX_WARNING_BYTES,
    Mutation, Rejection, Settings, TargetPattern, Verdict, evaluate,
};

/// Each kind the policy must handle: its group, kind, resource and pod
/// spec path, written here apart from `pod_spec::HANDLED_KINDS`, from the
/// Kubernetes API reference. The one table the tests derive kinds from.
pub const REFERENCE_KINDS: [(&str, &str, &str, &[&str]); 9] = [
    ("", "Pod", "pods", &["spec"]),
    ("", "PodTemplate", "podtemplates", &["template", "spec"]),
    (
        "",
        "ReplicationController",
        "replicationcontrollers",
        &["spec", "template", "spec"],
    ),
    (
        "apps",
        "Deployment",
        "deployments",
        &["spec", "template", "spec"],
    ),
    (
        "apps",
        "ReplicaSet",
        "replicasets",
        &["spec", "template", "spec"],
    ),
    (
        "apps",
        "StatefulSet",
        "statefulsets",
        &["spec", "template", "spec"],
    ),
    (
        "apps",
        "DaemonSet",
        "daemonsets",
        &["spec", "template", "spec"],
    ),
    ("batch", "Job", "jobs", &["spec", "template", "spec"]),
    (
        "batch",
        "CronJob",
        "cronjobs",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

/// The default chain of names, written here apart from the policy's, from
/// the platform table of docs/platforms.md: Docker Desktop, OrbStack, Rancher Desktop,
/// colima and Podman machine; Lima; Podman; k3d; minikube.
pub const REFERENCE_DEFAULT_HOSTNAMES: [&str; 5] = [
    "host.docker.internal",
    "host.lima.internal",
    "host.containers.internal",
    "host.k3d.internal",
    "host.minikube.internal",
];

/// The pod spec path of a kind, from [`REFERENCE_KINDS`].
pub fn reference_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    REFERENCE_KINDS
        .iter()
        .find(|(g, k, _, _)| *g == group && *k == kind)
        .map(|(_, _, _, path)| *path)
}

/// The fixture file `name` in `test_data/`.
pub fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test_data")
        .join(name)
}

pub fn read_fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(test_data(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The report form's worst case: the audit scanner's request for the bare
/// Pod of `audit/pod_bare_moved.json`, holding `db.local` at `count`
/// addresses (10.0.0.0 on), none of them the host's.
pub fn pod_holding_stale_addresses(count: usize) -> Value {
    let mut request = read_fixture("audit/pod_bare_moved.json");
    let entries: Vec<Value> = (0..count)
        .map(|i| {
            let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
            serde_json::json!({"ip": ip, "hostnames": ["db.local"]})
        })
        .collect();
    request["object"]["spec"]["hostAliases"] = Value::Array(entries);
    request
}

/// `test_data/outcomes.json`: each request fixture and whether the policy
/// accepts it as is (`accept`) or rewrites it (`mutate`) under the default
/// settings when `host.docker.internal` resolves.
pub fn outcomes() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(test_data("outcomes.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The `validate` payload for settings and a request.
pub fn payload(settings: &Value, request: &Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "settings": settings, "request": request })).unwrap()
}

/// The specification's rewrite: under `path`, each `hostAliases` entry whose
/// `ip` is `host-gateway` becomes one copy per address, and each whose `ip`
/// is `dns:NAME` one copy per address of NAME in `targets` (none when it
/// has none); then all entries holding one of those addresses become one,
/// with the union of their `hostnames` (also for a lone rewritten entry)
/// and the fields of each; it takes the place of, and wins conflicts as,
/// the first entry that already held the address, or else the first
/// rewritten one.
pub fn reference_rewrite(
    object: &Value,
    path: &[&str],
    addresses: &[IpAddr],
    targets: &[(String, Vec<IpAddr>)],
) -> Value {
    let mut object = object.clone();
    if addresses.is_empty() && targets.is_empty() {
        return object;
    }
    let every: Vec<IpAddr> = addresses
        .iter()
        .chain(targets.iter().flat_map(|(_, ips)| ips))
        .copied()
        .collect();
    let mut spec = &mut object;
    for key in path {
        match spec.get_mut(*key) {
            Some(inner) => spec = inner,
            None => return object,
        }
    }
    let Some(Value::Array(aliases)) = spec.get_mut("hostAliases") else {
        return object;
    };
    let mut expanded: Vec<(Value, Option<IpAddr>)> = Vec::new();
    for entry in aliases.drain(..) {
        let ip = entry.get("ip").and_then(Value::as_str).map(str::to_string);
        let target = ip.as_deref().and_then(|ip| ip.strip_prefix("dns:"));
        let asked = match (ip.as_deref(), target) {
            (Some(HOST_GATEWAY), _) => Some(addresses),
            (_, Some(name)) => Some(
                targets
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(&[][..], |(_, ips)| ips.as_slice()),
            ),
            _ => None,
        };
        match (ip.as_deref(), asked) {
            (_, Some(addresses)) if entry.is_object() => {
                for address in addresses {
                    let mut copy = entry.clone();
                    copy["ip"] = Value::String(address.to_string());
                    copy[REWRITTEN_MARK] = Value::Bool(true);
                    expanded.push((copy, Some(*address)));
                }
            }
            (Some(text), _) => match text.parse::<IpAddr>() {
                Ok(ip) if every.contains(&ip) => expanded.push((entry, Some(ip))),
                _ => expanded.push((entry, None)),
            },
            (None, _) => expanded.push((entry, None)),
        }
    }
    // Each address's entries, the survivor first: the first entry that
    // already held the address, else the first rewritten one.
    let mut groups: Vec<(IpAddr, Vec<usize>)> = Vec::new();
    for (k, (entry, address)) in expanded.iter().enumerate() {
        if let Some(address) = address {
            let members = match groups.iter_mut().find(|(a, _)| a == address) {
                Some((_, members)) => members,
                None => {
                    groups.push((*address, Vec::new()));
                    &mut groups.last_mut().unwrap().1
                }
            };
            let held = entry.get(REWRITTEN_MARK).is_none();
            let survivor_held = members
                .first()
                .is_some_and(|first| expanded[*first].0.get(REWRITTEN_MARK).is_none());
            if held && !survivor_held {
                members.insert(0, k);
            } else {
                members.push(k);
            }
        }
    }
    let survivors: Vec<usize> = groups.iter().map(|(_, m)| m[0]).collect();
    let members_of = |k: usize| -> Vec<Value> {
        groups
            .iter()
            .find(|(_, m)| m[0] == k)
            .map(|(_, m)| m.iter().map(|i| expanded[*i].0.clone()).collect())
            .unwrap_or_default()
    };
    for (k, (entry, address)) in expanded.iter().enumerate() {
        let Some(address) = address else {
            aliases.push(entry.clone());
            continue;
        };
        if !survivors.contains(&k) {
            continue;
        }
        let members = &members_of(k);
        let rewritten = survivor_was_host_gateway(entry, *address);
        let mut survivor = entry.clone();
        if members.len() > 1 || rewritten {
            let strings = reference_hostnames;
            let mut union: Vec<String> = Vec::new();
            for name in members.iter().flat_map(strings) {
                if !union.contains(&name) {
                    union.push(name);
                }
            }
            if union != strings(&survivor) {
                survivor["hostnames"] = serde_json::json!(union);
            }
            for member in &members[1..] {
                for (key, value) in member.as_object().into_iter().flatten() {
                    if key != "ip" && key != "hostnames" && survivor.get(key).is_none() {
                        survivor[key] = value.clone();
                    }
                }
            }
        }
        aliases.push(survivor);
    }
    for entry in aliases.iter_mut() {
        if let Some(fields) = entry.as_object_mut() {
            fields.remove(REWRITTEN_MARK);
        }
    }
    object
}

/// Whether `entry`, holding `address` after expansion, came from
/// `host-gateway`: the expanded copies are marked by [`reference_rewrite`].
fn survivor_was_host_gateway(entry: &Value, address: IpAddr) -> bool {
    entry.get(REWRITTEN_MARK).is_some() && entry["ip"] == address.to_string()
}

/// A key no generated entry has, marking expanded copies in the model.
const REWRITTEN_MARK: &str = "\u{0}rewritten";

/// What the DNS host capability answers for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The addresses found, as text.
    Ips(Vec<String>),
    /// The resolver failed with these words, e.g. `Name does not resolve`.
    Error(String),
    /// The policy server refused the capability to the policy.
    NotGranted,
}

/// How policy-server v1.35 words a failed lookup (measured): the
/// resolver's words behind two wrappers.
pub fn runtime_failure(words: &str) -> String {
    format!("Callback evaluation failure: failed to lookup address information: {words}")
}

/// How policy-server v1.35 words a capability it did not grant.
pub const RUNTIME_NOT_GRANTED: &str = "Policy has not been granted access to the \
    'net/v1/dns_lookup_host' host capability. The violation has been reported.";

/// The one DNS fake of the tests, the bench and the fuzz targets: answers
/// by name, in the runtime's own words, recording the names asked. A name
/// not listed does not resolve.
#[derive(Debug, Clone, Default)]
pub struct ScriptedDns {
    /// The answer for each name; the last one listed for a name wins.
    pub answers: Vec<(String, Answer)>,
    /// The names asked, in order.
    pub asked: Vec<String>,
}

impl ScriptedDns {
    /// Answers `ips` for `name`.
    pub fn with(self, name: &str, ips: &[&str]) -> Self {
        self.with_answer(
            name,
            Answer::Ips(ips.iter().map(|s| s.to_string()).collect()),
        )
    }

    /// Answers `answer` for `name`.
    pub fn with_answer(mut self, name: &str, answer: Answer) -> Self {
        self.answers.push((name.to_string(), answer));
        self
    }

    /// `host.docker.internal` as Docker Desktop answers it, IPv6 first.
    pub fn docker_desktop() -> Self {
        Self::default().with(
            "host.docker.internal",
            &["fdc4:f303:9324::254", "192.168.65.254"],
        )
    }

    /// The answer for `name` as the runtime gives it to a waPC guest, an
    /// error as the runtime's text; not recorded.
    pub fn runtime_answer(&self, name: &str) -> Result<Vec<String>, String> {
        match self.answers.iter().rev().find(|(n, _)| n == name) {
            Some((_, Answer::Ips(ips))) => Ok(ips.clone()),
            Some((_, Answer::Error(words))) => Err(runtime_failure(words)),
            Some((_, Answer::NotGranted)) => Err(RUNTIME_NOT_GRANTED.to_string()),
            None => Err(runtime_failure("Name does not resolve")),
        }
    }

    /// The answer for `name` as the policy's resolver gives it to
    /// `evaluate`, classified as the waPC host adapter classifies the
    /// runtime's (what does not parse as an address is skipped); not
    /// recorded.
    pub fn answer(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        match self.answers.iter().rev().find(|(n, _)| n == name) {
            Some((_, Answer::Ips(ips))) => {
                Ok(ips.iter().filter_map(|ip| ip.parse().ok()).collect())
            }
            Some((_, Answer::Error(words))) => Err(LookupError::failed(words)),
            Some((_, Answer::NotGranted)) => Err(LookupError::NotGranted),
            None => Err(LookupError::failed("Name does not resolve")),
        }
    }

    /// The answer for `name`, recorded as asked.
    pub fn resolve(&mut self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        self.asked.push(name.to_string());
        self.answer(name)
    }
}

/// The specification's choice, written per family rather than per name:
/// each family's address is the lowest of that family (made canonical) that
/// can reach the host, in the answer of the first name (in order) that has
/// one. Returns the
/// addresses in `ipFamilies` order and how many names a lazy lookup asks.
pub fn reference_choice(settings: &Settings, dns: &ScriptedDns) -> (Vec<IpAddr>, usize) {
    // A refused capability ends the lookups: no later name is asked.
    let refused = settings
        .hostnames
        .iter()
        .position(|name| dns.runtime_answer(name) == Err(RUNTIME_NOT_GRANTED.to_string()));
    let tried = &settings.hostnames[..refused.unwrap_or(settings.hostnames.len())];
    // An address that cannot reach the host is no answer.
    let answers: Vec<Vec<IpAddr>> = tried
        .iter()
        .map(|name| {
            dns.answer(name)
                .unwrap_or_default()
                .iter()
                .map(|ip| ip.to_canonical())
                .filter(reaches_the_host)
                .collect()
        })
        .collect();
    // The first name whose answer holds a wanted family gives every
    // family; a family it lacks is left out, never taken from a later name.
    let lowest = |ips: &[IpAddr]| -> Vec<IpAddr> {
        settings
            .ip_families
            .iter()
            .filter_map(|family| {
                ips.iter()
                    .filter(|ip| IpFamily::of(ip) == *family)
                    .min()
                    .copied()
            })
            .collect()
    };
    match answers.iter().position(|ips| !lowest(ips).is_empty()) {
        Some(i) => (lowest(&answers[i]), i + 1),
        None => (
            Vec::new(),
            refused.map_or(settings.hostnames.len(), |i| i + 1),
        ),
    }
}

/// How glibc and musl word a lookup that failed for now (`EAI_AGAIN`).
const REFERENCE_FOR_NOW: [&str; 2] = ["Temporary failure in name resolution", "Try again"];

/// Whether a lookup of `name` failed for now.
fn reference_failed_for_now(dns: &ScriptedDns, name: &str) -> bool {
    dns.runtime_answer(name).is_err_and(|text| {
        REFERENCE_FOR_NOW
            .iter()
            .any(|words| text == runtime_failure(words))
    })
}

/// Whether a warning tells of what the first `asked` names passed over
/// when the last of them answered: a name that failed for now, or an
/// address of a wanted family that cannot reach the host.
pub fn reference_passed_over(settings: &Settings, dns: &ScriptedDns, asked: usize) -> bool {
    settings.hostnames[..asked].iter().any(|name| {
        reference_failed_for_now(dns, name)
            || dns.answer(name).unwrap_or_default().iter().any(|ip| {
                let ip = ip.to_canonical();
                settings.ip_families.contains(&IpFamily::of(&ip)) && !reaches_the_host(&ip)
            })
    })
}

/// The DNS names a fuzz input's first two bytes script, and their answers.
const FUZZ_NAMES: [&str; 4] = [
    "host.docker.internal",
    "host.k3d.internal",
    "gateway.local",
    INGRESS_SERVICE,
];
const FUZZ_ANSWERS: [&[&str]; 4] = [
    &["fdc4:f303:9324::254", "192.168.65.254"],
    &["172.19.0.1"],
    &["fd00::1", "bogus"],
    &[],
];

/// The `validate` fuzz target's check, shared with the regression tests:
/// the first two bytes script the DNS answers (three bits a name: one of
/// the answers; answers that cannot reach the host; a failure for now; a
/// name that does not resolve; a refused capability), the rest is the
/// payload, run through [`check_evaluation`].
pub fn check_fuzz_validate(data: &[u8]) {
    let [low, high, payload @ ..] = data else {
        return;
    };
    let script = u16::from_le_bytes([*low, *high]);
    let answers = FUZZ_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let answer = match usize::from((script >> (3 * i)) & 7) {
                n if n < FUZZ_ANSWERS.len() => {
                    Answer::Ips(FUZZ_ANSWERS[n].iter().map(|s| s.to_string()).collect())
                }
                4 => Answer::Ips(vec!["0.0.0.0".into(), "::1".into()]),
                5 => Answer::Error("Try again".to_string()),
                7 => Answer::NotGranted,
                _ => Answer::Error("Name does not resolve".to_string()),
            };
            (name.to_string(), answer)
        })
        .collect();
    check_evaluation(
        payload,
        &ScriptedDns {
            answers,
            asked: Vec::new(),
        },
    );
}

/// The `settings` fuzz target's check, shared with the regression tests:
/// settings that load then work on a request as the specification says;
/// settings that do not get a short message naming the setting.
pub fn check_fuzz_settings(data: &[u8]) {
    match Settings::from_json(data) {
        Err(e) => {
            let message = e.to_string();
            assert!(message.len() <= MAX_REJECTION_BYTES, "{message}");
            let names_a_setting = REFERENCE_SETTINGS
                .iter()
                .any(|setting| message.contains(&format!("`{setting}`")));
            assert!(
                names_a_setting
                    || [
                        "unknown setting",
                        "settings are not valid JSON",
                        "settings must be a JSON object"
                    ]
                    .iter()
                    .any(|part| message.contains(part)),
                "names no setting: {message}"
            );
        }
        Ok(_) => {
            let Ok(settings) = serde_json::from_slice::<Value>(data) else {
                panic!("settings that load are not JSON to serde_json");
            };
            let request = r#"{"kind": {"group": "", "kind": "Pod"}, "operation": "CREATE",
                "name": "web", "object": {"spec": {"hostAliases":
                [{"ip": "host-gateway", "hostnames": ["db"]}]}}}"#;
            let payload = format!(r#"{{"settings": {settings}, "request": {request}}}"#);
            let dns = ScriptedDns::default().with("host.docker.internal", &["192.168.65.254"]);
            check_evaluation(payload.as_bytes(), &dns);
        }
    }
}

/// Runs the policy on `payload` and checks it against the specification:
/// no panic; only `hostAliases` at the kind's pod spec changes, and only
/// where it said `host-gateway`; family order, name order, laziness,
/// fallback and rejection as specified; a mutated object passes through
/// unchanged; and with no `host-gateway`, no lookup and no change.
pub fn check_evaluation(payload: &[u8], dns: &ScriptedDns) {
    let mut dns = dns.clone();
    let verdict = evaluate(payload, |name| dns.resolve(name));
    match &verdict {
        Verdict::Reject(rejection) => assert!(
            rejection.to_string().len() <= MAX_REJECTION_BYTES,
            "a long message: {rejection}"
        ),
        Verdict::Mutate(Mutation { warnings, .. }) | Verdict::Warn(warnings) => {
            for warning in warnings {
                assert!(
                    warning.to_string().len() <= MAX_WARNING_BYTES,
                    "a long warning: {warning}"
                );
            }
        }
        Verdict::Accept => {}
    }
    let Ok(parsed) = serde_json::from_slice::<Value>(payload) else {
        // Not a payload the runtime can send (it writes the payload from a
        // `Value`): only the bounds above apply.
        return;
    };
    let request = &parsed["request"];
    let object = &request["object"];
    let path = reference_path(
        request["kind"]["group"].as_str().unwrap_or_default(),
        request["kind"]["kind"].as_str().unwrap_or_default(),
    );
    let operation = request["operation"].as_str().unwrap_or_default();
    let changes = matches!(operation, "CREATE" | "UPDATE");
    let host_gateway = changes && path.is_some_and(|path| reference_has_host_gateway(object, path));
    let mut intent = match path {
        Some(path) if changes && well_formed(&parsed) => reference_intent(request, path),
        _ => ReferenceIntent::default(),
    };

    match &verdict {
        Verdict::Reject(Rejection::UnreadableRequest(message)) => {
            assert!(
                !well_formed(&parsed) || repeats_a_key_read(payload),
                "a well-formed request was unreadable: {message}"
            );
            return;
        }
        _ if changes && path.is_some() && report_settings(payload, &parsed).is_some() => {
            if let (Some(path), Some(settings)) = (path, report_settings(payload, &parsed)) {
                check_stale(request, path, &verdict, &dns, &settings);
            }
            return;
        }
        _ if changes
            && well_formed(&parsed)
            && path.is_some_and(|path| {
                !reference_targets(object, path).is_empty()
                    || !reference_annotated_targets(object, path).is_empty()
            }) =>
        {
            if let Some(path) = path {
                check_targets(payload, &parsed, path, &verdict, &dns);
            }
            return;
        }
        _ if well_formed(&parsed) && operation == "UPDATE" && reference_immutable(request) => {
            if let Some(path) = path {
                check_quiet_update(request, path, &verdict, &dns);
            }
            return;
        }
        _ if well_formed(&parsed) && operation == "UPDATE" && any_key_repeats(payload) => {
            // Whether the template changed is then read two ways: the
            // policy counts every member, `Value` the last of each key.
            return;
        }
        _ if well_formed(&parsed)
            && operation == "UPDATE"
            && path.is_some_and(|path| reference_template_kept(request, path))
            && path.is_some_and(|path| reference_quiet_handles(request, path)) =>
        {
            if let Some(path) = path {
                check_quiet_update(request, path, &verdict, &dns);
            }
            return;
        }
        _ if intent.refused => {
            assert!(
                matches!(verdict, Verdict::Reject(Rejection::BadAnnotation(_))),
                "a malformed template annotation gave {verdict:?}"
            );
            assert!(verdict_message(&verdict).contains(REFERENCE_ANNOTATION));
            assert!(
                dns.asked.is_empty(),
                "looked up {:?} for nothing",
                dns.asked
            );
            return;
        }
        _ if well_formed(&parsed) && injection_settings(payload, &parsed).is_some() => {
            if let Some(settings) = injection_settings(payload, &parsed) {
                check_injection(request, &verdict, &dns, &settings);
            }
            return;
        }
        _ if !host_gateway && intent.refresh.is_empty() => {
            if let Some(path) = path {
                let edited = reference_edited(request, path, &[]);
                let expected = reference_without_names(object, path, &edited);
                assert_accepted_as(&verdict, object, &expected, intent.ignored);
            }
            assert!(
                dns.asked.is_empty(),
                "looked up {:?} for nothing",
                dns.asked
            );
            return;
        }
        _ => {}
    }
    let (Some(path), true) = (path, well_formed(&parsed)) else {
        panic!("rewrote a request that is not well formed: {verdict:?}");
    };
    let settings = match payload_settings(payload, &parsed) {
        Ok(settings) => settings,
        Err(_) if !host_gateway => {
            // Invalid settings never refuse an object that asked for no
            // host-gateway.
            let edited = reference_edited(request, path, &[]);
            let expected = reference_without_names(object, path, &edited);
            assert_accepted_as(&verdict, object, &expected, intent.ignored);
            return;
        }
        Err(fields) => return assert_settings_refused(&verdict, &fields),
    };

    let (found, asked) = reference_choice(&settings, &dns);
    assert_eq!(
        dns.asked,
        settings.hostnames[..asked],
        "lookups out of order or not lazy"
    );
    let expected_addresses = if found.is_empty() {
        settings.fallback_addresses.clone()
    } else {
        found.clone()
    };
    // The names the user edited leave the annotation and are not refreshed.
    let edited = reference_edited(request, path, &expected_addresses);
    intent.refresh.retain(|name| !edited.contains(name));
    if expected_addresses.is_empty() && !host_gateway {
        // Never refused: admitted, saying which names stay put.
        let expected = reference_without_names(object, path, &edited);
        let warnings = match &verdict {
            Verdict::Warn(warnings) => {
                assert_eq!(&expected, object, "an edit went unapplied");
                warnings.clone()
            }
            Verdict::Mutate(mutation) => {
                let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
                assert_eq!(mutated, expected);
                mutation.warnings.clone()
            }
            Verdict::Accept => Vec::new(),
            Verdict::Reject(_) => {
                panic!("refused an object that asked for no host-gateway: {verdict:?}")
            }
        };
        let refreshed = !intent.refresh.is_empty();
        assert_eq!(
            warnings.len(),
            usize::from(refreshed) + usize::from(intent.ignored)
        );
        if refreshed {
            let last = warnings.last().map(ToString::to_string).unwrap_or_default();
            assert!(
                last.contains(&intent.refresh[0]),
                "the warning names {}: {last}",
                intent.refresh[0]
            );
            // "left at the address they had" only where an entry held one.
            let held = at(object, path)
                .and_then(|spec| spec.get("hostAliases"))
                .and_then(Value::as_array)
                .is_some_and(|entries| {
                    entries
                        .iter()
                        .flat_map(reference_hostnames)
                        .any(|name| intent.refresh.contains(&name))
                });
            let outcome = match held {
                true => "left at the address they had",
                false => "not added",
            };
            assert!(last.contains(outcome), "expected {outcome:?}: {last}");
        }
        return;
    }
    if expected_addresses.is_empty() {
        let Verdict::Reject(Rejection::NoAddress(shortfall)) = &verdict else {
            panic!("expected a rejection, got {verdict:?}");
        };
        let message = verdict_message(&verdict);
        assert!(message.contains("host-gateway"));
        if asked > 0
            && dns.runtime_answer(&settings.hostnames[asked - 1])
                == Err(RUNTIME_NOT_GRANTED.to_string())
        {
            assert_eq!(shortfall, &host_gateway_policy::Shortfall::NotGranted);
            assert!(message.contains("spec.namespacedPoliciesCapabilities"));
            return;
        }
        // A retry may help where a lookup failed for now.
        let for_now = settings.hostnames[..asked]
            .iter()
            .any(|name| reference_failed_for_now(&dns, name));
        assert_eq!(message.contains("; retry, or "), for_now, "{message}");
        // Every name tried is listed, or counted once the list is long.
        let listed = settings
            .hostnames
            .iter()
            .filter(|name| message.contains(name.as_str()))
            .count();
        assert!(
            listed == settings.hostnames.len()
                || message.contains(" more;")
                || message.contains(" any of "),
            "names missing from: {message}"
        );
        return;
    }
    let expected = reference_without_names(
        &reference_expected(object, path, &intent, &expected_addresses, &[]),
        path,
        &edited,
    );
    // One warning for the fallback, or one for what was skipped on the way.
    let warnings = usize::from(found.is_empty() || reference_passed_over(&settings, &dns, asked))
        + usize::from(intent.ignored);
    if &expected == object {
        match &verdict {
            Verdict::Mutate(mutation) => {
                let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
                assert_eq!(&mutated, object);
            }
            Verdict::Warn(given) => assert_eq!(given.len(), warnings),
            Verdict::Accept => assert_eq!(warnings, 0),
            Verdict::Reject(_) => panic!("refused an object that needs no change: {verdict:?}"),
        }
        return;
    }
    let Verdict::Mutate(mutation) = &verdict else {
        panic!("expected a mutation, got {verdict:?}");
    };
    let mutated: Value =
        serde_json::from_str(&mutation.object).expect("the mutated object is JSON");
    assert_eq!(mutated, expected);
    assert_eq!(mutation.warnings.len(), warnings);
    assert_no_address_written_twice(&mutated, path, &expected_addresses);

    // Idempotence: the rewritten object goes through unchanged (a template
    // is looked up again, to refresh its names, and found current). After
    // an UPDATE it is the stored object too: the API server sends what it
    // stored as oldObject, and reinvokes no Kubewarden webhook with the
    // old one (reinvocationPolicy is left at Never).
    let mut again = parsed.clone();
    if operation == "UPDATE" {
        again["request"]["oldObject"] = mutated.clone();
    }
    again["request"]["object"] = mutated;
    let mut second_dns = dns.clone();
    second_dns.asked.clear();
    let second = evaluate(&serde_json::to_vec(&again).unwrap(), |name| {
        second_dns.resolve(name)
    });
    assert!(
        matches!(second, Verdict::Accept | Verdict::Warn(_)),
        "a rewritten object was changed again: {second:?}"
    );
    if reference_intent(&again["request"], path).refresh.is_empty() {
        assert!(second_dns.asked.is_empty());
    }
}

/// Invalid settings refuse the request, naming one of `fields`.
fn assert_settings_refused(verdict: &Verdict, fields: &[String]) {
    let Verdict::Reject(Rejection::InvalidSettings(e)) = verdict else {
        panic!("invalid settings ({fields:?}) gave {verdict:?}");
    };
    let message = e.to_string();
    assert!(
        fields.iter().any(|field| message.contains(field.as_str())),
        "{message} names none of {fields:?}"
    );
}

/// The Service the `dns:` fixtures ask for: an ingress controller's.
pub const INGRESS_SERVICE: &str = "ingress-nginx-controller.ingress-nginx.svc.cluster.local";
/// The address the tests' DNS gives [`INGRESS_SERVICE`], a ClusterIP.
pub const INGRESS_ADDRESS: &str = "10.96.12.34";

/// Most distinct `dns:` names one object may ask for.
const REFERENCE_MAX_TARGETS: usize = 16;

/// The names the `dns:NAME` entries under `path` ask for, each once, in
/// order.
pub fn reference_targets(object: &Value, path: &[&str]) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    let entries = at(object, path)
        .and_then(|spec| spec.get("hostAliases"))
        .and_then(Value::as_array);
    for entry in entries.into_iter().flatten() {
        let name = entry
            .get("ip")
            .and_then(Value::as_str)
            .and_then(|ip| ip.strip_prefix("dns:"));
        if let Some(name) = name.filter(|name| !targets.iter().any(|t| t == name)) {
            targets.push(name.to_string());
        }
    }
    targets
}

/// Whether `allowedTargets` lets `name` be looked up, as docs/targets.md
/// says: a lowercase DNS name that an exact item names, or that ends in a
/// `*.suffix` item's suffix with a label before it.
fn reference_target_allowed(name: &str, settings: &Settings) -> bool {
    reference_dns1123(name)
        && settings
            .allowed_targets
            .iter()
            .any(|pattern| match pattern {
                TargetPattern::Exact(exact) => name == exact,
                TargetPattern::Suffix(suffix) => name
                    .strip_suffix(suffix.as_str())
                    .is_some_and(|label| !label.is_empty()),
            })
}

/// The `dns:` targets' part of the specification. Fully for a CREATE that
/// carries no intent annotation and injects nothing: over 16 names refused
/// before any lookup, then invalid settings, then a name `allowedTargets`
/// does not cover; the host looked up only for `host-gateway`, then each
/// name once, in order; a name without address refuses the object but for
/// a Pod a controller made, which is admitted without the entry and warned;
/// the rewrite merged by `ip` across every entry. Elsewhere: no `dns:`
/// entry is ever written out, and nothing beyond is looked up.
fn check_targets(
    payload: &[u8],
    parsed: &Value,
    path: &'static [&'static str],
    verdict: &Verdict,
    dns: &ScriptedDns,
) {
    let request = &parsed["request"];
    let object = &request["object"];
    let targets = reference_targets(object, path);
    if targets.len() > REFERENCE_MAX_TARGETS {
        assert_refused_before_any_lookup(
            verdict,
            dns,
            |r| matches!(r, Rejection::TooManyTargets),
            &format!("{} targets", targets.len()),
        );
        return;
    }
    if let Verdict::Mutate(mutation) = verdict {
        let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
        assert!(
            reference_targets(&mutated, path).is_empty(),
            "a dns: entry was written out: {mutated}"
        );
    }
    let simple = request["operation"] == "CREATE" && injection_settings(payload, parsed).is_none();
    let is_pod = path == ["spec"] && request["kind"]["kind"] == "Pod";
    let mut intent = reference_intent(request, path);
    if simple && intent.refused {
        assert_refused_before_any_lookup(
            verdict,
            dns,
            |r| matches!(r, Rejection::BadAnnotation(_)),
            "a malformed template annotation",
        );
        return;
    }
    // The entries' and the annotation's targets, each once: 16 at most.
    let mut union = targets.clone();
    for target in &intent.annotated_targets {
        if !union.contains(target) {
            union.push(target.clone());
        }
    }
    let mut warnings = usize::from(intent.ignored);
    if simple && union.len() > REFERENCE_MAX_TARGETS {
        if !is_pod {
            assert_refused_before_any_lookup(
                verdict,
                dns,
                |r| matches!(r, Rejection::TooManyTargets),
                &format!("{} targets with the annotation's", union.len()),
            );
            return;
        }
        // A Pod goes without the annotation's targets, warned.
        warnings += 1;
        intent.targeted.clear();
        intent.annotated_targets.clear();
    }
    let settings = match payload_settings(payload, parsed) {
        Ok(settings) => settings,
        Err(fields) if simple && reference_asks(object, path) => {
            return assert_settings_refused(verdict, &fields);
        }
        Err(_) if simple => {
            // No entry asks: invalid settings refuse nothing.
            assert_eq!(
                verdict_warnings(verdict, object),
                Some(warnings),
                "{verdict:?}"
            );
            return;
        }
        Err(_) => return,
    };
    let annotated = reference_annotated_targets(object, path);
    for name in &dns.asked {
        assert!(
            settings.hostnames.contains(name) || targets.contains(name) || annotated.contains(name),
            "looked up {name}, neither a host name nor a target"
        );
    }
    if !simple {
        return;
    }
    if targets
        .iter()
        .any(|name| !reference_target_allowed(name, &settings))
    {
        assert_refused_before_any_lookup(
            verdict,
            dns,
            |r| matches!(r, Rejection::TargetRefused { .. }),
            "a target not allowed",
        );
        return;
    }
    for target in std::mem::take(&mut intent.annotated_targets) {
        if reference_target_allowed(&target, &settings) {
            continue;
        }
        if !is_pod {
            assert_refused_before_any_lookup(
                verdict,
                dns,
                |r| matches!(r, Rejection::TargetRefused { .. }),
                "an annotated target not allowed",
            );
            return;
        }
        // A Pod leaves its names as they are, warned.
        warnings += 1;
        intent.targeted.retain(|(_, t)| *t != target);
    }
    let host_gateway = reference_has_host_gateway(object, path);
    let asks_host = host_gateway || !intent.refresh.is_empty();
    let (found, host_asked) = match asks_host {
        true => reference_choice(&settings, dns),
        false => (Vec::new(), 0),
    };
    let host = match (asks_host, found.is_empty()) {
        (false, _) => Vec::new(),
        (true, true) => settings.fallback_addresses.clone(),
        (true, false) => found.clone(),
    };
    let mut expected_asked: Vec<String> = settings.hostnames[..host_asked].to_vec();
    if host_gateway && host.is_empty() {
        assert!(
            matches!(verdict, Verdict::Reject(Rejection::NoAddress(_))),
            "expected no address for the host, got {verdict:?}"
        );
        assert_eq!(dns.asked, expected_asked);
        return;
    }
    if asks_host && host.is_empty() {
        // The names to point at the host stay as they are, warned.
        warnings += 1;
        intent.refresh.clear();
    }
    warnings += usize::from(
        !host.is_empty() && (found.is_empty() || reference_passed_over(&settings, dns, host_asked)),
    );
    let made_by_a_controller = path == ["spec"]
        && request["kind"]["kind"] == "Pod"
        && object["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|owners| owners.iter().any(|o| o["controller"] == true));
    let mut answers: Vec<(String, Vec<IpAddr>)> = Vec::new();
    for name in &targets {
        expected_asked.push(name.clone());
        let alone = Settings {
            hostnames: vec![name.clone()],
            fallback_addresses: Vec::new(),
            ..settings.clone()
        };
        let (addresses, _) = reference_choice(&alone, dns);
        if addresses.is_empty() && !made_by_a_controller {
            let Verdict::Reject(Rejection::TargetNoAddress { name: named, .. }) = verdict else {
                panic!("expected no address for {name}, got {verdict:?}");
            };
            assert_eq!(named, name);
            assert!(verdict_message(verdict).contains(&format!("dns:{name}")));
            assert_eq!(dns.asked, expected_asked);
            return;
        }
        warnings += usize::from(addresses.is_empty() || reference_passed_over(&alone, dns, 1));
        answers.push((name.clone(), addresses));
    }
    // Then the annotation's, never refusing: a name without address leaves
    // its names as they are, warned.
    for (_, name) in &intent.targeted {
        if answers.iter().any(|(answered, _)| answered == name) {
            continue;
        }
        expected_asked.push(name.clone());
        let alone = Settings {
            hostnames: vec![name.clone()],
            fallback_addresses: Vec::new(),
            ..settings.clone()
        };
        let (addresses, _) = reference_choice(&alone, dns);
        warnings += usize::from(addresses.is_empty() || reference_passed_over(&alone, dns, 1));
        answers.push((name.clone(), addresses));
    }
    assert_eq!(
        dns.asked, expected_asked,
        "lookups out of order or repeated"
    );
    let expected = reference_expected(object, path, &intent, &host, &answers);
    match verdict {
        Verdict::Mutate(mutation) => {
            let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
            assert_eq!(mutated, expected);
            assert_eq!(mutation.warnings.len(), warnings, "{:?}", mutation.warnings);
        }
        Verdict::Warn(given) => {
            assert_eq!(&expected, object);
            assert_eq!(given.len(), warnings);
        }
        Verdict::Accept => {
            assert_eq!(&expected, object);
            assert_eq!(warnings, 0);
        }
        Verdict::Reject(_) => panic!("expected the targets written, got {verdict:?}"),
    }
}

/// The settings of a payload in the report form (`reportStale: true`).
fn report_settings(payload: &[u8], parsed: &Value) -> Option<Settings> {
    payload_settings(payload, parsed)
        .ok()
        .filter(|settings| settings.report_stale)
}

/// The report form's part of the specification: nothing mutated; a
/// workload passes; a Pod passes, with nothing looked up, unless an entry
/// holds at an address a name of its annotation (one that points at the
/// host) or of `injectHostnames` (unless it opts out or mirrors a static
/// pod); then the host chain is looked up as for a rewrite: no address is
/// an error to check (code 500), an address held that is not among the
/// host's refuses the Pod, naming each such name, the addresses held and
/// the host's, and the owner to restart, else the Pod itself.
fn check_stale(
    request: &Value,
    path: &[&'static str],
    verdict: &Verdict,
    dns: &ScriptedDns,
    settings: &Settings,
) {
    let object = &request["object"];
    let is_pod = path == ["spec"] && request["kind"]["kind"] == "Pod";
    let unasked = || assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
    if !is_pod {
        assert_eq!(verdict, &Verdict::Accept, "a workload in the report form");
        return unasked();
    }
    let mut names: Vec<String> = reference_annotation_of(object, path)
        .and_then(reference_annotation_items)
        .map(|items| {
            (items.into_iter())
                .filter(|(_, target)| target.is_none())
                .map(|(name, _)| name)
                .collect()
        })
        .unwrap_or_default();
    let annotations = &object["metadata"]["annotations"];
    let opted_out = annotations[INJECT_ANNOTATION] == "false"
        || annotations.get("kubernetes.io/config.mirror").is_some();
    if !opted_out {
        for name in &settings.inject_hostnames {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    let entries = at(object, path)
        .and_then(|spec| spec.get("hostAliases"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut held: Vec<(String, IpAddr)> = Vec::new();
    for entry in &entries {
        let Some(ip) = entry
            .get("ip")
            .and_then(Value::as_str)
            .and_then(|ip| ip.parse().ok())
        else {
            continue;
        };
        for name in reference_hostnames(entry) {
            if names.contains(&name) {
                held.push((name, ip));
            }
        }
    }
    if held.is_empty() {
        assert_eq!(
            verdict,
            &Verdict::Accept,
            "a Pod that holds no name for the host"
        );
        return unasked();
    }
    let (found, asked) = reference_choice(settings, dns);
    assert_eq!(
        dns.asked,
        settings.hostnames[..asked],
        "lookups out of order"
    );
    if found.is_empty() {
        assert!(
            matches!(verdict, Verdict::Reject(r @ Rejection::CannotCheck(_)) if r.code() == Some(500)),
            "no address for the host gave {verdict:?}"
        );
        return;
    }
    let mut stale: Vec<String> = Vec::new();
    let mut addresses: Vec<String> = Vec::new();
    for (name, ip) in held.iter().filter(|(_, ip)| !found.contains(ip)) {
        if !stale.contains(name) {
            stale.push(name.clone());
        }
        if !addresses.contains(&ip.to_string()) {
            addresses.push(ip.to_string());
        }
    }
    if stale.is_empty() {
        assert_eq!(verdict, &Verdict::Accept, "a Pod at the host's address");
        return;
    }
    let Verdict::Reject(Rejection::StaleAddress {
        names,
        held,
        current,
        fix,
    }) = verdict
    else {
        panic!("expected {stale:?} reported stale, got {verdict:?}");
    };
    assert_eq!(names, &stale);
    assert_eq!(held, &addresses);
    let found: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(current, &found);
    assert_eq!(fix, &reference_fix(request));
    assert!(verdict_message(verdict).len() <= MAX_REJECTION_BYTES);
}

/// What makes a stale Pod again, as the specification words it: a
/// rollout restart of the Deployment (whose ReplicaSet is named after it
/// and the Pod's `pod-template-hash`), StatefulSet or DaemonSet that
/// controls it, else deleting the Pod.
fn reference_fix(request: &Value) -> String {
    let object = &request["object"];
    let namespace = match request["namespace"].as_str().unwrap_or_default() {
        "" => String::new(),
        namespace => format!("-n {namespace} "),
    };
    let controller = object["metadata"]["ownerReferences"]
        .as_array()
        .and_then(|owners| owners.iter().find(|o| o["controller"] == true));
    let owner = controller.and_then(|owner| {
        let name = owner["name"].as_str()?;
        match owner["kind"].as_str()? {
            "StatefulSet" => Some(format!("statefulset/{name}")),
            "DaemonSet" => Some(format!("daemonset/{name}")),
            "ReplicaSet" => {
                let hash = object["metadata"]["labels"]["pod-template-hash"].as_str()?;
                let deployment = name.strip_suffix(&format!("-{hash}"))?;
                (!deployment.is_empty()).then(|| format!("deployment/{deployment}"))
            }
            _ => None,
        }
    });
    match owner {
        Some(owner) => {
            format!("restart the Pod's owner: kubectl {namespace}rollout restart {owner}")
        }
        None => format!(
            "recreate the Pod: kubectl {namespace}delete pod {}",
            request["name"].as_str().unwrap_or_default()
        ),
    }
}

/// A refusal that `expected` accepts, given before any lookup; `what`
/// says what was refused.
fn assert_refused_before_any_lookup(
    verdict: &Verdict,
    dns: &ScriptedDns,
    expected: fn(&Rejection) -> bool,
    what: &str,
) {
    assert!(
        matches!(verdict, Verdict::Reject(r) if expected(r)),
        "{what} gave {verdict:?}"
    );
    assert!(dns.asked.is_empty(), "looked up {:?}", dns.asked);
}

/// Whether an entry under `path` asks: `host-gateway` or `dns:`.
fn reference_asks(object: &Value, path: &[&str]) -> bool {
    reference_has_host_gateway(object, path) || !reference_targets(object, path).is_empty()
}

/// The warnings of a verdict that admits `object` as it is; `None` for
/// any other verdict.
fn verdict_warnings(verdict: &Verdict, object: &Value) -> Option<usize> {
    match verdict {
        Verdict::Accept => Some(0),
        Verdict::Warn(warnings) => Some(warnings.len()),
        Verdict::Mutate(mutation) => {
            let mutated: Value = serde_json::from_str(&mutation.object).ok()?;
            (&mutated == object).then_some(mutation.warnings.len())
        }
        Verdict::Reject(_) => None,
    }
}

/// The targets the object's intent annotation points at, when it can be
/// read.
fn reference_annotated_targets(object: &Value, path: &[&'static str]) -> Vec<String> {
    reference_annotation_of(object, path)
        .and_then(reference_annotation_items)
        .map(|items| reference_item_targets(&items))
        .unwrap_or_default()
}

/// The intent annotation of the object's Pod metadata, if any.
fn reference_annotation_of<'v>(object: &'v Value, path: &[&'static str]) -> Option<&'v Value> {
    at(object, &metadata_of(path))
        .and_then(|metadata| metadata["annotations"].get(REFERENCE_ANNOTATION))
}

/// Whether the request's kind has a pod spec that cannot change once
/// created: a Pod's spec, a Job's template.
fn reference_immutable(request: &Value) -> bool {
    // Absent or null reads as empty, as for every request field.
    let field = |key: &str| request["kind"][key].as_str().unwrap_or_default();
    matches!(
        (field("group"), field("kind")),
        ("", "Pod") | ("batch", "Job")
    )
}

/// The specification of an UPDATE that keeps the pod spec as stored (a
/// Pod's, a Job's, a template the UPDATE leaves alone): nothing is looked
/// up; without host-gateway, admitted as it is; a re-sent host-gateway
/// whose names the stored object holds at addresses (at most 16) takes
/// those addresses, rewritten as any host-gateway is; otherwise refused (a
/// template then goes on to the lookup: see [`reference_quiet_handles`]).
fn check_quiet_update(
    request: &Value,
    path: &[&'static str],
    verdict: &Verdict,
    dns: &ScriptedDns,
) {
    assert!(
        dns.asked.is_empty(),
        "looked up {:?} on an UPDATE that cannot change the pod spec",
        dns.asked
    );
    let object = &request["object"];
    let expected = if !reference_has_host_gateway(object, path) {
        object.clone()
    } else {
        match reference_stored_addresses(object, &request["oldObject"], path) {
            // host-gateway entries that name nothing go.
            Some(addresses) if addresses.is_empty() => reference_without_host_gateway(object, path),
            Some(addresses) => reference_rewrite(object, path, &addresses, &[]),
            None => {
                assert!(
                    matches!(verdict, Verdict::Reject(Rejection::ImmutablePodSpec { .. })),
                    "expected the refusal of a change, got {verdict:?}"
                );
                return;
            }
        }
    };
    // A template follows the user's edits (a Pod's or a Job's cannot change).
    let edited = reference_edited(request, path, &[]);
    let expected = reference_without_names(&expected, path, &edited);
    if &expected == object {
        assert_eq!(verdict, &Verdict::Accept);
        return;
    }
    let Verdict::Mutate(mutation) = verdict else {
        panic!("expected the stored addresses, got {verdict:?}");
    };
    let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
    assert_eq!(mutated, expected);
}

/// The names the user edited in a template: an UPDATE (of no Pod, no Job,
/// no template a controller owns) where the stored template's annotation
/// lists a name it holds at addresses (the first 16), and the object holds
/// it at none of them, nor at `current`, nor in a host-gateway entry.
pub fn reference_edited(request: &Value, path: &[&'static str], current: &[IpAddr]) -> Vec<String> {
    let (object, old) = (&request["object"], &request["oldObject"]);
    let owned = object["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|owners| owners.iter().any(|o| o["controller"] == true));
    if request["operation"] != "UPDATE" || reference_immutable(request) || owned || old.is_null() {
        return Vec::new();
    }
    let Some(annotated) = reference_annotation_of(old, path).and_then(reference_annotation_items)
    else {
        return Vec::new();
    };
    let entries = |value: &Value| {
        at(value, path)
            .and_then(|spec| spec.get("hostAliases"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let ip_of = |entry: &Value| entry.get("ip").and_then(Value::as_str).map(str::to_string);
    annotated
        .into_iter()
        .filter(|(name, target)| {
            let mut stored: Vec<IpAddr> = Vec::new();
            for entry in entries(old) {
                let ip = ip_of(&entry).and_then(|ip| ip.parse::<IpAddr>().ok());
                if let Some(ip) = ip
                    && reference_hostnames(&entry).contains(name)
                    && !stored.contains(&ip)
                    && stored.len() < 16
                {
                    stored.push(ip);
                }
            }
            !stored.is_empty()
                && !entries(object).iter().any(|entry| {
                    reference_hostnames(entry).contains(name)
                        && match ip_of(entry) {
                            Some(ip) if ip == HOST_GATEWAY => target.is_none(),
                            Some(ip) if ip.starts_with("dns:") => {
                                target.as_deref() == ip.strip_prefix("dns:")
                            }
                            Some(ip) => ip.parse::<IpAddr>().is_ok_and(|ip| {
                                stored.contains(&ip) || (target.is_none() && current.contains(&ip))
                            }),
                            None => false,
                        }
                })
        })
        .map(|(name, _)| name)
        .collect()
}

/// The object of a template UPDATE that only edits entries, as the
/// specification expects it: the names the user edited out of its intent
/// annotation, nothing looked up.
pub fn reference_followed_edit(request: &Value) -> Value {
    let path = reference_path(
        request["kind"]["group"].as_str().unwrap_or_default(),
        request["kind"]["kind"].as_str().unwrap_or_default(),
    )
    .expect("a kind the policy handles");
    let edited = reference_edited(request, path, &[]);
    assert!(!edited.is_empty(), "the request edits no name");
    reference_without_names(&request["object"], path, &edited)
}

/// `object` with `names` taken out of its intent annotation (read as the
/// specification reads it); the annotation goes when none is left.
pub fn reference_without_names(object: &Value, path: &[&'static str], names: &[String]) -> Value {
    let mut object = object.clone();
    let pointer: String = metadata_of(path)
        .iter()
        .map(|key| format!("/{key}"))
        .collect::<String>()
        + "/annotations";
    let Some(annotations) = object.pointer_mut(&pointer).and_then(Value::as_object_mut) else {
        return object;
    };
    let Some(listed) = annotations
        .get(REFERENCE_ANNOTATION)
        .and_then(reference_annotation_items)
    else {
        return object;
    };
    let left: Vec<(String, Option<String>)> = listed
        .iter()
        .filter(|(n, _)| !names.contains(n))
        .cloned()
        .collect();
    if left.len() == listed.len() {
        return object;
    }
    match left.is_empty() {
        true => drop(annotations.remove(REFERENCE_ANNOTATION)),
        false => drop(annotations.insert(
            REFERENCE_ANNOTATION.to_string(),
            Value::String(reference_annotation_value(&left)),
        )),
    }
    object
}

/// Whether a template UPDATE that keeps the template takes the quiet path:
/// when it holds no host-gateway, or its host-gateway names are all held
/// by the stored object.
fn reference_quiet_handles(request: &Value, path: &[&str]) -> bool {
    !reference_has_host_gateway(&request["object"], path)
        || reference_stored_addresses(&request["object"], &request["oldObject"], path).is_some()
}

/// Whether an UPDATE leaves the pod template (at `path` less its last key)
/// as `oldObject` has it, leaving out `spec.hostAliases` and the intent
/// annotation, and any object that leaving them out empties. No template
/// in either is the same; a template in one only is a change.
pub fn reference_template_kept(request: &Value, path: &[&str]) -> bool {
    let template_path = &path[..path.len() - 1];
    let written: [&[&str]; 2] = [
        &["spec", "hostAliases"],
        &["metadata", "annotations", REFERENCE_ANNOTATION],
    ];
    let template = |object: &Value| {
        at(object, template_path).and_then(|template| without_written(template, &written))
    };
    template(&request["object"]) == template(&request["oldObject"])
}

/// `value` less the members at `paths`, and less each object that leaving
/// them out emptied: `None` when `value` is such an object.
fn without_written(value: &Value, paths: &[&[&str]]) -> Option<Value> {
    let Value::Object(map) = value else {
        return Some(value.clone());
    };
    let (mut kept, mut left_out) = (serde_json::Map::new(), false);
    for (key, child) in map {
        if paths.iter().any(|path| path == &[key.as_str()]) {
            left_out = true;
            continue;
        }
        let under: Vec<&[&str]> = paths
            .iter()
            .filter(|path| path.len() > 1 && path[0] == key)
            .map(|path| &path[1..])
            .collect();
        match without_written(child, &under) {
            Some(child) => drop(kept.insert(key.clone(), child)),
            None => left_out = true,
        }
    }
    (!kept.is_empty() || !left_out).then_some(Value::Object(kept))
}

/// Whether any object in the JSON text repeats a key.
fn any_key_repeats(payload: &[u8]) -> bool {
    struct Repeats;
    impl<'de> serde::de::Visitor<'de> for Repeats {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let (mut seen, mut repeats) = (std::collections::HashSet::new(), false);
            while let Some(key) = map.next_key::<String>()? {
                repeats |= !seen.insert(key);
                repeats |= map.next_value_seed(RepeatsSeed)?;
            }
            Ok(repeats)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
            let mut repeats = false;
            while let Some(inner) = seq.next_element_seed(RepeatsSeed)? {
                repeats |= inner;
            }
            Ok(repeats)
        }
        fn visit_str<E>(self, _: &str) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_unit<E>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    struct RepeatsSeed;
    impl<'de> serde::de::DeserializeSeed<'de> for RepeatsSeed {
        type Value = bool;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_any(Repeats)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    serde::de::DeserializeSeed::deserialize(RepeatsSeed, &mut deserializer).unwrap_or(false)
}

/// `object` without the host-gateway entries of its `hostAliases`.
fn reference_without_host_gateway(object: &Value, path: &[&str]) -> Value {
    let mut object = object.clone();
    let pointer: String =
        path.iter().map(|key| format!("/{key}")).collect::<String>() + "/hostAliases";
    if let Some(Value::Array(entries)) = object.pointer_mut(&pointer) {
        entries.retain(|entry| entry.get("ip").and_then(Value::as_str) != Some("host-gateway"));
    }
    object
}

/// The addresses, in stored order, of the stored entries (of `old`) that
/// hold a name of `object`'s host-gateway entries, when every such name is
/// held and there are at most 16 of them.
fn reference_stored_addresses(object: &Value, old: &Value, path: &[&str]) -> Option<Vec<IpAddr>> {
    let list = |value: &Value| {
        at(value, path)
            .and_then(|spec| spec.get("hostAliases"))
            .and_then(Value::as_array)
            .cloned()
    };
    let wanted: Vec<String> = list(object)?
        .iter()
        .filter(|entry| entry.get("ip").and_then(Value::as_str) == Some("host-gateway"))
        .flat_map(reference_hostnames)
        .collect();
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut held: Vec<String> = Vec::new();
    for entry in list(old)? {
        let Some(ip) = entry
            .get("ip")
            .and_then(Value::as_str)
            .and_then(|ip| ip.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let names = reference_hostnames(&entry);
        if names.iter().any(|name| wanted.contains(name)) {
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
            held.extend(names);
        }
    }
    let all_held = wanted.iter().all(|name| held.contains(name));
    (all_held && addresses.len() <= 16).then_some(addresses)
}

/// The annotation that carries the intent, written here apart from the
/// policy's constant.
pub const REFERENCE_ANNOTATION: &str = "host-gateway.kubewarden.io/hostnames";

/// What the specification reads of an object's intent annotation.
#[derive(Debug, Default)]
pub struct ReferenceIntent {
    /// Names that must point at the current addresses and nowhere else.
    pub refresh: Vec<String>,
    /// Names that must point at a target's current addresses and nowhere
    /// else, with the target.
    pub targeted: Vec<(String, String)>,
    /// The targets of the annotation (as the template will hold it), each
    /// once, in order.
    pub annotated_targets: Vec<String>,
    /// The template's annotation to write, when it changes.
    pub annotation: Option<String>,
    /// A Pod's malformed annotation, ignored with a warning.
    pub ignored: bool,
    /// A template's malformed annotation, refused.
    pub refused: bool,
}

/// Accepted as it is, or as `expected` when the user's edits change it;
/// with one warning when a Pod's annotation was ignored.
fn assert_accepted_as(verdict: &Verdict, object: &Value, expected: &Value, ignored: bool) {
    if expected == object {
        return assert_accepted(verdict, ignored);
    }
    let Verdict::Mutate(mutation) = verdict else {
        panic!("expected the edited names out of the annotation, got {verdict:?}");
    };
    let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
    assert_eq!(&mutated, expected);
    assert_eq!(mutation.warnings.len(), usize::from(ignored));
}

/// Accepted as it is; with one warning when a Pod's annotation was ignored.
fn assert_accepted(verdict: &Verdict, ignored: bool) {
    match verdict {
        Verdict::Accept => assert!(!ignored, "the ignored annotation went unsaid"),
        Verdict::Warn(warnings) => {
            assert!(ignored, "an unexpected warning: {warnings:?}");
            assert!(matches!(
                warnings[..],
                [host_gateway_policy::Warning::AnnotationIgnored(_)]
            ));
        }
        other => panic!("expected the object accepted as it is, got {other:?}"),
    }
}

/// The specification's reading of the annotation: the names, or `None`
/// when it is malformed (see [`reference_annotation_items`]).
pub fn reference_annotation_names(value: &Value) -> Option<Vec<String>> {
    Some(
        reference_annotation_items(value)?
            .into_iter()
            .map(|(name, _)| name)
            .collect(),
    )
}

/// The specification's reading of the annotation: its items, each a name
/// and the target it points at (`NAME=dns:TARGET`) or none (the host), or
/// `None` when it is malformed: not a string, an empty item, a name that
/// is no DNS-1123 subdomain, a target that is none, a name given two
/// places, more than 64 items or 16 targets.
pub fn reference_annotation_items(value: &Value) -> Option<Vec<(String, Option<String>)>> {
    let text = value.as_str()?;
    let texts: Vec<&str> = text.split(',').collect();
    if texts.len() > 64 {
        return None;
    }
    let mut items: Vec<(String, Option<String>)> = Vec::new();
    for item in texts {
        let item = item.trim_matches([' ', '\t', '\n', '\r', '\x0c']);
        let (name, target) = match item.split_once('=') {
            None => (item, None),
            Some((name, place)) => (name, Some(place.strip_prefix("dns:")?.to_string())),
        };
        if !reference_dns1123(name) || target.as_deref().is_some_and(|t| !reference_dns1123(t)) {
            return None;
        }
        match items.iter().find(|(n, _)| n == name) {
            Some((_, t)) if *t == target => {}
            Some(_) => return None,
            None => items.push((name.to_string(), target)),
        }
    }
    (reference_item_targets(&items).len() <= REFERENCE_MAX_TARGETS).then_some(items)
}

/// The targets `items` point at, each once, in order.
fn reference_item_targets(items: &[(String, Option<String>)]) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for target in items.iter().filter_map(|(_, t)| t.clone()) {
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

/// The annotation's value for `items`.
fn reference_annotation_value(items: &[(String, Option<String>)]) -> String {
    let texts: Vec<String> = items
        .iter()
        .map(|(name, target)| match target {
            None => name.clone(),
            Some(target) => format!("{name}=dns:{target}"),
        })
        .collect();
    texts.join(",")
}

/// RFC 1123 subdomains as Kubernetes writes them.
pub fn reference_dns1123(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, key| value.get(*key))
}

fn metadata_of(path: &[&'static str]) -> Vec<&'static str> {
    let mut metadata = path[..path.len() - 1].to_vec();
    metadata.push("metadata");
    metadata
}

/// The strings in the `hostnames` of `entry`.
fn reference_hostnames(entry: &Value) -> Vec<String> {
    entry
        .get("hostnames")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The specification of the intent: a Pod at CREATE refreshes its
/// annotated names and the names of its entries that ask, each pointed
/// where its entry asks, else where the annotation says (a malformed
/// annotation is ignored with a warning); a template a controller owns is
/// left alone; any other template refuses a malformed annotation, adds its
/// asking entries' names to it (at most 64 items and 16 targets in all),
/// and refreshes the names of the host (of the targets) where its entries
/// name one or it holds host-gateway (a `dns:` entry).
pub fn reference_intent(request: &Value, path: &[&'static str]) -> ReferenceIntent {
    let object = &request["object"];
    let is_pod = request["kind"]["kind"] == "Pod"
        && request["kind"]["group"]
            .as_str()
            .unwrap_or_default()
            .is_empty();
    let owned = !is_pod
        && object["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|owners| owners.iter().any(|o| o["controller"] == true));
    let annotation = reference_annotation_of(object, path);
    let mut intent = ReferenceIntent::default();
    let annotated = match annotation.map(reference_annotation_items) {
        None => Vec::new(),
        Some(Some(items)) => items,
        Some(None) if is_pod => {
            intent.ignored = true;
            Vec::new()
        }
        Some(None) if owned => Vec::new(),
        Some(None) => {
            intent.refused = true;
            return intent;
        }
    };
    let aliases: Vec<Value> = at(object, path)
        .and_then(|spec| spec.get("hostAliases"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // An asking entry's names point where it asks and nowhere else, as the
    // annotated names do; the first entry to name one wins.
    let mut items = annotated.clone();
    let mut placed: Vec<String> = Vec::new();
    for entry in &aliases {
        let target = match entry.get("ip").and_then(Value::as_str) {
            Some(HOST_GATEWAY) => None,
            Some(ip) if ip.starts_with("dns:") => ip.strip_prefix("dns:").map(str::to_string),
            _ => continue,
        };
        if target.as_deref().is_some_and(|t| !reference_dns1123(t)) {
            continue;
        }
        for name in reference_hostnames(entry) {
            if !reference_dns1123(&name) || placed.contains(&name) {
                continue;
            }
            placed.push(name.clone());
            match items.iter_mut().find(|(n, _)| *n == name) {
                Some(item) => item.1 = target.clone(),
                None => items.push((name, target.clone())),
            }
        }
    }
    let split = |items: &[(String, Option<String>)]| {
        let host: Vec<String> = (items.iter())
            .filter(|(_, t)| t.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        let targeted: Vec<(String, String)> = (items.iter())
            .filter_map(|(n, t)| Some((n.clone(), t.clone()?)))
            .collect();
        (host, targeted)
    };
    if is_pod {
        if request["operation"] == "CREATE" {
            (intent.refresh, intent.targeted) = split(&items);
            intent.annotated_targets = reference_item_targets(&items);
        }
        return intent;
    }
    if owned {
        return intent;
    }
    if items != annotated
        && items.len() <= 64
        && reference_item_targets(&items).len() <= REFERENCE_MAX_TARGETS
    {
        intent.annotation = Some(reference_annotation_value(&items));
    } else {
        items = annotated;
    }
    let (host, targeted) = split(&items);
    intent.annotated_targets = reference_item_targets(&items);
    let held = |names: &mut dyn Iterator<Item = &String>| {
        let names: Vec<&String> = names.collect();
        aliases
            .iter()
            .flat_map(reference_hostnames)
            .any(|name| names.contains(&&name))
    };
    if reference_has_host_gateway(object, path) || held(&mut host.iter()) {
        intent.refresh = host;
    }
    if !reference_targets(object, path).is_empty() || held(&mut targeted.iter().map(|(n, _)| n)) {
        intent.targeted = targeted;
    }
    intent
}

/// The object the specification expects: the annotation written, the
/// refreshed names taken out of entries of other addresses (an entry of
/// no other names becomes a host-gateway entry) and added on one more
/// host-gateway entry, then the rewrite.
pub fn reference_expected(
    object: &Value,
    path: &[&'static str],
    intent: &ReferenceIntent,
    addresses: &[IpAddr],
    targets: &[(String, Vec<IpAddr>)],
) -> Value {
    let mut object = object.clone();
    if let Some(value) = &intent.annotation {
        let metadata = metadata_of(path);
        let (parent, last) = metadata.split_at(metadata.len() - 1);
        let mut target = &mut object;
        for key in parent {
            match target.get_mut(*key) {
                Some(inner) => target = inner,
                None => return reference_rewrite(&object, path, addresses, targets),
            }
        }
        // Written only where each level is an object, or absent or null.
        let fits = |v: Option<&Value>| v.is_none_or(|v| v.is_object() || v.is_null());
        if target.is_object()
            && fits(target.get(last[0]))
            && fits(target.get(last[0]).and_then(|m| m.get("annotations")))
        {
            let meta = &mut target[last[0]];
            if meta.is_null() {
                *meta = serde_json::json!({});
            }
            if !meta["annotations"].is_object() {
                meta["annotations"] = serde_json::json!({});
            }
            meta["annotations"][REFERENCE_ANNOTATION] = Value::String(value.clone());
        }
    }
    let mut spec = Some(&mut object);
    for key in path {
        spec = spec.and_then(|level| level.get_mut(*key));
    }
    // No spec, nowhere to write: the API server refuses such a Pod anyway.
    if let Some(spec) = spec {
        if !intent.refresh.is_empty() {
            reference_follow(spec, &intent.refresh, addresses, HOST_GATEWAY);
        }
        for (target, found) in targets {
            let names: Vec<String> = (intent.targeted.iter())
                .filter(|(_, t)| t == target)
                .map(|(n, _)| n.clone())
                .collect();
            if !names.is_empty() && !found.is_empty() {
                reference_follow(spec, &names, found, &format!("dns:{target}"));
            }
        }
    }
    reference_rewrite(&object, path, addresses, targets)
}

/// `names` taken out of the entries of `spec` at an address not among
/// `current` (an entry of no other names asks again, its `ip` becoming
/// `asking`), and added on one more entry that asks.
fn reference_follow(spec: &mut Value, names: &[String], current: &[IpAddr], asking: &str) {
    if let Some(aliases) = spec.get_mut("hostAliases").and_then(Value::as_array_mut) {
        for entry in aliases.iter_mut() {
            let stale = entry
                .get("ip")
                .and_then(Value::as_str)
                .and_then(|ip| ip.parse::<IpAddr>().ok())
                .is_some_and(|ip| !current.contains(&ip));
            let own = reference_hostnames(entry);
            if stale && own.iter().any(|n| names.contains(n)) {
                let left: Vec<String> = own.into_iter().filter(|n| !names.contains(n)).collect();
                if left.is_empty() {
                    // The policy's entry: refreshed where it stands, its
                    // other fields kept.
                    entry["ip"] = Value::String(asking.to_string());
                } else {
                    entry["hostnames"] = serde_json::json!(left);
                }
            }
        }
    }
    let entry = serde_json::json!({"ip": asking, "hostnames": names});
    if spec.is_object() {
        match spec.get_mut("hostAliases") {
            Some(Value::Array(aliases)) => aliases.push(entry),
            Some(Value::Null) | None => spec["hostAliases"] = Value::Array(vec![entry]),
            Some(_) => {}
        }
    }
}

/// The settings of a `validate` payload, as [`reference_settings`] reads
/// them; a setting given twice makes them invalid, which `Value` (keeping
/// the last) cannot see: the payload's text is read for it. What the
/// message must then name: the setting, or `unknown setting` for a key
/// that is none (its own message quotes it escaped and bounded).
fn payload_settings(payload: &[u8], parsed: &Value) -> Result<Settings, Vec<String>> {
    let repeated = std::str::from_utf8(payload)
        .ok()
        .and_then(|text| serde_json::from_str::<KeysOf>(text).ok())
        .and_then(|top| top.last("settings"))
        .and_then(|settings| serde_json::from_str::<KeysOf>(settings).ok())
        .map(|settings| settings.repeated())
        .unwrap_or_default()
        .into_iter()
        .map(|key| match REFERENCE_SETTINGS.contains(&key.as_str()) {
            true => format!("`{key}`"),
            false => "unknown setting".to_string(),
        })
        .collect::<Vec<_>>();
    match repeated.is_empty() {
        true => reference_settings(&parsed["settings"]),
        false => Err(repeated),
    }
}

/// The settings' names, from the README.
const REFERENCE_SETTINGS: [&str; 6] = [
    "hostnames",
    "ipFamilies",
    "fallbackAddresses",
    "injectHostnames",
    "allowedTargets",
    "reportStale",
];

/// An `allowedTargets` item as docs/targets.md specifies it: a lowercase DNS
/// name, or `*.` and one.
fn reference_target_pattern(item: &str) -> Option<TargetPattern> {
    match item.strip_prefix("*.") {
        Some(suffix) => {
            reference_dns1123(suffix).then(|| TargetPattern::Suffix(format!(".{suffix}")))
        }
        None => reference_dns1123(item).then(|| TargetPattern::Exact(item.to_string())),
    }
}

/// The specification of the settings, written over `serde_json::Value`
/// apart from `Settings::from_json`: the settings, or what the message must
/// name (every invalid field, the unknown key, or the shape).
pub fn reference_settings(value: &Value) -> Result<Settings, Vec<String>> {
    let mut settings = Settings {
        hostnames: REFERENCE_DEFAULT_HOSTNAMES.map(String::from).to_vec(),
        ip_families: vec![IpFamily::IPv4],
        fallback_addresses: Vec::new(),
        inject_hostnames: Vec::new(),
        allowed_targets: vec![TargetPattern::Suffix(".svc.cluster.local".into())],
        report_stale: false,
    };
    let fields = match value {
        Value::Null => return Ok(settings),
        Value::Object(fields) => fields,
        _ => return Err(vec!["must be a JSON object".into()]),
    };
    let mut invalid = Vec::new();
    for (key, value) in fields {
        let field = format!("`{key}`");
        if key == "reportStale" {
            match value.as_bool() {
                Some(report) => settings.report_stale = report,
                None => invalid.push(field),
            }
            continue;
        }
        let strings: Option<Vec<&str>> = value
            .as_array()
            .and_then(|items| items.iter().map(Value::as_str).collect());
        let Some(strings) = strings else {
            invalid.push(field);
            continue;
        };
        let folded: Vec<String> = strings
            .iter()
            .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let repeats = |items: &[String]| (1..items.len()).any(|i| items[..i].contains(&items[i]));
        let ok = match key.as_str() {
            "hostnames" | "injectHostnames" => {
                let least = usize::from(key == "hostnames");
                // Injected names go into hostAliases: DNS-1123 subdomains.
                let written = key == "hostnames" || strings.iter().all(|s| reference_dns1123(s));
                // An address is no host name.
                (least..=16).contains(&strings.len())
                    && strings
                        .iter()
                        .all(|s| reference_dns_name(s) && s.parse::<IpAddr>().is_err())
                    && written
                    && !repeats(&folded)
            }
            "allowedTargets" => {
                strings.len() <= 64
                    && strings
                        .iter()
                        .all(|s| reference_target_pattern(s).is_some())
                    && !repeats(&strings.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            }
            "ipFamilies" => {
                (1..=2).contains(&strings.len())
                    && strings.iter().all(|s| *s == "IPv4" || *s == "IPv6")
                    && !repeats(&strings.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            }
            "fallbackAddresses" => {
                let ips: Option<Vec<IpAddr>> = strings
                    .iter()
                    .map(|s| s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical()))
                    .collect();
                ips.is_some_and(|ips| {
                    ips.len() <= 16
                        && ips.iter().all(reaches_the_host)
                        && !repeats(&ips.iter().map(ToString::to_string).collect::<Vec<_>>())
                })
            }
            _ => {
                // The message quotes a long key briefly.
                invalid.push("unknown setting `".to_string());
                continue;
            }
        };
        if !ok {
            invalid.push(field);
            continue;
        }
        match key.as_str() {
            "hostnames" => settings.hostnames = strings.iter().map(|s| s.to_string()).collect(),
            "injectHostnames" => {
                settings.inject_hostnames = strings.iter().map(|s| s.to_string()).collect()
            }
            "allowedTargets" => {
                settings.allowed_targets = strings
                    .iter()
                    .filter_map(|s| reference_target_pattern(s))
                    .collect()
            }
            "ipFamilies" => {
                settings.ip_families = strings
                    .iter()
                    .map(|s| {
                        if *s == "IPv4" {
                            IpFamily::IPv4
                        } else {
                            IpFamily::IPv6
                        }
                    })
                    .collect()
            }
            _ => {
                settings.fallback_addresses = strings
                    .iter()
                    .filter_map(|s| s.parse::<IpAddr>().ok())
                    .map(|ip| ip.to_canonical())
                    .collect()
            }
        }
    }
    // A fallback of a family that `ipFamilies` leaves out is refused.
    let unlisted = settings
        .fallback_addresses
        .iter()
        .any(|ip| !settings.ip_families.contains(&IpFamily::of(ip)));
    if invalid.is_empty() && unlisted {
        invalid.push("`fallbackAddresses`".into());
    }
    if invalid.is_empty() {
        Ok(settings)
    } else {
        Err(invalid)
    }
}

/// RFC 1123: dot-separated labels of 1 to 63 letters, digits and inner
/// hyphens, 253 characters at most, a trailing dot allowed.
fn reference_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.len() <= 253
        && name.split('.').all(|label| {
            let bytes = label.as_bytes();
            (1..=63).contains(&bytes.len())
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
        })
}

/// Whether a pod could reach the host at `ip`: not itself, nobody, a
/// group, nor an IPv6 link-local address (an /etc/hosts line has no zone).
/// IPv4 link-local (Podman's pasta) and the rest of 0.0.0.0/8 (OrbStack)
/// can.
fn reaches_the_host(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, ..] = v4.octets();
            a != 127
                && !(224..=239).contains(&a)
                && *v4 != std::net::Ipv4Addr::BROADCAST
                && !v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !v6.is_loopback()
                && !v6.is_unspecified()
                && first >> 8 != 0xff
                && first & 0xffc0 != 0xfe80
        }
    }
}

/// Valid settings with names to inject, for a Pod CREATE.
fn injection_settings(payload: &[u8], parsed: &Value) -> Option<Settings> {
    let request = &parsed["request"];
    let pod_create = request["kind"]["group"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
        && request["kind"]["kind"] == "Pod"
        && request["operation"] == "CREATE";
    let settings = payload_settings(payload, parsed).ok()?;
    (pod_create && !settings.inject_hostnames.is_empty()).then_some(settings)
}

/// The properties of `injectHostnames` on a Pod CREATE without
/// `host-gateway`: never refused; a pod that opts out or already holds
/// every name is left alone with no lookup; otherwise each missing name is
/// added once, no address is written twice, and nothing outside
/// `hostAliases` changes; with no address, the pod is admitted unchanged
/// with one warning.
pub fn check_injection(request: &Value, verdict: &Verdict, dns: &ScriptedDns, settings: &Settings) {
    let object = &request["object"];
    if reference_has_host_gateway(object, &["spec"]) {
        return; // host-gateway's own properties cover this pod.
    }
    if object["metadata"]["annotations"]
        .get(REFERENCE_ANNOTATION)
        .is_some()
    {
        // The intent and injection share one step, which never refuses a
        // pod without host-gateway (the unit tests check their meeting).
        assert!(!matches!(verdict, Verdict::Reject(_)), "{verdict:?}");
        return;
    }
    let bare = |n: &str| n.trim_end_matches('.').to_ascii_lowercase();
    let aliases = |o: &Value| {
        o["spec"]["hostAliases"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let present: Vec<String> = aliases(object)
        .iter()
        .flat_map(|e| e["hostnames"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(bare))
        .collect();
    let missing: Vec<&String> = settings
        .inject_hostnames
        .iter()
        .filter(|n| !present.contains(&bare(n)))
        .collect();
    // A mirror pod, which a kubelet makes of a static pod, is not its
    // pod: it gets nothing either.
    let opted_out = object["metadata"]["annotations"][INJECT_ANNOTATION] == "false"
        || object["metadata"]["annotations"]
            .get("kubernetes.io/config.mirror")
            .is_some();
    let well_shaped = object["spec"].is_object()
        && (object["spec"]
            .get("hostAliases")
            .is_none_or(|a| a.is_array() || a.is_null()));
    assert!(
        !matches!(verdict, Verdict::Reject(_)),
        "injection refused a pod: {verdict:?}"
    );
    if opted_out || missing.is_empty() || !well_shaped {
        if !well_shaped && !opted_out && !missing.is_empty() {
            assert!(!matches!(verdict, Verdict::Mutate(_)), "{verdict:?}");
            return;
        }
        assert_eq!(verdict, &Verdict::Accept);
        assert!(
            dns.asked.is_empty(),
            "looked up {:?} for nothing",
            dns.asked
        );
        return;
    }
    match verdict {
        Verdict::Warn(warnings) => assert_eq!(warnings.len(), 1),
        Verdict::Mutate(mutation) => {
            let mutated: Value = serde_json::from_str(&mutation.object).expect("JSON");
            let mut without = mutated.clone();
            let mut original = object.clone();
            for o in [&mut without, &mut original] {
                if let Some(spec) = o["spec"].as_object_mut() {
                    spec.remove("hostAliases");
                }
            }
            assert_eq!(without, original, "changed outside hostAliases");
            let entries = aliases(&mutated);
            for name in &missing {
                let holding = entries
                    .iter()
                    .filter(|e| {
                        e["hostnames"].as_array().is_some_and(|h| {
                            h.iter().any(|n| n.as_str().map(bare) == Some(bare(name)))
                        })
                    })
                    .count();
                assert_eq!(holding, 1, "{name} in {holding} entries: {mutated}");
            }
            let (found, _) = reference_choice(settings, dns);
            let written = if found.is_empty() {
                settings.fallback_addresses.clone()
            } else {
                found
            };
            assert_no_address_written_twice(&mutated, &["spec"], &written);
        }
        other => panic!("expected an injection or a warning, got {other:?}"),
    }
}

/// No address in `written` is the `ip` of two `hostAliases` entries.
pub fn assert_no_address_written_twice(object: &Value, path: &[&str], written: &[IpAddr]) {
    let mut spec = object;
    for key in path {
        spec = &spec[*key];
    }
    let ips: Vec<IpAddr> = spec["hostAliases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["ip"].as_str()?.parse().ok())
        .collect();
    for address in written {
        let count = ips.iter().filter(|ip| *ip == address).count();
        assert!(count <= 1, "{address} written {count} times: {object}");
    }
}

fn verdict_message(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Reject(rejection) => rejection.to_string(),
        _ => String::new(),
    }
}

/// Whether the payload, its request or the request's kind repeats a key:
/// a JSON reader takes the last value, the policy refuses the request (the
/// API server never repeats one).
fn repeats_a_key_read(payload: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(payload) else {
        return false;
    };
    let Ok(top) = serde_json::from_str::<KeysOf>(text) else {
        return false;
    };
    let request = top.last("request");
    let kind = request.and_then(|r| serde_json::from_str::<KeysOf>(r).ok());
    let kind = kind.as_ref().and_then(|k| k.last("kind"));
    let repeats = |text: &str| serde_json::from_str::<KeysOf>(text).is_ok_and(|k| k.repeats());
    top.repeats() || request.is_some_and(repeats) || kind.is_some_and(repeats)
}

/// An object's keys in order, with each value's raw text (empty for
/// anything but an object): a reading written here, apart from the policy's.
struct KeysOf<'a>(Vec<(String, &'a str)>);

impl<'a> KeysOf<'a> {
    fn repeats(&self) -> bool {
        let mut seen = std::collections::HashSet::new();
        !self.0.iter().all(|(key, _)| seen.insert(key))
    }

    /// The keys given more than once.
    fn repeated(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .filter(|(key, _)| !seen.insert(key))
            .map(|(key, _)| key.clone())
            .collect()
    }

    fn last(&self, key: &str) -> Option<&'a str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

impl<'de> serde::Deserialize<'de> for KeysOf<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = KeysOf<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: &'de serde_json::value::RawValue = map.next_value()?;
                    keys.push((key, value.get()));
                }
                Ok(KeysOf(keys))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// Whether the request fields the policy reads have the types Kubernetes
/// gives them (absent, null or of the right type).
fn well_formed(payload: &Value) -> bool {
    let request = &payload["request"];
    // `null` reads as absent, as serde reads an `Option`.
    let string_or_absent =
        |v: &Value, key: &str| v.get(key).is_none_or(|v| v.is_string() || v.is_null());
    let kind = &request["kind"];
    payload.is_object()
        && request.is_object()
        && (kind.is_null() || kind.is_object())
        && string_or_absent(kind, "group")
        && string_or_absent(kind, "kind")
        && ["operation", "name", "namespace"]
            .iter()
            .all(|k| string_or_absent(request, k))
}

/// Whether anything at `path`'s `hostAliases` has `ip: host-gateway`.
pub fn reference_has_host_gateway(object: &Value, path: &[&str]) -> bool {
    let mut spec = object;
    for key in path {
        match spec.get(*key) {
            Some(inner) => spec = inner,
            None => return false,
        }
    }
    spec.get("hostAliases")
        .and_then(Value::as_array)
        .is_some_and(|aliases| {
            aliases
                .iter()
                .any(|entry| entry.get("ip").and_then(Value::as_str) == Some(HOST_GATEWAY))
        })
}
