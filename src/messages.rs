//! Every text a person reads, rendered: rejections, warnings, what DNS
//! missed, and the log line (settings errors render beside their type, in
//! `settings`). Tests match these texts exactly. Each message is bounded
//! here, where it is built, so no input turns an answer into a wall of
//! text.

use std::borrow::Cow;
use std::fmt;

use crate::intent::HOSTNAMES_ANNOTATION;
use crate::ip_family::IpFamily;
use crate::lookup::{Miss, Shortfall, Skipped};
use crate::target::{MAX_TARGETS, TARGET_PREFIX, TargetRefusal};
use crate::text::{excerpt, fit, join};
use crate::verdict::{Rejection, TargetMiss, Warning};

/// Longest rejection, in bytes.
pub const MAX_REJECTION_BYTES: usize = 512;
/// Longest warning, in bytes. Kubernetes asks for 120 characters where
/// possible; the common ones are. The bound leaves room for one whole DNS
/// name (253 characters) and the words around it, so a warning always
/// names what the user must fix: at 256 a long annotated name was cut
/// away.
pub const MAX_WARNING_BYTES: usize = 320;

/// The host capability the policy uses to look names up.
pub const DNS_CAPABILITY: &str = "net/v1/dns_lookup_host";

impl Miss {
    fn name(&self) -> &str {
        match self {
            Miss::LookupFailed { name, .. }
            | Miss::FailedForNow { name, .. }
            | Miss::NotLookedUp { name }
            | Miss::NoMatchingAddress { name } => name,
            Miss::Skipped(skipped) => &skipped.name,
        }
    }

    fn reason(&self) -> Cow<'_, str> {
        match self {
            Miss::LookupFailed { reason, .. } => Cow::Borrowed(reason),
            Miss::FailedForNow { reason, .. } => Cow::Owned(format!("failed for now: {reason}")),
            Miss::NoMatchingAddress { .. } => Cow::Borrowed("no usable address in the answer"),
            Miss::NotLookedUp { .. } => Cow::Borrowed("not looked up: DNS too slow"),
            Miss::Skipped(Skipped { ip, kind, .. }) => {
                Cow::Owned(format!("skipped {ip}, {kind} address"))
            }
        }
    }
}

/// `a, b (Name does not resolve), c (...)`: the first `listed` misses,
/// those of one reason sharing it in first-seen order; the rest counted.
fn listed_misses(misses: &[Miss], listed: usize) -> String {
    let mut groups: Vec<(Cow<str>, Vec<&str>)> = Vec::new();
    for miss in misses.iter().take(listed) {
        let reason = miss.reason();
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, names)) => names.push(miss.name()),
            None => groups.push((reason, vec![miss.name()])),
        }
    }
    let groups: Vec<String> = groups
        .iter()
        .map(|(reason, names)| format!("{} ({reason})", join(names.iter().copied(), ", ")))
        .collect();
    let mut text = join(groups.iter().map(String::as_str), ", ");
    if misses.len() > listed {
        text.push_str(&format!(" and {} more", misses.len() - listed));
    }
    text
}

impl Shortfall {
    /// `no IPv4 address for a, b (Name does not resolve), c (...)`, naming
    /// at most `listed` names; the rest are counted.
    fn render(&self, listed: usize) -> String {
        let (families, misses) = match self {
            Shortfall::NotGranted => return format!("{DNS_CAPABILITY} is not granted"),
            Shortfall::NoAddress { families, misses } => (families, misses),
        };
        let families = join(families.iter().map(IpFamily::as_str), " or ");
        if listed == 0 || misses.is_empty() {
            return format!(
                "no {families} address for any of {} hostnames",
                misses.len()
            );
        }
        format!(
            "no {families} address for {}",
            listed_misses(misses, listed)
        )
    }

    /// Whether a lookup failed for now: a retry may succeed.
    fn failed_for_now(&self) -> bool {
        match self {
            Shortfall::NotGranted => false,
            Shortfall::NoAddress { misses, .. } => misses
                .iter()
                .any(|miss| matches!(miss, Miss::FailedForNow { .. } | Miss::NotLookedUp { .. })),
        }
    }

    fn names(&self) -> usize {
        match self {
            Shortfall::NotGranted => 0,
            Shortfall::NoAddress { misses, .. } => misses.len(),
        }
    }
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
                "cannot replace host-gateway in hostAliases: {}; {}make one of these names \
                 resolvable from the policy server or set fallbackAddresses",
                shortfall.render(listed),
                if shortfall.failed_for_now() {
                    "retry, or "
                } else {
                    ""
                }
            ),
            Rejection::ImmutablePodSpec { kind, asked } => format!(
                "cannot replace {asked} in hostAliases: a {kind}'s {spec} cannot change once \
                 created, and the stored {kind} does not hold every name of its {asked} \
                 entries; apply the {kind} as stored, or delete it and create it again",
                spec = if *kind == "Job" {
                    "pod template"
                } else {
                    "spec"
                }
            ),
            Rejection::TargetRefused {
                name,
                refusal: TargetRefusal::InvalidName,
                ..
            } => format!(
                "hostAliases ip \"{TARGET_PREFIX}{name}\" does not name a lowercase DNS name; \
                 write {TARGET_PREFIX} and a Service's name, e.g. \
                 {TARGET_PREFIX}ingress-nginx-controller.ingress-nginx.svc.cluster.local"
            ),
            Rejection::TargetRefused { name, allowed, .. } => format!(
                "hostAliases ip \"{TARGET_PREFIX}{name}\" is not looked up: the policy's \
                 allowedTargets setting ({allowed}) does not cover it; add the name, or a *. \
                 pattern that covers it, to allowedTargets, or write the address itself"
            ),
            Rejection::TooManyTargets => format!(
                "hostAliases ask for more than {MAX_TARGETS} different {TARGET_PREFIX} names, \
                 and at most {MAX_TARGETS} are looked up for one object; write the others' \
                 addresses themselves"
            ),
            Rejection::TargetNoAddress {
                name,
                shortfall: Shortfall::NotGranted,
            } => format!(
                "cannot replace {TARGET_PREFIX}{name} in hostAliases: this policy is not granted \
                 the {DNS_CAPABILITY} host capability; add it to the PolicyServer's \
                 spec.namespacedPoliciesCapabilities"
            ),
            Rejection::TargetNoAddress { name, shortfall } => format!(
                "cannot replace {TARGET_PREFIX}{name} in hostAliases: {}; {}check that the name \
                 resolves from the policy server, or write the address itself",
                shortfall.render(1),
                if shortfall.failed_for_now() {
                    "retry, or "
                } else {
                    ""
                }
            ),
            Rejection::StaleAddress {
                names,
                held,
                current,
                fix,
            } => format!(
                "{} {} at {}, but the host is now at {}; {fix}",
                counted(names, 8),
                if names.len() == 1 { "points" } else { "point" },
                counted(held, 4),
                join(current.iter().map(String::as_str), ", "),
            ),
            Rejection::CannotCheck(shortfall) => format!(
                "cannot check the host's address: {}; make one of these names resolvable from \
                 the policy server, then run the audit again",
                shortfall.render(listed)
            ),
            Rejection::BadAnnotation(error) => format!(
                "the pod template's annotation {HOSTNAMES_ANNOTATION} is invalid: {error}; \
                 write lowercase host names separated by commas, each alone for the host or as \
                 NAME={TARGET_PREFIX}TARGET"
            ),
        };
        let names = match self {
            Rejection::NoAddress(shortfall) | Rejection::CannotCheck(shortfall) => {
                shortfall.names()
            }
            _ => 0,
        };
        f.write_str(&fit(
            &longest_fitting(names, MAX_REJECTION_BYTES, render),
            MAX_REJECTION_BYTES,
        ))
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shortfall, addresses) = match self {
            Warning::FallbackUsed {
                shortfall,
                addresses,
            } => (shortfall, addresses),
            Warning::PassedOver {
                passed,
                addresses,
                name,
            } => {
                let name = excerpt(name);
                let text = longest_fitting(passed.len(), MAX_WARNING_BYTES, |listed| {
                    let passed = match listed {
                        0 => format!("{} names passed over", passed.len()),
                        _ => listed_misses(passed, listed),
                    };
                    format!(
                        "host-gateway: {passed}; used {} from {name}",
                        join(addresses.iter().map(String::as_str), ", ")
                    )
                });
                return f.write_str(&fit(&text, MAX_WARNING_BYTES));
            }
            Warning::AnnotationIgnored(error) => {
                let text =
                    format!("host-gateway: annotation {HOSTNAMES_ANNOTATION} ignored: {error}");
                return f.write_str(&fit(&text, MAX_WARNING_BYTES));
            }
            Warning::TargetLeftOut { name, shortfall } => {
                let text = format!(
                    "host-gateway: the hostAliases entry {TARGET_PREFIX}{name} left out: {}",
                    shortfall.render(1)
                );
                return f.write_str(&fit(&text, MAX_WARNING_BYTES));
            }
            Warning::TargetNotFollowed { names, name, why } => {
                let why = match why {
                    TargetMiss::NotAllowed(allowed) => {
                        format!("allowedTargets ({allowed}) does not cover it")
                    }
                    TargetMiss::NoAddress(shortfall) => shortfall.render(1),
                };
                let text = format!(
                    "host-gateway: {} not pointed at {TARGET_PREFIX}{name}, left as they were: \
                     {why}",
                    counted(names, 4)
                );
                return f.write_str(&fit(&text, MAX_WARNING_BYTES));
            }
            Warning::NotInjected { names, shortfall }
            | Warning::NotRefreshed { names, shortfall } => {
                let outcome = match self {
                    Warning::NotInjected { .. } => "not added",
                    _ => "left at the address they had",
                };
                // The names first: they are what the pod misses.
                let mut shown = names.len();
                let render_with = |listed: usize, shown: usize| {
                    format!(
                        "host-gateway: {} {outcome}: {}",
                        counted(names, shown),
                        shortfall.render(listed)
                    )
                };
                while shown > 1 && render_with(0, shown).len() > MAX_WARNING_BYTES {
                    shown -= 1;
                }
                let text = longest_fitting(shortfall.names(), MAX_WARNING_BYTES, |listed| {
                    render_with(listed, shown)
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
        let text = longest_fitting(shortfall.names(), MAX_WARNING_BYTES, |listed| {
            render_with(listed, shown)
        });
        f.write_str(&fit(&text, MAX_WARNING_BYTES))
    }
}

/// `a, b and 3 more`: the first `shown` items, the rest counted.
fn counted(items: &[String], shown: usize) -> String {
    let shown = shown.clamp(1, items.len().max(1));
    let mut text = join(items.iter().take(shown).map(String::as_str), ", ");
    if items.len() > shown {
        text.push_str(&format!(" and {} more", items.len() - shown));
    }
    text
}

/// The longest text that fits in `max` bytes: `render(listed)` for the
/// largest `listed <= names` that does, or `render(0)`.
fn longest_fitting(names: usize, max: usize, render: impl Fn(usize) -> String) -> String {
    (1..=names)
        .rev()
        .map(&render)
        .find(|text| text.len() <= max)
        .unwrap_or_else(|| render(0))
}

/// The log line of one rewrite, e.g.
/// `[default] Deployment/web: host-gateway -> 192.168.65.254 (host.docker.internal)`.
/// `sources` are `(address, where it came from)`.
pub fn rewrite_summary(
    namespace: &str,
    kind: &str,
    name: &str,
    sources: &[(String, String)],
) -> String {
    let namespace = match namespace {
        "" => String::new(),
        namespace => format!("[{}] ", excerpt(namespace)),
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
        .map(|(addresses, source)| format!("{} ({source})", join(addresses.iter().copied(), ", ")))
        .collect();
    // No address written: only the intent annotation followed an edit.
    let change = match sources.is_empty() {
        true => "the intent annotation follows the edit".to_string(),
        false => format!(
            "host-gateway -> {}",
            join(sources.iter().map(String::as_str), ", ")
        ),
    };
    format!("{namespace}{}/{name}: {change}", excerpt(kind))
}

/// How the log line names an object: its name, `prefix*` for a
/// `generateName`, or `(unnamed)`.
pub fn object_name(name: &str, generate_name: Option<&str>) -> String {
    match (name, generate_name) {
        ("", Some(prefix)) => format!("{}*", excerpt(prefix)),
        ("", None) => "(unnamed)".to_string(),
        (name, _) => excerpt(name),
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
    fn a_skipped_answer_says_what_it_held() {
        let warning = Warning::FallbackUsed {
            shortfall: no_address(vec![Miss::skipped(
                "host.docker.internal",
                "0.0.0.0",
                "an unspecified",
            )]),
            addresses: vec!["172.18.0.1".into()],
        };
        assert_eq!(
            warning.to_string(),
            "host-gateway: no IPv4 address for host.docker.internal (skipped 0.0.0.0, an \
             unspecified address); used fallback 172.18.0.1"
        );
    }

    #[test]
    fn passed_over_names_what_was_skipped_and_what_was_used() {
        let warning = Warning::PassedOver {
            passed: vec![Miss::skipped(
                "host.docker.internal",
                "127.0.0.1",
                "a loopback",
            )],
            addresses: vec!["172.19.0.1".into()],
            name: "host.k3d.internal".into(),
        };
        let text = warning.to_string();
        assert_eq!(
            text,
            "host-gateway: host.docker.internal (skipped 127.0.0.1, a loopback address); used \
             172.19.0.1 from host.k3d.internal"
        );
        assert!(text.len() <= 120, "{} bytes", text.len());
    }

    fn for_now(name: &str, reason: &str) -> Miss {
        Miss::FailedForNow {
            name: name.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn a_failure_for_now_says_so_and_that_a_retry_may_help() {
        let misses = vec![
            for_now("host.docker.internal", "Try again"),
            failed("host.lima.internal", "Name does not resolve"),
        ];
        assert_eq!(
            Rejection::NoAddress(no_address(misses.clone())).to_string(),
            "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal \
             (failed for now: Try again), host.lima.internal (Name does not resolve); retry, or \
             make one of these names resolvable from the policy server or set fallbackAddresses"
        );
        let warning = Warning::FallbackUsed {
            shortfall: no_address(misses[..1].to_vec()),
            addresses: vec!["172.18.0.1".into()],
        };
        let text = warning.to_string();
        assert_eq!(
            text,
            "host-gateway: no IPv4 address for host.docker.internal (failed for now: Try again); \
             used fallback 172.18.0.1"
        );
        assert!(text.len() <= 120, "{} bytes", text.len());
        let warning = Warning::PassedOver {
            passed: misses[..1].to_vec(),
            addresses: vec!["172.19.0.1".into()],
            name: "host.k3d.internal".into(),
        };
        assert_eq!(
            warning.to_string(),
            "host-gateway: host.docker.internal (failed for now: Try again); used 172.19.0.1 from \
             host.k3d.internal"
        );
    }

    #[test]
    fn names_not_looked_up_say_why() {
        let rejection = Rejection::NoAddress(no_address(vec![
            for_now("host.docker.internal", "Try again"),
            Miss::NotLookedUp {
                name: "host.k3d.internal".into(),
            },
            Miss::NotLookedUp {
                name: "host.minikube.internal".into(),
            },
        ]));
        assert_eq!(
            rejection.to_string(),
            "cannot replace host-gateway in hostAliases: no IPv4 address for host.docker.internal \
             (failed for now: Try again), host.k3d.internal, host.minikube.internal (not looked \
             up: DNS too slow); retry, or make one of these names resolvable from the policy \
             server or set fallbackAddresses"
        );
    }

    #[test]
    fn passed_over_stays_within_its_bound() {
        let passed = (0..16)
            .map(|i| {
                Miss::skipped(
                    &format!("{}.{i}.internal", "a".repeat(63)),
                    "::1",
                    "a loopback",
                )
            })
            .collect();
        let warning = Warning::PassedOver {
            passed,
            addresses: vec!["fd00:1111:2222:3333:4444:5555:6666:7777".into(); 2],
            name: format!("{}.internal", "b".repeat(63)),
        };
        let text = warning.to_string();
        assert!(
            text.len() <= MAX_WARNING_BYTES,
            "{} bytes: {text}",
            text.len()
        );
        assert!(text.contains(" and 15 more; used "), "{text}");
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

    /// A property run of CI found it: an annotated name of 253 characters,
    /// the longest Kubernetes takes, was cut away from its own warning.
    #[rstest]
    #[case::not_added(true)]
    #[case::left_as_they_were(false)]
    fn a_warning_names_the_longest_name_whole(#[case] added: bool) {
        let name = format!(
            "{}.{}.local",
            vec!["a".repeat(62); 3].join("."),
            "b".repeat(58)
        );
        assert_eq!(name.len(), 253);
        let (names, shortfall) = (
            vec![name.clone()],
            no_address(vec![failed("host.lima.internal", "Name does not resolve")]),
        );
        let warning = match added {
            true => Warning::NotInjected { names, shortfall },
            false => Warning::NotRefreshed { names, shortfall },
        };
        let text = warning.to_string();
        assert!(text.len() <= MAX_WARNING_BYTES, "{} bytes", text.len());
        assert!(text.contains(&name), "{text}");
    }

    #[test]
    fn the_largest_warning_settings_allow_stays_within_its_bound() {
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
                &[("192.168.65.254".into(), "host.docker.internal".into())]
            ),
            "[default] Pod/web-*: host-gateway -> 192.168.65.254 (host.docker.internal)"
        );
        assert_eq!(object_name("", None), "(unnamed)");
        assert_eq!(object_name("web", Some("x")), "web");
    }
}
