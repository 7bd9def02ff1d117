//! Choosing the address(es) that replace `host-gateway`: DNS lookups of the
//! configured names, lazily and in order, then the fallback addresses. Here
//! too what a resolver answers ([`LookupError`]) and why no address was
//! found ([`Miss`], [`Shortfall`]); `messages` renders those.

use std::net::IpAddr;

use crate::ip_family::IpFamily;
use crate::reach::unreachable_kind;
use crate::settings::Settings;
use crate::text::fit;

/// Longest resolver reason kept, in bytes: the resolver's words are short.
const MAX_REASON_BYTES: usize = 64;

/// How glibc and musl word `EAI_AGAIN` (`gai_strerror`): the DNS server
/// did not answer (or answered SERVFAIL), so whether the name exists is
/// unknown.
const FOR_NOW_WORDS: [&str; 2] = ["Temporary failure in name resolution", "Try again"];

/// Why a lookup gave no addresses, as the resolver's side (the waPC host
/// adapter, or a test's fake) classifies it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The policy server refused the DNS capability to this policy.
    NotGranted,
    /// The lookup failed; the resolver's own words, e.g. `Name does not
    /// resolve`, bounded for a message.
    Failed(String),
    /// The lookup failed for now (`EAI_AGAIN`, in the resolver's words):
    /// the name may well exist, and a retry may find it.
    ForNow(String),
    /// Not looked up: the request's lookups already took their time
    /// budget (a DNS server that slow would make each name wait as long).
    OutOfTime,
}

impl LookupError {
    /// A failed lookup in the resolver's `words`, bounded without halving
    /// a word; `lookup failed` when it said nothing. The one place where a
    /// failure for now is told apart.
    pub fn failed(words: &str) -> Self {
        match words.trim() {
            "" => LookupError::Failed("lookup failed".to_string()),
            words if FOR_NOW_WORDS.contains(&words) => LookupError::ForNow(words.to_string()),
            words => LookupError::Failed(fit(words, MAX_REASON_BYTES)),
        }
    }
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
    /// The lookup failed for now ([`LookupError::ForNow`]).
    FailedForNow {
        /// The name looked up.
        name: String,
        /// e.g. `Try again`.
        reason: String,
    },
    /// Not looked up ([`LookupError::OutOfTime`]).
    NotLookedUp {
        /// The name not looked up.
        name: String,
    },
    /// The name resolved, but to no address of a wanted family.
    NoMatchingAddress {
        /// The name looked up.
        name: String,
    },
    /// The answer held addresses of a wanted family that cannot reach the
    /// host from a pod: skipped. A miss of its own when they were all the
    /// answer had.
    Skipped(Skipped),
}

/// The lowest address of a wanted family in a name's answer that cannot
/// reach the host from a pod ([`unreachable_kind`]), standing for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The name looked up.
    pub name: String,
    /// The lowest address skipped.
    pub ip: IpAddr,
    /// Why it cannot reach the host, e.g. `a loopback`.
    pub kind: &'static str,
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

/// An address found by DNS, with the name that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'s> {
    /// The address, canonical (an IPv4-mapped IPv6 address becomes IPv4).
    pub ip: IpAddr,
    /// The name whose answer held it.
    pub hostname: &'s str,
}

/// The outcome of [`choose_addresses`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice<'s> {
    /// At least one family has an address.
    Found {
        /// The addresses, in `ipFamilies` order, all from one name.
        found: Vec<Found<'s>>,
        /// What was passed over on the way, for a warning: names that
        /// failed for now, and answers skipped, this name's included.
        passed: Vec<Miss>,
    },
    /// No name gave an address; the fallback addresses apply.
    Fallback {
        /// The `fallbackAddresses` setting.
        addresses: &'s [IpAddr],
        /// Why DNS gave none.
        shortfall: Shortfall,
    },
    /// No name gave an address and there is no fallback.
    NoAddress(Shortfall),
}

impl Choice<'_> {
    /// The addresses to write, in order.
    pub fn addresses(&self) -> Vec<IpAddr> {
        match self {
            Choice::Found { found, .. } => found.iter().map(|f| f.ip).collect(),
            Choice::Fallback { addresses, .. } => addresses.to_vec(),
            Choice::NoAddress(_) => Vec::new(),
        }
    }
}

/// Looks the names up in order, each at most once, until one answers with
/// an address of a wanted family that can reach the host from a pod. That
/// name gives every family: the lowest such address of each in its answer,
/// so a shuffled answer gives the same choice; a family its answer lacks is
/// left out. Families never come from different names: each name is one
/// platform's view of the host, and two would pair one platform's IPv4
/// with another's IPv6. An address that cannot reach the host (a
/// sinkhole's `0.0.0.0`) is skipped, and a name left with none is passed
/// over, as one that does not resolve is, but told of in a warning.
/// `resolve` answers with the addresses the host found or why it found
/// none.
pub fn choose_addresses<R>(settings: &Settings, resolve: R) -> Choice<'_>
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    choose_among(
        &settings.hostnames,
        &settings.ip_families,
        &settings.fallback_addresses,
        resolve,
    )
}

/// [`choose_addresses`] over `names`, for `families`, with `fallback`:
/// also the choice of a `dns:` target's address (one name, no fallback).
pub fn choose_among<'s, R>(
    names: &'s [String],
    families: &[IpFamily],
    fallback: &'s [IpAddr],
    mut resolve: R,
) -> Choice<'s>
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    let without_dns = |shortfall| match fallback.is_empty() {
        true => Choice::NoAddress(shortfall),
        false => Choice::Fallback {
            addresses: fallback,
            shortfall,
        },
    };
    let mut misses = Vec::new();
    for hostname in names {
        match resolve(hostname) {
            Ok(ips) => {
                let (found, skipped) = take_answer(families, &ips, hostname);
                if !found.is_empty() {
                    let mut passed = misses;
                    passed.retain(Miss::is_told);
                    passed.extend(skipped.map(Miss::Skipped));
                    return Choice::Found { found, passed };
                }
                misses.push(match skipped {
                    Some(skipped) => Miss::Skipped(skipped),
                    None => Miss::NoMatchingAddress {
                        name: hostname.clone(),
                    },
                });
            }
            // Every further lookup would be refused alike.
            Err(LookupError::NotGranted) => return without_dns(Shortfall::NotGranted),
            Err(LookupError::Failed(reason)) => misses.push(Miss::LookupFailed {
                name: hostname.clone(),
                reason,
            }),
            // The name may exist: the chain goes on, and a warning tells.
            Err(LookupError::ForNow(reason)) => misses.push(Miss::FailedForNow {
                name: hostname.clone(),
                reason,
            }),
            Err(LookupError::OutOfTime) => misses.push(Miss::NotLookedUp {
                name: hostname.clone(),
            }),
        }
    }
    without_dns(Shortfall::NoAddress {
        families: families.to_vec(),
        misses,
    })
}

impl Miss {
    /// Whether a warning tells of this miss when a later name answers:
    /// passing over a name that does not resolve is what a chain is for,
    /// but one that failed for now may have been the host.
    fn is_told(&self) -> bool {
        matches!(self, Miss::Skipped(_) | Miss::FailedForNow { .. })
    }
}

/// The lowest address that can reach the host of each of `families` in
/// `hostname`'s answer `ips`, in `families` order (none of a family the
/// answer lacks); and the addresses of those families skipped.
fn take_answer<'s>(
    families: &[IpFamily],
    ips: &[IpAddr],
    hostname: &'s str,
) -> (Vec<Found<'s>>, Option<Skipped>) {
    let mut found = Vec::new();
    let mut skipped: Option<Skipped> = None;
    for family in families {
        let mut lowest: Option<IpAddr> = None;
        for ip in ips.iter().map(IpAddr::to_canonical) {
            if IpFamily::of(&ip) != *family {
                continue;
            }
            match unreachable_kind(&ip) {
                None => lowest = Some(lowest.map_or(ip, |l| l.min(ip))),
                Some(kind) if skipped.as_ref().is_none_or(|s| ip < s.ip) => {
                    skipped = Some(Skipped {
                        name: hostname.to_string(),
                        ip,
                        kind,
                    })
                }
                Some(_) => {}
            }
        }
        if let Some(ip) = lowest {
            found.push(Found { ip, hostname });
        }
    }
    (found, skipped)
}

#[cfg(test)]
impl Miss {
    /// A [`Miss::Skipped`] for the tests: `ip` of `name`, of `kind`.
    pub(crate) fn skipped(name: &str, ip: &str, kind: &'static str) -> Miss {
        Miss::Skipped(Skipped {
            name: name.into(),
            ip: ip.parse().expect("an address"),
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// A DNS answering from a table, addresses or the resolver's words,
    /// recording the names asked.
    struct Table {
        entries: Vec<(&'static str, Result<Vec<IpAddr>, String>)>,
        asked: Vec<String>,
    }

    impl Table {
        fn resolve(&mut self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
            self.asked.push(name.to_string());
            match self.entries.iter().find(|(n, _)| *n == name) {
                Some((_, Ok(ips))) => Ok(ips.clone()),
                Some((_, Err(words))) => Err(LookupError::failed(words)),
                None => Err(LookupError::failed("Name does not resolve")),
            }
        }
    }

    fn dns_of(entries: &[(&'static str, Result<&[&str], &str>)]) -> Table {
        let entries = entries
            .iter()
            .map(|(name, answer)| (*name, answer.map(ips).map_err(str::to_string)))
            .collect();
        Table {
            entries,
            asked: Vec::new(),
        }
    }

    fn settings(hostnames: &[&str], families: &[IpFamily], fallback: &[&str]) -> Settings {
        Settings {
            hostnames: hostnames.iter().map(|s| s.to_string()).collect(),
            ip_families: families.to_vec(),
            fallback_addresses: fallback.iter().map(|s| s.parse().unwrap()).collect(),
            ..Settings::default()
        }
    }

    fn ips(texts: &[&str]) -> Vec<IpAddr> {
        texts.iter().map(|s| s.parse().unwrap()).collect()
    }

    const DOCKER: &str = "host.docker.internal";
    const K3D: &str = "host.k3d.internal";
    use IpFamily::{IPv4, IPv6};

    #[rstest]
    #[case::lowest_ipv4_of_a_mixed_answer(
        &[DOCKER], &[IPv4],
        &[(DOCKER, Ok(&["fdc4::254", "192.168.65.254", "192.168.65.3"][..]))],
        &["192.168.65.3"], &[DOCKER]
    )]
    #[case::lowest_ipv6_whatever_the_order(
        &[DOCKER], &[IPv6],
        &[(DOCKER, Ok(&["fd00::9", "192.168.65.254", "fd00::2", "fd00::5"][..]))],
        &["fd00::2"], &[DOCKER]
    )]
    #[case::ipv4_mapped_ipv6_is_ipv4(
        &[DOCKER], &[IPv4],
        &[(DOCKER, Ok(&["::ffff:172.18.0.1"][..]))],
        &["172.18.0.1"], &[DOCKER]
    )]
    #[case::first_name_wins_even_with_a_lower_address_later(
        &[DOCKER, K3D], &[IPv4],
        &[(DOCKER, Ok(&["192.168.65.254"][..])), (K3D, Ok(&["10.0.0.1"][..]))],
        &["192.168.65.254"], &[DOCKER]
    )]
    #[case::families_in_settings_order(
        &[DOCKER], &[IPv6, IPv4],
        &[(DOCKER, Ok(&["192.168.65.254", "fdc4::254"][..]))],
        &["fdc4::254", "192.168.65.254"], &[DOCKER]
    )]
    #[case::missing_family_left_out(
        &[DOCKER], &[IPv4, IPv6],
        &[(DOCKER, Ok(&["192.168.65.254"][..]))],
        &["192.168.65.254"], &[DOCKER]
    )]
    #[case::next_name_after_a_failure(
        &[DOCKER, K3D], &[IPv4],
        &[(DOCKER, Err("Name does not resolve")), (K3D, Ok(&["172.19.0.1"][..]))],
        &["172.19.0.1"], &[DOCKER, K3D]
    )]
    #[case::stops_once_every_family_has_an_address(
        &[DOCKER, K3D], &[IPv4],
        &[(DOCKER, Ok(&["192.168.65.254"][..])), (K3D, Ok(&["172.19.0.1"][..]))],
        &["192.168.65.254"], &[DOCKER]
    )]
    #[case::a_family_the_first_answer_lacks_is_not_taken_from_the_next(
        &[DOCKER, K3D], &[IPv4, IPv6],
        &[(DOCKER, Ok(&["192.168.65.254"][..])), (K3D, Ok(&["172.19.0.1", "fd00::1"][..]))],
        &["192.168.65.254"], &[DOCKER]
    )]
    #[case::an_answer_of_no_wanted_family_moves_on(
        &[DOCKER, K3D], &[IPv4],
        &[(DOCKER, Ok(&["fdc4::254"][..])), (K3D, Ok(&["172.19.0.1", "fd00::1"][..]))],
        &["172.19.0.1"], &[DOCKER, K3D]
    )]
    #[case::podman_pasta_link_local_is_the_host(
        &[DOCKER], &[IPv4],
        &[(DOCKER, Ok(&["169.254.1.2"][..]))],
        &["169.254.1.2"], &[DOCKER]
    )]
    #[case::orbstack_zero_network_is_the_host(
        &[DOCKER], &[IPv4],
        &[(DOCKER, Ok(&["0.250.250.254"][..]))],
        &["0.250.250.254"], &[DOCKER]
    )]
    #[case::a_sinkhole_answer_moves_on(
        &[DOCKER, K3D], &[IPv4, IPv6],
        &[(DOCKER, Ok(&["0.0.0.0", "::"][..])), (K3D, Ok(&["172.19.0.1"][..]))],
        &["172.19.0.1"], &[DOCKER, K3D]
    )]
    #[case::loopback_beside_the_host_is_skipped(
        &[DOCKER], &[IPv4],
        &[(DOCKER, Ok(&["127.0.0.1", "192.168.65.254"][..]))],
        &["192.168.65.254"], &[DOCKER]
    )]
    #[case::ipv6_link_local_leaves_the_family_out(
        &[DOCKER], &[IPv4, IPv6],
        &[(DOCKER, Ok(&["fe80::1", "192.168.65.254"][..]))],
        &["192.168.65.254"], &[DOCKER]
    )]
    fn finds_addresses(
        #[case] hostnames: &[&str],
        #[case] families: &[IpFamily],
        #[case] table: &[(&'static str, Result<&[&str], &str>)],
        #[case] expected: &[&str],
        #[case] expected_asked: &[&str],
    ) {
        let settings = settings(hostnames, families, &[]);
        let mut table = dns_of(table);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        assert!(matches!(choice, Choice::Found { .. }), "{choice:?}");
        assert_eq!(choice.addresses(), ips(expected));
        assert_eq!(table.asked, expected_asked);
    }

    #[rstest]
    #[case::none_when_nothing_was_skipped(
        &[(DOCKER, Err("Name does not resolve")), (K3D, Ok(&["172.19.0.1"][..]))],
        vec![]
    )]
    #[case::a_name_passed_over(
        &[(DOCKER, Ok(&["0.0.0.0"][..])), (K3D, Ok(&["172.19.0.1"][..]))],
        vec![Miss::skipped(DOCKER, "0.0.0.0", "an unspecified")]
    )]
    #[case::the_lowest_skipped_of_the_answer_used(
        &[(DOCKER, Err("Name does not resolve")), (K3D, Ok(&["224.0.0.1", "172.19.0.1", "127.0.0.1"][..]))],
        vec![Miss::skipped(K3D, "127.0.0.1", "a loopback")]
    )]
    #[case::a_family_not_wanted_is_not_skipped(
        &[(DOCKER, Ok(&["::1", "192.168.65.254"][..]))],
        vec![]
    )]
    fn tells_what_was_skipped(
        #[case] table: &[(&'static str, Result<&[&str], &str>)],
        #[case] expected: Vec<Miss>,
    ) {
        let settings = settings(&[DOCKER, K3D], &[IPv4], &[]);
        let mut table = dns_of(table);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        let Choice::Found { passed, .. } = choice else {
            panic!("expected addresses, got {choice:?}");
        };
        assert_eq!(passed, expected);
    }

    #[test]
    fn an_answer_of_only_skipped_addresses_is_a_miss() {
        let settings = settings(&[DOCKER], &[IPv4, IPv6], &[]);
        let mut table = dns_of(&[(DOCKER, Ok(&["::1", "127.0.0.1"][..]))]);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        assert_eq!(
            choice,
            Choice::NoAddress(Shortfall::NoAddress {
                families: vec![IPv4, IPv6],
                misses: vec![Miss::skipped(DOCKER, "127.0.0.1", "a loopback")],
            })
        );
    }

    #[test]
    fn found_addresses_name_their_source() {
        let settings = settings(&[DOCKER, K3D], &[IPv4, IPv6], &[]);
        let mut table = dns_of(&[
            (DOCKER, Err("Name does not resolve")),
            (K3D, Ok(&["fd00::1", "172.19.0.1"][..])),
        ]);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        let Choice::Found { found, .. } = choice else {
            panic!("expected addresses, got {choice:?}");
        };
        let sources: Vec<&str> = found.iter().map(|f| f.hostname).collect();
        assert_eq!(sources, [K3D, K3D]);
    }

    #[test]
    fn falls_back_when_no_name_gives_an_address() {
        let settings = settings(&[DOCKER, K3D], &[IPv4], &["172.18.0.1", "fd00::1"]);
        let mut table = dns_of(&[(K3D, Ok(&["fd00::9"][..]))]);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        assert_eq!(choice.addresses(), ips(&["172.18.0.1", "fd00::1"]));
        let Choice::Fallback { shortfall, .. } = choice else {
            panic!("expected the fallback, got {choice:?}");
        };
        let Shortfall::NoAddress { misses, .. } = shortfall else {
            panic!("expected misses, got {shortfall:?}");
        };
        assert_eq!(
            misses,
            [
                Miss::LookupFailed {
                    name: DOCKER.into(),
                    reason: "Name does not resolve".into()
                },
                Miss::NoMatchingAddress { name: K3D.into() },
            ]
        );
    }

    #[rstest]
    #[case::glibc("Temporary failure in name resolution")]
    #[case::musl("Try again")]
    fn a_failure_for_now_is_told_apart(#[case] words: &str) {
        assert_eq!(
            LookupError::failed(words),
            LookupError::ForNow(words.into())
        );
        assert_eq!(
            LookupError::failed("Name does not resolve"),
            LookupError::Failed("Name does not resolve".into())
        );
    }

    #[test]
    fn after_a_failure_for_now_the_chain_goes_on_and_tells() {
        let settings = settings(&[DOCKER, K3D], &[IPv4], &[]);
        let mut table = dns_of(&[(DOCKER, Err("Try again")), (K3D, Ok(&["172.19.0.1"][..]))]);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        assert_eq!(choice.addresses(), ips(&["172.19.0.1"]));
        let Choice::Found { passed, .. } = choice else {
            panic!("expected addresses, got {choice:?}");
        };
        assert_eq!(
            passed,
            [Miss::FailedForNow {
                name: DOCKER.into(),
                reason: "Try again".into()
            }]
        );
    }

    #[test]
    fn names_out_of_time_are_not_looked_up_misses() {
        let settings = settings(&[DOCKER, K3D], &[IPv4], &["172.18.0.1"]);
        let mut answers = [
            Err(LookupError::ForNow("Try again".into())),
            Err(LookupError::OutOfTime),
        ]
        .into_iter();
        let choice = choose_addresses(&settings, |_| answers.next().unwrap());
        let Choice::Fallback { shortfall, .. } = choice else {
            panic!("expected the fallback, got {choice:?}");
        };
        let Shortfall::NoAddress { misses, .. } = shortfall else {
            panic!("expected misses, got {shortfall:?}");
        };
        assert_eq!(
            misses,
            [
                Miss::FailedForNow {
                    name: DOCKER.into(),
                    reason: "Try again".into()
                },
                Miss::NotLookedUp { name: K3D.into() },
            ]
        );
    }

    #[test]
    fn no_address_without_fallback() {
        let settings = settings(&[DOCKER], &[IPv4, IPv6], &[]);
        let choice = choose_addresses(&settings, |_| {
            Err(LookupError::failed("Temporary failure in name resolution"))
        });
        assert_eq!(
            choice,
            Choice::NoAddress(Shortfall::NoAddress {
                families: vec![IPv4, IPv6],
                misses: vec![Miss::FailedForNow {
                    name: DOCKER.into(),
                    reason: "Temporary failure in name resolution".into()
                }],
            })
        );
        assert!(choice.addresses().is_empty());
    }

    #[test]
    fn empty_answer_is_a_miss() {
        let settings = settings(&[DOCKER], &[IPv4], &[]);
        let choice = choose_addresses(&settings, |_| Ok(Vec::new()));
        assert_eq!(
            choice,
            Choice::NoAddress(Shortfall::NoAddress {
                families: vec![IPv4],
                misses: vec![Miss::NoMatchingAddress {
                    name: DOCKER.into()
                }],
            })
        );
    }

    #[test]
    fn a_refused_capability_stops_the_lookups() {
        let settings = settings(&[DOCKER, K3D], &[IPv4], &["172.18.0.1"]);
        let mut asked = Vec::new();
        let choice = choose_addresses(&settings, |name| {
            asked.push(name.to_string());
            Err(LookupError::NotGranted)
        });
        assert_eq!(asked, [DOCKER]);
        let Choice::Fallback { shortfall, .. } = &choice else {
            panic!("expected the fallback, got {choice:?}");
        };
        assert_eq!(shortfall, &Shortfall::NotGranted);
    }
}
