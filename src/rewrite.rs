//! The rewrite itself: find the `hostAliases` entries whose `ip` is
//! `host-gateway`, and splice address(es) into the object's JSON text. Every
//! other byte of the object is copied as it came.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::json;

/// The `ip` value Docker's `--add-host NAME:host-gateway` made familiar.
pub const HOST_GATEWAY: &str = "host-gateway";

/// A `hostAliases` entry to rewrite, as byte ranges of the object text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGatewayEntry {
    /// The whole entry, `{...}`.
    pub entry: Range<usize>,
    /// Its `ip` value, `"host-gateway"` (possibly with escapes).
    pub ip: Range<usize>,
}

/// Whether the JSON text may hold the string `host-gateway`: it has those
/// bytes, or a `\u` escape of one of their characters. A cheap, allocation
/// free test that lets the common request skip parsing altogether.
///
/// ```
/// use host_gateway_policy::rewrite::may_contain_host_gateway;
///
/// assert!(may_contain_host_gateway(br#"{"ip":"host-gateway"}"#));
/// assert!(may_contain_host_gateway(br#"{"ip":"host\u002dgateway"}"#));
/// assert!(!may_contain_host_gateway(br#"{"ip":"10.0.0.1","note":"\u003c"}"#));
/// ```
pub fn may_contain_host_gateway(json: &[u8]) -> bool {
    static FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(HOST_GATEWAY));
    let needle = HOST_GATEWAY.as_bytes();
    FINDER.find(json).is_some()
        || memchr::memchr_iter(b'\\', json)
            .any(|i| escaped_char(&json[i + 1..]).is_some_and(|c| needle.contains(&c)))
}

/// The ASCII character a `uXXXX` escape body stands for, if any.
fn escaped_char(after_backslash: &[u8]) -> Option<u8> {
    let hex = after_backslash.strip_prefix(b"u")?.get(..4)?;
    let hex = std::str::from_utf8(hex).ok()?;
    u8::try_from(u16::from_str_radix(hex, 16).ok()?).ok()
}

/// The `hostAliases` entries under the pod spec at `pod_spec_path` whose
/// `ip` is exactly `host-gateway`. Shapes other than an array of objects
/// (null, a string, entries without `ip`) hold nothing to rewrite.
pub fn find_host_gateway_entries(object: &str, pod_spec_path: &[&str]) -> Vec<HostGatewayEntry> {
    let Some(aliases) =
        json::path(object, pod_spec_path).and_then(|spec| json::field(spec, "hostAliases"))
    else {
        return Vec::new();
    };
    let Some(entries) = json::elements(aliases) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let ip = json::field(entry, "ip").filter(|ip| json::is_string(ip, HOST_GATEWAY))?;
            Some(HostGatewayEntry {
                entry: range_in(object, entry)?,
                ip: range_in(object, ip)?,
            })
        })
        .collect()
}

fn range_in(outer: &str, inner: &str) -> Option<Range<usize>> {
    let start = json::offset_in(outer, inner)?;
    Some(start..start + inner.len())
}

/// Replaces each entry with one copy per address, the copy's `ip` being
/// that address. With no address there is nothing to write, and the object
/// comes back as it was.
///
/// ```
/// use host_gateway_policy::rewrite::{find_host_gateway_entries, replace_host_gateway};
///
/// let pod = r#"{"spec":{"hostAliases":[{"ip":"host-gateway","hostnames":["db"]}]}}"#;
/// let entries = find_host_gateway_entries(pod, &["spec"]);
/// let addresses = ["192.168.65.254".parse().unwrap(), "fd00::1".parse().unwrap()];
/// assert_eq!(
///     replace_host_gateway(pod, &entries, &addresses),
///     r#"{"spec":{"hostAliases":[{"ip":"192.168.65.254","hostnames":["db"]},{"ip":"fd00::1","hostnames":["db"]}]}}"#
/// );
/// ```
pub fn replace_host_gateway(
    object: &str,
    entries: &[HostGatewayEntry],
    addresses: &[IpAddr],
) -> String {
    if addresses.is_empty() {
        return object.to_string();
    }
    let mut out = String::with_capacity(object.len() + entries.len() * addresses.len() * 64);
    let mut copied = 0;
    for HostGatewayEntry { entry, ip } in entries {
        out.push_str(&object[copied..entry.start]);
        for (i, address) in addresses.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&object[entry.start..ip.start]);
            // An IpAddr prints with no character that needs escaping.
            let _ = write!(out, "\"{address}\"");
            out.push_str(&object[ip.end..entry.end]);
        }
        copied = entry.end;
    }
    out.push_str(&object[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::{Value, json};

    fn ips(texts: &[&str]) -> Vec<IpAddr> {
        texts.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn rewrite(object: &str, path: &[&str], addresses: &[&str]) -> String {
        let entries = find_host_gateway_entries(object, path);
        replace_host_gateway(object, &entries, &ips(addresses))
    }

    #[rstest]
    #[case::literal(r#"{"ip":"host-gateway"}"#, true)]
    #[case::in_a_key(r#"{"host-gateway":1}"#, true)]
    #[case::escaped_hyphen(r#""host\u002dgateway""#, true)]
    #[case::escaped_letter(r#""\u0068ost-gateway""#, true)]
    #[case::escaped_upper_hex(r#""\u002Dx""#, true)]
    #[case::html_escape_only(r#"{"a":"\u003cb\u003e","b":"\n"}"#, false)]
    #[case::non_ascii_escape(r#""\u00e9\ud83d\ude00""#, false)]
    #[case::truncated_escape(r#""\u00"#, false)]
    #[case::near_miss(r#"{"ip":"host-gatewa"}"#, false)]
    #[case::uppercase(r#"{"ip":"HOST-GATEWAY"}"#, false)]
    #[case::empty("", false)]
    fn prefilter(#[case] json: &str, #[case] expected: bool) {
        assert_eq!(may_contain_host_gateway(json.as_bytes()), expected);
    }

    #[test]
    fn prefilter_never_misses_a_string_that_decodes_to_host_gateway() {
        // Every way to write each character: itself, \u00xx, \u00XX.
        for (i, c) in HOST_GATEWAY.char_indices() {
            for escaped in [
                format!("\\u{:04x}", c as u32),
                format!("\\u{:04X}", c as u32),
            ] {
                let text = format!(
                    "\"{}{}{}\"",
                    &HOST_GATEWAY[..i],
                    escaped,
                    &HOST_GATEWAY[i + 1..]
                );
                assert_eq!(serde_json::from_str::<String>(&text).unwrap(), HOST_GATEWAY);
                assert!(may_contain_host_gateway(text.as_bytes()), "{text}");
            }
        }
    }

    #[test]
    fn rewrites_only_host_gateway_entries_in_place() {
        let pod = r#"{ "spec" : { "hostAliases" : [
            {"ip": "10.0.0.1", "hostnames": ["a"]},
            { "hostnames" : ["b", "c"], "ip" : "host-gateway", "futureField": {"x": 1.50} },
            {"ip": "host-gateway"}
        ], "containers": [] } }"#;
        let expected = r#"{ "spec" : { "hostAliases" : [
            {"ip": "10.0.0.1", "hostnames": ["a"]},
            { "hostnames" : ["b", "c"], "ip" : "192.168.65.254", "futureField": {"x": 1.50} },
            {"ip": "192.168.65.254"}
        ], "containers": [] } }"#;
        assert_eq!(rewrite(pod, &["spec"], &["192.168.65.254"]), expected);
    }

    #[test]
    fn one_entry_becomes_one_per_address_in_order() {
        let pod = json!({"spec": {"hostAliases": [
            {"ip": "host-gateway", "hostnames": ["db"]},
            {"ip": "10.0.0.1", "hostnames": ["x"]},
        ]}})
        .to_string();
        let out: Value =
            serde_json::from_str(&rewrite(&pod, &["spec"], &["fd00::1", "192.168.65.254"]))
                .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"hostAliases": [
                {"ip": "fd00::1", "hostnames": ["db"]},
                {"ip": "192.168.65.254", "hostnames": ["db"]},
                {"ip": "10.0.0.1", "hostnames": ["x"]},
            ]}})
        );
    }

    #[test]
    fn escaped_host_gateway_is_rewritten() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"host\u002dgateway"}]}}"#;
        assert_eq!(
            rewrite(pod, &["spec"], &["10.1.2.3"]),
            r#"{"spec":{"hostAliases":[{"ip":"10.1.2.3"}]}}"#
        );
    }

    #[test]
    fn follows_the_pod_spec_path() {
        let cron_job = json!({"spec": {
            "hostAliases": [{"ip": "host-gateway"}],
            "jobTemplate": {"spec": {"template": {"spec": {"hostAliases": [{"ip": "host-gateway"}]}}}}
        }})
        .to_string();
        let out: Value = serde_json::from_str(&rewrite(
            &cron_job,
            &["spec", "jobTemplate", "spec", "template", "spec"],
            &["10.0.0.9"],
        ))
        .unwrap();
        assert_eq!(out["spec"]["hostAliases"][0]["ip"], "host-gateway");
        assert_eq!(
            out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["hostAliases"][0]["ip"],
            "10.0.0.9"
        );
    }

    #[rstest]
    #[case::no_spec(r#"{"metadata":{}}"#)]
    #[case::spec_null(r#"{"spec":null}"#)]
    #[case::spec_a_string(r#"{"spec":"host-gateway"}"#)]
    #[case::aliases_null(r#"{"spec":{"hostAliases":null}}"#)]
    #[case::aliases_an_object(r#"{"spec":{"hostAliases":{"ip":"host-gateway"}}}"#)]
    #[case::aliases_a_string(r#"{"spec":{"hostAliases":"host-gateway"}}"#)]
    #[case::entry_a_string(r#"{"spec":{"hostAliases":["host-gateway"]}}"#)]
    #[case::entry_null(r#"{"spec":{"hostAliases":[null]}}"#)]
    #[case::ip_a_list(r#"{"spec":{"hostAliases":[{"ip":["host-gateway"]}]}}"#)]
    #[case::ip_elsewhere(r#"{"spec":{"containers":[{"name":"host-gateway"}]}}"#)]
    #[case::hostname_only(
        r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1","hostnames":["host-gateway"]}]}}"#
    )]
    #[case::object_null("null")]
    #[case::object_an_array(r#"[{"spec":{"hostAliases":[{"ip":"host-gateway"}]}}]"#)]
    fn odd_shapes_hold_nothing_to_rewrite(#[case] object: &str) {
        assert_eq!(find_host_gateway_entries(object, &["spec"]), Vec::new());
    }

    #[test]
    fn repeated_ip_key_reads_the_last_value() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"host-gateway","ip":"10.0.0.1"},{"ip":"10.0.0.1","ip":"host-gateway"}]}}"#;
        assert_eq!(
            rewrite(pod, &["spec"], &["10.9.9.9"]),
            r#"{"spec":{"hostAliases":[{"ip":"host-gateway","ip":"10.0.0.1"},{"ip":"10.0.0.1","ip":"10.9.9.9"}]}}"#
        );
    }

    #[test]
    fn without_addresses_nothing_changes() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"host-gateway"}]}}"#;
        assert_eq!(rewrite(pod, &["spec"], &[]), pod);
    }

    #[test]
    fn rewritten_object_holds_no_host_gateway() {
        let pod =
            json!({"spec": {"hostAliases": [{"ip": "host-gateway"}, {"ip": "host-gateway"}]}})
                .to_string();
        let once = rewrite(&pod, &["spec"], &["10.0.0.1", "fd00::1"]);
        assert_eq!(find_host_gateway_entries(&once, &["spec"]), Vec::new());
        assert!(!may_contain_host_gateway(once.as_bytes()));
    }
}
