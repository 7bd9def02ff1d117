//! What the intent annotation asks of one object: the names to point at
//! the host's or a target's current address, and the annotation a
//! template gains. Apart
//! from `intent`, which reads and writes the annotation, because this
//! decision builds `messages`' types and `messages` reads `intent`.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::intent::{self, Item, host_names};
use crate::names::name_set;
use crate::rewrite::{HostAliases, names_any_of};
use crate::target::MAX_TARGETS;
use crate::verdict::{Rejection, Warning};

/// What an object asks of the policy beside its entries that ask.
#[derive(Debug, Default)]
pub struct Intent {
    /// Names that must point at the host's current addresses, and only
    /// there.
    pub refresh: Vec<String>,
    /// Names that must point at a target's current addresses, and only
    /// there, each with its target (`NAME=dns:TARGET`).
    pub targeted: Vec<(String, String)>,
    /// The targets the annotation names, each once: checked against
    /// `allowedTargets` whether or not they are looked up.
    pub annotated_targets: Vec<String>,
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
    /// Its `hostAliases`, when an entry asks for an address.
    pub aliases: Option<&'o HostAliases<'a>>,
}

/// Reads the intent annotation and decides what to refresh:
/// - a Pod at CREATE: every annotated name and every name of its entries
///   that ask, each pointed where its entry asks, else where the annotation
///   says; a malformed annotation is skipped with a warning, since a
///   refused Pod would loop its controller;
/// - a template a controller owns: nothing, since its owner compares it
///   with its own template and would make another copy on each difference;
/// - any other template: a malformed annotation is refused, where the
///   person who wrote it applies it; the annotation gains the names of its
///   entries that ask; its names are refreshed where its entries already
///   name one (the annotation alone, the GitOps form, stays as Git has it).
///
/// More distinct `dns:` names than [`MAX_TARGETS`] in the entries and the
/// annotation together refuse a template; a Pod ignores the annotation's.
pub fn read_intent(subject: &Subject) -> Result<Intent, Rejection> {
    let owned = !subject.is_pod && intent::has_controller(subject.object);
    let mut warnings = Vec::new();
    let annotated =
        match intent::annotation(subject.object, subject.metadata_path).map(intent::parse_raw) {
            None => Vec::new(),
            Some(Ok(items)) => items,
            Some(Err(e)) if subject.is_pod => {
                warnings.push(Warning::AnnotationIgnored(e));
                Vec::new()
            }
            Some(Err(_)) if owned => Vec::new(),
            Some(Err(e)) => return Err(Rejection::BadAnnotation(e)),
        };
    let mut intent = match (subject.is_pod, owned) {
        (true, _) if subject.is_pod_create => {
            let items = with_asked_items(annotated, subject.aliases);
            Intent {
                annotated_targets: targets_of(&items),
                refresh: host_names(&items),
                targeted: targeted(&items),
                ..Intent::default()
            }
        }
        (true, _) | (false, true) => Intent::default(),
        (false, false) => template_intent(subject, annotated),
    };
    let all = all_targets(subject.aliases, intent.annotated_targets.iter());
    if all.len() > MAX_TARGETS {
        if !subject.is_pod {
            return Err(Rejection::TooManyTargets);
        }
        warnings.push(Warning::AnnotationIgnored(
            intent::AnnotationError::TooManyTargets(all.len()),
        ));
        intent.targeted.clear();
        intent.annotated_targets.clear();
    }
    Ok(Intent { warnings, ..intent })
}

/// The targets the entries of `aliases` ask for, then those of `more`
/// they lack, each once, in order (a few dozen at most: a short scan finds
/// a repeat).
pub fn all_targets<'a, S: AsRef<str> + 'a>(
    aliases: Option<&'a HostAliases>,
    more: impl Iterator<Item = &'a S>,
) -> Vec<&'a str> {
    let asked = aliases.map_or(&[][..], HostAliases::targets);
    let mut targets: Vec<&str> = asked.iter().map(AsRef::as_ref).collect();
    for target in more {
        if !targets.contains(&target.as_ref()) {
            targets.push(target.as_ref());
        }
    }
    targets
}

/// The intent of a template no controller owns, whose annotation holds
/// `annotated`.
fn template_intent(subject: &Subject, annotated: Vec<Item>) -> Intent {
    let mut items = with_asked_items(annotated.clone(), subject.aliases);
    // A list the next admission would refuse is not written: the template
    // then keeps the addresses alone, as it would without the annotation.
    let annotation = (items != annotated
        && items.len() <= intent::MAX_ANNOTATED_NAMES
        && intent::targets_of(&items).len() <= MAX_TARGETS)
        .then(|| intent::format(&items));
    if annotation.is_none() {
        items = annotated;
    }
    let aliases = subject.aliases;
    let held =
        |names: &[String]| names_any_of(subject.object, subject.pod_spec_path, &name_set(names));
    let refresh = host_names(&items);
    let asks_for_the_host = aliases.is_some_and(HostAliases::asks_for_the_host) || held(&refresh);
    let targeted = targeted(&items);
    let target_names: Vec<String> = targeted.iter().map(|(name, _)| name.clone()).collect();
    let asks_for_targets = aliases.is_some_and(|a| !a.targets().is_empty()) || held(&target_names);
    Intent {
        refresh: if asks_for_the_host {
            refresh
        } else {
            Vec::new()
        },
        targeted: if asks_for_targets {
            targeted
        } else {
            Vec::new()
        },
        annotated_targets: targets_of(&items),
        annotation,
        warnings: Vec::new(),
    }
}

/// `items`, each name an entry that asks holds pointed where the entry
/// asks (the first such entry's), the others' names added after: the names
/// that must point at the host or at a target and nowhere else, in a bare
/// Pod as in the Pods of a template. Only names a pod spec may hold
/// (DNS-1123 subdomains) are taken from the entries.
fn with_asked_items(mut items: Vec<Item>, aliases: Option<&HostAliases>) -> Vec<Item> {
    let Some(aliases) = aliases else {
        return items;
    };
    // The names an entry placed; an annotated one (64 at most: a short
    // scan finds it) takes the place its entry asks for.
    let annotated = items.len();
    let mut placed: HashSet<Cow<str>> = HashSet::new();
    for item in aliases.asked_items() {
        if !placed.insert(Cow::Owned(item.name.clone())) {
            continue;
        }
        match items[..annotated].iter().position(|i| i.name == item.name) {
            Some(i) => items[i] = item,
            None => items.push(item),
        }
    }
    items
}

/// The names of `items` that point at a target, with it.
fn targeted(items: &[Item]) -> Vec<(String, String)> {
    (items.iter())
        .filter_map(|item| Some((item.name.clone(), item.target.clone()?)))
        .collect()
}

/// The targets of `items`, each once, in order.
fn targets_of(items: &[Item]) -> Vec<String> {
    (intent::targets_of(items).into_iter())
        .map(str::to_string)
        .collect()
}
