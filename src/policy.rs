//! One `validate` call, start to end. DNS sits behind a function argument,
//! so the whole path runs and is tested without a waPC host.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::intent;
use crate::json;
use crate::lookup::{Choice, choose_addresses};
use crate::messages::{Rejection, Warning, object_name, rewrite_summary};
use crate::pod_spec::pod_spec_path;
use crate::prefilter::may_contain_any;
use crate::rewrite::{
    HOST_GATEWAY, HostAliases, hostnames_present, names_any_of, with_host_gateway_entry,
    without_stale_names,
};
use crate::settings::{Settings, comparable_name};
use crate::text::excerpt;

/// What the policy answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted as it is.
    Accept,
    /// Accepted with `host-gateway` replaced (or names injected).
    Mutate(Mutation),
    /// Accepted as it is, with warnings: no address for the names to
    /// inject or refresh, or an annotation that cannot be read.
    Warn(Vec<Warning>),
    /// Refused, with one sentence saying why.
    Reject(Rejection),
}

impl Verdict {
    /// Accepted as it is, with these warnings if any.
    fn accept_with(warnings: Vec<Warning>) -> Verdict {
        if warnings.is_empty() {
            Verdict::Accept
        } else {
            Verdict::Warn(warnings)
        }
    }
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

/// The `validate` payload, read with serde_json in one pass: the settings
/// and the object as raw text, borrowed; the request fields the policy
/// reads as raw text too, their types checked below in the policy's words.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request: Option<RequestFields<'a>>,
}

/// The AdmissionRequest fields the policy reads.
#[derive(Deserialize)]
struct RequestFields<'a> {
    #[serde(borrow, default)]
    kind: Option<KindFields<'a>>,
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
    let payload: Payload = serde_json::from_str(text).map_err(|e| diagnose(text, e))?;
    let fields = payload.request.ok_or(PayloadError::Missing("request"))?;
    let kind = fields.kind.unwrap_or(KindFields {
        group: None,
        kind: None,
    });
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

/// Why serde_json refused the payload, said as the policy says it where a
/// field has the wrong shape (the error path only, so the common path reads
/// the payload once).
fn diagnose(text: &str, error: serde_json::Error) -> PayloadError {
    if error.classify() != Category::Data {
        return PayloadError::unreadable(error);
    }
    let shape = |raw: Option<&str>, field| match raw {
        Some(raw) if !raw.starts_with('{') && raw != "null" => {
            Err(PayloadError::FieldNotAnObject(field))
        }
        _ => Ok(()),
    };
    let check = || {
        if json::members(text).is_none() {
            return Err(PayloadError::NotAnObject);
        }
        let request = json::field(text, "request");
        shape(request, "request")?;
        shape(request.and_then(|r| json::field(r, "kind")), "request.kind")?;
        Ok(())
    };
    check()
        .err()
        .unwrap_or_else(|| PayloadError::unreadable(error))
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
    // Nearly every request: skip parsing when neither `host-gateway`, the
    // intent annotation nor the setting that turns injection on can occur.
    // (The annotations' keys begin with `host-gateway`.)
    let text = match std::str::from_utf8(payload) {
        Ok(text) if !may_contain_any(text, &[HOST_GATEWAY, INJECT_SETTING]) => {
            return Verdict::Accept;
        }
        Ok(text) => text,
        // What is not UTF-8 is no JSON: refused only where it may ask for
        // the host, as any other payload is read only then.
        Err(e) if may_contain_any(&String::from_utf8_lossy(payload), &[HOST_GATEWAY]) => {
            return Verdict::Reject(Rejection::UnreadableRequest(e.to_string()));
        }
        Err(_) => return Verdict::Accept,
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
    let host_gateway = HostAliases::with_host_gateway(object, path);
    let is_pod = request.group.is_empty() && request.kind == "Pod";
    let is_pod_create = is_pod && request.operation == "CREATE";
    let metadata = intent::metadata_path(path);
    let Intent {
        refresh,
        annotation,
        mut warnings,
    } = match read_intent(
        object,
        path,
        &metadata,
        is_pod,
        is_pod_create,
        host_gateway.as_ref(),
    ) {
        Ok(intent) => intent,
        Err(rejection) => return Verdict::Reject(rejection),
    };
    if host_gateway.is_none() && refresh.is_empty() && !is_pod_create {
        return Verdict::accept_with(warnings);
    }

    let settings = match settings {
        Some(raw) => match Settings::from_json(raw.as_bytes()) {
            Ok(settings) => settings,
            // An object that holds no host-gateway is never refused.
            Err(_) if host_gateway.is_none() => return Verdict::accept_with(warnings),
            Err(e) => return Verdict::Reject(Rejection::InvalidSettings(e)),
        },
        None => Settings::default(),
    };
    let inject = if is_pod_create && !opted_out(object) {
        names_to_inject(object, path, &settings.inject_hostnames)
    } else {
        Vec::new()
    };
    if host_gateway.is_none() && refresh.is_empty() && inject.is_empty() {
        return Verdict::accept_with(warnings);
    }

    let choice = choose_addresses(&settings, resolve);
    let sources: Vec<(String, &str)> = match &choice {
        Choice::Found(found) => found
            .iter()
            .map(|f| (f.ip.to_string(), f.hostname))
            .collect(),
        Choice::Fallback {
            addresses,
            shortfall,
        } => {
            let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            let sources = addresses
                .iter()
                .map(|a| (a.clone(), "fallbackAddresses"))
                .collect();
            warnings.push(Warning::FallbackUsed {
                shortfall: shortfall.clone(),
                addresses,
            });
            sources
        }
        // An object that asked for host-gateway cannot be admitted without
        // an address (the API server refuses the word); any other is never
        // refused: a controller would retry its Pod forever.
        Choice::NoAddress(shortfall) if host_gateway.is_some() => {
            return Verdict::Reject(Rejection::NoAddress(shortfall.clone()));
        }
        Choice::NoAddress(shortfall) => {
            let shortfall = shortfall.clone();
            warnings.push(if refresh.is_empty() {
                Warning::NotInjected {
                    names: inject,
                    shortfall,
                }
            } else {
                Warning::NotRefreshed {
                    names: union(&refresh, &inject),
                    shortfall,
                }
            });
            return Verdict::Warn(warnings);
        }
    };
    let addresses = choice.addresses();

    // The annotation first, then the names that must point at the current
    // addresses: taken out of entries of other addresses, and added on one
    // more host-gateway entry (with the names to inject), which is
    // rewritten and merged like the others: one lookup, one entry per
    // address.
    let mut text = Cow::Borrowed(object);
    if let Some(value) = &annotation
        && let Some(annotated) = intent::with_annotation(&text, &metadata, value)
    {
        text = Cow::Owned(annotated);
    }
    if !refresh.is_empty() {
        let names: HashSet<&str> = refresh.iter().map(String::as_str).collect();
        if let Some(fresh) = without_stale_names(&text, path, &names, &addresses) {
            text = Cow::Owned(fresh);
        }
    }
    let extra = union(&refresh, &inject);
    if !extra.is_empty()
        && let Some(with_entry) = with_host_gateway_entry(&text, path, &extra)
    {
        text = Cow::Owned(with_entry);
    }
    let rewritten = match HostAliases::with_host_gateway(&text, path) {
        Some(aliases) => aliases.rewrite(&addresses),
        None => text.into_owned(),
    };
    // The address had not moved: the object goes back as it came, so a
    // re-applied manifest starts no rollout.
    if rewritten == object {
        return Verdict::accept_with(warnings);
    }

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

/// What an object asks of the policy beside its `host-gateway` entries.
struct Intent {
    /// Names that must point at the current addresses, and only there.
    refresh: Vec<String>,
    /// The template's new annotation value, when it changes.
    annotation: Option<String>,
    /// Warnings that stand whatever DNS answers.
    warnings: Vec<Warning>,
}

/// Reads the intent annotation at `metadata` and decides what to refresh:
/// - a Pod at CREATE: every annotated name; a malformed annotation is
///   skipped with a warning, since a refused Pod would loop its controller;
/// - a template a controller owns: nothing, since its owner compares it
///   with its own template and would make another copy on each difference;
/// - any other template: a malformed annotation is refused, where the
///   person who wrote it applies it; the annotation gains the names of its
///   `host-gateway` entries; its names are refreshed where its entries
///   already name one (the annotation alone, the GitOps form, stays as Git
///   has it).
fn read_intent(
    object: &str,
    path: &[&str],
    metadata: &[&str],
    is_pod: bool,
    is_pod_create: bool,
    host_gateway: Option<&HostAliases>,
) -> Result<Intent, Rejection> {
    let owned = !is_pod && intent::has_controller(object);
    let mut warnings = Vec::new();
    let annotated = match intent::annotation(object, metadata).map(intent::parse_raw) {
        None => Vec::new(),
        Some(Ok(names)) => names,
        Some(Err(e)) if is_pod => {
            warnings.push(Warning::AnnotationIgnored(e));
            Vec::new()
        }
        Some(Err(_)) if owned => Vec::new(),
        Some(Err(e)) => return Err(Rejection::BadAnnotation(e)),
    };
    let nothing = |warnings| Intent {
        refresh: Vec::new(),
        annotation: None,
        warnings,
    };
    if is_pod {
        return Ok(if is_pod_create {
            Intent {
                refresh: annotated,
                annotation: None,
                warnings,
            }
        } else {
            nothing(warnings)
        });
    }
    if owned {
        return Ok(nothing(warnings));
    }
    let mut names = annotated.clone();
    if let Some(aliases) = host_gateway {
        let mut seen: HashSet<String> = names.iter().cloned().collect();
        for name in aliases.host_gateway_names() {
            if intent::is_dns1123_subdomain(&name) && seen.insert(name.to_string()) {
                names.push(name.into_owned());
            }
        }
    }
    // A list the next admission would refuse is not written: the template
    // then keeps the address alone, as it would without the annotation.
    let annotation = (names != annotated && names.len() <= intent::MAX_ANNOTATED_NAMES)
        .then(|| intent::format(&names));
    if annotation.is_none() {
        names = annotated;
    }
    let set: HashSet<&str> = names.iter().map(String::as_str).collect();
    let refresh = if host_gateway.is_some() || names_any_of(object, path, &set) {
        names
    } else {
        Vec::new()
    };
    Ok(Intent {
        refresh,
        annotation,
        warnings,
    })
}

/// `first`, then the names of `second` it lacks (as DNS compares names).
fn union(first: &[String], second: &[String]) -> Vec<String> {
    let mut seen: HashSet<String> = first.iter().map(|name| comparable_name(name)).collect();
    first
        .iter()
        .cloned()
        .chain(
            second
                .iter()
                .filter(|name| seen.insert(comparable_name(name)))
                .cloned(),
        )
        .collect()
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
