//! Test support shared by the unit tests, the property tests and the fuzz
//! targets: the fixtures and a reference model of the specification written
//! over `serde_json::Value`, so the byte-splicing implementation is checked
//! against independent code.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::Value;

use crate::error::Rejection;
use crate::lookup::IpFamily;
use crate::pod_spec::pod_spec_path;
use crate::policy::{Verdict, evaluate};
use crate::rewrite::HOST_GATEWAY;
use crate::settings::Settings;

pub fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(name)
}

pub fn read_fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(test_data(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `test_data/outcomes.json`: each request fixture and whether the policy
/// accepts it as is (`accept`) or rewrites it (`mutate`) under the default
/// settings when `host.docker.internal` resolves.
pub fn outcomes() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(test_data("outcomes.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The `validate` payload for a request and settings.
pub fn payload(request: &Value, settings: &Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "settings": settings, "request": request })).unwrap()
}

/// The specification's rewrite: under `path`, each `hostAliases` entry whose
/// `ip` is `host-gateway` becomes one copy per address.
pub fn reference_rewrite(object: &Value, path: &[&str], addresses: &[IpAddr]) -> Value {
    let mut object = object.clone();
    if addresses.is_empty() {
        return object;
    }
    let mut spec = &mut object;
    for key in path {
        match spec.get_mut(*key) {
            Some(inner) => spec = inner,
            None => return object,
        }
    }
    if let Some(Value::Array(aliases)) = spec.get_mut("hostAliases") {
        *aliases = aliases
            .drain(..)
            .flat_map(|entry| {
                if entry.get("ip").and_then(Value::as_str) == Some(HOST_GATEWAY) {
                    addresses
                        .iter()
                        .map(|ip| {
                            let mut copy = entry.clone();
                            copy["ip"] = Value::String(ip.to_string());
                            copy
                        })
                        .collect()
                } else {
                    vec![entry]
                }
            })
            .collect();
    }
    object
}

/// DNS answers by name; a name not listed does not resolve.
#[derive(Debug, Clone, Default)]
pub struct ScriptedDns {
    pub answers: Vec<(String, Result<Vec<String>, String>)>,
    pub asked: Vec<String>,
}

impl ScriptedDns {
    pub fn answer(&self, name: &str) -> Result<Vec<String>, String> {
        self.answers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or_else(
                || Err("Name does not resolve".to_string()),
                |(_, a)| a.clone(),
            )
    }

    pub fn resolve(&mut self, name: &str) -> Result<Vec<String>, String> {
        self.asked.push(name.to_string());
        self.answer(name)
    }
}

/// The specification's choice, written per family rather than per name:
/// each family's address is the first of that family from the first name
/// (in order) that has one. Returns the addresses in `ipFamilies` order and
/// how many names a lazy lookup asks.
pub fn reference_choice(settings: &Settings, dns: &ScriptedDns) -> (Vec<IpAddr>, usize) {
    let answers: Vec<Vec<IpAddr>> = settings
        .hostnames
        .iter()
        .map(|name| {
            dns.answer(name)
                .unwrap_or_default()
                .iter()
                .filter_map(|ip| ip.parse().ok())
                .collect()
        })
        .collect();
    let firsts: Vec<Option<(usize, IpAddr)>> = settings
        .ip_families
        .iter()
        .map(|family| {
            answers.iter().enumerate().find_map(|(i, ips)| {
                ips.iter()
                    .find(|ip| IpFamily::of(ip) == *family)
                    .map(|ip| (i, *ip))
            })
        })
        .collect();
    let asked = if firsts.iter().all(Option::is_some) {
        firsts
            .iter()
            .flatten()
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0)
    } else {
        settings.hostnames.len()
    };
    (
        firsts.into_iter().flatten().map(|(_, ip)| ip).collect(),
        asked,
    )
}

/// Longest message or warning any input may produce.
pub const MAX_MESSAGE: usize = 512;

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
            rejection.to_string().len() <= MAX_MESSAGE,
            "a long message: {rejection}"
        ),
        Verdict::Mutate(mutation) => {
            for warning in &mutation.warnings {
                assert!(
                    warning.to_string().len() <= MAX_MESSAGE,
                    "a long warning: {warning}"
                );
            }
        }
        Verdict::Accept => {}
    }
    let Ok(parsed) = serde_json::from_slice::<Value>(payload) else {
        assert!(
            !matches!(verdict, Verdict::Mutate(_)),
            "mutated a payload that is not JSON"
        );
        return;
    };
    let request = &parsed["request"];
    let object = &request["object"];
    let path = pod_spec_path(
        request["kind"]["group"].as_str().unwrap_or_default(),
        request["kind"]["kind"].as_str().unwrap_or_default(),
    );
    let applies = matches!(request["operation"].as_str(), Some("CREATE" | "UPDATE"))
        && path.is_some_and(|path| reference_has_host_gateway(object, path));

    match &verdict {
        Verdict::Reject(Rejection::UnreadableRequest(message)) => {
            assert!(
                !well_formed(&parsed) || message.contains("duplicate field"),
                "a well-formed request was unreadable: {message}"
            );
            return;
        }
        _ if !applies => {
            assert_eq!(verdict, Verdict::Accept);
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
    let settings = match Settings::from_json(parsed["settings"].to_string().as_bytes()) {
        Ok(settings) => settings,
        Err(e) => {
            assert_eq!(verdict, Verdict::Reject(Rejection::InvalidSettings(e)));
            return;
        }
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
    if expected_addresses.is_empty() {
        let Verdict::Reject(Rejection::NoAddress(_)) = &verdict else {
            panic!("expected a rejection, got {verdict:?}");
        };
        let message = verdict_message(&verdict);
        assert!(message.contains("host-gateway"));
        // Every name tried is listed, or counted once the list is long.
        let listed = settings
            .hostnames
            .iter()
            .filter(|name| message.contains(name.as_str()))
            .count();
        assert!(
            listed == settings.hostnames.len() || message.contains(" more;"),
            "names missing from: {message}"
        );
        return;
    }
    let Verdict::Mutate(mutation) = &verdict else {
        panic!("expected a mutation, got {verdict:?}");
    };
    let mutated: Value =
        serde_json::from_str(&mutation.object).expect("the mutated object is JSON");
    assert_eq!(
        mutated,
        reference_rewrite(object, path, &expected_addresses)
    );
    assert_eq!(mutation.warnings.len(), usize::from(found.is_empty()));

    // Idempotence: the rewritten object goes through untouched.
    let mut again = parsed.clone();
    again["request"]["object"] = mutated;
    let mut second_dns = dns.clone();
    second_dns.asked.clear();
    let second = evaluate(&serde_json::to_vec(&again).unwrap(), |name| {
        second_dns.resolve(name)
    });
    assert_eq!(
        second,
        Verdict::Accept,
        "a rewritten object was changed again"
    );
    assert!(second_dns.asked.is_empty());
}

fn verdict_message(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Reject(rejection) => rejection.to_string(),
        _ => String::new(),
    }
}

/// Whether the request fields the policy reads have the types Kubernetes
/// gives them (absent or of the right type).
fn well_formed(payload: &Value) -> bool {
    let request = &payload["request"];
    let string_or_absent = |v: &Value, key: &str| v.get(key).is_none_or(Value::is_string);
    let kind = &request["kind"];
    payload.is_object()
        && request.is_object()
        && (request.get("kind").is_none() || kind.is_object())
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
