//! Runs a policy module on one admission request, as `kwctl run` does, in
//! the wasmtime waPC host the tests and the benchmark use: no kwctl needed.
//!
//! ```console
//! cargo run --example run -- --request-path test_data/pod_host_gateway.json \
//!   --replay-host-capabilities-interactions test_data/sessions/docker_desktop.yml policy.wasm
//! ```
//!
//! The options are kwctl's, so moving to kwctl is a change of program name.
//! Without a replay session, names go through this machine's resolver, as
//! policy-server's do. Prints the AdmissionResponse as kwctl prints it, then
//! the decoded patch.

use host_gateway_test_support::wasm_host as common;

use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use common::{Policy, compile, replay_resolver, system_resolver};
use serde_json::{Value, json};

const USAGE: &str = "usage: run [--request-path FILE] [--settings-json JSON | --settings-path FILE] \
     [--replay-host-capabilities-interactions FILE] POLICY.wasm";

/// The AdmissionResponse, fields in kwctl's order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionResponse {
    uid: Value,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Value>,
    audit_annotations: Value,
    warnings: Value,
}

struct Args {
    request_path: PathBuf,
    settings: Value,
    replay: Option<PathBuf>,
    module: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut request_path = None;
    let mut settings = json!({});
    let mut replay = None;
    let mut module = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--request-path" | "-r" => request_path = Some(PathBuf::from(value()?)),
            "--settings-json" => {
                settings = serde_json::from_str(&value()?)
                    .map_err(|e| format!("--settings-json is not JSON: {e}"))?;
            }
            "--settings-path" | "-s" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                settings = serde_yaml::from_str(&text)
                    .map_err(|e| format!("{path} is not YAML or JSON: {e}"))?;
            }
            "--replay-host-capabilities-interactions" => replay = Some(PathBuf::from(value()?)),
            "--help" | "-h" => return Err(USAGE.to_string()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            path => module = Some(PathBuf::from(path.strip_prefix("file://").unwrap_or(path))),
        }
    }
    Ok(Args {
        request_path: request_path.ok_or(format!("--request-path is required\n{USAGE}"))?,
        settings,
        replay,
        module: module.ok_or(format!("the policy module is required\n{USAGE}"))?,
    })
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let text = std::fs::read_to_string(&args.request_path)
        .map_err(|e| format!("cannot read {}: {e}", args.request_path.display()))?;
    let mut request: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", args.request_path.display()))?;
    // Like kwctl: a bare AdmissionRequest or a whole AdmissionReview.
    if request["kind"] == "AdmissionReview" {
        request = request["request"].take();
    }
    let module = std::fs::read(&args.module)
        .map_err(|e| format!("cannot read {}: {e}", args.module.display()))?;
    let resolver = match &args.replay {
        Some(session) => replay_resolver(session)?,
        None => system_resolver(),
    };
    let policy = Policy::with_resolver(&compile(&module), resolver);
    let evaluation = policy.evaluate(&args.settings, &request);
    if !evaluation.settings_valid {
        return Err(format!(
            "the settings are invalid: {}",
            evaluation.settings_message.unwrap_or_default()
        ));
    }

    let response = evaluation.response.unwrap_or_default();
    let answer = AdmissionResponse {
        uid: request["uid"].clone(),
        allowed: response["accepted"] == true,
        patch_type: evaluation.patch.as_ref().map(|_| "JSONPatch"),
        patch: evaluation
            .patch
            .as_ref()
            .map(|patch| base64::engine::general_purpose::STANDARD.encode(patch.to_string())),
        status: response["message"]
            .as_str()
            .map(|message| json!({ "message": message })),
        audit_annotations: response["audit_annotations"].clone(),
        warnings: response["warnings"].clone(),
    };
    println!("{}", serde_json::to_string(&answer).unwrap_or_default());
    if let Some(patch) = &evaluation.patch {
        println!(
            "{}",
            serde_json::to_string_pretty(patch).unwrap_or_default()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
