//! A Kubewarden policy that gives Kubernetes Docker's
//! `--add-host NAME:host-gateway`: every `hostAliases` entry whose `ip` is
//! `host-gateway`, in a Pod or any pod template, becomes the address of the
//! container host, found with Kubewarden's DNS host capability.
//!
//! This file holds only the waPC entry points; [`evaluate`] does the work,
//! a pure function of the `validate` payload and a DNS lookup.

#![warn(missing_docs)]

mod ip_family;
mod json;
mod lookup;
mod messages;
mod pod_spec;
mod policy;
mod response;
mod rewrite;
mod settings;
#[cfg(any(test, feature = "__testing"))]
#[doc(hidden)]
pub mod testing;

pub use ip_family::IpFamily;
pub use messages::{
    MAX_REJECTION_BYTES, MAX_WARNING_BYTES, Miss, Rejection, SettingsError, Shortfall, Warning,
};
pub use pod_spec::{HANDLED_KINDS, HandledKind};
pub use policy::{INJECT_ANNOTATION, Mutation, Verdict, evaluate};
pub use settings::Settings;

use kubewarden_policy_sdk::protocol_version_guest;
use wapc_guest::{CallResult, register_function};

/// Registers the policy's waPC functions; the waPC host calls it once.
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    let verdict = policy::evaluate(payload, lookup_host);
    if let Verdict::Mutate(mutation) = &verdict {
        log_rewrite(&mutation.summary);
    }
    Ok(response::encode(&verdict))
}

fn validate_settings(payload: &[u8]) -> CallResult {
    Ok(response::encode_settings_validation(&Settings::from_json(
        payload,
    )))
}

/// The host's DNS lookup: Kubewarden's `net/v1/dns_lookup_host` call,
/// made here rather than through `kubewarden_policy_sdk::host_capabilities::net::lookup_host`,
/// which builds its request through `serde_json::Value` and so adds the
/// value serialiser to the module. An error comes back as the host's text,
/// which `lookup::read_host_error` reads.
fn lookup_host(name: &str) -> Result<Vec<String>, String> {
    let request = json::quoted(name);
    let answer = wapc_guest::host_call(
        "kubewarden",
        "net",
        "v1/dns_lookup_host",
        request.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    // The SDK's `LookupResponse`: `{"ips": ["..."]}`.
    std::str::from_utf8(&answer)
        .ok()
        .and_then(|answer| json::field(answer, "ips"))
        .and_then(json::elements)
        .and_then(|ips| ips.into_iter().map(json::string).collect())
        .ok_or_else(|| messages::UNREADABLE_DNS_ANSWER.to_string())
}

/// One line for policy-server's log, in the event format of the SDK's
/// `KubewardenDrain`, written without slog: fewer bytes, and no `unwrap` in
/// the way. A failed log call must not fail the admission: its result is
/// dropped.
fn log_rewrite(summary: &str) {
    let mut event = String::from(r#"{"level":"info","message":"#);
    json::push_quoted(&mut event, summary);
    event.push_str(&format!(
        r#","file":{},"line":{},"column":{}}}"#,
        json::quoted(file!()),
        line!(),
        column!()
    ));
    let _ = wapc_guest::host_call("kubewarden", "tracing", "log", event.as_bytes());
}
