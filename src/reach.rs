//! What can reach the container host from a pod: the one rule that
//! `fallbackAddresses` follow.

use std::net::IpAddr;

/// Why `address` cannot be the host's address in a pod's /etc/hosts (as
/// `a loopback`); `None` when it can. Never the pod itself (loopback),
/// nobody (unspecified), a group (multicast, broadcast), nor an IPv6
/// link-local address: an /etc/hosts line cannot carry the zone it needs.
/// IPv4 link-local can (Podman's pasta maps the host to `169.254.1.2`), and
/// so can the rest of `0.0.0.0/8` (OrbStack's host is `0.250.250.254`).
pub fn unreachable_kind(address: &IpAddr) -> Option<&'static str> {
    let address = address.to_canonical();
    if address.is_loopback() {
        Some("a loopback")
    } else if address.is_unspecified() {
        Some("an unspecified")
    } else if address.is_multicast() || address == IpAddr::from([255, 255, 255, 255]) {
        Some("a multicast or broadcast")
    } else if matches!(address, IpAddr::V6(v6) if v6.is_unicast_link_local()) {
        Some("an IPv6 link-local")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::podman_pasta("169.254.1.2")]
    #[case::orbstack("0.250.250.254")]
    #[case::docker_desktop("192.168.65.254")]
    #[case::ula("fdc4:f303:9324::254")]
    fn reaches_the_host(#[case] address: &str) {
        assert_eq!(unreachable_kind(&address.parse().unwrap()), None);
    }

    #[rstest]
    #[case::loopback("127.0.0.2", "a loopback")]
    #[case::mapped_loopback("::ffff:127.0.0.1", "a loopback")]
    #[case::ipv6_loopback("::1", "a loopback")]
    #[case::unspecified("0.0.0.0", "an unspecified")]
    #[case::ipv6_unspecified("::", "an unspecified")]
    #[case::multicast("224.0.0.1", "a multicast or broadcast")]
    #[case::ipv6_multicast("ff02::1", "a multicast or broadcast")]
    #[case::broadcast("255.255.255.255", "a multicast or broadcast")]
    #[case::ipv6_link_local("fe80::1", "an IPv6 link-local")]
    fn cannot_reach_the_host(#[case] address: &str, #[case] kind: &str) {
        assert_eq!(unreachable_kind(&address.parse().unwrap()), Some(kind));
    }
}
