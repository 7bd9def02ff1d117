//! A Kubewarden policy that gives Kubernetes Docker's
//! `--add-host NAME:host-gateway`: every `hostAliases` entry whose `ip` is
//! `host-gateway`, in a Pod or any pod template, becomes the address of the
//! container host, found with Kubewarden's DNS host capability.
//!
//! This file holds only the waPC entry points; [`evaluate`] does the work,
//! a pure function of the `validate` payload and a DNS lookup.

#![warn(missing_docs)]

mod change;
mod edit;
mod host;
mod inject;
mod intent;
mod ip_family;
mod json;
mod lookup;
mod messages;
mod names;
mod pod_spec;
mod policy;
mod prefilter;
mod reach;
mod refresh;
mod request;
mod response;
mod rewrite;
mod settings;
mod stale;
mod target;
mod text;
mod verdict;

pub use inject::INJECT_ANNOTATION;
pub use intent::{
    AnnotationError, HOSTNAMES_ANNOTATION, Item as AnnotatedItem,
    parse as parse_hostnames_annotation,
};
pub use ip_family::IpFamily;
pub use lookup::{LookupError, Miss, Shortfall, Skipped};
pub use messages::{MAX_REJECTION_BYTES, MAX_WARNING_BYTES};
pub use pod_spec::{HANDLED_KINDS, HandledKind};
pub use policy::evaluate;
pub use request::PayloadError;
pub use rewrite::HOST_GATEWAY;
pub use settings::{DEFAULT_HOSTNAMES, Settings, SettingsError};
pub use target::{
    DEFAULT_ALLOWED_TARGETS, TARGET_PREFIX, TargetPattern, TargetRefusal, check_target, target_name,
};
pub use verdict::{Mutation, Rejection, TargetMiss, Verdict, Warning};

use kubewarden_policy_sdk::protocol_version_guest;
use kubewarden_policy_sdk::wapc_guest::{CallResult, register_function};

/// Registers the policy's waPC functions; the waPC host calls it once.
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    let mut dns = host::Dns::default();
    let verdict = policy::evaluate(payload, |name| dns.lookup(name));
    if let Verdict::Mutate(mutation) = &verdict {
        host::log_rewrite(&mutation.summary);
    }
    Ok(response::encode(verdict))
}

// Not the SDK's `validate_settings` helper: it answers settings it cannot
// read with a waPC error, where the policy answers `valid: false` and its
// own sentence naming the field and the item.
fn validate_settings(payload: &[u8]) -> CallResult {
    Ok(response::encode_settings_validation(
        Settings::from_json(payload).err(),
    ))
}
