//! The policy settings: which names to look up, which address families to
//! write, and the addresses to use when no name resolves.

use std::net::IpAddr;

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::ip_family::IpFamily;
use crate::json;
use crate::names::{comparable_name, is_dns_name, is_dns1123_subdomain};
use crate::reach::unreachable_kind;
use crate::target::{DEFAULT_ALLOWED_TARGETS, TargetPattern};
use crate::text::{as_written, excerpt};

/// The names local platforms answer inside a cluster for the container
/// host, looked up in this order (docs/platforms.md cites each and argues
/// the order). `host.docker.internal` comes first: wherever it answers, it is
/// the host; the names after it answer only where it does not. They carry
/// no trailing dot, so `/etc/hosts` entries (hostNetwork mode, `kwctl run`)
/// still match them.
pub const DEFAULT_HOSTNAMES: [&str; 5] = [
    "host.docker.internal",
    "host.lima.internal",
    "host.containers.internal",
    "host.k3d.internal",
    "host.minikube.internal",
];

/// Most names looked up: each may cost one DNS lookup on the admission path.
pub const MAX_HOSTNAMES: usize = 16;
/// Most fallback addresses: each becomes one hostAliases entry.
pub const MAX_FALLBACK_ADDRESSES: usize = 16;
/// Most `allowedTargets` patterns: each target is checked against each.
pub const MAX_ALLOWED_TARGETS: usize = 64;

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
        "unknown setting `{0}`: expected hostnames, ipFamilies, fallbackAddresses, injectHostnames, \
         allowedTargets or reportStale"
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
    /// An `injectHostnames` entry that Kubernetes refuses in
    /// `hostAliases[].hostnames` (`ValidateDNS1123Subdomain`,
    /// pkg/apis/core/validation): every Pod it went into would be refused.
    #[error(
        "`injectHostnames` entry \"{0}\" is not a valid DNS-1123 subdomain, which Kubernetes \
         requires of hostAliases hostnames: write lowercase letters, digits, '-' and '.', \
         without a trailing dot"
    )]
    NotHostAliasName(String),
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
    /// A setting given twice in one object. policy-server and kwctl never
    /// send one (they read the settings into a map first); another host
    /// might, and which value it meant is not for the policy to guess.
    #[error("`{0}` is given twice; give each setting once")]
    RepeatedSetting(&'static str),
    /// An `ipFamilies` entry given twice.
    #[error("`ipFamilies` lists {0} twice")]
    RepeatedIpFamily(IpFamily),
    /// An address where a host name belongs.
    #[error(
        "`{field}` item \"{address}\" is an address, where a host name belongs; \
         put addresses in `fallbackAddresses`"
    )]
    AddressForHostname {
        /// `hostnames` or `injectHostnames`.
        field: &'static str,
        /// The address as written.
        address: String,
    },
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
    /// A `fallbackAddresses` entry of a family `ipFamilies` leaves out.
    #[error(
        "`fallbackAddresses` entry \"{address}\" is {family}, which `ipFamilies` does not list; \
         add {family} to `ipFamilies` or remove the entry"
    )]
    FallbackFamilyNotListed {
        /// The address, canonical.
        address: String,
        /// Its family.
        family: IpFamily,
    },
    /// A `fallbackAddresses` entry given twice.
    #[error("`fallbackAddresses` lists {0} twice")]
    RepeatedFallbackAddress(String),
    /// An `allowedTargets` item that is no pattern.
    #[error(
        "`allowedTargets` item \"{0}\" is neither a lowercase DNS name nor `*.` followed by one, \
         e.g. *.svc.cluster.local"
    )]
    InvalidTargetPattern(String),
    /// An `allowedTargets` item given twice.
    #[error("`allowedTargets` lists \"{0}\" twice")]
    RepeatedTargetPattern(String),
    /// `reportStale` other than `true` or `false`.
    #[error("`reportStale` must be true or false")]
    NotABoolean,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Names looked up, in order, until every family has an address.
    pub hostnames: Vec<String>,
    /// Families written, in this order.
    pub ip_families: Vec<IpFamily>,
    /// Written, in this order and in canonical form, when no name gives an
    /// address.
    pub fallback_addresses: Vec<IpAddr>,
    /// Names added to every new Pod that lacks them, at the address found
    /// as for `host-gateway`; empty (the default) adds nothing.
    pub inject_hostnames: Vec<String>,
    /// The names a `dns:NAME` entry may ask for; empty allows none.
    pub allowed_targets: Vec<TargetPattern>,
    /// The report form: Pods whose names point where the host no longer
    /// is are refused, for the audit scanner to report; nothing mutates.
    pub report_stale: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hostnames: DEFAULT_HOSTNAMES.map(String::from).to_vec(),
            ip_families: vec![IpFamily::IPv4],
            fallback_addresses: Vec::new(),
            inject_hostnames: Vec::new(),
            allowed_targets: DEFAULT_ALLOWED_TARGETS
                .iter()
                .filter_map(|item| TargetPattern::parse(item))
                .collect(),
            report_stale: false,
        }
    }
}

impl Settings {
    /// Parses and validates settings JSON; `null` means all defaults.
    ///
    /// ```
    /// use host_gateway_policy::Settings;
    ///
    /// let settings = Settings::from_json(br#"{"ipFamilies": ["IPv6", "IPv4"]}"#).unwrap();
    /// assert_eq!(settings.hostnames[0], "host.docker.internal");
    ///
    /// let err = Settings::from_json(br#"{"hostname": ["x"]}"#).unwrap_err();
    /// assert!(err.to_string().contains("`hostname`"));
    /// ```
    pub fn from_json(json: &[u8]) -> Result<Self, SettingsError> {
        let text = std::str::from_utf8(json)
            .map_err(|e| SettingsError::NotJson(excerpt(&e.to_string())))?;
        let raw: &RawValue = serde_json::from_str(text)
            .map_err(|e| SettingsError::NotJson(excerpt(&e.to_string())))?;
        if raw.get() == "null" {
            return Ok(Settings::default());
        }
        // Read member by member rather than with serde's derive and
        // `deny_unknown_fields`, so that each error names its setting.
        let members = json::members(raw.get()).ok_or(SettingsError::NotAnObject)?;
        let mut settings = Settings::default();
        for (field, value) in fields_in_order(&members)? {
            match field {
                Some("hostnames") => settings.hostnames = parse_hostnames(value, "hostnames")?,
                Some("injectHostnames") => {
                    settings.inject_hostnames = parse_hostnames(value, "injectHostnames")?
                }
                Some("ipFamilies") => settings.ip_families = parse_ip_families(value)?,
                Some("allowedTargets") => settings.allowed_targets = parse_allowed_targets(value)?,
                Some(REPORT_SETTING) => settings.report_stale = parse_bool(value)?,
                Some(_) => settings.fallback_addresses = parse_fallback_addresses(value)?,
                None => return Err(SettingsError::UnknownField(as_written(value))),
            }
        }
        // A fallback is written as the host's address of its family.
        if let Some(address) = settings
            .fallback_addresses
            .iter()
            .find(|address| !settings.ip_families.contains(&IpFamily::of(address)))
        {
            return Err(SettingsError::FallbackFamilyNotListed {
                address: address.to_string(),
                family: IpFamily::of(address),
            });
        }
        Ok(settings)
    }
}

/// The setting that turns on the report form.
pub const REPORT_SETTING: &str = "reportStale";

/// The fields the settings have.
const FIELDS: [&str; 6] = [
    "hostnames",
    "injectHostnames",
    "ipFamilies",
    "allowedTargets",
    REPORT_SETTING,
    "fallbackAddresses",
];

/// The members as known fields, in order, or `None` with the key of an
/// unknown one; a known field given twice is refused.
fn fields_in_order<'a>(
    members: &'a [(Cow<'a, str>, &'a str)],
) -> Result<Vec<(Option<&'static str>, &'a str)>, SettingsError> {
    let mut seen = [false; FIELDS.len()];
    let mut fields = Vec::with_capacity(members.len());
    for (key, value) in members {
        match FIELDS.iter().position(|field| field == key) {
            Some(i) if seen[i] => return Err(SettingsError::RepeatedSetting(FIELDS[i])),
            Some(i) => {
                seen[i] = true;
                fields.push((Some(FIELDS[i]), *value));
            }
            None => fields.push((None, key.as_ref())),
        }
    }
    Ok(fields)
}

/// The raw JSON `value` as a list of strings.
fn strings(value: &str, field: &'static str) -> Result<Vec<String>, SettingsError> {
    serde_json::from_str(value).map_err(|_| SettingsError::NotAListOfStrings(field))
}

/// A list of DNS names: `hostnames` (not empty) or `injectHostnames`
/// (empty turns injection off).
fn parse_hostnames(value: &str, field: &'static str) -> Result<Vec<String>, SettingsError> {
    let names = strings(value, field)?;
    if !(field == "injectHostnames" && names.is_empty()) {
        check_count(field, names.len(), MAX_HOSTNAMES)?;
    }
    for (i, name) in names.iter().enumerate() {
        if name.parse::<IpAddr>().is_ok() {
            return Err(SettingsError::AddressForHostname {
                field,
                address: as_written(name),
            });
        }
        if !is_dns_name(name) {
            return Err(SettingsError::InvalidHostname {
                field,
                name: as_written(name),
            });
        }
        // These names are written into hostAliases, where the API server
        // takes only DNS-1123 subdomains.
        if field == "injectHostnames" && !is_dns1123_subdomain(name) {
            return Err(SettingsError::NotHostAliasName(as_written(name)));
        }
        if names[..i]
            .iter()
            .any(|earlier| comparable_name(earlier) == comparable_name(name))
        {
            return Err(SettingsError::RepeatedHostname {
                field,
                name: as_written(name),
            });
        }
    }
    Ok(names)
}

fn parse_ip_families(value: &str) -> Result<Vec<IpFamily>, SettingsError> {
    const FIELD: &str = "ipFamilies";
    let names = strings(value, FIELD)?;
    check_count(FIELD, names.len(), 2)?;
    let mut families = Vec::with_capacity(names.len());
    for name in &names {
        let family = IpFamily::from_name(name)
            .ok_or_else(|| SettingsError::UnknownIpFamily(as_written(name)))?;
        if families.contains(&family) {
            return Err(SettingsError::RepeatedIpFamily(family));
        }
        families.push(family);
    }
    Ok(families)
}

fn parse_fallback_addresses(value: &str) -> Result<Vec<IpAddr>, SettingsError> {
    const FIELD: &str = "fallbackAddresses";
    let texts = strings(value, FIELD)?;
    if texts.len() > MAX_FALLBACK_ADDRESSES {
        return Err(SettingsError::TooMany {
            field: FIELD,
            count: texts.len(),
            max: MAX_FALLBACK_ADDRESSES,
        });
    }
    let mut addresses: Vec<IpAddr> = Vec::with_capacity(texts.len());
    for text in &texts {
        let address = text
            .parse::<IpAddr>()
            .map_err(|_| SettingsError::InvalidFallbackAddress(as_written(text)))?
            .to_canonical();
        if let Some(kind) = unreachable_kind(&address) {
            return Err(SettingsError::UnusableFallbackAddress {
                address: as_written(text),
                kind,
            });
        }
        if addresses.contains(&address) {
            return Err(SettingsError::RepeatedFallbackAddress(address.to_string()));
        }
        addresses.push(address);
    }
    Ok(addresses)
}

/// `reportStale`: a JSON boolean.
fn parse_bool(value: &str) -> Result<bool, SettingsError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(SettingsError::NotABoolean),
    }
}

/// `allowedTargets`: empty allows no target.
fn parse_allowed_targets(value: &str) -> Result<Vec<TargetPattern>, SettingsError> {
    const FIELD: &str = "allowedTargets";
    let items = strings(value, FIELD)?;
    if !items.is_empty() {
        check_count(FIELD, items.len(), MAX_ALLOWED_TARGETS)?;
    }
    let mut patterns: Vec<TargetPattern> = Vec::with_capacity(items.len());
    for item in &items {
        let pattern = TargetPattern::parse(item)
            .ok_or_else(|| SettingsError::InvalidTargetPattern(as_written(item)))?;
        if patterns.contains(&pattern) {
            return Err(SettingsError::RepeatedTargetPattern(as_written(item)));
        }
        patterns.push(pattern);
    }
    Ok(patterns)
}

fn check_count(field: &'static str, count: usize, max: usize) -> Result<(), SettingsError> {
    if count == 0 {
        return Err(SettingsError::Empty(field));
    }
    if count > max {
        return Err(SettingsError::TooMany { field, count, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[rstest]
    #[case::null("null", Settings::default())]
    #[case::empty_object("{}", Settings::default())]
    #[case::all_fields(
        r#"{"hostnames": ["host.k3d.internal", "host.docker.internal."],
            "ipFamilies": ["IPv6", "IPv4"],
            "fallbackAddresses": ["172.18.0.1", "fd00::1"]}"#,
        Settings {
            hostnames: vec!["host.k3d.internal".into(), "host.docker.internal.".into()],
            ip_families: vec![IpFamily::IPv6, IpFamily::IPv4],
            fallback_addresses: vec![ip("172.18.0.1"), ip("fd00::1")],
            ..Settings::default()
        }
    )]
    #[case::mapped_fallback_made_canonical(
        r#"{"ipFamilies": ["IPv4", "IPv6"], "fallbackAddresses": ["::ffff:172.18.0.1", "FD00::0:1"]}"#,
        Settings {
            ip_families: vec![IpFamily::IPv4, IpFamily::IPv6],
            fallback_addresses: vec![ip("172.18.0.1"), ip("fd00::1")],
            ..Settings::default()
        }
    )]
    #[case::inject_hostnames(
        r#"{"injectHostnames": ["host.docker.internal", "host.containers.internal"]}"#,
        Settings {
            inject_hostnames: vec!["host.docker.internal".into(), "host.containers.internal".into()],
            ..Settings::default()
        }
    )]
    #[case::inject_nothing(r#"{"injectHostnames": []}"#, Settings::default())]
    #[case::podman_pasta_and_orbstack_fallbacks(
        r#"{"fallbackAddresses": ["169.254.1.2", "0.250.250.254"]}"#,
        Settings {
            fallback_addresses: vec![ip("169.254.1.2"), ip("0.250.250.254")],
            ..Settings::default()
        }
    )]
    #[case::allowed_targets(
        r#"{"allowedTargets": ["keycloak.localtest.me", "*.nip.io"]}"#,
        Settings {
            allowed_targets: vec![
                TargetPattern::Exact("keycloak.localtest.me".into()),
                TargetPattern::Suffix(".nip.io".into()),
            ],
            ..Settings::default()
        }
    )]
    #[case::no_target_allowed(
        r#"{"allowedTargets": []}"#,
        Settings { allowed_targets: vec![], ..Settings::default() }
    )]
    #[case::single_label(
        r#"{"hostnames": ["gateway"]}"#,
        Settings { hostnames: vec!["gateway".into()], ..Settings::default() }
    )]
    fn accepts_valid_settings(#[case] json: &str, #[case] expected: Settings) {
        assert_eq!(Settings::from_json(json.as_bytes()), Ok(expected));
    }

    #[rstest]
    #[case::not_json(
        "{",
        "settings are not valid JSON: EOF while parsing an object at line 1 column 1"
    )]
    #[case::not_an_object("[]", "settings must be a JSON object")]
    #[case::unknown_field(
        r#"{"hostname": ["a"]}"#,
        "unknown setting `hostname`: expected hostnames, ipFamilies, fallbackAddresses, \
         injectHostnames, allowedTargets or reportStale"
    )]
    #[case::hostnames_not_a_list(r#"{"hostnames": "a"}"#, "`hostnames` must be a list of strings")]
    #[case::hostnames_with_a_number(
        r#"{"hostnames": [1]}"#,
        "`hostnames` must be a list of strings"
    )]
    #[case::hostnames_empty(r#"{"hostnames": []}"#, "`hostnames` must not be empty")]
    #[case::hostname_with_space(
        r#"{"hostnames": ["host docker"]}"#,
        "`hostnames` entry \"host docker\" is not a valid DNS name"
    )]
    #[case::hostname_empty_label(
        r#"{"hostnames": ["host..internal"]}"#,
        "`hostnames` entry \"host..internal\" is not a valid DNS name"
    )]
    #[case::hostname_leading_hyphen(
        r#"{"hostnames": ["-host"]}"#,
        "`hostnames` entry \"-host\" is not a valid DNS name"
    )]
    #[case::hostname_just_a_dot(
        r#"{"hostnames": ["."]}"#,
        "`hostnames` entry \".\" is not a valid DNS name"
    )]
    #[case::hostname_repeated_in_another_case(
        r#"{"hostnames": ["a.internal", "A.internal"]}"#,
        "`hostnames` lists \"A.internal\" twice (names differing only by case or a trailing dot are the same)"
    )]
    #[case::hostname_repeated_with_a_trailing_dot(
        r#"{"hostnames": ["host.docker.internal", "HOST.docker.internal."]}"#,
        "`hostnames` lists \"HOST.docker.internal.\" twice (names differing only by case or a trailing dot are the same)"
    )]
    #[case::fallback_loopback(
        r#"{"fallbackAddresses": ["127.0.0.1"]}"#,
        "`fallbackAddresses` entry \"127.0.0.1\" is a loopback address, which cannot reach the host from a pod"
    )]
    #[case::fallback_loopback_v6(
        r#"{"fallbackAddresses": ["::1"]}"#,
        "`fallbackAddresses` entry \"::1\" is a loopback address, which cannot reach the host from a pod"
    )]
    #[case::fallback_mapped_loopback(
        r#"{"fallbackAddresses": ["::ffff:127.0.0.1"]}"#,
        "`fallbackAddresses` entry \"::ffff:127.0.0.1\" is a loopback address, which cannot reach the host from a pod"
    )]
    #[case::fallback_unspecified(
        r#"{"fallbackAddresses": ["0.0.0.0"]}"#,
        "`fallbackAddresses` entry \"0.0.0.0\" is an unspecified address, which cannot reach the host from a pod"
    )]
    #[case::fallback_unspecified_v6(
        r#"{"fallbackAddresses": ["::"]}"#,
        "`fallbackAddresses` entry \"::\" is an unspecified address, which cannot reach the host from a pod"
    )]
    #[case::fallback_multicast(
        r#"{"fallbackAddresses": ["ff02::1"]}"#,
        "`fallbackAddresses` entry \"ff02::1\" is a multicast or broadcast address, which cannot reach the host from a pod"
    )]
    #[case::fallback_broadcast(
        r#"{"fallbackAddresses": ["255.255.255.255"]}"#,
        "`fallbackAddresses` entry \"255.255.255.255\" is a multicast or broadcast address, which cannot reach the host from a pod"
    )]
    #[case::fallback_link_local_v6(
        r#"{"fallbackAddresses": ["fe80::1"]}"#,
        "`fallbackAddresses` entry \"fe80::1\" is an IPv6 link-local address, which cannot reach the host from a pod"
    )]
    #[case::fallback_repeated(
        r#"{"fallbackAddresses": ["172.18.0.1", "::ffff:172.18.0.1"]}"#,
        "`fallbackAddresses` lists 172.18.0.1 twice"
    )]
    #[case::inject_not_a_name(
        r#"{"injectHostnames": ["host_docker"]}"#,
        "`injectHostnames` entry \"host_docker\" is not a valid DNS name"
    )]
    #[case::inject_repeated(
        r#"{"injectHostnames": ["a.internal", "a.internal"]}"#,
        "`injectHostnames` lists \"a.internal\" twice (names differing only by case or a trailing dot are the same)"
    )]
    #[case::inject_with_a_root_dot(
        r#"{"injectHostnames": ["host.docker.internal."]}"#,
        "`injectHostnames` entry \"host.docker.internal.\" is not a valid DNS-1123 subdomain, which \
         Kubernetes requires of hostAliases hostnames: write lowercase letters, digits, '-' and \
         '.', without a trailing dot"
    )]
    #[case::inject_in_capitals(
        r#"{"injectHostnames": ["Host.Docker.Internal"]}"#,
        "`injectHostnames` entry \"Host.Docker.Internal\" is not a valid DNS-1123 subdomain, which \
         Kubernetes requires of hostAliases hostnames: write lowercase letters, digits, '-' and \
         '.', without a trailing dot"
    )]
    #[case::fallback_of_an_unlisted_family(
        r#"{"fallbackAddresses": ["172.18.0.1", "FD00::1"]}"#,
        "`fallbackAddresses` entry \"fd00::1\" is IPv6, which `ipFamilies` does not list; add IPv6 \
         to `ipFamilies` or remove the entry"
    )]
    #[case::fallback_before_its_family_is_dropped(
        r#"{"fallbackAddresses": ["172.18.0.1"], "ipFamilies": ["IPv6"]}"#,
        "`fallbackAddresses` entry \"172.18.0.1\" is IPv4, which `ipFamilies` does not list; add IPv4 \
         to `ipFamilies` or remove the entry"
    )]
    #[case::families_not_a_list(
        r#"{"ipFamilies": null}"#,
        "`ipFamilies` must be a list of strings"
    )]
    #[case::families_empty(r#"{"ipFamilies": []}"#, "`ipFamilies` must not be empty")]
    #[case::family_unknown(
        r#"{"ipFamilies": ["ipv4"]}"#,
        "`ipFamilies` entry \"ipv4\" is not IPv4 or IPv6"
    )]
    #[case::family_repeated(r#"{"ipFamilies": ["IPv4", "IPv4"]}"#, "`ipFamilies` lists IPv4 twice")]
    #[case::setting_given_twice(
        r#"{"injectHostnames": [1e999], "injectHostnames": ["a.b"]}"#,
        "`injectHostnames` is given twice; give each setting once"
    )]
    #[case::setting_given_twice_with_valid_values(
        r#"{"ipFamilies": ["IPv4"], "hostnames": ["a.b"], "ipFamilies": ["IPv6"]}"#,
        "`ipFamilies` is given twice; give each setting once"
    )]
    #[case::hostname_with_a_newline_as_written(
        r#"{"hostnames": ["host.docker.internal\n"]}"#,
        "`hostnames` entry \"host.docker.internal\\n\" is not a valid DNS name"
    )]
    #[case::inject_with_a_leading_space_as_written(
        r#"{"injectHostnames": [" host.docker.internal"]}"#,
        "`injectHostnames` entry \" host.docker.internal\" is not a valid DNS name"
    )]
    #[case::fallback_with_a_leading_nbsp_as_written(
        "{\"fallbackAddresses\": [\"\u{a0}172.18.0.1\"]}",
        "`fallbackAddresses` entry \"\\u{a0}172.18.0.1\" is not a valid IP address"
    )]
    #[case::family_with_a_trailing_tab_as_written(
        r#"{"ipFamilies": ["IPv4\t"]}"#,
        "`ipFamilies` entry \"IPv4\\t\" is not IPv4 or IPv6"
    )]
    #[case::unknown_field_as_written(
        r#"{"hostnames\n": []}"#,
        "unknown setting `hostnames\\n`: expected hostnames, ipFamilies, fallbackAddresses, \
         injectHostnames, allowedTargets or reportStale"
    )]
    #[case::target_pattern_inside_star(
        r#"{"allowedTargets": ["*.svc.cluster.local", "db.*.com"]}"#,
        "`allowedTargets` item \"db.*.com\" is neither a lowercase DNS name nor `*.` followed by \
         one, e.g. *.svc.cluster.local"
    )]
    #[case::target_pattern_empty(
        r#"{"allowedTargets": [""]}"#,
        "`allowedTargets` item \"\" is neither a lowercase DNS name nor `*.` followed by one, \
         e.g. *.svc.cluster.local"
    )]
    #[case::target_pattern_uppercase(
        r#"{"allowedTargets": ["*.Svc.cluster.local"]}"#,
        "`allowedTargets` item \"*.Svc.cluster.local\" is neither a lowercase DNS name nor `*.` \
         followed by one, e.g. *.svc.cluster.local"
    )]
    #[case::target_pattern_with_a_newline_as_written(
        r#"{"allowedTargets": ["*.nip.io\n"]}"#,
        "`allowedTargets` item \"*.nip.io\\n\" is neither a lowercase DNS name nor `*.` \
         followed by one, e.g. *.svc.cluster.local"
    )]
    #[case::target_pattern_repeated(
        r#"{"allowedTargets": ["*.nip.io", "a.b", "*.nip.io"]}"#,
        "`allowedTargets` lists \"*.nip.io\" twice"
    )]
    #[case::targets_not_a_list(
        r#"{"allowedTargets": "*.nip.io"}"#,
        "`allowedTargets` must be a list of strings"
    )]
    #[case::targets_given_twice(
        r#"{"allowedTargets": [], "allowedTargets": ["*.nip.io"]}"#,
        "`allowedTargets` is given twice; give each setting once"
    )]
    #[case::families_too_many(
        r#"{"ipFamilies": ["IPv4", "IPv6", "IPv4"]}"#,
        "`ipFamilies` has 3 entries; at most 2 are allowed"
    )]
    #[case::hostnames_an_address(
        r#"{"hostnames": ["host.docker.internal", "127.0.0.1"]}"#,
        "`hostnames` item \"127.0.0.1\" is an address, where a host name belongs; put addresses in `fallbackAddresses`"
    )]
    #[case::inject_an_address(
        r#"{"injectHostnames": ["192.168.65.254"]}"#,
        "`injectHostnames` item \"192.168.65.254\" is an address, where a host name belongs; put addresses in `fallbackAddresses`"
    )]
    #[case::fallback_not_a_list(
        r#"{"fallbackAddresses": "1.2.3.4"}"#,
        "`fallbackAddresses` must be a list of strings"
    )]
    #[case::fallback_invalid(
        r#"{"fallbackAddresses": ["host-gateway"]}"#,
        "`fallbackAddresses` entry \"host-gateway\" is not a valid IP address"
    )]
    #[case::fallback_leading_zero(
        r#"{"fallbackAddresses": ["010.0.0.1"]}"#,
        "`fallbackAddresses` entry \"010.0.0.1\" is not a valid IP address"
    )]
    fn rejects_invalid_settings(#[case] json: &str, #[case] message: &str) {
        let err = Settings::from_json(json.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), message);
    }

    #[rstest]
    #[case::hostnames("hostnames", MAX_HOSTNAMES, "h{}.internal")]
    #[case::fallback_addresses("fallbackAddresses", MAX_FALLBACK_ADDRESSES, "10.0.0.{}")]
    #[case::allowed_targets("allowedTargets", MAX_ALLOWED_TARGETS, "*.t{}.example")]
    fn rejects_too_many_items(#[case] field: &str, #[case] max: usize, #[case] item: &str) {
        let items: Vec<String> = (0..=max)
            .map(|i| item.replace("{}", &i.to_string()))
            .collect();
        let json = serde_json::json!({ field: items }).to_string();
        assert_eq!(
            Settings::from_json(json.as_bytes())
                .unwrap_err()
                .to_string(),
            format!(
                "`{field}` has {} entries; at most {max} are allowed",
                max + 1
            )
        );
    }

    #[test]
    fn quotes_huge_values_briefly() {
        let huge = "x".repeat(100_000);
        let json = serde_json::json!({ "hostnames": [format!("{huge} y")] }).to_string();
        let message = Settings::from_json(json.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            message.len() <= crate::messages::MAX_REJECTION_BYTES,
            "{} bytes",
            message.len()
        );
        assert!(
            message.ends_with("...\" is not a valid DNS name"),
            "{message}"
        );
    }
}
