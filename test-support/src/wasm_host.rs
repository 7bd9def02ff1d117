//! A waPC host that runs the compiled `policy.wasm` the way Kubewarden's
//! policy-evaluator does: wasmtime, the `kubewarden` host-call binding, and
//! the JSON patch computed as policy-server computes it. Shared by the
//! artifact and policy-server tests, the benchmark and `make run`, behind
//! the `wasm-host` feature so that the fuzz targets build without wasmtime.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use wapc::WapcHost;
use wasmtime_provider::{WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

pub type HostError = Box<dyn std::error::Error + Send + Sync>;

/// The built policy module: `$POLICY_WASM` when set, else built here.
pub fn policy_wasm() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match std::env::var_os("POLICY_WASM") {
        Some(path) => PathBuf::from(path),
        None => build_wasm(&[], "host_gateway_policy.wasm"),
    })
}

/// The benchmark's reference: `examples/accept_everything.rs` built alike.
pub fn accept_everything_wasm() -> PathBuf {
    build_wasm(
        &["--example", "accept_everything"],
        "examples/accept_everything.wasm",
    )
}

/// Builds with cargo for wasm32-wasip1 in a target directory of its own, so
/// it never waits on the lock of the build running the tests.
fn build_wasm(args: &[&str], output: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target_dir = root.join("target").join("artifact-tests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip1",
            "--target-dir",
        ])
        .arg(&target_dir)
        .args(args)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {output} failed");
    target_dir.join("wasm32-wasip1/release").join(output)
}

/// The JSON pointer of the `hostAliases` array of each kind.
pub fn host_aliases_pointer(kind: &str) -> String {
    let pod_spec = crate::REFERENCE_KINDS
        .iter()
        .find(|(_, k, _, _)| *k == kind)
        .map_or(&[][..], |(_, _, _, path)| *path);
    pod_spec
        .iter()
        .map(|key| format!("/{key}"))
        .chain(["/hostAliases".to_string()])
        .collect()
}

/// Indices of the `host-gateway` entries in the request's object.
pub fn host_gateway_indices(request: &Value) -> Vec<usize> {
    let pointer = host_aliases_pointer(request["kind"]["kind"].as_str().unwrap());
    request["object"]
        .pointer(&pointer)
        .and_then(Value::as_array)
        .map(|aliases| {
            aliases
                .iter()
                .enumerate()
                .filter(|(_, entry)| entry["ip"] == "host-gateway")
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default()
}

/// The exact patch policy-server sends for a fixture when one IPv4
/// `address` is found: for a template, its annotation gains the entry's
/// names; the `ip` of its one `host-gateway` entry replaced;
/// when an entry already holds `address`, the `host-gateway` entry removed
/// and its new names added there; and for the two entries of
/// `pod_two_host_gateway_entries.json`, one entry holding both entries' names.
pub fn expected_patch(request: &Value, address: &str) -> Value {
    let mut ops = annotation_ops(request);
    let Value::Array(aliases) = host_aliases_patch(request, address) else {
        unreachable!("a patch is a list");
    };
    ops.extend(aliases);
    Value::Array(ops)
}

/// The annotation key as a JSON pointer token (`/` escaped as `~1`).
pub const ANNOTATION_TOKEN: &str = "host-gateway.kubewarden.io~1hostnames";

/// The JSON pointer of the Pod metadata of each kind, beside its pod spec.
pub fn pod_metadata_pointer(kind: &str) -> String {
    let aliases = host_aliases_pointer(kind);
    let spec = aliases.strip_suffix("/hostAliases").unwrap();
    format!("{}/metadata", spec.strip_suffix("/spec").unwrap())
}

/// What a template's annotation gains: the names of its `host-gateway`
/// entries, after those it had (none for a Pod).
fn annotation_ops(request: &Value) -> Vec<Value> {
    let kind = request["kind"]["kind"].as_str().unwrap();
    if kind == "Pod" {
        return Vec::new();
    }
    let metadata = pod_metadata_pointer(kind);
    let annotations = request["object"].pointer(&format!("{metadata}/annotations"));
    let old = annotations
        .and_then(|a| a["host-gateway.kubewarden.io/hostnames"].as_str())
        .map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>());
    let mut names = old.clone().unwrap_or_default();
    let aliases = request["object"]
        .pointer(&host_aliases_pointer(kind))
        .unwrap();
    for entry in aliases.as_array().unwrap() {
        if entry["ip"] == "host-gateway" {
            for name in entry["hostnames"].as_array().unwrap() {
                let name = name.as_str().unwrap().to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    let value = names.join(",");
    match (annotations, old) {
        (_, Some(old)) if old == names => Vec::new(),
        (_, Some(_)) => vec![
            json!({"op": "replace", "path": format!("{metadata}/annotations/{ANNOTATION_TOKEN}"), "value": value}),
        ],
        (Some(_), None) => vec![
            json!({"op": "add", "path": format!("{metadata}/annotations/{ANNOTATION_TOKEN}"), "value": value}),
        ],
        (None, None) => vec![
            json!({"op": "add", "path": format!("{metadata}/annotations"), "value": {"host-gateway.kubewarden.io/hostnames": value}}),
        ],
    }
}

/// The `hostAliases` part of [`expected_patch`].
fn host_aliases_patch(request: &Value, address: &str) -> Value {
    let pointer = host_aliases_pointer(request["kind"]["kind"].as_str().unwrap());
    let aliases = request["object"]
        .pointer(&pointer)
        .unwrap()
        .as_array()
        .unwrap();
    let stored = aliases.iter().position(|entry| entry["ip"] == address);
    match (&host_gateway_indices(request)[..], stored) {
        ([i], None) => {
            json!([{"op": "replace", "path": format!("{pointer}/{i}/ip"), "value": address}])
        }
        ([0, 1], None) => json!([
            {"op": "add", "path": format!("{pointer}/0/hostnames/1"), "value": "b.local"},
            {"op": "replace", "path": format!("{pointer}/0/ip"), "value": address},
            {"op": "remove", "path": format!("{pointer}/1")},
        ]),
        ([i], Some(s)) => {
            let names = |e: &Value| e["hostnames"].as_array().cloned().unwrap_or_default();
            let kept = names(&aliases[s]);
            let mut ops: Vec<Value> = names(&aliases[*i])
                .into_iter()
                .filter(|name| !kept.contains(name))
                .enumerate()
                .map(|(k, name)| json!({"op": "add", "path": format!("{pointer}/{s}/hostnames/{}", kept.len() + k), "value": name}))
                .collect();
            ops.push(json!({"op": "remove", "path": format!("{pointer}/{i}")}));
            Value::Array(ops)
        }
        (other, _) => panic!("no expected patch for host-gateway entries at {other:?}"),
    }
}

/// The object the specification expects from a fixture when `address` is
/// found (the reference model of the test support crate).
pub fn expected_object(request: &Value, address: &str) -> Value {
    let kind = request["kind"]["kind"].as_str().unwrap();
    let group = request["kind"]["group"].as_str().unwrap();
    let path = crate::reference_path(group, kind).unwrap();
    crate::reference_expected(
        &request["object"],
        path,
        &crate::reference_intent(request, path),
        &[address.parse().unwrap()],
        &[],
    )
}

/// Applies a JSON patch to a copy of `object`.
pub fn patched(object: &Value, patch: &Value) -> Value {
    let mut object = object.clone();
    json_patch::patch(
        &mut object,
        &serde_json::from_value::<json_patch::Patch>(patch.clone()).unwrap(),
    )
    .unwrap();
    object
}

pub use crate::{payload, read_fixture as fixture, test_data};

/// Compiles a module once per process; instances come from it cheaply.
pub fn compile(module: &[u8]) -> WasmtimeEngineProviderPre {
    WasmtimeEngineProviderBuilder::new()
        .module_bytes(module)
        .build_pre()
        .expect("the module compiles")
}

/// The compiled policy.wasm, compiled once per test process.
pub fn policy_pre() -> &'static WasmtimeEngineProviderPre {
    static PRE: OnceLock<WasmtimeEngineProviderPre> = OnceLock::new();
    PRE.get_or_init(|| compile(&std::fs::read(policy_wasm()).expect("policy.wasm is readable")))
}

pub use crate::{Answer, ScriptedDns};

pub fn ips(list: &[&str]) -> Answer {
    Answer::Ips(list.iter().map(|s| s.to_string()).collect())
}

/// The host calls the guest made.
#[derive(Debug, Default)]
pub struct HostLog {
    pub lookups: Vec<String>,
    pub logs: Vec<Value>,
    pub unexpected: Vec<String>,
}

/// A policy instance with its DNS table.
pub struct Policy {
    host: WapcHost,
    log: Arc<Mutex<HostLog>>,
}

/// One evaluation, as policy-server would see it.
#[derive(Debug)]
pub struct Evaluation {
    pub settings_valid: bool,
    pub settings_message: Option<String>,
    /// The `ValidationResponse`, when the settings were valid.
    pub response: Option<Value>,
    /// The JSON patch policy-server would send, when the object changed.
    pub patch: Option<Value>,
}

impl Evaluation {
    pub fn accepted(&self) -> bool {
        self.response
            .as_ref()
            .is_some_and(|r| r["accepted"] == true)
    }

    pub fn message(&self) -> Option<&str> {
        self.response.as_ref()?["message"].as_str()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.response
            .as_ref()
            .and_then(|r| r["warnings"].as_array())
            .map(|w| {
                w.iter()
                    .map(|s| s.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Answers one DNS lookup: the addresses, or the host error's text as
/// policy-server words it.
pub type Resolver = Box<dyn FnMut(&str) -> Result<Vec<String>, String> + Send>;

impl Policy {
    /// The compiled policy, answering DNS lookups from `dns`.
    pub fn new(dns: &[(&str, Answer)]) -> Self {
        Self::from_pre(policy_pre(), dns)
    }

    /// Any compiled module, answering DNS lookups from `dns`.
    pub fn from_pre(pre: &WasmtimeEngineProviderPre, dns: &[(&str, Answer)]) -> Self {
        Self::with_resolver(pre, table_resolver(dns))
    }

    /// Any compiled module, answering DNS lookups with `resolve`.
    pub fn with_resolver(pre: &WasmtimeEngineProviderPre, resolve: Resolver) -> Self {
        let log = Arc::new(Mutex::new(HostLog::default()));
        let host_log = Arc::clone(&log);
        let resolve = Mutex::new(resolve);
        let callback =
            move |_id: u64, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
                host_call(&resolve, &host_log, binding, namespace, operation, payload)
            };
        let engine = pre.rehydrate(None).expect("an instance");
        let host = WapcHost::new(Box::new(engine), Some(Box::new(callback)))
            .expect("the module initialises");
        Policy { host, log }
    }

    pub fn call(&self, function: &str, payload: &[u8]) -> Result<Vec<u8>, wapc::errors::Error> {
        self.host.call(function, payload)
    }

    pub fn protocol_version(&self) -> Value {
        serde_json::from_slice(
            &self
                .call("protocol_version", b"")
                .expect("protocol_version answers"),
        )
        .expect("protocol_version answers JSON")
    }

    pub fn validate_settings(&self, settings: &Value) -> Value {
        let answer = self
            .call("validate_settings", &serde_json::to_vec(settings).unwrap())
            .expect("validate_settings answers");
        serde_json::from_slice(&answer).expect("validate_settings answers JSON")
    }

    /// Raw `validate`: the guest's answer parsed, or the trap as an error.
    pub fn validate_raw(&self, payload: &[u8]) -> Result<Value, String> {
        let answer = self.call("validate", payload).map_err(|e| e.to_string())?;
        serde_json::from_slice(&answer).map_err(|e| format!("not JSON: {e}"))
    }

    /// protocol_version, validate_settings, then validate, as policy-server
    /// does; the patch is `json_patch::diff(object, mutated_object)`.
    pub fn evaluate(&self, settings: &Value, request: &Value) -> Evaluation {
        assert_eq!(self.protocol_version(), json!("v1"));
        let answer = self.validate_settings(settings);
        let settings_valid = answer["valid"] == true;
        let settings_message = answer["message"].as_str().map(str::to_string);
        if !settings_valid {
            return Evaluation {
                settings_valid,
                settings_message,
                response: None,
                patch: None,
            };
        }
        let response = self
            .validate_raw(&payload(settings, request))
            .expect("validate answers");
        let patch = response
            .get("mutated_object")
            .filter(|m| !m.is_null())
            .map(|mutated| {
                serde_json::to_value(json_patch::diff(&request["object"], mutated)).unwrap()
            });
        Evaluation {
            settings_valid,
            settings_message,
            response: Some(response),
            patch,
        }
    }

    pub fn host_log(&self) -> std::sync::MutexGuard<'_, HostLog> {
        self.log.lock().unwrap()
    }
}

/// A resolver answering from a table; names not in it do not resolve.
pub fn table_resolver(dns: &[(&str, Answer)]) -> Resolver {
    let dns = dns
        .iter()
        .fold(ScriptedDns::default(), |dns, (name, answer)| {
            dns.with_answer(name, answer.clone())
        });
    Box::new(move |name| dns.runtime_answer(name))
}

/// The machine's resolver (getaddrinfo: /etc/hosts, then DNS), as
/// policy-server looks names up, with its error texts.
pub fn system_resolver() -> Resolver {
    use std::net::ToSocketAddrs;
    Box::new(|name| match (name, 0).to_socket_addrs() {
        Ok(addresses) => {
            let mut ips: Vec<String> = Vec::new();
            for address in addresses {
                let ip = address.ip().to_string();
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            Ok(ips)
        }
        // std words it as the dns-lookup crate does:
        // `failed to lookup address information: <gai_strerror>`.
        Err(e) => Err(format!("Callback evaluation failure: {e}")),
    })
}

/// A resolver replaying a kwctl session file
/// (`--record-host-capabilities-interactions`), strictly in order.
pub fn replay_resolver(session: &Path) -> Result<Resolver, String> {
    let text = std::fs::read_to_string(session)
        .map_err(|e| format!("cannot read {}: {e}", session.display()))?;
    let exchanges: Vec<serde_yaml::Value> = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not a kwctl session: {e}", session.display()))?;
    let mut answers = Vec::new();
    for exchange in &exchanges {
        let request = exchange["request"].as_str().unwrap_or_default();
        let host = request
            .lines()
            .find_map(|line| line.trim().strip_prefix("host:"))
            .map(|host| host.trim().to_string())
            .filter(|_| request.trim_start().starts_with("!DNSLookupHost"))
            .ok_or_else(|| format!("{}: not a DNS lookup: {request}", session.display()))?;
        let response = &exchange["response"];
        let answer = match response["type"].as_str() {
            Some("Success") => {
                let payload: Value =
                    serde_json::from_str(response["payload"].as_str().unwrap_or_default())
                        .map_err(|e| format!("{}: bad payload: {e}", session.display()))?;
                Ok(payload["ips"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|ip| ip.as_str().map(str::to_string))
                    .collect())
            }
            // kwctl hands a replayed error to the policy behind this wrapper.
            _ => Err(format!(
                "Callback evaluation failure: {}",
                response["message"].as_str().unwrap_or_default()
            )),
        };
        answers.push((host, answer));
    }
    let mut next = 0;
    Ok(Box::new(move |name| {
        let Some((host, answer)) = answers.get(next) else {
            return Err(format!(
                "Callback evaluation failure: the session has no exchange for {name}"
            ));
        };
        next += 1;
        if host != name {
            return Err(format!(
                "Callback evaluation failure: the session expected a lookup of {host}, not {name}"
            ));
        }
        answer.clone()
    }))
}

fn host_call(
    resolve: &Mutex<Resolver>,
    log: &Mutex<HostLog>,
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, HostError> {
    let mut log = log.lock().unwrap();
    match (binding, namespace, operation) {
        ("kubewarden", "net", "v1/dns_lookup_host") => {
            let name: String = serde_json::from_slice(payload)?;
            log.lookups.push(name.clone());
            let answer = (resolve.lock().unwrap())(&name);
            match answer {
                Ok(ips) => Ok(serde_json::to_vec(&json!({ "ips": ips }))?),
                Err(text) => Err(text.into()),
            }
        }
        ("kubewarden", "tracing", "log") => {
            log.logs.push(serde_json::from_slice(payload)?);
            Ok(Vec::new())
        }
        _ => {
            let call = format!("{binding}/{namespace}/{operation}");
            log.unexpected.push(call.clone());
            Err(format!("unexpected host call {call}").into())
        }
    }
}

/// A worst case of the linear merge: a Pod request of 1–2.5 MiB, written
/// as policy-server writes the payload.
pub struct Shape {
    /// What it holds.
    pub name: &'static str,
    /// The `validate` payload.
    pub payload: Vec<u8>,
    /// The request, for the kwctl figures.
    pub request: Value,
}

/// The four worst cases of the merge, each with about 50,000 entries or
/// 100,000 names; the rewrite answers `192.168.65.254`.
pub fn worst_case_shapes() -> Vec<Shape> {
    let name = |i: usize| format!("h{i:06}.local");
    let pod = |aliases: Vec<Value>| {
        let mut request = fixture("pod_without_host_aliases.json");
        request["object"]["spec"]["hostAliases"] = Value::Array(aliases);
        request
    };
    let host_gateway =
        |hostnames: Vec<String>| json!({"ip": "host-gateway", "hostnames": hostnames});
    let shapes = [
        (
            "50,000 host-gateway entries, a name each",
            pod((0..50_000).map(|i| host_gateway(vec![name(i)])).collect()),
        ),
        (
            "one host-gateway entry with 100,000 names",
            pod(vec![host_gateway((0..100_000).map(name).collect())]),
        ),
        (
            "50,000 entries holding the address, one host-gateway",
            pod((0..50_000)
                .map(|i| json!({"ip": "192.168.65.254", "hostnames": [name(i)]}))
                .chain([host_gateway(vec!["db.local".into()])])
                .collect()),
        ),
        (
            "50,000 entries of other addresses, one host-gateway",
            pod((0..50_000)
                .map(|i| {
                    let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
                    json!({"ip": ip, "hostnames": [name(i)]})
                })
                .chain([host_gateway(vec!["db.local".into()])])
                .collect()),
        ),
    ];
    shapes
        .into_iter()
        .map(|(name, request)| Shape {
            name,
            payload: payload(&json!({}), &request),
            request,
        })
        .collect()
}

/// Checks the rewrite of shape `index` of [`worst_case_shapes`]: one entry
/// for the address, holding every name it must, and nothing else touched.
pub fn check_worst_case(index: usize, request: &Value, mutated: &Value) {
    let before = request["object"]["spec"]["hostAliases"].as_array().unwrap();
    let after = mutated["spec"]["hostAliases"].as_array().unwrap();
    let address = "192.168.65.254";
    let ours: Vec<&Value> = after.iter().filter(|e| e["ip"] == address).collect();
    assert_eq!(ours.len(), 1, "one entry for the address");
    let names = ours[0]["hostnames"].as_array().unwrap();
    let expected_names = match index {
        0 => 50_000,
        1 => 100_000,
        2 => 50_001,
        _ => 1,
    };
    assert_eq!(names.len(), expected_names);
    assert!(after.iter().all(|e| e["ip"] != "host-gateway"));
    match index {
        3 => {
            assert_eq!(after.len(), 50_001);
            assert_eq!(&after[..50_000], &before[..50_000]);
        }
        _ => assert_eq!(after.len(), 1),
    }
    let mut rest = mutated.clone();
    let mut original = request["object"].clone();
    rest["spec"]["hostAliases"] = Value::Null;
    original["spec"]["hostAliases"] = Value::Null;
    assert_eq!(rest, original, "only hostAliases changes");
}
