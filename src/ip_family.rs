//! Address families, as Kubernetes names them (`IPv4`, `IPv6`).

use std::fmt;
use std::net::IpAddr;

/// An address family, as the `ipFamilies` setting names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    /// IPv4, including IPv4-mapped IPv6 addresses once made canonical.
    IPv4,
    /// IPv6.
    IPv6,
}

impl IpFamily {
    /// The family Kubernetes calls `name`, matched exactly.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "IPv4" => Some(IpFamily::IPv4),
            "IPv6" => Some(IpFamily::IPv6),
            _ => None,
        }
    }

    /// The Kubernetes name of the family.
    pub fn as_str(&self) -> &'static str {
        match self {
            IpFamily::IPv4 => "IPv4",
            IpFamily::IPv6 => "IPv6",
        }
    }

    /// The family of `ip`, taken as it is written (not made canonical).
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
