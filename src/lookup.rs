//! Choosing the address(es) that replace `host-gateway`: DNS lookups of the
//! configured names, lazily and in order, then the fallback addresses.

use std::fmt;
use std::net::IpAddr;

use crate::error::{Misses, quote};
use crate::settings::Settings;

/// An address family, as Kubernetes names them in `ipFamilies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    IPv4,
    IPv6,
}

impl IpFamily {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "IPv4" => Some(IpFamily::IPv4),
            "IPv6" => Some(IpFamily::IPv6),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            IpFamily::IPv4 => "IPv4",
            IpFamily::IPv6 => "IPv6",
        }
    }

    pub fn of(ip: &IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => IpFamily::IPv4,
            IpAddr::V6(_) => IpFamily::IPv6,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that gave no address of the wanted families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The lookup failed; `reason` is the first line of what the host said.
    LookupFailed { name: String, reason: String },
    /// The name resolved, but to no address of a wanted family.
    NoMatchingAddress { name: String },
}

/// An address found by DNS, with the name that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'s> {
    pub ip: IpAddr,
    pub hostname: &'s str,
}

/// The outcome of [`choose_addresses`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice<'s> {
    /// At least one family has an address; in `ipFamilies` order.
    Found(Vec<Found<'s>>),
    /// No name gave an address; the fallback addresses apply.
    Fallback {
        addresses: &'s [IpAddr],
        misses: Misses,
    },
    /// No name gave an address and there is no fallback.
    NoAddress(Misses),
}

impl Choice<'_> {
    /// The addresses to write, in order.
    pub fn addresses(&self) -> Vec<IpAddr> {
        match self {
            Choice::Found(found) => found.iter().map(|f| f.ip).collect(),
            Choice::Fallback { addresses, .. } => addresses.to_vec(),
            Choice::NoAddress(_) => Vec::new(),
        }
    }
}

/// Looks the names up in order, each at most once, stopping as soon as every
/// family in `ipFamilies` has an address. `resolve` answers with the
/// addresses the host found (as text) or the host's error.
///
/// ```
/// use host_gateway_policy::lookup::{choose_addresses, Choice};
/// use host_gateway_policy::settings::Settings;
///
/// let settings = Settings::default();
/// let choice = choose_addresses(&settings, |_name| {
///     Ok(vec!["fdc4:f303:9324::254".to_string(), "192.168.65.254".to_string()])
/// });
/// assert_eq!(choice.addresses(), ["192.168.65.254".parse::<std::net::IpAddr>().unwrap()]);
/// ```
pub fn choose_addresses<R>(settings: &Settings, mut resolve: R) -> Choice<'_>
where
    R: FnMut(&str) -> Result<Vec<String>, String>,
{
    let families = &settings.ip_families;
    let mut chosen: Vec<Option<Found>> = vec![None; families.len()];
    let mut misses = Vec::new();

    for hostname in &settings.hostnames {
        if chosen.iter().all(Option::is_some) {
            break;
        }
        let ips = match resolve(hostname) {
            Ok(ips) => ips,
            Err(reason) => {
                misses.push(Miss::LookupFailed {
                    name: hostname.clone(),
                    reason: quote(&reason),
                });
                continue;
            }
        };
        let mut matched = false;
        // Unparsable answers (e.g. a link-local address with a zone) are skipped.
        for ip in ips.iter().filter_map(|text| text.parse::<IpAddr>().ok()) {
            let Some(slot) = families.iter().position(|f| *f == IpFamily::of(&ip)) else {
                continue;
            };
            matched = true;
            if chosen[slot].is_none() {
                chosen[slot] = Some(Found { ip, hostname });
            }
        }
        if !matched {
            misses.push(Miss::NoMatchingAddress {
                name: hostname.clone(),
            });
        }
    }

    let found: Vec<Found> = chosen.into_iter().flatten().collect();
    if !found.is_empty() {
        return Choice::Found(found);
    }
    let misses = Misses {
        families: families.clone(),
        misses,
    };
    if settings.fallback_addresses.is_empty() {
        Choice::NoAddress(misses)
    } else {
        Choice::Fallback {
            addresses: &settings.fallback_addresses,
            misses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::collections::HashMap;

    /// A resolver answering from a table, recording the names asked.
    struct Table {
        answers: HashMap<&'static str, Result<Vec<String>, String>>,
        asked: Vec<String>,
    }

    impl Table {
        fn new(entries: &[(&'static str, Result<&[&str], &str>)]) -> Self {
            let answers = entries
                .iter()
                .map(|(name, answer)| {
                    let answer = answer
                        .map(|ips| ips.iter().map(|ip| ip.to_string()).collect())
                        .map_err(str::to_string);
                    (*name, answer)
                })
                .collect();
            Table {
                answers,
                asked: Vec::new(),
            }
        }

        fn resolve(&mut self, name: &str) -> Result<Vec<String>, String> {
            self.asked.push(name.to_string());
            self.answers
                .get(name)
                .cloned()
                .unwrap_or_else(|| Err("Name does not resolve".to_string()))
        }
    }

    fn settings(hostnames: &[&str], families: &[IpFamily], fallback: &[&str]) -> Settings {
        Settings {
            hostnames: hostnames.iter().map(|s| s.to_string()).collect(),
            ip_families: families.to_vec(),
            fallback_addresses: fallback.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    fn ips(texts: &[&str]) -> Vec<IpAddr> {
        texts.iter().map(|s| s.parse().unwrap()).collect()
    }

    const DOCKER: &str = "host.docker.internal";
    const K3D: &str = "host.k3d.internal";
    use IpFamily::{IPv4, IPv6};

    #[rstest]
    #[case::first_ipv4_of_a_mixed_answer(
        &[DOCKER], &[IPv4],
        &[(DOCKER, Ok(&["fdc4::254", "192.168.65.254", "192.168.65.3"][..]))],
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
    #[case::second_name_completes_the_families(
        &[DOCKER, K3D], &[IPv4, IPv6],
        &[(DOCKER, Ok(&["192.168.65.254"][..])), (K3D, Ok(&["172.19.0.1", "fd00::1"][..]))],
        &["192.168.65.254", "fd00::1"], &[DOCKER, K3D]
    )]
    #[case::unparsable_answers_skipped(
        &[DOCKER], &[IPv6],
        &[(DOCKER, Ok(&["fe80::1%eth0", "bogus", "fd00::2"][..]))],
        &["fd00::2"], &[DOCKER]
    )]
    fn finds_addresses(
        #[case] hostnames: &[&str],
        #[case] families: &[IpFamily],
        #[case] table: &[(&'static str, Result<&[&str], &str>)],
        #[case] expected: &[&str],
        #[case] expected_asked: &[&str],
    ) {
        let settings = settings(hostnames, families, &[]);
        let mut table = Table::new(table);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        assert!(matches!(choice, Choice::Found(_)), "{choice:?}");
        assert_eq!(choice.addresses(), ips(expected));
        assert_eq!(table.asked, expected_asked);
    }

    #[test]
    fn found_addresses_name_their_source() {
        let settings = settings(&[DOCKER, K3D], &[IPv4, IPv6], &[]);
        let mut table = Table::new(&[
            (DOCKER, Ok(&["192.168.65.254"][..])),
            (K3D, Ok(&["fd00::1"][..])),
        ]);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        let Choice::Found(found) = choice else {
            panic!("expected addresses, got {choice:?}");
        };
        let sources: Vec<&str> = found.iter().map(|f| f.hostname).collect();
        assert_eq!(sources, [DOCKER, K3D]);
    }

    #[test]
    fn falls_back_when_no_name_gives_an_address() {
        let settings = settings(&[DOCKER, K3D], &[IPv4], &["172.18.0.1", "fd00::1"]);
        let mut table = Table::new(&[(K3D, Ok(&["fd00::9"][..]))]);
        let choice = choose_addresses(&settings, |name| table.resolve(name));
        assert_eq!(choice.addresses(), ips(&["172.18.0.1", "fd00::1"]));
        let Choice::Fallback { misses, .. } = choice else {
            panic!("expected the fallback, got {choice:?}");
        };
        assert_eq!(
            misses.misses,
            [
                Miss::LookupFailed {
                    name: DOCKER.into(),
                    reason: "Name does not resolve".into()
                },
                Miss::NoMatchingAddress { name: K3D.into() },
            ]
        );
    }

    #[test]
    fn no_address_without_fallback() {
        let settings = settings(&[DOCKER], &[IPv4, IPv6], &[]);
        let choice = choose_addresses(&settings, |_| {
            Err("failed to lookup address\nstack backtrace: ...".to_string())
        });
        assert_eq!(
            choice,
            Choice::NoAddress(Misses {
                families: vec![IPv4, IPv6],
                misses: vec![Miss::LookupFailed {
                    name: DOCKER.into(),
                    reason: "failed to lookup address".into()
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
            Choice::NoAddress(Misses {
                families: vec![IPv4],
                misses: vec![Miss::NoMatchingAddress {
                    name: DOCKER.into()
                }],
            })
        );
    }
}
