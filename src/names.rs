//! The rules for host names: which names DNS looks up, which Kubernetes
//! accepts in `hostAliases`, and how DNS compares them.

use std::borrow::Cow;
use std::collections::HashSet;

/// RFC 1123 host name, optionally fully qualified with a trailing dot.
pub fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Whether `name` is a DNS-1123 subdomain, as Kubernetes checks
/// `hostAliases[].hostnames`: at most 253 characters, dot-separated labels
/// of lowercase letters, digits and inner hyphens.
pub fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
        })
}

/// A host name as DNS compares it: without case and the root dot.
pub fn comparable_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// `names` as a set, borrowed. One function for every such set: each
/// `collect` into a set is instantiated anew, a kilobyte of module each.
pub fn name_set<S: AsRef<str>>(names: &[S]) -> HashSet<Cow<'_, str>> {
    let mut set = HashSet::with_capacity(names.len());
    for name in names {
        set.insert(Cow::Borrowed(name.as_ref()));
    }
    set
}

/// `first`, then the names of `second` it lacks (as DNS compares names).
pub fn union(first: &[String], second: &[String]) -> Vec<String> {
    // Cow keys, as the other name sets have: one set type in the module.
    let mut seen: HashSet<Cow<str>> = first
        .iter()
        .map(|name| Cow::Owned(comparable_name(name)))
        .collect();
    first
        .iter()
        .cloned()
        .chain(
            second
                .iter()
                .filter(|name| seen.insert(Cow::Owned(comparable_name(name))))
                .cloned(),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::longest_label(&format!("{}.internal", "a".repeat(63)), true)]
    #[case::label_too_long(&format!("{}.internal", "a".repeat(64)), false)]
    #[case::name_too_long(&vec!["a".repeat(60); 5].join("."), false)]
    #[case::underscore("host_gateway", false)]
    #[case::trailing_hyphen("host-.internal", false)]
    #[case::fully_qualified("host.docker.internal.", true)]
    fn checks_dns_names(#[case] name: &str, #[case] valid: bool) {
        assert_eq!(is_dns_name(name), valid);
    }
}
