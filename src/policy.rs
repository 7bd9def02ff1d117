//! One `validate` call, start to end. DNS sits behind a function argument,
//! so the whole path runs and is tested without a waPC host.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::lookup::{Choice, choose_addresses};
use crate::messages::{Rejection, Warning, object_name, quote, rewrite_summary};
use crate::pod_spec::pod_spec_path;
use crate::rewrite::{HostAliases, may_contain_host_gateway};
use crate::settings::Settings;

/// What the policy answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted as it is.
    Accept,
    /// Accepted with `host-gateway` replaced.
    Mutate(Mutation),
    /// Refused, with one sentence saying why.
    Reject(Rejection),
}

/// A rewritten object and what to tell about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The object's JSON text with the rewritten `hostAliases` entries.
    pub object: String,
    /// Returned to the API client.
    pub warnings: Vec<Warning>,
    /// One line for the policy server's log, e.g.
    /// `[default] Deployment/web: host-gateway -> 192.168.65.254 (host.docker.internal)`.
    pub summary: String,
}

/// The `validate` payload, borrowed from the request bytes.
#[derive(Deserialize)]
struct ValidatePayload<'a> {
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
    #[serde(borrow)]
    request: AdmissionRequest<'a>,
}

/// The parts of an AdmissionRequest the policy reads.
#[derive(Deserialize)]
struct AdmissionRequest<'a> {
    #[serde(default)]
    kind: GroupKind,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(borrow, default)]
    object: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct GroupKind {
    #[serde(default)]
    group: String,
    #[serde(default)]
    kind: String,
}

/// Evaluates a `validate` payload (`{"settings": ..., "request": ...}`).
/// `resolve` looks a host name up, answering addresses as text or the
/// host's error; it is called only when the object holds `host-gateway`.
///
/// ```
/// use host_gateway_policy::{evaluate, Verdict};
///
/// let payload = br#"{"settings": {}, "request": {
///     "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
///     "name": "web", "namespace": "default",
///     "object": {"spec": {"hostAliases": [{"ip": "host-gateway", "hostnames": ["db"]}]}}}}"#;
/// let Verdict::Mutate(mutation) = evaluate(payload, |_| Ok(vec!["192.168.65.254".into()])) else {
///     panic!("expected a mutation");
/// };
/// assert_eq!(mutation.object, r#"{"spec": {"hostAliases": [{"ip": "192.168.65.254", "hostnames": ["db"]}]}}"#);
/// ```
pub fn evaluate<R>(payload: &[u8], resolve: R) -> Verdict
where
    R: FnMut(&str) -> Result<Vec<String>, String>,
{
    // Nearly every request: skip parsing when `host-gateway` cannot occur.
    if !may_contain_host_gateway(payload) {
        return Verdict::Accept;
    }
    // serde_json checks UTF-8 only in strings it reads, not in those it
    // skips; a request is valid JSON only if it is valid UTF-8 throughout.
    let payload: ValidatePayload = match std::str::from_utf8(payload) {
        Ok(text) => match serde_json::from_str(text) {
            Ok(payload) => payload,
            Err(e) => return Verdict::Reject(Rejection::UnreadableRequest(quote(&e.to_string()))),
        },
        Err(e) => return Verdict::Reject(Rejection::UnreadableRequest(e.to_string())),
    };
    let request = payload.request;
    if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
        return Verdict::Accept;
    }
    let Some(path) = pod_spec_path(&request.kind.group, &request.kind.kind) else {
        return Verdict::Accept;
    };
    let Some(object) = request.object.map(RawValue::get) else {
        return Verdict::Accept;
    };
    let Some(host_aliases) = HostAliases::find(object, path) else {
        return Verdict::Accept;
    };

    let settings = match payload.settings {
        Some(raw) => match Settings::from_json(raw.get().as_bytes()) {
            Ok(settings) => settings,
            Err(e) => return Verdict::Reject(Rejection::InvalidSettings(e)),
        },
        None => Settings::default(),
    };
    let choice = choose_addresses(&settings, resolve);
    let (sources, warnings): (Vec<(String, &str)>, Vec<Warning>) = match &choice {
        Choice::Found(found) => {
            let sources = found
                .iter()
                .map(|f| (f.ip.to_string(), f.hostname))
                .collect();
            (sources, Vec::new())
        }
        Choice::Fallback {
            addresses,
            shortfall,
        } => {
            let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            let sources = addresses
                .iter()
                .map(|a| (a.clone(), "fallbackAddresses"))
                .collect();
            let warning = Warning::FallbackUsed {
                shortfall: shortfall.clone(),
                addresses,
            };
            (sources, vec![warning])
        }
        Choice::NoAddress(shortfall) => {
            return Verdict::Reject(Rejection::NoAddress(shortfall.clone()));
        }
    };

    let generate_name =
        crate::json::path(object, &["metadata", "generateName"]).and_then(crate::json::string);
    Verdict::Mutate(Mutation {
        object: host_aliases.rewrite(&choice.addresses()),
        warnings,
        summary: rewrite_summary(
            &request.namespace,
            &request.kind.kind,
            &object_name(&request.name, generate_name.as_deref()),
            &sources,
        ),
    })
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
