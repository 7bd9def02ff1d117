//! `cargo bench`: time per `validate` call of the compiled policy.wasm in
//! the waPC host, beside an accept-everything module measured in the same
//! run, so the figures are ratios. Prints the module size too.

use host_gateway_test_support::wasm_host as common;
use host_gateway_test_support::{INGRESS_ADDRESS, INGRESS_SERVICE, pod_holding_stale_addresses};

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Policy, accept_everything_wasm, compile, fixture, ips, payload, policy_wasm};
use serde_json::{Value, json};

/// A waPC guest in a few lines of WebAssembly that answers "accepted"
/// without allocating or reading anything: the cost of the host alone.
const HOST_ONLY: &str = r#"
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 64)
  (data (i32.const 16) "{\"accepted\":true,\"message\":null,\"code\":null,\"mutated_object\":null,\"audit_annotations\":null,\"warnings\":null}")
  (func (export "wapc_init"))
  (func (export "__guest_call") (param $operation_len i32) (param $payload_len i32) (result i32)
    (call $guest_request (i32.const 1024) (i32.const 65536))
    (call $guest_response (i32.const 16) (i32.const 104))
    (i32.const 1)))
"#;

/// A Pod of about 3.3 KB, the size of a common workload pod.
fn typical_pod() -> Value {
    let mut request = fixture("pod_without_host_aliases.json");
    let container = &mut request["object"]["spec"]["containers"][0];
    container["env"] = (0..60)
        .map(|i| json!({"name": format!("SETTING_{i}"), "value": format!("value-{i}")}))
        .collect();
    request["object"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": "2026-11-22T06:00:00Z"});
    request
}

fn with_host_gateway(mut request: Value) -> Value {
    request["object"]["spec"]["hostAliases"] =
        json!([{"ip": "host-gateway", "hostnames": ["db.local"]}]);
    request
}

fn with_target(mut request: Value) -> Value {
    request["object"]["spec"]["hostAliases"] =
        json!([{"ip": format!("dns:{INGRESS_SERVICE}"), "hostnames": ["keycloak.localtest.me"]}]);
    request
}

/// The Service `i` of [`with_targets`].
fn service(i: usize) -> String {
    format!("s{i}.default.svc.cluster.local")
}

/// 50,000 `dns:` entries asking for 16 Services in turn, a name each.
fn with_targets(mut request: Value) -> Value {
    let aliases: Vec<Value> = (0..50_000)
        .map(|i| json!({"ip": format!("dns:{}", service(i % 16)), "hostnames": [format!("h{i:06}.local")]}))
        .collect();
    request["object"]["spec"]["hostAliases"] = json!(aliases);
    request
}

/// A Deployment of about `kib` KiB with one `host-gateway` entry as the
/// last thing in the payload's object.
fn big_deployment(kib: usize) -> Vec<u8> {
    let mut request = fixture("deployment_host_gateway.json");
    request["object"]["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("hostAliases");
    let env: Vec<Value> = (0..kib * 1024 / 60)
        .map(|i| json!({"name": format!("VARIABLE_{i:06}"), "value": format!("some-value-{i:08}")}))
        .collect();
    request["object"]["spec"]["template"]["spec"]["containers"][0]["env"] = json!(env);
    let text = serde_json::to_string(&json!({"settings": {}, "request": request})).unwrap();
    // Splice hostAliases in as the template spec's last field.
    let marker = r#""zzFuturePodSpecField":["a",{"b":null}]"#;
    let spliced = text.replacen(
        marker,
        &format!(r#"{marker},"hostAliases":[{{"ip":"host-gateway","hostnames":["db.local"]}}]"#),
        1,
    );
    assert_ne!(spliced, text, "the marker moved");
    spliced.into_bytes()
}

/// Median time per call over `samples` batches of `batch` calls, of a
/// payload the module answers with `"accepted": accepted`.
fn time_per_call(policy: &Policy, payload: &[u8], accepted: bool) -> Duration {
    let answer = policy.call("validate", payload).expect("validate answers");
    assert!(
        answer.starts_with(format!(r#"{{"accepted":{accepted}"#).as_bytes()),
        "{}",
        String::from_utf8_lossy(&answer[..80.min(answer.len())])
    );
    let started = Instant::now();
    let mut batch = 1;
    while started.elapsed() < Duration::from_millis(50) {
        black_box(policy.call("validate", payload).unwrap());
        batch += 1;
    }
    let batch = (batch / 5).max(1);
    let mut samples: Vec<Duration> = (0..31)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(policy.call("validate", black_box(payload)).unwrap());
            }
            start.elapsed() / batch
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not, and
    // then each input runs once.
    let quick = !std::env::args().any(|a| a == "--bench");

    let module = std::fs::read(policy_wasm()).unwrap();
    println!("policy.wasm: {} bytes", module.len());
    let services: Vec<String> = (0..16).map(service).collect();
    let mut dns = vec![
        ("host.docker.internal", ips(&["192.168.65.254"])),
        (INGRESS_SERVICE, ips(&[INGRESS_ADDRESS])),
    ];
    for (i, name) in services.iter().enumerate() {
        dns.push((name.as_str(), ips(&[&format!("10.96.1.{i}")])));
    }
    let policy = Policy::new(&dns);
    let accept_everything = std::fs::read(accept_everything_wasm()).unwrap();
    let accept_everything = Policy::from_pre(&compile(&accept_everything), &[]);
    let host_only = Policy::from_pre(&compile(&wat::parse_str(HOST_ONLY).unwrap()), &[]);

    let pod = typical_pod();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        (
            "1. typical Pod, no hostAliases".into(),
            payload(&json!({}), &pod),
        ),
        (
            "2. same Pod, one host-gateway entry".into(),
            payload(&json!({}), &with_host_gateway(pod.clone())),
        ),
        (
            "3. 1 MiB Deployment, host-gateway at the end".into(),
            big_deployment(1024),
        ),
    ];
    cases.push((
        "4. same Pod, one dns: target entry".into(),
        payload(&json!({}), &with_target(pod.clone())),
    ));
    for (i, shape) in common::worst_case_shapes().into_iter().enumerate() {
        cases.push((format!("{}. {}", i + 5, shape.name), shape.payload));
    }
    cases.push((
        "9. 50,000 dns: entries, 16 targets".into(),
        payload(&json!({}), &with_targets(pod.clone())),
    ));
    cases.push((
        "10. report form: 50,000 stale addresses (refused)".into(),
        payload(
            &json!({"reportStale": true}),
            &pod_holding_stale_addresses(50_000),
        ),
    ));
    if quick {
        for (name, bytes) in &cases {
            assert!(policy.call("validate", bytes).is_ok(), "{name}");
        }
        println!("benchmark inputs run once (test mode)");
        return;
    }

    println!("Median µs per validate call; ratio = policy / accept-everything (SDK, Rust).");
    println!(
        "{:<56} {:>8} {:>10} {:>10} {:>10} {:>7}",
        "case", "payload", "host-only", "accept-all", "policy", "ratio"
    );
    for (name, bytes) in &cases {
        let host = time_per_call(&host_only, bytes, true);
        let base = time_per_call(&accept_everything, bytes, true);
        let ours = time_per_call(&policy, bytes, !name.ends_with("(refused)"));
        println!(
            "{name:<56} {:>6}KB {:>10.1} {:>10.1} {:>10.1} {:>6.2}x",
            bytes.len() / 1024,
            micros(host),
            micros(base),
            micros(ours),
            ours.as_secs_f64() / base.as_secs_f64()
        );
    }

    println!("\nCase 3 by size (policy less accept-everything, per KB of payload):");
    for kib in [256, 512, 1024, 2048] {
        let bytes = big_deployment(kib);
        let extra = time_per_call(&policy, &bytes, true).saturating_sub(time_per_call(
            &accept_everything,
            &bytes,
            true,
        ));
        println!(
            "  {:>5} KB: {:>9.1} µs, {:.2} µs/KB",
            bytes.len() / 1024,
            micros(extra),
            micros(extra) / (bytes.len() as f64 / 1024.0)
        );
    }
}
