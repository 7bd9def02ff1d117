//! Test support shared by the unit and property tests: the fixtures and a
//! reference model of the rewrite written over `serde_json::Value`, so the
//! byte-splicing implementation is checked against independent code.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::Value;

use crate::rewrite::HOST_GATEWAY;

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
