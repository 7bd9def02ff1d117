//! One `validate` call, start to end. DNS sits behind a function argument,
//! so the whole path runs and is tested without a waPC host.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::json;
use crate::lookup::{Choice, choose_addresses};
use crate::messages::{Rejection, Warning, object_name, rewrite_summary};
use crate::text::excerpt;
use crate::pod_spec::pod_spec_path;
use crate::prefilter::may_contain_any;
use crate::rewrite::{HOST_GATEWAY, HostAliases, hostnames_present, with_host_gateway_entry};
use crate::settings::{Settings, comparable_name};

/// What the policy answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted as it is.
    Accept,
    /// Accepted with `host-gateway` replaced (or names injected).
    Mutate(Mutation),
    /// Accepted as it is, with warnings: no address for the names to
    /// inject.
    Warn(Vec<Warning>),
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

/// The Pod annotation that keeps `injectHostnames` out of a pod when it
/// says `"false"`.
pub const INJECT_ANNOTATION: &str = "host-gateway.kubewarden.io/inject";

/// The settings key that turns injection on: payloads that mention it are
/// read even when they hold no `host-gateway`.
const INJECT_SETTING: &str = "injectHostnames";

/// Why a `validate` payload, JSON itself, is not a request the policy can
/// read. The API server never sends one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload is not an object.
    #[error("the payload is not a JSON object")]
    NotAnObject,
    /// A field that must be there is not.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A field that must be an object is something else.
    #[error("`{0}` is not an object")]
    FieldNotAnObject(&'static str),
    /// A field that must be a string is something else.
    #[error("`{0}` is not a string")]
    NotAString(&'static str),
    /// JSON that serde_json refuses to read as the payload (a repeated
    /// field, say), in its words.
    #[error("{0}")]
    Unreadable(String),
}

impl PayloadError {
    fn unreadable(error: serde_json::Error) -> Self {
        PayloadError::Unreadable(excerpt(&error.to_string()))
    }
}

/// The `validate` payload, read with serde_json: the settings and the
/// request as raw text, borrowed.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request: Option<&'a RawValue>,
}

/// The AdmissionRequest fields the policy reads, as raw text: their types
/// are checked below, in the policy's words.
#[derive(Deserialize)]
struct RequestFields<'a> {
    #[serde(borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    operation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    namespace: Option<&'a RawValue>,
    #[serde(borrow, default)]
    object: Option<&'a RawValue>,
}

/// The `group` and `kind` of `request.kind`.
#[derive(Deserialize)]
struct KindFields<'a> {
    #[serde(borrow, default)]
    group: Option<&'a RawValue>,
    #[serde(borrow, default)]
    kind: Option<&'a RawValue>,
}

/// The parts of an AdmissionRequest the policy reads, borrowed from the
/// payload. Absent fields read as empty, as Kubernetes leaves them out.
struct Request<'a> {
    group: Cow<'a, str>,
    kind: Cow<'a, str>,
    operation: Cow<'a, str>,
    name: Cow<'a, str>,
    namespace: Cow<'a, str>,
    object: Option<&'a str>,
}

/// Reads the `validate` payload: the raw settings (absent or `null` for
/// none) and the request.
fn read_payload(text: &str) -> Result<(Option<&str>, Request<'_>), PayloadError> {
    let payload: Payload = serde_json::from_str(text).map_err(|e| {
        // JSON of another shape than an object.
        if e.classify() == Category::Data && !text.trim_start().starts_with('{') {
            PayloadError::NotAnObject
        } else {
            PayloadError::unreadable(e)
        }
    })?;
    let request = payload.request.ok_or(PayloadError::Missing("request"))?;
    if !request.get().starts_with('{') {
        return Err(PayloadError::FieldNotAnObject("request"));
    }
    let fields: RequestFields =
        serde_json::from_str(request.get()).map_err(PayloadError::unreadable)?;
    let kind = match fields.kind {
        Some(kind) if kind.get().starts_with('{') => {
            serde_json::from_str(kind.get()).map_err(PayloadError::unreadable)?
        }
        Some(_) => return Err(PayloadError::FieldNotAnObject("request.kind")),
        None => KindFields {
            group: None,
            kind: None,
        },
    };
    fn text_of<'a>(
        raw: Option<&'a RawValue>,
        field: &'static str,
    ) -> Result<Cow<'a, str>, PayloadError> {
        match raw {
            None => Ok(Cow::Borrowed("")),
            Some(raw) => json::string(raw.get()).ok_or(PayloadError::NotAString(field)),
        }
    }
    let request = Request {
        group: text_of(kind.group, "request.kind.group")?,
        kind: text_of(kind.kind, "request.kind.kind")?,
        operation: text_of(fields.operation, "request.operation")?,
        name: text_of(fields.name, "request.name")?,
        namespace: text_of(fields.namespace, "request.namespace")?,
        object: fields.object.map(RawValue::get),
    };
    Ok((payload.settings.map(RawValue::get), request))
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
    // Nearly every request: skip parsing when neither `host-gateway` nor the
    // setting that turns injection on can occur.
    if !may_contain_any(payload, &[HOST_GATEWAY, INJECT_SETTING]) {
        return Verdict::Accept;
    }
    // The payload is read whole, numbers, escapes and depth included, so the
    // policy reads exactly what any JSON reader (policy-server's diff
    // included) reads, and refuses the rest as unreadable; the API server
    // never sends such a request.
    let text = match std::str::from_utf8(payload) {
        Ok(text) => text,
        Err(e) => return Verdict::Reject(Rejection::UnreadableRequest(e.to_string())),
    };
    let (settings, request) = match read_payload(text) {
        Ok(payload) => payload,
        Err(e) => return Verdict::Reject(Rejection::UnreadableRequest(e.to_string())),
    };
    if !matches!(request.operation.as_ref(), "CREATE" | "UPDATE") {
        return Verdict::Accept;
    }
    let Some(path) = pod_spec_path(&request.group, &request.kind) else {
        return Verdict::Accept;
    };
    let Some(object) = request.object else {
        return Verdict::Accept;
    };
    let host_aliases = HostAliases::with_host_gateway(object, path);
    let is_pod_create =
        request.group.is_empty() && request.kind == "Pod" && request.operation == "CREATE";
    if host_aliases.is_none() && !is_pod_create {
        return Verdict::Accept;
    }

    let settings = match settings {
        Some(raw) => match Settings::from_json(raw.as_bytes()) {
            Ok(settings) => settings,
            // A pod that asked for nothing is never refused.
            Err(_) if host_aliases.is_none() => return Verdict::Accept,
            Err(e) => return Verdict::Reject(Rejection::InvalidSettings(e)),
        },
        None => Settings::default(),
    };
    let inject = if is_pod_create && !opted_out(object) {
        names_to_inject(object, path, &settings.inject_hostnames)
    } else {
        Vec::new()
    };
    if host_aliases.is_none() && inject.is_empty() {
        return Verdict::Accept;
    }

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
        // A pod that asked for host-gateway cannot be admitted without an
        // address; one that asked for nothing is never refused.
        Choice::NoAddress(shortfall) if host_aliases.is_some() => {
            return Verdict::Reject(Rejection::NoAddress(shortfall.clone()));
        }
        Choice::NoAddress(shortfall) => {
            return Verdict::Warn(vec![Warning::NotInjected {
                names: inject,
                shortfall: shortfall.clone(),
            }]);
        }
    };

    // The names to inject ride on one more host-gateway entry, rewritten
    // and merged like the others: one lookup, one entry per address.
    let injected = (!inject.is_empty())
        .then(|| with_host_gateway_entry(object, path, &inject))
        .flatten();
    let rewritten = match (&injected, &host_aliases) {
        (Some(with_entry), _) => {
            HostAliases::with_host_gateway(with_entry, path).map(|aliases| aliases.rewrite(&choice.addresses()))
        }
        (None, Some(aliases)) => Some(aliases.rewrite(&choice.addresses())),
        (None, None) => None,
    };
    let Some(rewritten) = rewritten else {
        // The pod spec has a shape no entry can be added to: the API server
        // refuses it anyway.
        return Verdict::Accept;
    };

    // Only a nameless object is named by its generateName: no pass for the
    // others.
    let generate_name = request
        .name
        .is_empty()
        .then(|| json::path(object, &["metadata", "generateName"]).and_then(json::string))
        .flatten();
    Verdict::Mutate(Mutation {
        object: rewritten,
        warnings,
        summary: rewrite_summary(
            &request.namespace,
            &request.kind,
            &object_name(&request.name, generate_name.as_deref()),
            &sources,
        ),
    })
}

/// Whether the Pod's annotation keeps injection out.
fn opted_out(object: &str) -> bool {
    json::path(object, &["metadata", "annotations", INJECT_ANNOTATION])
        .and_then(json::string)
        .is_some_and(|value| value == "false")
}

/// The names of `inject` the object's `hostAliases` do not hold yet.
fn names_to_inject(object: &str, path: &[&str], inject: &[String]) -> Vec<String> {
    if inject.is_empty() {
        return Vec::new();
    }
    let present: HashSet<String> = hostnames_present(object, path)
        .iter()
        .map(|name| comparable_name(name))
        .collect();
    inject
        .iter()
        .filter(|name| !present.contains(&comparable_name(name)))
        .cloned()
        .collect()
}
