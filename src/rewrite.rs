//! The rewrite itself: find the `hostAliases` entries whose `ip` is
//! `host-gateway`, and splice address(es) into the object's JSON text,
//! keeping the list a map keyed by `ip`. Every byte outside the list is
//! copied as it came.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;

use crate::json;

/// The `ip` value Docker's `--add-host NAME:host-gateway` made familiar.
pub const HOST_GATEWAY: &str = "host-gateway";

/// What an entry's `ip` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryIp {
    HostGateway,
    Address(IpAddr),
    Other,
}

/// One `hostAliases` entry: its text, a slice of the object.
#[derive(Debug, Clone)]
struct Entry<'a> {
    text: &'a str,
    ip: EntryIp,
}

/// The `hostAliases` list of an object that holds at least one
/// `host-gateway` entry, read in place.
#[derive(Debug, Clone)]
pub struct HostAliases<'a> {
    object: &'a str,
    list: &'a str,
    entries: Vec<Entry<'a>>,
}

impl<'a> HostAliases<'a> {
    /// The `hostAliases` list under the pod spec at `pod_spec_path`, when
    /// an entry's `ip` is exactly `host-gateway`. Shapes other than an
    /// array of objects (null, a string, entries without `ip`) hold nothing
    /// to rewrite.
    pub fn with_host_gateway(object: &'a str, pod_spec_path: &[&str]) -> Option<Self> {
        let list = host_aliases_list(object, pod_spec_path)?;
        let entries: Vec<Entry> = json::elements(list)?
            .into_iter()
            .map(|text| Entry {
                text,
                ip: match json::field(text, "ip") {
                    Some(ip) => match json::string(ip) {
                        Some(ip) if ip == HOST_GATEWAY => EntryIp::HostGateway,
                        Some(ip) => ip.parse().map_or(EntryIp::Other, EntryIp::Address),
                        None => EntryIp::Other,
                    },
                    None => EntryIp::Other,
                },
            })
            .collect();
        entries
            .iter()
            .any(|entry| entry.ip == EntryIp::HostGateway)
            .then_some(HostAliases {
                object,
                list,
                entries,
            })
    }

    /// The object with each `host-gateway` entry replaced by one copy per
    /// address, the copy's `ip` being that address, keeping `hostAliases` a
    /// map keyed by `ip`: all entries that end up with one of `addresses`
    /// become one, with the union of their `hostnames` and the fields of
    /// each. It takes the place, and wins any conflict, of the first entry
    /// that already held the address, or else of the first rewritten one, so
    /// the order in which a re-applied entry arrives does not matter.
    /// Entries with other addresses stay as they are, and so does every
    /// byte outside the list. With no address the object comes back as it
    /// was.
    pub fn rewrite(&self, addresses: &[IpAddr]) -> String {
        if addresses.is_empty() {
            return self.object.to_string();
        }
        // One unit per entry written: (entry, the address it gets, if ours).
        let mut units: Vec<(usize, Option<IpAddr>)> = Vec::new();
        for (i, entry) in self.entries.iter().enumerate() {
            match entry.ip {
                EntryIp::HostGateway => units.extend(addresses.iter().map(|a| (i, Some(*a)))),
                EntryIp::Address(ip) if addresses.contains(&ip) => units.push((i, Some(ip))),
                _ => units.push((i, None)),
            }
        }
        // The entries (by index) that end up with each address, survivor
        // first: the first that already held it (the stored entry, wherever
        // the API server's merge put the re-applied one), else the first
        // rewritten. One pass, and one rotation per address.
        let mut groups: HashMap<IpAddr, Vec<usize>> = HashMap::with_capacity(addresses.len());
        for (i, address) in &units {
            if let Some(address) = address {
                groups.entry(*address).or_default().push(*i);
            }
        }
        for members in groups.values_mut() {
            if let Some(held) = members
                .iter()
                .position(|i| self.entries[*i].ip != EntryIp::HostGateway)
            {
                members[..=held].rotate_right(1);
            }
        }

        let mut list = String::with_capacity(self.list.len() + 64 * addresses.len());
        let first = &self.entries[0];
        list.push_str(&self.list[..self.offset(first)]);
        let mut written = 0;
        for (k, (i, address)) in units.iter().enumerate() {
            let entry = &self.entries[*i];
            let text = match address {
                None => entry.text.to_string(),
                Some(address) => match groups.get(address) {
                    // An entry has one unit per address, so the survivor's
                    // unit is the one place the merged entry is written.
                    Some(members) if members[0] == *i => self.merged(members, *address),
                    _ => continue,
                },
            };
            if written > 0 {
                let starts_entry = k == 0 || units[k - 1].0 != *i;
                if starts_entry && *i > 0 {
                    let previous = &self.entries[*i - 1];
                    list.push_str(
                        &self.list[self.offset(previous) + previous.text.len()..self.offset(entry)],
                    );
                } else {
                    list.push(',');
                }
            }
            list.push_str(&text);
            written += 1;
        }
        let last = &self.entries[self.entries.len() - 1];
        list.push_str(&self.list[self.offset(last) + last.text.len()..]);

        let start = json::offset_in(self.object, self.list).unwrap_or(0);
        let mut out = String::with_capacity(self.object.len() + list.len());
        out.push_str(&self.object[..start]);
        out.push_str(&list);
        out.push_str(&self.object[start + self.list.len()..]);
        out
    }

    /// The string hostnames of the `host-gateway` entries, in order.
    pub fn host_gateway_names(&self) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        self.entries
            .iter()
            .filter(|entry| entry.ip == EntryIp::HostGateway)
            .flat_map(|entry| hostnames(entry.text))
    }

    /// Where `entry` starts in the list text.
    fn offset(&self, entry: &Entry) -> usize {
        json::offset_in(self.list, entry.text).unwrap_or(0)
    }

    /// The one entry for `address`, from the entries (by index) that end
    /// up with it, the first being the survivor.
    fn merged(&self, members: &[usize], address: IpAddr) -> String {
        let survivor = &self.entries[members[0]];
        let fields = json::members(survivor.text).unwrap_or_default();
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        let range_of = |raw: &str| json::offset_in(survivor.text, raw).map(|s| s..s + raw.len());

        if survivor.ip == EntryIp::HostGateway
            && let Some(range) = fields
                .iter()
                .rev()
                .find(|(key, _)| key == "ip")
                .and_then(|(_, raw)| range_of(raw))
        {
            // An IpAddr prints with no character that needs escaping.
            edits.push((range, format!("\"{address}\"")));
        }
        let mut appended = String::new();
        // A rewritten entry's names are written as the union would be even
        // alone, so that re-applying it later changes nothing.
        if members.len() > 1 || survivor.ip == EntryIp::HostGateway {
            let own = hostnames(survivor.text);
            let mut seen = HashSet::new();
            let union: Vec<_> = members
                .iter()
                .flat_map(|i| hostnames(self.entries[*i].text))
                .filter(|name| seen.insert(name.clone()))
                .collect();
            if union != own {
                let list = json::quoted_list(&union);
                match fields.iter().rev().find(|(key, _)| key == "hostnames") {
                    Some((_, raw)) => {
                        if let Some(range) = range_of(raw) {
                            edits.push((range, list));
                        }
                    }
                    None => {
                        let _ = write!(appended, ",\"hostnames\":{list}");
                    }
                }
            }
            let mut keys: HashSet<_> = fields.iter().map(|(key, _)| key.clone()).collect();
            for i in &members[1..] {
                for (key, raw) in json::members(self.entries[*i].text).unwrap_or_default() {
                    if key != "ip" && key != "hostnames" && !keys.contains(&key) {
                        let key_text = json::quoted(&key);
                        let _ = write!(appended, ",{key_text}:{raw}");
                        keys.insert(key);
                    }
                }
            }
        }
        if !appended.is_empty()
            && let Some(end) = survivor.text.rfind('}')
        {
            edits.push((end..end, appended));
        }
        edits.sort_unstable_by_key(|(range, _)| range.start);
        let mut out = String::with_capacity(survivor.text.len() + 64);
        let mut copied = 0;
        for (range, text) in edits {
            out.push_str(&survivor.text[copied..range.start]);
            out.push_str(&text);
            copied = range.end;
        }
        out.push_str(&survivor.text[copied..]);
        out
    }
}

/// The raw `hostAliases` of the pod spec at `pod_spec_path`, found in one
/// pass.
fn host_aliases_list<'a>(object: &'a str, pod_spec_path: &[&str]) -> Option<&'a str> {
    json::path(object, &[pod_spec_path, &["hostAliases"]].concat())
}

/// Every string in the `hostnames` of every `hostAliases` entry under the
/// pod spec at `pod_spec_path`.
pub fn hostnames_present<'a>(object: &'a str, pod_spec_path: &[&str]) -> Vec<Cow<'a, str>> {
    host_aliases_list(object, pod_spec_path)
        .and_then(json::elements)
        .map(|entries| entries.into_iter().flat_map(hostnames).collect())
        .unwrap_or_default()
}

/// The object with one more `hostAliases` entry under the pod spec at
/// `pod_spec_path`, `{"ip":"host-gateway","hostnames":names}`, last in the
/// list (created when absent or null), for [`HostAliases`] to rewrite like
/// any other. `None` when the spec or the list has another shape.
pub fn with_host_gateway_entry<S: AsRef<str>>(
    object: &str,
    pod_spec_path: &[&str],
    names: &[S],
) -> Option<String> {
    let spec = json::path(object, pod_spec_path).filter(|spec| spec.starts_with('{'))?;
    let entry = format!(
        "{{\"ip\":\"{HOST_GATEWAY}\",\"hostnames\":{}}}",
        json::quoted_list(names)
    );
    match json::field(spec, "hostAliases") {
        Some(list) if list.starts_with('[') => json::push_element(object, list, &entry),
        Some(null) if null == "null" => json::replace(object, null, &format!("[{entry}]")),
        Some(_) => None,
        None => json::insert_member(object, spec, &format!("\"hostAliases\":[{entry}]")),
    }
}

/// Whether an entry of the `hostAliases` under the pod spec at
/// `pod_spec_path` names one of `names`.
pub fn names_any_of(object: &str, pod_spec_path: &[&str], names: &HashSet<&str>) -> bool {
    hostnames_present(object, pod_spec_path)
        .iter()
        .any(|name| names.contains(name.as_ref()))
}

/// The object with `names` taken out of every `hostAliases` entry whose
/// `ip` is an address other than those of `current`: each name then points
/// only at the current addresses. An entry left without names goes. `None`
/// when no entry holds such a name (the object is unchanged).
pub fn without_stale_names(
    object: &str,
    pod_spec_path: &[&str],
    names: &HashSet<&str>,
    current: &[IpAddr],
) -> Option<String> {
    let list = host_aliases_list(object, pod_spec_path)?;
    let entries = json::elements(list)?;
    let mut kept: Vec<Cow<str>> = Vec::with_capacity(entries.len());
    let mut changed = false;
    for entry in entries {
        let stale = json::field(entry, "ip")
            .and_then(json::string)
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .is_some_and(|ip| !current.contains(&ip));
        let own = hostnames(entry);
        if !stale || !own.iter().any(|name| names.contains(name.as_ref())) {
            kept.push(Cow::Borrowed(entry));
            continue;
        }
        changed = true;
        let left: Vec<&str> = own
            .iter()
            .map(AsRef::as_ref)
            .filter(|name| !names.contains(name))
            .collect();
        if left.is_empty() {
            continue;
        }
        let raw = json::field(entry, "hostnames")?;
        let at = json::offset_in(entry, raw)?;
        kept.push(Cow::Owned(
            [
                &entry[..at],
                &json::quoted_list(&left),
                &entry[at + raw.len()..],
            ]
            .concat(),
        ));
    }
    if !changed {
        return None;
    }
    let at = json::offset_in(object, list)?;
    let mut out = String::with_capacity(object.len());
    out.push_str(&object[..at]);
    out.push('[');
    for (i, entry) in kept.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(entry);
    }
    out.push(']');
    out.push_str(&object[at + list.len()..]);
    Some(out)
}

/// The string `hostnames` of an entry, in order.
fn hostnames(entry: &str) -> Vec<Cow<'_, str>> {
    json::field(entry, "hostnames")
        .and_then(json::elements)
        .map(|names| names.into_iter().filter_map(json::string).collect())
        .unwrap_or_default()
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
        HostAliases::with_host_gateway(object, path).map_or_else(
            || object.to_string(),
            |found| found.rewrite(&ips(addresses)),
        )
    }

    fn rewrite_pod(aliases: Value, addresses: &[&str]) -> Value {
        let pod = json!({"spec": {"hostAliases": aliases}}).to_string();
        let out: Value = serde_json::from_str(&rewrite(&pod, &["spec"], addresses)).unwrap();
        out["spec"]["hostAliases"].clone()
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
            { "hostnames" : ["b", "c"], "ip" : "192.168.65.254", "futureField": {"x": 1.50} }
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
        assert!(HostAliases::with_host_gateway(object, &["spec"]).is_none());
    }

    #[test]
    fn repeated_ip_key_reads_the_last_value() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"host-gateway","ip":"10.0.0.1"},{"ip":"10.0.0.1","ip":"host-gateway"}]}}"#;
        assert_eq!(
            rewrite(pod, &["spec"], &["10.9.9.9"]),
            r#"{"spec":{"hostAliases":[{"ip":"host-gateway","ip":"10.0.0.1"},{"ip":"10.0.0.1","ip":"10.9.9.9"}]}}"#
        );
    }

    #[rstest]
    #[case::two_host_gateway_entries(
        json!([{"ip": "host-gateway", "hostnames": ["a"]}, {"ip": "10.0.0.1"}, {"ip": "host-gateway", "hostnames": ["b", "a"]}]),
        &["192.168.65.254"],
        json!([{"ip": "192.168.65.254", "hostnames": ["a", "b"]}, {"ip": "10.0.0.1"}])
    )]
    #[case::stored_entry_first(
        json!([{"ip": "192.168.65.254", "hostnames": ["db"]}, {"ip": "host-gateway", "hostnames": ["db"]}]),
        &["192.168.65.254"],
        json!([{"ip": "192.168.65.254", "hostnames": ["db"]}])
    )]
    #[case::stored_entry_last_keeps_its_place(
        json!([{"ip": "host-gateway", "hostnames": ["db", "api"]}, {"ip": "10.0.0.1"}, {"ip": "192.168.65.254", "hostnames": ["db"]}]),
        &["192.168.65.254"],
        json!([{"ip": "10.0.0.1"}, {"ip": "192.168.65.254", "hostnames": ["db", "api"]}])
    )]
    #[case::stored_entry_wins_other_fields(
        json!([{"ip": "host-gateway", "x": 1, "z": 0}, {"ip": "192.168.65.254", "x": 2, "y": [3]}]),
        &["192.168.65.254"],
        json!([{"ip": "192.168.65.254", "x": 2, "y": [3], "z": 0}])
    )]
    #[case::first_rewritten_entry_wins_among_rewritten(
        json!([{"ip": "host-gateway", "x": 1}, {"ip": "host-gateway", "x": 2, "y": [3]}]),
        &["192.168.65.254"],
        json!([{"ip": "192.168.65.254", "x": 1, "y": [3]}])
    )]
    #[case::hostnames_added_to_an_entry_without_them(
        json!([{"ip": "192.168.65.254"}, {"ip": "host-gateway", "hostnames": ["db"]}]),
        &["192.168.65.254"],
        json!([{"ip": "192.168.65.254", "hostnames": ["db"]}])
    )]
    #[case::two_families_each_merge_into_their_own(
        json!([{"ip": "fd00::1", "hostnames": ["v6"]}, {"ip": "host-gateway", "hostnames": ["db"]}]),
        &["192.168.65.254", "fd00::1"],
        json!([{"ip": "fd00::1", "hostnames": ["v6", "db"]}, {"ip": "192.168.65.254", "hostnames": ["db"]}])
    )]
    #[case::same_address_spelt_otherwise(
        json!([{"ip": "FD00:0::1", "hostnames": ["a"]}, {"ip": "host-gateway", "hostnames": ["b"]}]),
        &["fd00::1"],
        json!([{"ip": "FD00:0::1", "hostnames": ["a", "b"]}])
    )]
    #[case::users_own_duplicates_untouched(
        json!([{"ip": "10.0.0.1", "hostnames": ["a"]}, {"ip": "10.0.0.1", "hostnames": ["b"]}, {"ip": "host-gateway"}]),
        &["192.168.65.254"],
        json!([{"ip": "10.0.0.1", "hostnames": ["a"]}, {"ip": "10.0.0.1", "hostnames": ["b"]}, {"ip": "192.168.65.254"}])
    )]
    #[case::rewritten_entry_loses_its_repeats(
        json!([{"ip": "host-gateway", "hostnames": ["a", "a", "b"]}]),
        &["192.168.65.254"],
        json!([{"ip": "192.168.65.254", "hostnames": ["a", "b"]}])
    )]
    #[case::untouched_entry_keeps_its_repeats(
        json!([{"ip": "10.0.0.1", "hostnames": ["a", "a"]}, {"ip": "host-gateway"}]),
        &["192.168.65.254"],
        json!([{"ip": "10.0.0.1", "hostnames": ["a", "a"]}, {"ip": "192.168.65.254"}])
    )]
    fn one_entry_per_address_written(
        #[case] aliases: Value,
        #[case] addresses: &[&str],
        #[case] expected: Value,
    ) {
        assert_eq!(rewrite_pod(aliases, addresses), expected);
    }

    #[test]
    fn merging_keeps_the_stored_text_byte_for_byte() {
        let stored =
            r#"{"spec":{"hostAliases":[{"hostnames":["db"],"ip":"192.168.65.254"}],"x":1}}"#;
        let reapplied = r#"{"spec":{"hostAliases":[{"hostnames":["db"],"ip":"192.168.65.254"},{"hostnames":["db"],"ip":"host-gateway"}],"x":1}}"#;
        assert_eq!(rewrite(reapplied, &["spec"], &["192.168.65.254"]), stored);
        let reapplied_first = r#"{"spec":{"hostAliases":[ {"hostnames":["db"],"ip":"host-gateway"} , {"hostnames":["db"],"ip":"192.168.65.254"} ],"x":1}}"#;
        assert_eq!(
            rewrite(reapplied_first, &["spec"], &["192.168.65.254"]),
            r#"{"spec":{"hostAliases":[ {"hostnames":["db"],"ip":"192.168.65.254"} ],"x":1}}"#
        );
    }

    #[rstest]
    #[case::appended(
        r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1"}],"x":1}}"#,
        r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1"},{"ip":"host-gateway","hostnames":["h"]}],"x":1}}"#
    )]
    #[case::empty_list(
        r#"{"spec":{"hostAliases":[ ]}}"#,
        r#"{"spec":{"hostAliases":[ {"ip":"host-gateway","hostnames":["h"]}]}}"#
    )]
    #[case::null_list(
        r#"{"spec":{"hostAliases":null,"x":1}}"#,
        r#"{"spec":{"hostAliases":[{"ip":"host-gateway","hostnames":["h"]}],"x":1}}"#
    )]
    #[case::no_list(
        r#"{"spec":{"containers":[]} }"#,
        r#"{"spec":{"containers":[],"hostAliases":[{"ip":"host-gateway","hostnames":["h"]}]} }"#
    )]
    #[case::empty_spec(
        r#"{"spec":{}}"#,
        r#"{"spec":{"hostAliases":[{"ip":"host-gateway","hostnames":["h"]}]}}"#
    )]
    fn adds_an_entry_to_rewrite(#[case] object: &str, #[case] expected: &str) {
        assert_eq!(
            with_host_gateway_entry(object, &["spec"], &["h".to_string()]).as_deref(),
            Some(expected)
        );
    }

    #[rstest]
    #[case::no_spec(r#"{"metadata":{}}"#)]
    #[case::spec_a_list(r#"{"spec":[]}"#)]
    #[case::list_a_string(r#"{"spec":{"hostAliases":"x"}}"#)]
    fn adds_nothing_to_other_shapes(#[case] object: &str) {
        assert_eq!(
            with_host_gateway_entry(object, &["spec"], &["h".to_string()]),
            None
        );
    }

    fn stale(object: &str, names: &[&str], current: &[&str]) -> Option<String> {
        let names: HashSet<&str> = names.iter().copied().collect();
        without_stale_names(object, &["spec"], &names, &ips(current))
    }

    #[test]
    fn stale_names_leave_entries_of_other_addresses() {
        let pod = r#"{"spec":{"hostAliases":[ {"ip":"10.0.0.1","hostnames":["db","x"],"f":1}, {"ip":"10.0.0.2","hostnames":["db"]}, {"ip":"192.168.65.254","hostnames":["db"]}, {"ip":"host-gateway","hostnames":["db"]} ],"y":2}}"#;
        assert_eq!(
            stale(pod, &["db"], &["192.168.65.254"]).as_deref(),
            Some(
                r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1","hostnames":["x"],"f":1},{"ip":"192.168.65.254","hostnames":["db"]},{"ip":"host-gateway","hostnames":["db"]}],"y":2}}"#
            )
        );
    }

    #[test]
    fn nothing_stale_changes_nothing() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1","hostnames":["x"]},{"ip":"192.168.65.254","hostnames":["db"]}]}}"#;
        assert_eq!(stale(pod, &["db"], &["192.168.65.254"]), None);
        assert_eq!(stale(r#"{"spec":{}}"#, &["db"], &["192.168.65.254"]), None);
    }

    #[test]
    fn knows_whether_a_name_is_held() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1","hostnames":["x","db"]}]}}"#;
        let names: HashSet<&str> = ["db"].into_iter().collect();
        assert!(names_any_of(pod, &["spec"], &names));
        let names: HashSet<&str> = ["cache"].into_iter().collect();
        assert!(!names_any_of(pod, &["spec"], &names));
    }

    #[test]
    fn lists_the_names_present() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"a","hostnames":["x","y"]},{"ip":"b"},{"hostnames":["z",1]}]}}"#;
        assert_eq!(hostnames_present(pod, &["spec"]), ["x", "y", "z"]);
        assert!(hostnames_present(r#"{"spec":{}}"#, &["spec"]).is_empty());
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
        assert!(HostAliases::with_host_gateway(&once, &["spec"]).is_none());
        assert!(!once.contains(HOST_GATEWAY));
    }
}
