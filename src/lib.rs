//! A Kubewarden policy that gives Kubernetes Docker's
//! `--add-host NAME:host-gateway`: every `hostAliases` entry whose `ip` is
//! `host-gateway`, in a Pod or any pod template, becomes the address of the
//! container host, found with Kubewarden's DNS host capability.
//!
//! This file holds only the waPC entry points; [`policy::evaluate`] does
//! the work.

pub mod ip_family;
pub mod json;
pub mod lookup;
pub mod messages;
pub mod pod_spec;
pub mod policy;
pub mod response;
pub mod rewrite;
pub mod settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use kubewarden_policy_sdk::host_capabilities::net;
use kubewarden_policy_sdk::logging::KubewardenDrain;
use kubewarden_policy_sdk::{Error as SdkError, protocol_version_guest};
use slog::Drain;
use wapc_guest::{CallResult, register_function};

use crate::policy::Verdict;
use crate::settings::Settings;

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

/// The host's DNS lookup; an error comes back as the host's text, which
/// [`lookup::read_host_error`] reads.
fn lookup_host(name: &str) -> Result<Vec<String>, String> {
    net::lookup_host(name)
        .map(|answer| answer.ips)
        .map_err(|e| match e {
            SdkError::HostCall { source, .. } => source.to_string(),
            other => other.to_string(),
        })
}

fn log_rewrite(summary: &str) {
    // A failed log call must not fail the admission.
    let logger = slog::Logger::root(KubewardenDrain::default().ignore_res(), slog::o!());
    slog::info!(logger, "{}", summary);
}
