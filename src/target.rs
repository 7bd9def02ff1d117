//! In-cluster targets, the rules before any lookup: an entry whose `ip` is
//! `dns:NAME` asks for NAME's address, and `allowedTargets` says which
//! names may be asked for (exact names and `*.suffix` patterns).

use std::fmt;

use crate::names::is_dns1123_subdomain;
use crate::text::{fit, join};

/// What an entry's `ip` starts with to ask for a name's address.
pub const TARGET_PREFIX: &str = "dns:";

/// The default `allowedTargets`: in-cluster Services only.
pub const DEFAULT_ALLOWED_TARGETS: [&str; 1] = ["*.svc.cluster.local"];

/// Most distinct names the `dns:` entries of one object may ask for: each
/// costs a lookup on the admission path.
pub const MAX_TARGETS: usize = 16;

/// Longest `allowedTargets` quoted in a message, in bytes: with a whole
/// name of 253 characters, the sentence stays within its bound.
const MAX_ALLOWED_BYTES: usize = 64;

/// The name an entry's `ip` asks for (`dns:NAME`), if it asks for one.
/// The name is not checked here: see [`check_target`].
pub fn target_name(ip: &str) -> Option<&str> {
    ip.strip_prefix(TARGET_PREFIX)
}

/// Why a target name cannot be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRefusal {
    /// Not a lowercase DNS name (a DNS-1123 subdomain).
    InvalidName,
    /// No pattern of `allowedTargets` covers it.
    NotAllowed,
}

/// One item of `allowedTargets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPattern {
    /// Exactly this name.
    Exact(String),
    /// Any name ending in this suffix (which starts with a dot) with at
    /// least one label before it: `*.svc.cluster.local`.
    Suffix(String),
}

impl TargetPattern {
    /// Reads one item: a lowercase DNS name, or `*.` and one; `None` for
    /// anything else (empty, uppercase, a `*` elsewhere, `*` alone).
    pub fn parse(item: &str) -> Option<Self> {
        match item.strip_prefix("*.") {
            Some(suffix) if is_dns1123_subdomain(suffix) => {
                Some(TargetPattern::Suffix(format!(".{suffix}")))
            }
            Some(_) => None,
            None if is_dns1123_subdomain(item) => Some(TargetPattern::Exact(item.to_string())),
            None => None,
        }
    }

    /// Whether this pattern covers `name`.
    pub fn covers(&self, name: &str) -> bool {
        match self {
            TargetPattern::Exact(exact) => name == exact,
            TargetPattern::Suffix(suffix) => name.len() > suffix.len() && name.ends_with(suffix),
        }
    }
}

impl fmt::Display for TargetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetPattern::Exact(name) => f.write_str(name),
            TargetPattern::Suffix(suffix) => write!(f, "*{suffix}"),
        }
    }
}

/// `allowed` as a message quotes it: the patterns as written, bounded;
/// `none` when empty.
pub fn allowed_list(allowed: &[TargetPattern]) -> String {
    if allowed.is_empty() {
        return "none".to_string();
    }
    let written: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    fit(
        &join(written.iter().map(String::as_str), ", "),
        MAX_ALLOWED_BYTES,
    )
}

/// Whether `name` may be looked up under `allowed`: checked before any
/// lookup, so a refused name costs no DNS query.
pub fn check_target(name: &str, allowed: &[TargetPattern]) -> Result<(), TargetRefusal> {
    if !is_dns1123_subdomain(name) {
        return Err(TargetRefusal::InvalidName);
    }
    match allowed.iter().any(|pattern| pattern.covers(name)) {
        true => Ok(()),
        false => Err(TargetRefusal::NotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn defaults() -> Vec<TargetPattern> {
        DEFAULT_ALLOWED_TARGETS
            .iter()
            .map(|item| TargetPattern::parse(item).unwrap())
            .collect()
    }

    #[rstest]
    #[case::service(
        "dns:ingress-nginx-controller.ingress-nginx.svc.cluster.local",
        Some("ingress-nginx-controller.ingress-nginx.svc.cluster.local")
    )]
    #[case::host_gateway("host-gateway", None)]
    #[case::address("10.0.0.7", None)]
    #[case::prefix_in_capitals("DNS:a.b", None)]
    #[case::empty_name("dns:", Some(""))]
    fn reads_the_name_an_entry_asks_for(#[case] ip: &str, #[case] expected: Option<&str>) {
        assert_eq!(target_name(ip), expected);
    }

    #[rstest]
    #[case::suffix("*.svc.cluster.local", TargetPattern::Suffix(".svc.cluster.local".into()))]
    #[case::exact("keycloak.localtest.me", TargetPattern::Exact("keycloak.localtest.me".into()))]
    fn reads_patterns(#[case] item: &str, #[case] expected: TargetPattern) {
        assert_eq!(TargetPattern::parse(item), Some(expected));
    }

    #[rstest]
    #[case::empty("")]
    #[case::star_alone("*")]
    #[case::star_dot("*.")]
    #[case::star_inside("db.*.com")]
    #[case::star_without_dot("*svc.cluster.local")]
    #[case::uppercase("Keycloak.localtest.me")]
    #[case::trailing_dot("keycloak.localtest.me.")]
    #[case::two_stars("*.*.svc.cluster.local")]
    fn refuses_malformed_patterns(#[case] item: &str) {
        assert_eq!(TargetPattern::parse(item), None);
    }

    #[rstest]
    #[case::a_service("web.default.svc.cluster.local", Ok(()))]
    #[case::a_deeper_name("a.web.default.svc.cluster.local", Ok(()))]
    #[case::the_suffix_itself("svc.cluster.local", Err(TargetRefusal::NotAllowed))]
    #[case::a_lookalike("evilsvc.cluster.local", Err(TargetRefusal::NotAllowed))]
    #[case::outside("keycloak.localtest.me", Err(TargetRefusal::NotAllowed))]
    #[case::uppercase("Web.default.svc.cluster.local", Err(TargetRefusal::InvalidName))]
    #[case::empty("", Err(TargetRefusal::InvalidName))]
    #[case::trailing_dot("web.default.svc.cluster.local.", Err(TargetRefusal::InvalidName))]
    fn the_default_allows_in_cluster_services_only(
        #[case] name: &str,
        #[case] expected: Result<(), TargetRefusal>,
    ) {
        assert_eq!(check_target(name, &defaults()), expected);
    }

    #[test]
    fn an_exact_pattern_covers_its_name_only() {
        let allowed = [TargetPattern::parse("keycloak.localtest.me").unwrap()];
        assert_eq!(check_target("keycloak.localtest.me", &allowed), Ok(()));
        assert_eq!(
            check_target("a.keycloak.localtest.me", &allowed),
            Err(TargetRefusal::NotAllowed)
        );
    }
}
