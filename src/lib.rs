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
pub use policy::{Mutation, Verdict, evaluate};
pub use settings::Settings;

use kubewarden_policy_sdk::host_capabilities::net;
use kubewarden_policy_sdk::logging::KubewardenDrain;
use kubewarden_policy_sdk::{Error as SdkError, protocol_version_guest};
use slog::Drain;
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

/// The host's DNS lookup; an error comes back as the host's text, which
/// `lookup::read_host_error` reads.
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
