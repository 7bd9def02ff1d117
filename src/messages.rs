//! Every text a person reads: settings errors, rejections, warnings and the
//! log line. Tests match these texts exactly. Each message is bounded here,
//! where it is built, so no input turns an answer into a wall of text.

use std::fmt;

use crate::ip_family::IpFamily;

/// Longest rejection, in bytes.
pub const MAX_REJECTION_BYTES: usize = 512;
/// Longest warning, in bytes. Kubernetes asks for 120 characters where
/// possible and may truncate a warning over 256.
pub const MAX_WARNING_BYTES: usize = 256;
/// Longest excerpt of user input or host output quoted in a message.
const MAX_QUOTE_BYTES: usize = 80;

/// The host capability the policy uses to look names up.
pub const DNS_CAPABILITY: &str = "net/v1/dns_lookup_host";

/// Why the settings were refused. Each message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Not JSON at all.
    #[error("settings are not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("settings must be a JSON object")]
    NotAnObject,
    /// A key the policy does not know (a typo, most likely).
    #[error(
        "unknown setting `{0}`: expected hostnames, ipFamilies, fallbackAddresses or injectHostnames"
    )]
    UnknownField(String),
    /// A setting that must be a list of strings is something else.
    #[error("`{0}` must be a list of strings")]
    NotAListOfStrings(&'static str),
    /// A list setting given as `[]`.
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    /// A list setting longer than allowed.
    #[error("`{field}` has {count} entries; at most {max} are allowed")]
    TooMany {
        /// The setting.
        field: &'static str,
        /// How many entries it has.
        count: usize,
        /// How many are allowed.
        max: usize,
    },
    /// A `hostnames` or `injectHostnames` entry that is no DNS name.
    #[error("`{field}` entry \"{name}\" is not a valid DNS name")]
    InvalidHostname {
        /// The setting.
        field: &'static str,
        /// The entry, quoted briefly.
        name: String,
    },
    /// Two entries that differ only by case or a trailing dot.
    #[error(
        "`{field}` lists \"{name}\" twice (names differing only by case or a trailing dot are the same)"
    )]
    RepeatedHostname {
        /// The setting.
        field: &'static str,
        /// The entry, quoted briefly.
        name: String,
    },
    /// An `ipFamilies` entry other than `IPv4` or `IPv6`.
    #[error("`ipFamilies` entry \"{0}\" is not IPv4 or IPv6")]
    UnknownIpFamily(String),
    /// An `ipFamilies` entry given twice.
    #[error("`ipFamilies` lists {0} twice")]
    RepeatedIpFamily(IpFamily),
    /// A `fallbackAddresses` entry that is no IP address.
    #[error("`fallbackAddresses` entry \"{0}\" is not a valid IP address")]
    InvalidFallbackAddress(String),
    /// A `fallbackAddresses` entry no pod can use to reach the host.
    #[error(
        "`fallbackAddresses` entry \"{address}\" is {kind} address, which cannot reach the host from a pod"
    )]
    UnusableFallbackAddress {
        /// The address as written.
        address: String,
        /// e.g. `a loopback`.
        kind: &'static str,
    },
    /// A `fallbackAddresses` entry given twice.
    #[error("`fallbackAddresses` lists {0} twice")]
    RepeatedFallbackAddress(String),
}

/// A name that gave no address of the wanted families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The lookup failed; `reason` is the resolver's own words.
    LookupFailed {
        /// The name looked up.
        name: String,
        /// e.g. `Name does not resolve`.
        reason: String,
    },
    /// The name resolved, but to no address of a wanted family.
    NoMatchingAddress {
        /// The name looked up.
        name: String,
    },
}

impl Miss {
    fn name(&self) -> &str {
        match self {
            Miss::LookupFailed { name, .. } | Miss::NoMatchingAddress { name } => name,
        }
    }

    fn reason(&self) -> &str {
        match self {
            Miss::LookupFailed { reason, .. } => reason,
            Miss::NoMatchingAddress { .. } => "no usable address in the answer",
        }
    }
}

/// Why DNS gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// The policy server refused the DNS host capability to this policy.
    NotGranted,
    /// Every name was looked up; none gave an address of `families`.
    NoAddress {
        /// The wanted families, in settings order.
        families: Vec<IpFamily>,
        /// Every name tried, in settings order.
        misses: Vec<Miss>,
    },
}

impl Shortfall {
    /// `no IPv4 address for a, b (Name does not resolve), c (...)`, naming
    /// at most `listed` names; the rest are counted.
    fn render(&self, listed: usize) -> String {
        let (families, misses) = match self {
            Shortfall::NotGranted => return format!("{DNS_CAPABILITY} is not granted"),
            Shortfall::NoAddress { families, misses } => (families, misses),
        };
        let families = families
            .iter()
            .map(IpFamily::as_str)
            .collect::<Vec<_>>()
            .join(" or ");
        if listed == 0 || misses.is_empty() {
            return format!(
                "no {families} address for any of {} hostnames",
                misses.len()
            );
        }
        // Names that failed for the same reason share it, in first-seen order.
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for miss in misses.iter().take(listed) {
            match groups
                .iter_mut()
                .find(|(reason, _)| *reason == miss.reason())
            {
                Some((_, names)) => names.push(miss.name()),
                None => groups.push((miss.reason(), vec![miss.name()])),
            }
        }
        let mut text = format!("no {families} address for ");
        let groups: Vec<String> = groups
            .iter()
            .map(|(reason, names)| format!("{} ({reason})", names.join(", ")))
            .collect();
        text.push_str(&groups.join(", "));
        if misses.len() > listed {
            text.push_str(&format!(" and {} more", misses.len() - listed));
        }
        text
    }

    fn names(&self) -> usize {
        match self {
            Shortfall::NotGranted => 0,
            Shortfall::NoAddress { misses, .. } => misses.len(),
        }
    }
}

/// Why a text is not JSON, and where: serde_json's words, so the message
/// reads as any Kubernetes tool's would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at line {line} column {column}")]
pub struct JsonError {
    /// What is wrong.
    pub reason: JsonReason,
    /// The line of the fault, from 1.
    pub line: usize,
    /// The byte column of the fault on its line.
    pub column: usize,
}

/// What is wrong with a text that is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonReason {
    /// The text ends where a value should be.
    #[error("EOF while parsing a value")]
    EofValue,
    /// The text ends inside an array.
    #[error("EOF while parsing a list")]
    EofList,
    /// The text ends inside an object.
    #[error("EOF while parsing an object")]
    EofObject,
    /// The text ends inside a string.
    #[error("EOF while parsing a string")]
    EofString,
    /// No value starts here.
    #[error("expected value")]
    ExpectedValue,
    /// A misspelt `true`, `false` or `null`.
    #[error("expected ident")]
    ExpectedIdent,
    /// A key without its colon.
    #[error("expected `:`")]
    ExpectedColon,
    /// Array elements not separated by commas.
    #[error("expected `,` or `]`")]
    ExpectedListCommaOrEnd,
    /// Object members not separated by commas.
    #[error("expected `,` or `}}`")]
    ExpectedObjectCommaOrEnd,
    /// An object key that is not a string.
    #[error("key must be a string")]
    KeyMustBeAString,
    /// A comma before `]` or `}`.
    #[error("trailing comma")]
    TrailingComma,
    /// More text after the value.
    #[error("trailing characters")]
    TrailingCharacters,
    /// A number not written as JSON writes numbers.
    #[error("invalid number")]
    InvalidNumber,
    /// A number too large for a 64-bit float.
    #[error("number out of range")]
    NumberOutOfRange,
    /// A backslash escape JSON does not have.
    #[error("invalid escape")]
    InvalidEscape,
    /// A raw control character in a string.
    #[error("control character (\\u0000-\\u001F) found while parsing a string")]
    ControlCharacter,
    /// A `\u` escape of half a surrogate pair, in the wrong place.
    #[error("lone leading surrogate in hex escape")]
    LoneSurrogate,
    /// A leading surrogate escape with no escape after it.
    #[error("unexpected end of hex escape")]
    UnexpectedEndOfHexEscape,
    /// Arrays and objects nested too deep.
    #[error("recursion limit exceeded")]
    RecursionLimitExceeded,
}

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
    /// A field given twice.
    #[error("`{0}` is given twice")]
    Repeated(&'static str),
}

/// Why the host's answer to a DNS lookup could not be read.
pub const UNREADABLE_DNS_ANSWER: &str = "the host's answer is not a list of addresses";

/// Why an admission request was rejected. Displays as one sentence of at
/// most [`MAX_REJECTION_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The payload is not a readable `validate` request.
    UnreadableRequest(String),
    /// The settings are invalid (policy-server refuses them at load, so
    /// this is seen only when a host skips `validate_settings`).
    InvalidSettings(SettingsError),
    /// No address was found, and there is no fallback.
    NoAddress(Shortfall),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let render = |listed: usize| match self {
            Rejection::UnreadableRequest(why) => {
                format!("host-gateway policy cannot read the admission request: {why}")
            }
            Rejection::InvalidSettings(error) => {
                format!("host-gateway policy settings are invalid: {error}")
            }
            Rejection::NoAddress(Shortfall::NotGranted) => format!(
                "cannot replace host-gateway in hostAliases: this policy is not granted the \
                 {DNS_CAPABILITY} host capability; add it to the PolicyServer's \
                 spec.namespacedPoliciesCapabilities or set fallbackAddresses"
            ),
            Rejection::NoAddress(shortfall) => format!(
                "cannot replace host-gateway in hostAliases: {}; make one of these names \
                 resolvable from the policy server or set fallbackAddresses",
                shortfall.render(listed)
            ),
        };
        let names = match self {
            Rejection::NoAddress(shortfall) => shortfall.names(),
            _ => 0,
        };
        f.write_str(&fit(
            &shortest_fitting(names, MAX_REJECTION_BYTES, render),
            MAX_REJECTION_BYTES,
        ))
    }
}

/// Warnings returned to the API client (kubectl prints them). Each
/// displays in at most [`MAX_WARNING_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// DNS gave no address; the fallback addresses were written.
    FallbackUsed {
        /// Why DNS gave none.
        shortfall: Shortfall,
        /// The addresses written, in order.
        addresses: Vec<String>,
    },
    /// No address for the names `injectHostnames` adds: the pod is
    /// admitted without them.
    NotInjected {
        /// The names not added.
        names: Vec<String>,
        /// Why DNS gave no address.
        shortfall: Shortfall,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shortfall, addresses) = match self {
            Warning::FallbackUsed {
                shortfall,
                addresses,
            } => (shortfall, addresses),
            Warning::NotInjected { names, shortfall } => {
                let text = shortest_fitting(shortfall.names(), MAX_WARNING_BYTES, |listed| {
                    format!(
                        "host-gateway: {} not added: {}",
                        counted(names, names.len()),
                        shortfall.render(listed)
                    )
                });
                return f.write_str(&fit(&text, MAX_WARNING_BYTES));
            }
        };
        // The addresses first: they are what the user must check.
        let mut shown = addresses.len();
        let render_with = |listed: usize, shown: usize| {
            format!(
                "host-gateway: {}; used fallback {}",
                shortfall.render(listed),
                counted(addresses, shown)
            )
        };
        while shown > 1 && render_with(shortfall.names(), shown).len() > MAX_WARNING_BYTES {
            shown -= 1;
        }
        let text = shortest_fitting(shortfall.names(), MAX_WARNING_BYTES, |listed| {
            render_with(listed, shown)
        });
        f.write_str(&fit(&text, MAX_WARNING_BYTES))
    }
}

/// `a, b and 3 more`: the first `shown` items, the rest counted.
fn counted(items: &[String], shown: usize) -> String {
    let shown = shown.clamp(1, items.len().max(1));
    let mut text = items
        .iter()
        .take(shown)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > shown {
        text.push_str(&format!(" and {} more", items.len() - shown));
    }
    text
}

/// `render(listed)` for the largest `listed <= names` that fits in `max`
/// bytes, or `render(0)`.
fn shortest_fitting(names: usize, max: usize, render: impl Fn(usize) -> String) -> String {
    (1..=names)
        .rev()
        .map(&render)
        .find(|text| text.len() <= max)
        .unwrap_or_else(|| render(0))
}

/// `text` in at most `max` bytes: whole when it fits, else cut after the
/// last whole word that fits and marked with `...`.
pub fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let room = max.saturating_sub(3);
    let mut cut = room;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    // Never half a word: back up to the last space, if there is one.
    if let Some(space) = text[..cut].rfind(' ') {
        cut = space;
    }
    format!("{}...", text[..cut].trim_end())
}

/// The first line of `text`, trimmed, at most [`MAX_QUOTE_BYTES`].
pub fn quote(text: &str) -> String {
    fit(text.lines().next().unwrap_or("").trim(), MAX_QUOTE_BYTES)
}

/// The log line of one rewrite, e.g.
/// `[default] Deployment/web: host-gateway -> 192.168.65.254 (host.docker.internal)`.
/// `sources` are `(address, where it came from)`.
pub fn rewrite_summary(
    namespace: &str,
    kind: &str,
    name: &str,
    sources: &[(String, &str)],
) -> String {
    let namespace = match namespace {
        "" => String::new(),
        namespace => format!("[{}] ", quote(namespace)),
    };
    // Consecutive addresses from one source share it.
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for (address, source) in sources {
        match groups.last_mut() {
            Some((addresses, last)) if last == source => addresses.push(address),
            _ => groups.push((vec![address], source)),
        }
    }
    let sources: Vec<String> = groups
        .iter()
        .map(|(addresses, source)| format!("{} ({source})", addresses.join(", ")))
        .collect();
    format!(
        "{namespace}{}/{name}: host-gateway -> {}",
        quote(kind),
        sources.join(", ")
    )
}

/// How the log line names an object: its name, `prefix*` for a
/// `generateName`, or `(unnamed)`.
pub fn object_name(name: &str, generate_name: Option<&str>) -> String {
    match (name, generate_name) {
        ("", Some(prefix)) => format!("{}*", quote(prefix)),
        ("", None) => "(unnamed)".to_string(),
        (name, _) => quote(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn failed(name: &str, reason: &str) -> Miss {
        Miss::LookupFailed {
            name: name.into(),
            reason: reason.into(),
        }
    }

    fn no_address(misses: Vec<Miss>) -> Shortfall {
        Shortfall::NoAddress {
            families: vec![IpFamily::IPv4],
            misses,
        }
    }

    #[rstest]
    #[case::short("Name does not resolve", "Name does not resolve")]
    #[case::first_line_only("failed\nstack backtrace:\n  0: foo", "failed")]
    #[case::trimmed("  spaced  ", "spaced")]
    #[case::empty("", "")]
    fn quote_keeps_the_first_line(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(quote(input), expected);
    }

    #[rstest]
    #[case::fits("one two", 7, "one two")]
    #[case::cut_between_words("one two three", 12, "one two...")]
    #[case::one_long_word("abcdefghij", 8, "abcde...")]
    #[case::multibyte_boundary("ééééé", 8, "éé...")]
    fn fit_cuts_whole_words_within_bytes(
        #[case] text: &str,
        #[case] max: usize,
        #[case] expected: &str,
    ) {
        assert_eq!(fit(text, max), expected);
        assert!(fit(text, max).len() <= max);
    }

    #[test]
    fn quote_bounds_bytes_not_characters() {
        let quoted = quote(&"é".repeat(500));
        assert!(quoted.len() <= MAX_QUOTE_BYTES, "{}", quoted.len());
        assert!(quoted.ends_with("..."));
    }

    #[test]
    fn names_sharing_a_reason_share_it() {
        let rejection = Rejection::NoAddress(no_address(vec![
            failed("a.invalid", "Name or service not known"),
            failed("b.invalid", "Name or service not known"),
        ]));
        assert_eq!(
            rejection.to_string(),
            "cannot replace host-gateway in hostAliases: no IPv4 address for a.invalid, b.invalid \
             (Name or service not known); make one of these names resolvable from the policy \
             server or set fallbackAddresses"
        );
    }

    #[test]
    fn each_reason_follows_its_names() {
        let shortfall = Shortfall::NoAddress {
            families: vec![IpFamily::IPv4, IpFamily::IPv6],
            misses: vec![
                failed("host.docker.internal", "Name does not resolve"),
                Miss::NoMatchingAddress {
                    name: "host.k3d.internal".into(),
                },
                failed("gateway.local", "Name does not resolve"),
            ],
        };
        assert_eq!(
            shortfall.render(3),
            "no IPv4 or IPv6 address for host.docker.internal, gateway.local (Name does not \
             resolve), host.k3d.internal (no usable address in the answer)"
        );
    }

    #[test]
    fn not_granted_has_its_own_sentence() {
        assert_eq!(
            Rejection::NoAddress(Shortfall::NotGranted).to_string(),
            "cannot replace host-gateway in hostAliases: this policy is not granted the \
             net/v1/dns_lookup_host host capability; add it to the PolicyServer's \
             spec.namespacedPoliciesCapabilities or set fallbackAddresses"
        );
    }

    #[rstest]
    #[case::not_resolved("Name does not resolve")]
    #[case::glibc("Name or service not known")]
    #[case::temporary("Temporary failure in name resolution")]
    fn common_fallback_warning_fits_120(#[case] reason: &str) {
        let warning = Warning::FallbackUsed {
            shortfall: no_address(vec![failed("host.docker.internal", reason)]),
            addresses: vec!["172.18.0.1".into()],
        };
        let text = warning.to_string();
        assert_eq!(
            text,
            format!(
                "host-gateway: no IPv4 address for host.docker.internal ({reason}); used fallback 172.18.0.1"
            )
        );
        assert!(text.len() <= 120, "{} bytes: {text}", text.len());
    }

    #[test]
    fn not_injected_names_the_names_and_the_reason() {
        let warning = Warning::NotInjected {
            names: vec!["host.docker.internal".into()],
            shortfall: no_address(vec![failed(
                "host.docker.internal",
                "Name does not resolve",
            )]),
        };
        let text = warning.to_string();
        assert_eq!(
            text,
            "host-gateway: host.docker.internal not added: no IPv4 address for \
             host.docker.internal (Name does not resolve)"
        );
        assert!(text.len() <= 120, "{} bytes", text.len());
    }

    #[test]
    fn the_largest_warning_settings_allow_stays_within_256_bytes() {
        let long = |i: usize| format!("{}.{}.internal", "a".repeat(63), i);
        let warning = Warning::FallbackUsed {
            shortfall: Shortfall::NoAddress {
                families: vec![IpFamily::IPv6, IpFamily::IPv4],
                misses: (0..16).map(|i| failed(&long(i), &"é".repeat(40))).collect(),
            },
            addresses: (0..16)
                .map(|i| format!("fd00:1111:2222:3333:4444:5555:6666:{i:x}"))
                .collect(),
        };
        let text = warning.to_string();
        assert!(
            text.len() <= MAX_WARNING_BYTES,
            "{} bytes: {text}",
            text.len()
        );
        assert!(text.contains(" and 15 more"), "{text}");
    }

    #[test]
    fn many_long_names_are_counted_within_512_bytes() {
        let rejection = Rejection::NoAddress(no_address(
            (0..16)
                .map(|i| {
                    failed(
                        &format!("{}.n{i}.internal", "h".repeat(60)),
                        "Name does not resolve",
                    )
                })
                .collect(),
        ));
        let text = rejection.to_string();
        assert!(text.len() <= MAX_REJECTION_BYTES, "{} bytes", text.len());
        assert!(text.contains(" and 12 more; make one"), "{text}");
    }

    #[test]
    fn a_name_too_long_to_list_is_counted() {
        let warning = Warning::FallbackUsed {
            shortfall: no_address(vec![failed(&"a".repeat(253), "Name does not resolve")]),
            addresses: vec!["fd00:1111:2222:3333:4444:5555:6666:7777".into()],
        };
        assert_eq!(
            warning.to_string(),
            "host-gateway: no IPv4 address for any of 1 hostnames; used fallback \
             fd00:1111:2222:3333:4444:5555:6666:7777"
        );
    }

    #[test]
    fn summary_and_names() {
        assert_eq!(
            rewrite_summary(
                "default",
                "Pod",
                &object_name("", Some("web-")),
                &[("192.168.65.254".into(), "host.docker.internal")]
            ),
            "[default] Pod/web-*: host-gateway -> 192.168.65.254 (host.docker.internal)"
        );
        assert_eq!(object_name("", None), "(unnamed)");
        assert_eq!(object_name("web", Some("x")), "web");
    }
}
