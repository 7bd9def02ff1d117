//! One `validate` call, start to end. DNS sits behind a function argument,
//! so the whole path runs and is tested without a waPC host.

use crate::json::{self, Members};
use crate::lookup::{Choice, choose_addresses};
use crate::messages::{PayloadError, Rejection, Warning, object_name, quote, rewrite_summary};
use crate::pod_spec::pod_spec_path;
use crate::rewrite::{
    HostAliases, hostnames_present, may_contain_host_gateway, with_host_gateway_entry,
};
use crate::settings::{Settings, same_name};

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

/// The parts of an AdmissionRequest the policy reads, borrowed from the
/// payload. Absent fields read as empty, as Kubernetes leaves them out.
struct Request<'a> {
    group: String,
    kind: String,
    operation: String,
    name: String,
    namespace: String,
    object: Option<&'a str>,
}

/// Reads the `validate` payload: the raw settings (absent or `null` for
/// none) and the request.
fn read_payload(members: Option<Members<'_>>) -> Result<(Option<&str>, Request<'_>), PayloadError> {
    let members = members.ok_or(PayloadError::NotAnObject)?;
    let [settings, request] = pick(members.outer, ["settings", "request"])?;
    request.ok_or(PayloadError::Missing("request"))?;
    let request_members = members
        .inner
        .ok_or(PayloadError::FieldNotAnObject("request"))?;
    let [kind, operation, name, namespace, object] = pick(
        request_members,
        [
            "request.kind",
            "request.operation",
            "request.name",
            "request.namespace",
            "request.object",
        ],
    )?;
    let [group, kind] = match kind {
        Some(kind) => pick(
            json::members(kind).ok_or(PayloadError::FieldNotAnObject("request.kind"))?,
            ["request.kind.group", "request.kind.kind"],
        )?,
        None => [None, None],
    };
    let text_of = |raw: Option<&str>, field| match raw {
        None => Ok(String::new()),
        Some(raw) => json::string(raw).ok_or(PayloadError::NotAString(field)),
    };
    let request = Request {
        group: text_of(group, "request.kind.group")?,
        kind: text_of(kind, "request.kind.kind")?,
        operation: text_of(operation, "request.operation")?,
        name: text_of(name, "request.name")?,
        namespace: text_of(namespace, "request.namespace")?,
        object: object.filter(|raw| *raw != "null"),
    };
    Ok((settings.filter(|raw| *raw != "null"), request))
}

/// The raw values of the members named by the last part of each of
/// `fields`, each given at most once.
fn pick<'a, const N: usize>(
    members: Vec<(String, &'a str)>,
    fields: [&'static str; N],
) -> Result<[Option<&'a str>; N], PayloadError> {
    let mut found = [None; N];
    for (key, value) in members {
        let wanted = fields
            .iter()
            .position(|field| field.rsplit('.').next() == Some(key.as_str()));
        if let Some(i) = wanted {
            if found[i].is_some() {
                return Err(PayloadError::Repeated(fields[i]));
            }
            found[i] = Some(value);
        }
    }
    Ok(found)
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
    // Nearly every request: skip parsing when `host-gateway` cannot occur
    // and injection is off.
    if !may_contain_host_gateway(payload) && !may_inject(payload) {
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
    let members = match json::members_and_inner(text, "request") {
        Ok(members) => members,
        Err(e) => return Verdict::Reject(Rejection::UnreadableRequest(quote(&e.to_string()))),
    };
    let (settings, request) = match read_payload(members) {
        Ok(payload) => payload,
        Err(e) => return Verdict::Reject(Rejection::UnreadableRequest(e.to_string())),
    };
    if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
        return Verdict::Accept;
    }
    let Some(path) = pod_spec_path(&request.group, &request.kind) else {
        return Verdict::Accept;
    };
    let Some(object) = request.object else {
        return Verdict::Accept;
    };
    let host_aliases = HostAliases::find(object, path);
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
            HostAliases::find(with_entry, path).map(|aliases| aliases.rewrite(&choice.addresses()))
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

/// Whether the settings may turn injection on. policy-server writes the
/// payload as `{"request":…,"settings":…}` with serde_json (policy-evaluator
/// `runtimes/wapc/runtime.rs`), so the settings are the tail after the last
/// `"settings"` key, and their keys are never escaped: a short look from the
/// end instead of a second pass over every request. Settings cannot hold
/// that word (their values are names, families and addresses).
fn may_inject(payload: &[u8]) -> bool {
    memchr::memmem::rfind(payload, br#""settings""#)
        .is_some_and(|at| memchr::memmem::find(&payload[at..], INJECT_SETTING.as_bytes()).is_some())
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
    let present = hostnames_present(object, path);
    inject
        .iter()
        .filter(|name| !present.iter().any(|p| same_name(p, name)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
