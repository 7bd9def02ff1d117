//! The intent annotation, `host-gateway.kubewarden.io/hostnames`: the host
//! names that must point at the container host in every Pod made from a
//! template. Templates carry the intent; each Pod gets the address current
//! at its creation, as Docker resolves `host-gateway` at each container
//! start.

use std::fmt;

use crate::json;
use crate::names::is_dns1123_subdomain;
use crate::target::{MAX_TARGETS, TARGET_PREFIX};
use crate::text::{as_written, join};

/// The annotation, on a Pod or in a pod template's metadata.
pub const HOSTNAMES_ANNOTATION: &str = "host-gateway.kubewarden.io/hostnames";

/// Most names the annotation may hold: each becomes part of a Pod's
/// `/etc/hosts`, and the list is checked on every admission.
pub const MAX_ANNOTATED_NAMES: usize = 64;

/// Why the annotation cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationError {
    /// Not a string.
    #[error("not a string")]
    NotAString,
    /// `a,,b`, a trailing comma, or nothing at all.
    #[error("item {0} is empty")]
    EmptyItem(usize),
    /// A name Kubernetes would refuse in `hostAliases[].hostnames`.
    #[error("item \"{0}\" is not a valid DNS-1123 subdomain")]
    InvalidName(String),
    /// `NAME=` followed by anything but `dns:` and a lowercase DNS name.
    #[error("item \"{0}\" points at no {TARGET_PREFIX} name")]
    InvalidTarget(String),
    /// One name given two places to point at.
    #[error("{0} is given two places to point at")]
    TwoPlaces(String),
    /// More names than [`MAX_ANNOTATED_NAMES`].
    #[error("{0} items; at most {MAX_ANNOTATED_NAMES} are allowed")]
    TooMany(usize),
    /// More distinct targets than [`MAX_TARGETS`].
    #[error("{0} {TARGET_PREFIX} names; at most {MAX_TARGETS} are looked up")]
    TooManyTargets(usize),
}

/// One item of the annotation: a name, and the `dns:` name whose address
/// it points at, or none for the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The host name a Pod's `/etc/hosts` gets.
    pub name: String,
    /// `TARGET` of `NAME=dns:TARGET`.
    pub target: Option<String>,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            None => f.write_str(&self.name),
            Some(target) => write!(f, "{}={TARGET_PREFIX}{target}", self.name),
        }
    }
}

/// Reads the annotation's value: comma-separated items, each a name that
/// points at the host or `NAME=dns:TARGET`, spaces around each allowed,
/// repeats dropped, in first-seen order.
///
/// ```
/// use host_gateway_policy::parse_hostnames_annotation;
///
/// let items = parse_hostnames_annotation("db.local, sso.local=dns:keycloak.sso.svc.cluster.local,db.local").unwrap();
/// assert_eq!(items[0].to_string(), "db.local");
/// assert_eq!(items[1].target.as_deref(), Some("keycloak.sso.svc.cluster.local"));
/// assert!(parse_hostnames_annotation("db.local,,x").is_err());
/// ```
pub fn parse(value: &str) -> Result<Vec<Item>, AnnotationError> {
    // Counted before anything is read, so a huge value costs one pass.
    let count = value.bytes().filter(|b| *b == b',').count() + 1;
    if count > MAX_ANNOTATED_NAMES {
        return Err(AnnotationError::TooMany(count));
    }
    let mut items: Vec<Item> = Vec::new();
    for (i, text) in value.split(',').enumerate() {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let item = parse_item(text, i)?;
        // At most 64 items: a short scan finds a repeat.
        match items.iter().find(|seen| seen.name == item.name) {
            Some(seen) if *seen == item => continue,
            Some(_) => return Err(AnnotationError::TwoPlaces(item.name)),
            None => {}
        }
        items.push(item);
    }
    let targets = targets_of(&items).len();
    if targets > MAX_TARGETS {
        return Err(AnnotationError::TooManyTargets(targets));
    }
    Ok(items)
}

/// Reads one trimmed item, the `index`th.
fn parse_item(text: &str, index: usize) -> Result<Item, AnnotationError> {
    if text.is_empty() {
        return Err(AnnotationError::EmptyItem(index + 1));
    }
    let (name, target) = match text.split_once('=') {
        None => (text, None),
        Some((name, place)) => match place.strip_prefix(TARGET_PREFIX) {
            Some(target) if is_dns1123_subdomain(target) => (name, Some(target.to_string())),
            _ => return Err(AnnotationError::InvalidTarget(as_written(text))),
        },
    };
    if !is_dns1123_subdomain(name) {
        return Err(AnnotationError::InvalidName(as_written(name)));
    }
    Ok(Item {
        name: name.to_string(),
        target,
    })
}

/// The names of `items` that point at the host.
pub fn host_names(items: &[Item]) -> Vec<String> {
    (items.iter())
        .filter(|item| item.target.is_none())
        .map(|item| item.name.clone())
        .collect()
}

/// The targets `items` point at, each once, in order (at most a few
/// dozen distinct: a short scan finds a repeat).
pub fn targets_of(items: &[Item]) -> Vec<&str> {
    let mut targets: Vec<&str> = Vec::new();
    for target in items.iter().filter_map(|item| item.target.as_deref()) {
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

/// The annotation's value for `items`.
pub fn format(items: &[Item]) -> String {
    let texts: Vec<String> = items.iter().map(ToString::to_string).collect();
    join(texts.iter().map(String::as_str), ",")
}

/// Where a kind keeps its Pod's metadata: beside its pod spec.
pub fn metadata_path(pod_spec_path: &[&'static str]) -> Vec<&'static str> {
    let mut path = pod_spec_path.to_vec();
    path.pop();
    path.push("metadata");
    path
}

/// The raw annotation value of the Pod metadata at `metadata_path`.
pub fn annotation<'a>(object: &'a str, metadata_path: &[&str]) -> Option<&'a str> {
    let annotations = json::path(object, metadata_path)
        .and_then(|metadata| json::field(metadata, "annotations"))?;
    json::field(annotations, HOSTNAMES_ANNOTATION)
}

/// Reads a raw annotation value.
pub fn parse_raw(raw: &str) -> Result<Vec<Item>, AnnotationError> {
    parse(&json::string(raw).ok_or(AnnotationError::NotAString)?)
}

/// Whether a controller owns the object (an `ownerReferences` entry with
/// `controller: true`), as a ReplicaSet of a Deployment or a Job of a
/// CronJob: its owner compares its template with its own.
pub fn has_controller(object: &str) -> bool {
    json::path(object, &["metadata", "ownerReferences"])
        .and_then(json::elements)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|owner| json::field(owner, "controller") == Some("true"))
        })
}

/// The object with `names` taken out of the annotation in the Pod
/// metadata at `metadata_path`; the annotation goes when no name is left.
/// `None` when it holds none of them (or is absent or malformed), read
/// only when there are names to take out.
pub fn without_names(object: &str, metadata_path: &[&str], names: &[String]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let raw = annotation(object, metadata_path)?;
    let listed = parse_raw(raw).ok()?;
    let mut left = Vec::new();
    for item in &listed {
        if !names.contains(&item.name) {
            left.push(item.clone());
        }
    }
    if left.len() == listed.len() {
        return None;
    }
    if !left.is_empty() {
        return json::replace(object, raw, &json::quoted(&format(&left)));
    }
    let annotations = json::path(object, metadata_path)
        .and_then(|metadata| json::field(metadata, "annotations"))?;
    json::replace(
        object,
        annotations,
        &json::without_member(annotations, HOSTNAMES_ANNOTATION)?,
    )
}

/// The object with the annotation set to `value` in the Pod metadata at
/// `metadata_path`, creating the metadata and annotations objects where
/// absent or null. `None` when a level on the way is not an object.
pub fn with_annotation(object: &str, metadata_path: &[&str], value: &str) -> Option<String> {
    let member = |key: &str, value_text: &str| format!("{}:{value_text}", json::quoted(key));
    let annotation = json::quoted(value);
    let annotations = format!("{{{}}}", member(HOSTNAMES_ANNOTATION, &annotation));
    let (parent_path, last) = metadata_path.split_at(metadata_path.len().checked_sub(1)?);
    let parent = json::path(object, parent_path).filter(|p| p.starts_with('{'))?;
    match json::field(parent, last[0]) {
        None => json::insert_member(
            object,
            parent,
            &member(last[0], &format!("{{\"annotations\":{annotations}}}")),
        ),
        Some(null) if null == "null" => {
            json::replace(object, null, &format!("{{\"annotations\":{annotations}}}"))
        }
        Some(metadata) if metadata.starts_with('{') => match json::field(metadata, "annotations") {
            None => json::insert_member(object, metadata, &member("annotations", &annotations)),
            Some(null) if null == "null" => json::replace(object, null, &annotations),
            Some(map) if map.starts_with('{') => match json::field(map, HOSTNAMES_ANNOTATION) {
                Some(old) => json::replace(object, old, &annotation),
                None => {
                    json::insert_member(object, map, &member(HOSTNAMES_ANNOTATION, &annotation))
                }
            },
            Some(_) => None,
        },
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::one("db.local", &["db.local"])]
    #[case::spaces(" db.local ,  cache.local", &["db.local", "cache.local"])]
    #[case::repeats("a,b,a", &["a", "b"])]
    #[case::digits_and_hyphens("db-1.svc-2.local", &["db-1.svc-2.local"])]
    #[case::a_target(
        "sso.local=dns:keycloak.sso.svc.cluster.local, db.local",
        &["sso.local=dns:keycloak.sso.svc.cluster.local", "db.local"]
    )]
    #[case::a_repeated_target("a=dns:t.svc,a=dns:t.svc", &["a=dns:t.svc"])]
    fn reads_names(#[case] value: &str, #[case] expected: &[&str]) {
        let items: Vec<String> = parse(value)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(items, expected);
    }

    #[rstest]
    #[case::empty("", AnnotationError::EmptyItem(1))]
    #[case::empty_item("a,,b", AnnotationError::EmptyItem(2))]
    #[case::trailing_comma("a,", AnnotationError::EmptyItem(2))]
    #[case::uppercase("Db.local", AnnotationError::InvalidName("Db.local".into()))]
    #[case::underscore("db_1.local", AnnotationError::InvalidName("db_1.local".into()))]
    #[case::leading_hyphen("-db.local", AnnotationError::InvalidName("-db.local".into()))]
    #[case::trailing_dot("db.local.", AnnotationError::InvalidName("db.local.".into()))]
    #[case::leading_nbsp_as_written(
        "db.local,\u{a0}cache.local",
        AnnotationError::InvalidName("\\u{a0}cache.local".into())
    )]
    #[case::too_many(&vec!["a"; 65].join(","), AnnotationError::TooMany(65))]
    #[case::no_dns_prefix("a=t.svc", AnnotationError::InvalidTarget("a=t.svc".into()))]
    #[case::uppercase_target("a=dns:T.svc", AnnotationError::InvalidTarget("a=dns:T.svc".into()))]
    #[case::empty_target("a=dns:", AnnotationError::InvalidTarget("a=dns:".into()))]
    #[case::an_address("a=10.0.0.1", AnnotationError::InvalidTarget("a=10.0.0.1".into()))]
    #[case::bad_name_before_target("A=dns:t.svc", AnnotationError::InvalidName("A".into()))]
    #[case::two_places("a,a=dns:t.svc", AnnotationError::TwoPlaces("a".into()))]
    #[case::two_targets("a=dns:t.svc,a=dns:u.svc", AnnotationError::TwoPlaces("a".into()))]
    #[case::too_many_targets(
        &(0..17).map(|i| format!("n{i}=dns:t{i}.svc")).collect::<Vec<_>>().join(","),
        AnnotationError::TooManyTargets(17)
    )]
    fn refuses_malformed_values(#[case] value: &str, #[case] expected: AnnotationError) {
        assert_eq!(parse(value), Err(expected));
    }

    #[test]
    fn sixty_four_names_are_allowed_and_long_names_are_cut_in_the_message() {
        let names: Vec<String> = (0..64).map(|i| format!("h{i}.local")).collect();
        let items: Vec<Item> = (names.iter())
            .map(|name| Item {
                name: name.clone(),
                target: None,
            })
            .collect();
        assert_eq!(parse(&names.join(",")).unwrap(), items);
        let sixteen: Vec<String> = (0..64)
            .map(|i| format!("n{i}=dns:t{}.svc", i % 16))
            .collect();
        assert_eq!(parse(&sixteen.join(",")).map(|i| i.len()), Ok(64));
        let long = "x".repeat(254);
        let Err(AnnotationError::InvalidName(shown)) = parse(&long) else {
            panic!("a 254-character name is refused");
        };
        assert!(shown.len() <= 80);
    }

    #[test]
    fn metadata_sits_beside_the_pod_spec() {
        assert_eq!(metadata_path(&["spec"]), ["metadata"]);
        assert_eq!(
            metadata_path(&["spec", "jobTemplate", "spec", "template", "spec"]),
            ["spec", "jobTemplate", "spec", "template", "metadata"]
        );
    }

    #[rstest]
    #[case::replaces_the_value(
        r#"{"spec":{"template":{"metadata":{"annotations":{"a":"1","host-gateway.kubewarden.io/hostnames":"x"}},"spec":{}}}}"#,
        r#"{"spec":{"template":{"metadata":{"annotations":{"a":"1","host-gateway.kubewarden.io/hostnames":"db.local"}},"spec":{}}}}"#
    )]
    #[case::adds_to_annotations(
        r#"{"spec":{"template":{"metadata":{"annotations":{"a":"1"}},"spec":{}}}}"#,
        r#"{"spec":{"template":{"metadata":{"annotations":{"a":"1","host-gateway.kubewarden.io/hostnames":"db.local"}},"spec":{}}}}"#
    )]
    #[case::creates_annotations(
        r#"{"spec":{"template":{"metadata":{"labels":{}},"spec":{}}}}"#,
        r#"{"spec":{"template":{"metadata":{"labels":{},"annotations":{"host-gateway.kubewarden.io/hostnames":"db.local"}},"spec":{}}}}"#
    )]
    #[case::replaces_null_annotations(
        r#"{"spec":{"template":{"metadata":{"annotations":null},"spec":{}}}}"#,
        r#"{"spec":{"template":{"metadata":{"annotations":{"host-gateway.kubewarden.io/hostnames":"db.local"}},"spec":{}}}}"#
    )]
    #[case::creates_metadata(
        r#"{"spec":{"template":{"spec":{}}}}"#,
        r#"{"spec":{"template":{"spec":{},"metadata":{"annotations":{"host-gateway.kubewarden.io/hostnames":"db.local"}}}}}"#
    )]
    #[case::empty_metadata(
        r#"{"spec":{"template":{"metadata":{ },"spec":{}}}}"#,
        r#"{"spec":{"template":{"metadata":{ "annotations":{"host-gateway.kubewarden.io/hostnames":"db.local"}},"spec":{}}}}"#
    )]
    fn writes_the_annotation_in_place(#[case] object: &str, #[case] expected: &str) {
        let path = metadata_path(&["spec", "template", "spec"]);
        assert_eq!(
            with_annotation(object, &path, "db.local").as_deref(),
            Some(expected)
        );
    }

    #[rstest]
    #[case::one_of_two("db.local,cache.local", &["db.local"], Some(r#"{"spec":{"template":{"metadata":{"annotations":{"x":"1","host-gateway.kubewarden.io/hostnames":"cache.local"}}}}}"#))]
    #[case::the_last(" db.local ", &["db.local"], Some(r#"{"spec":{"template":{"metadata":{"annotations":{"x":"1"}}}}}"#))]
    #[case::none_listed("db.local", &["api.local"], None)]
    #[case::malformed("db.local,,x", &["db.local"], None)]
    #[case::a_target("db.local,sso=dns:k.svc", &["db.local"], Some(r#"{"spec":{"template":{"metadata":{"annotations":{"x":"1","host-gateway.kubewarden.io/hostnames":"sso=dns:k.svc"}}}}}"#))]
    fn takes_names_out_of_the_annotation(
        #[case] value: &str,
        #[case] names: &[&str],
        #[case] expected: Option<&str>,
    ) {
        let object = format!(
            r#"{{"spec":{{"template":{{"metadata":{{"annotations":{{"x":"1","{HOSTNAMES_ANNOTATION}":"{value}"}}}}}}}}}}"#
        );
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        let path = ["spec", "template", "metadata"];
        assert_eq!(without_names(&object, &path, &names).as_deref(), expected);
    }

    #[test]
    fn other_shapes_get_no_annotation() {
        let path = metadata_path(&["spec", "template", "spec"]);
        assert_eq!(
            with_annotation(r#"{"spec":{"template":[]}}"#, &path, "x"),
            None
        );
        assert_eq!(
            with_annotation(
                r#"{"spec":{"template":{"metadata":{"annotations":[]}}}}"#,
                &path,
                "x"
            ),
            None
        );
    }

    #[rstest]
    #[case::controller(
        r#"{"metadata":{"ownerReferences":[{"kind":"Deployment","controller":true}]}}"#,
        true
    )]
    #[case::not_controller(
        r#"{"metadata":{"ownerReferences":[{"kind":"Deployment","controller":false}]}}"#,
        false
    )]
    #[case::no_flag(r#"{"metadata":{"ownerReferences":[{"kind":"Deployment"}]}}"#, false)]
    #[case::none(r#"{"metadata":{}}"#, false)]
    fn knows_a_controlled_object(#[case] object: &str, #[case] expected: bool) {
        assert_eq!(has_controller(object), expected);
    }
}
