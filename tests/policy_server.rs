//! The annotated policy served by Kubewarden's own policy-server on
//! loopback, with settings and host-capability grants written the way the
//! controller writes them, and real DNS through the machine's resolver:
//! `localhost` (in every /etc/hosts) answers only loopback addresses, which
//! cannot reach the host and are skipped; `.invalid` (RFC 6761) never
//! resolves. (The cluster tests give policy-server an /etc/hosts of their
//! own, where a name answers an address that is used.)
//!
//! Needs `policy-server` and `kwctl` on PATH, so every test here is
//! `#[ignore]`d: `cargo test` lists them as ignored, and `make test` runs
//! them (`--include-ignored`) where both binaries are on PATH.

use host_gateway_test_support::wasm_host as common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{expected_object, expected_patch, fixture, patched, policy_wasm, test_data};
use serde_json::{Value, json};

/// The policies file, as the controller writes it: `["*"]` for a
/// ClusterAdmissionPolicy; for an AdmissionPolicy, the PolicyServer's
/// `spec.namespacedPoliciesCapabilities`.
const POLICIES: &[(&str, &str, &str)] = &[
    ("localhost-skipped", LOCALHOST_THEN_FALLBACK, r#"["*"]"#),
    (
        "docker-desktop-address",
        r#"{"hostnames": ["no-such-host.invalid"], "fallbackAddresses": ["192.168.65.254"]}"#,
        r#"["*"]"#,
    ),
    (
        "nothing-resolves",
        r#"{"hostnames": ["no-such-host.invalid", "also-missing.invalid"]}"#,
        r#"["*"]"#,
    ),
    (
        "fallback",
        r#"{"hostnames": ["no-such-host.invalid"], "fallbackAddresses": ["172.18.0.1"]}"#,
        r#"["*"]"#,
    ),
    (
        "namespaced-granted",
        LOCALHOST_THEN_FALLBACK,
        r#"["net/v1/dns_lookup_host"]"#,
    ),
    (
        "namespaced-restricted",
        r#"{"hostnames": ["localhost"]}"#,
        r#"["oci/v1/verify"]"#,
    ),
    (
        "inject",
        r#"{"hostnames": ["localhost"], "fallbackAddresses": ["10.0.2.2"],
            "injectHostnames": ["host.docker.internal"]}"#,
        r#"["*"]"#,
    ),
    (
        "inject-nothing-resolves",
        r#"{"hostnames": ["no-such-host.invalid"], "injectHostnames": ["host.docker.internal"]}"#,
        r#"["*"]"#,
    ),
    // `mutating: false` in the policy: policy-server refuses the patch.
    ("not-mutating", LOCALHOST_THEN_FALLBACK, r#"["*"]"#),
    // `mode: monitor`: policy-server drops the patch.
    ("monitor", LOCALHOST_THEN_FALLBACK, r#"["*"]"#),
];

/// Real DNS answers `localhost` with a loopback address, skipped: the
/// fallback is written, with a warning saying why.
const LOCALHOST_THEN_FALLBACK: &str =
    r#"{"hostnames": ["localhost"], "fallbackAddresses": ["10.0.2.2"]}"#;

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The running server, or why there is none.
struct Server {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing the shell's stdin makes it stop the server, then exit.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The one server of this test process, started on first use.
fn server() -> &'static Server {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(missing) => panic!("{missing}"),
    }
}

fn start() -> Result<Server, String> {
    const HOW: &str = "put Kubewarden's binaries on PATH \
        (https://docs.kubewarden.io/howtos/install-kwctl; policy-server ships in its image)";
    let policy_server =
        find_on_path("policy-server").ok_or(format!("policy-server is not on PATH; {HOW}"))?;
    let kwctl = find_on_path("kwctl").ok_or(format!("kwctl is not on PATH; {HOW}"))?;

    let dir =
        std::env::temp_dir().join(format!("host-gateway-policy-server-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("downloads")).expect("a temporary directory");
    let dir = TempDir(dir);
    let annotated = dir.0.join("annotated-policy.wasm");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(kwctl)
        .arg("annotate")
        .arg("-m")
        .arg(root.join("metadata.yml"))
        .arg("-u")
        .arg(root.join("README.md"))
        .arg("-o")
        .arg(&annotated)
        .arg(policy_wasm())
        .stderr(Stdio::null())
        .status()
        .expect("kwctl runs");
    assert!(status.success(), "kwctl annotate failed");

    let mut policies = String::new();
    for (id, settings, capabilities) in POLICIES {
        let mode = match *id {
            "not-mutating" => "allowedToMutate: false",
            "monitor" => "allowedToMutate: true\n  policyMode: monitor",
            _ => "allowedToMutate: true",
        };
        policies.push_str(&format!(
            "{id}:\n  module: file://{}\n  {mode}\n  settings: {settings}\n  hostCapabilities: {capabilities}\n",
            annotated.display()
        ));
    }
    let policies_file = dir.0.join("policies.yml");
    std::fs::write(&policies_file, policies).expect("the policies file is written");

    let port = free_port();
    let readiness = free_port();
    let log = std::fs::File::create(dir.0.join("policy-server.log")).expect("a log file");
    // The server lives in a static, which is never dropped: a shell stops
    // it when this test process ends and so closes the shell's stdin.
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" "$@" & server=$!; read -r _; kill "$server""#)
        .arg(policy_server)
        .args(["--addr", "127.0.0.1", "--port", &port.to_string()])
        .args(["--readiness-probe-port", &readiness.to_string()])
        .arg("--policies")
        .arg(&policies_file)
        .arg("--policies-download-dir")
        .arg(dir.0.join("downloads"))
        .args(["--ignore-kubernetes-connection-failure", "--workers", "2"])
        // The manifests' timeoutEvalSeconds: at the default 2 s, a real
        // lookup on a starved machine was once cut off with a 500.
        .args(["--policy-timeout", "12"])
        .args(["--log-no-color", "--log-level", "warn"])
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("policy-server starts");
    let server = Server {
        child,
        port,
        _dir: dir,
    };

    let deadline = Instant::now() + Duration::from_secs(60);
    while http(readiness, "GET", "/readiness", "").is_none_or(|(status, _)| status != 200) {
        assert!(
            Instant::now() < deadline,
            "policy-server was not ready within 60 s: {}",
            std::fs::read_to_string(server._dir.0.join("policy-server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(server)
}

/// One HTTP/1.1 exchange on loopback: the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, rest) = reply.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Some((status, if chunked { unchunk(rest) } else { rest.into() }))
}

fn unchunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// The AdmissionResponse policy `id` gives for `request`.
fn review(server: &Server, id: &str, request: &Value) -> Value {
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": request,
    });
    let (status, body) = http(
        server.port,
        "POST",
        &format!("/validate/{id}"),
        &review.to_string(),
    )
    .expect("policy-server answers");
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).expect("an AdmissionReview");
    reply["response"].clone()
}

fn patch(response: &Value) -> Option<Value> {
    use base64::Engine as _;
    let encoded = response["patch"].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    Some(serde_json::from_slice(&bytes).expect("a JSON patch"))
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn every_fixture_gets_its_outcome_and_exact_patch() {
    let server = server();
    let outcomes: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(test_data("outcomes.json")).unwrap())
            .unwrap();
    for (name, outcome) in &outcomes {
        let request = fixture(name);
        for (id, address) in [
            ("localhost-skipped", "10.0.2.2"),
            ("namespaced-granted", "10.0.2.2"),
            ("docker-desktop-address", "192.168.65.254"),
        ] {
            let response = review(server, id, &request);
            assert_eq!(response["uid"], request["uid"], "{id} {name}");
            if outcome == "reject" {
                assert_eq!(response["allowed"], false, "{id} {name}: {response}");
                continue;
            }
            // No cluster DNS here: a Pod that names the target only in its
            // annotation is admitted as it is, warned.
            if outcome == "target" && !request["object"].to_string().contains("\"ip\":\"dns:") {
                assert_eq!(response["allowed"], true, "{id} {name}: {response}");
                assert_eq!(patch(&response), None, "{id} {name}: {response}");
                let warning = response["warnings"][0].as_str().unwrap_or_default();
                assert!(
                    warning.starts_with(
                        "host-gateway: keycloak.localtest.me not pointed at \
                         dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local, left as they \
                         were: no IPv4 address for"
                    ),
                    "{id} {name}: {warning}"
                );
                continue;
            }
            // Nor here an entry's target: it is refused in the resolver's
            // words, named.
            if outcome == "target" {
                assert_eq!(response["allowed"], false, "{id} {name}: {response}");
                let message = response["status"]["message"].as_str().unwrap_or_default();
                assert!(
                    message.starts_with(
                        "cannot replace dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local \
                         in hostAliases: no IPv4 address for \
                         ingress-nginx-controller.ingress-nginx.svc.cluster.local ("
                    ),
                    "{id} {name}: {message}"
                );
                continue;
            }
            assert_eq!(response["allowed"], true, "{id} {name}: {response}");
            if outcome == "warn" {
                assert!(
                    response["warnings"]
                        .as_array()
                        .is_some_and(|w| !w.is_empty())
                );
            }
            let Some(patch) = patch(&response) else {
                assert!(
                    ["accept", "warn"].contains(&outcome.as_str())
                        || (outcome == "current" && address == "192.168.65.254"),
                    "{id} {name}: no patch"
                );
                continue;
            };
            assert!(
                !["accept", "warn"].contains(&outcome.as_str()),
                "{id} {name}: {patch}"
            );
            // An UPDATE that keeps the pod spec as stored: the stored
            // entries, whatever DNS says.
            if outcome == "stored" {
                assert_eq!(
                    patched(&request["object"], &patch),
                    request["oldObject"],
                    "{id} {name}"
                );
                continue;
            }
            // A template UPDATE that only edits entries, whatever DNS says.
            if outcome == "edited" {
                assert_eq!(
                    patched(&request["object"], &patch),
                    host_gateway_test_support::reference_followed_edit(&request),
                    "{id} {name}"
                );
                continue;
            }
            assert_eq!(
                patched(&request["object"], &patch),
                expected_object(&request, address),
                "{id} {name}"
            );
            // The exact patch where the intent does not also move names
            // from the stored address to another one.
            let intent = request["object"]
                .to_string()
                .contains("host-gateway.kubewarden.io/hostnames");
            if ["current", "refresh"].contains(&outcome.as_str())
                || (intent && address != "192.168.65.254")
            {
                continue;
            }
            assert_eq!(patch, expected_patch(&request, address), "{id} {name}");
        }
    }
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn nothing_resolves_rejects_naming_every_name_in_the_resolvers_words() {
    let server = server();
    let response = review(
        server,
        "nothing-resolves",
        &fixture("pod_host_gateway.json"),
    );
    assert_eq!(response["allowed"], false);
    assert_eq!(patch(&response), None);
    let message = response["status"]["message"].as_str().unwrap();
    // glibc says `Name or service not known`, musl `Name does not resolve`.
    let reason = if message.contains("Name or service not known") {
        "Name or service not known"
    } else {
        "Name does not resolve"
    };
    assert_eq!(
        message,
        format!(
            "cannot replace host-gateway in hostAliases: no IPv4 address for \
             no-such-host.invalid, also-missing.invalid ({reason}); make one of these names \
             resolvable from the policy server or set fallbackAddresses"
        )
    );
    eprintln!("rejection, {} bytes: {message}", message.len());
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn the_fallback_is_written_with_a_short_warning() {
    let server = server();
    let request = fixture("deployment_host_gateway.json");
    let response = review(server, "fallback", &request);
    assert_eq!(response["allowed"], true);
    assert_eq!(
        patch(&response),
        Some(expected_patch(&request, "172.18.0.1"))
    );
    let warnings = response["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    let warning = warnings[0].as_str().unwrap();
    assert!(
        [
            "host-gateway: no IPv4 address for no-such-host.invalid (Name or service not known); used fallback 172.18.0.1",
            "host-gateway: no IPv4 address for no-such-host.invalid (Name does not resolve); used fallback 172.18.0.1",
        ]
        .contains(&warning),
        "{warning}"
    );
    assert!(warning.len() <= 120, "{} bytes", warning.len());
    eprintln!("warning, {} bytes: {warning}", warning.len());
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn a_loopback_answer_of_real_dns_is_skipped_saying_why() {
    let server = server();
    let response = review(
        server,
        "localhost-skipped",
        &fixture("pod_host_gateway.json"),
    );
    assert_eq!(response["allowed"], true);
    assert_eq!(
        response["warnings"],
        json!([
            "host-gateway: no IPv4 address for localhost (skipped 127.0.0.1, a loopback \
             address); used fallback 10.0.2.2"
        ])
    );
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn a_namespaced_policy_without_the_dns_grant_says_how_to_grant_it() {
    let server = server();
    let response = review(
        server,
        "namespaced-restricted",
        &fixture("pod_host_gateway.json"),
    );
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "cannot replace host-gateway in hostAliases: this policy is not granted the \
         net/v1/dns_lookup_host host capability; add it to the PolicyServer's \
         spec.namespacedPoliciesCapabilities or set fallbackAddresses"
    );
    eprintln!("capability denied, {} bytes: {message}", message.len());
    // Objects without host-gateway never need the capability.
    let response = review(
        server,
        "namespaced-restricted",
        &fixture("pod_without_host_aliases.json"),
    );
    assert_eq!(response["allowed"], true);
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn a_reapplied_pod_comes_back_as_stored() {
    let server = server();
    let create = fixture("pod_host_gateway.json");
    let response = review(server, "localhost-skipped", &create);
    let stored = patched(&create["object"], &patch(&response).unwrap());
    // A second `kubectl apply -f pod.yaml`: the manifest's host-gateway
    // entry arrives beside the stored one.
    let mut update = create.clone();
    update["operation"] = json!("UPDATE");
    update["oldObject"] = stored.clone();
    update["object"] = stored.clone();
    update["object"]["spec"]["hostAliases"]
        .as_array_mut()
        .unwrap()
        .push(create["object"]["spec"]["hostAliases"][1].clone());
    let response = review(server, "localhost-skipped", &update);
    let result = patched(&update["object"], &patch(&response).unwrap());
    assert_eq!(
        result, stored,
        "the API server would refuse a change to hostAliases"
    );
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn kubewarden_modes_that_keep_the_rewrite_out() {
    let server = server();
    let request = fixture("pod_host_gateway.json");
    let response = review(server, "not-mutating", &request);
    assert_eq!(response["allowed"], false);
    assert_eq!(
        response["status"]["message"],
        "Request rejected by policy not-mutating. The policy attempted to mutate the request, \
         but it is currently configured to not allow mutations."
    );
    // Monitor mode admits without the patch; the API server then refuses
    // `host-gateway` as an IP address.
    let response = review(server, "monitor", &request);
    assert_eq!(response["allowed"], true);
    assert_eq!(patch(&response), None);
}

#[test]
#[ignore = "needs policy-server and kwctl"]
fn inject_hostnames_adds_the_name_to_new_pods_unless_they_opt_out() {
    let server = server();
    let response = review(server, "inject", &fixture("pod_without_host_aliases.json"));
    assert_eq!(response["allowed"], true);
    assert_eq!(
        patch(&response),
        Some(json!([{"op": "add", "path": "/spec/hostAliases",
            "value": [{"ip": "10.0.2.2", "hostnames": ["host.docker.internal"]}]}]))
    );
    let response = review(server, "inject", &fixture("pod_inject_opted_out.json"));
    assert_eq!(response["allowed"], true);
    assert_eq!(patch(&response), None);

    let response = review(
        server,
        "inject-nothing-resolves",
        &fixture("pod_without_host_aliases.json"),
    );
    assert_eq!(response["allowed"], true, "a pod that asked for nothing");
    assert_eq!(patch(&response), None);
    let warning = response["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with(
            "host-gateway: host.docker.internal not added: no IPv4 address for no-such-host.invalid ("
        ),
        "{warning}"
    );
    eprintln!("injection warning, {} bytes: {warning}", warning.len());
}
