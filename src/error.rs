//! Every message the policy shows a person: settings errors, rejections,
//! warnings. Tests match these texts exactly.

use std::fmt;

use crate::lookup::{IpFamily, Miss};

/// Longest excerpt of user input or host output quoted in a message, so no
/// input turns an answer into a wall of text.
const MAX_QUOTE_CHARS: usize = 80;

/// Why the settings were refused. Each message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("settings are not valid JSON: {0}")]
    NotJson(String),
    #[error("settings must be a JSON object")]
    NotAnObject,
    #[error("unknown setting `{0}`: expected hostnames, ipFamilies or fallbackAddresses")]
    UnknownField(String),
    #[error("`{0}` must be a list of strings")]
    NotAListOfStrings(&'static str),
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    #[error("`{field}` has {count} entries; at most {max} are allowed")]
    TooMany {
        field: &'static str,
        count: usize,
        max: usize,
    },
    #[error("`hostnames` entry \"{0}\" is not a valid DNS name")]
    InvalidHostname(String),
    #[error("`hostnames` lists \"{0}\" twice")]
    RepeatedHostname(String),
    #[error("`ipFamilies` entry \"{0}\" is not IPv4 or IPv6")]
    UnknownIpFamily(String),
    #[error("`ipFamilies` lists {0} twice")]
    RepeatedIpFamily(IpFamily),
    #[error("`fallbackAddresses` entry \"{0}\" is not a valid IP address")]
    InvalidFallbackAddress(String),
}

/// Why an admission request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("host-gateway policy cannot read the admission request: {0}")]
    UnreadableRequest(String),
    #[error("host-gateway policy settings are invalid: {0}")]
    InvalidSettings(SettingsError),
    #[error(
        "cannot replace host-gateway in hostAliases: {0}; make one of these names resolvable from the policy server or set fallbackAddresses"
    )]
    NoAddress(Misses),
}

/// Warnings returned to the API client (kubectl prints them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    #[error("host-gateway: {misses}; used fallbackAddresses {addresses}")]
    FallbackUsed { misses: Misses, addresses: String },
}

/// The host names that gave no address of the wanted families, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misses {
    pub families: Vec<IpFamily>,
    pub misses: Vec<Miss>,
}

impl fmt::Display for Misses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let families = self
            .families
            .iter()
            .map(IpFamily::as_str)
            .collect::<Vec<_>>()
            .join(" or ");
        // Names are valid DNS names (253 characters at most): shown whole.
        let misses = self.misses.iter().map(|miss| match miss {
            Miss::LookupFailed { name, reason } => format!("{name} ({reason})"),
            Miss::NoMatchingAddress { name } => format!("{name} (no such address)"),
        });
        write!(f, "no {families} address for {}", list_briefly(misses))
    }
}

/// Longest list, in characters, that a message spells out in full.
const MAX_LIST_CHARS: usize = 200;

/// Joins `items` with commas; past [`MAX_LIST_CHARS`] the rest are counted,
/// not listed. The first item is always listed.
pub fn list_briefly(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    let mut listed = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 && listed.len() + 2 + item.len() > MAX_LIST_CHARS {
            return format!("{listed} and {} more", items.len() - i);
        }
        if i > 0 {
            listed.push_str(", ");
        }
        listed.push_str(item);
    }
    listed
}

/// The first line of `text`, cut to a length fit for a one-line message.
pub fn quote(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(MAX_QUOTE_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::short("Name does not resolve", "Name does not resolve")]
    #[case::first_line_only("failed\nstack backtrace:\n  0: foo", "failed")]
    #[case::trimmed("  spaced  ", "spaced")]
    #[case::empty("", "")]
    fn quote_keeps_the_first_line(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(quote(input), expected);
    }

    #[test]
    fn quote_cuts_long_text_on_a_char_boundary() {
        let long = "é".repeat(500);
        let quoted = quote(&long);
        assert_eq!(quoted, format!("{}...", "é".repeat(MAX_QUOTE_CHARS)));
    }

    #[test]
    fn long_lists_are_counted_not_spelled_out() {
        let names = (0..16).map(|i| format!("host-{i:02}.{}.internal", "x".repeat(40)));
        let listed = list_briefly(names);
        assert!(listed.ends_with(" and 13 more"), "{listed}");
        assert!(listed.len() <= MAX_LIST_CHARS + 12);
        assert_eq!(list_briefly(["a".repeat(300)]), "a".repeat(300));
        assert_eq!(list_briefly(["a".into(), "b".into()]), "a, b");
    }

    #[test]
    fn no_address_message_names_every_miss_and_the_fix() {
        let rejection = Rejection::NoAddress(Misses {
            families: vec![IpFamily::IPv4, IpFamily::IPv6],
            misses: vec![
                Miss::LookupFailed {
                    name: "host.docker.internal".into(),
                    reason: "Name does not resolve".into(),
                },
                Miss::NoMatchingAddress {
                    name: "host.k3d.internal".into(),
                },
            ],
        });
        assert_eq!(
            rejection.to_string(),
            "cannot replace host-gateway in hostAliases: no IPv4 or IPv6 address for \
             host.docker.internal (Name does not resolve), host.k3d.internal (no such address); \
             make one of these names resolvable from the policy server or set fallbackAddresses"
        );
    }
}
