//! What the intent annotation asks of one object: the names to point at
//! the host's current address, and the annotation a template gains. Apart
//! from `intent`, which reads and writes the annotation, because this
//! decision builds `messages`' types and `messages` reads `intent`.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::intent;
use crate::names::is_dns1123_subdomain;
use crate::rewrite::{HostAliases, names_any_of};
use crate::verdict::{Rejection, Warning};

/// What an object asks of the policy beside its `host-gateway` entries.
#[derive(Debug, Default)]
pub struct Intent {
    /// Names that must point at the current addresses, and only there.
    pub refresh: Vec<String>,
    /// The template's new annotation value, when it changes.
    pub annotation: Option<String>,
    /// Warnings that stand whatever DNS answers.
    pub warnings: Vec<Warning>,
}

/// The object an intent is read from.
pub struct Subject<'o, 'a> {
    /// The object's JSON text.
    pub object: &'a str,
    /// Where its kind keeps the pod spec.
    pub pod_spec_path: &'o [&'static str],
    /// Where its kind keeps the Pod's metadata.
    pub metadata_path: &'o [&'static str],
    /// A Pod, not a template.
    pub is_pod: bool,
    /// A Pod being created.
    pub is_pod_create: bool,
    /// Its `hostAliases`, when they hold `host-gateway`.
    pub host_gateway: Option<&'o HostAliases<'a>>,
}

/// Reads the intent annotation and decides what to refresh:
/// - a Pod at CREATE: every annotated name and every name of its
///   `host-gateway` entries; a malformed annotation is skipped with a
///   warning, since a refused Pod would loop its controller;
/// - a template a controller owns: nothing, since its owner compares it
///   with its own template and would make another copy on each difference;
/// - any other template: a malformed annotation is refused, where the
///   person who wrote it applies it; the annotation gains the names of its
///   `host-gateway` entries; its names are refreshed where its entries
///   already name one (the annotation alone, the GitOps form, stays as Git
///   has it).
pub fn read_intent(subject: &Subject) -> Result<Intent, Rejection> {
    let owned = !subject.is_pod && intent::has_controller(subject.object);
    let mut warnings = Vec::new();
    let annotated =
        match intent::annotation(subject.object, subject.metadata_path).map(intent::parse_raw) {
            None => Vec::new(),
            Some(Ok(names)) => names,
            Some(Err(e)) if subject.is_pod => {
                warnings.push(Warning::AnnotationIgnored(e));
                Vec::new()
            }
            Some(Err(_)) if owned => Vec::new(),
            Some(Err(e)) => return Err(Rejection::BadAnnotation(e)),
        };
    let intent = match (subject.is_pod, owned) {
        (true, _) if subject.is_pod_create => Intent {
            refresh: with_host_gateway_names(annotated, subject.host_gateway),
            ..Intent::default()
        },
        (true, _) | (false, true) => Intent::default(),
        (false, false) => template_intent(subject, annotated),
    };
    Ok(Intent { warnings, ..intent })
}

/// The intent of a template no controller owns, whose annotation holds
/// `annotated`.
fn template_intent(subject: &Subject, annotated: Vec<String>) -> Intent {
    let mut names = with_host_gateway_names(annotated.clone(), subject.host_gateway);
    // A list the next admission would refuse is not written: the template
    // then keeps the address alone, as it would without the annotation.
    let annotation = (names != annotated && names.len() <= intent::MAX_ANNOTATED_NAMES)
        .then(|| intent::format(&names));
    if annotation.is_none() {
        names = annotated;
    }
    let set: HashSet<Cow<str>> = names.iter().map(|n| Cow::Borrowed(n.as_str())).collect();
    let asks_for_the_host =
        subject.host_gateway.is_some() || names_any_of(subject.object, subject.pod_spec_path, &set);
    Intent {
        refresh: if asks_for_the_host { names } else { Vec::new() },
        annotation,
        warnings: Vec::new(),
    }
}

/// `names`, then the names of the `host-gateway` entries of `aliases` not
/// among them (those a pod spec may hold, DNS-1123 subdomains), each once:
/// the names that must point at the host and nowhere else, in a bare Pod
/// as in the Pods of a template.
fn with_host_gateway_names(mut names: Vec<String>, aliases: Option<&HostAliases>) -> Vec<String> {
    if let Some(aliases) = aliases {
        let mut seen: HashSet<Cow<str>> = names.iter().cloned().map(Cow::Owned).collect();
        for name in aliases.host_gateway_names() {
            if is_dns1123_subdomain(&name) && seen.insert(name.clone()) {
                names.push(name.into_owned());
            }
        }
    }
    names
}
