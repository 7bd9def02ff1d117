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
use crate::text::join;

/// The `ip` value Docker's `--add-host NAME:host-gateway` made familiar.
pub const HOST_GATEWAY: &str = "host-gateway";

/// What an entry's `ip` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryIp {
    /// `host-gateway`.
    HostGateway,
    /// An address.
    Address(IpAddr),
    /// Anything else, or nothing.
    Other,
}

impl EntryIp {
    /// What the entry `text` has for `ip`.
    fn of(text: &str) -> Self {
        match json::field(text, "ip").and_then(json::string) {
            Some(ip) if ip == HOST_GATEWAY => EntryIp::HostGateway,
            Some(ip) => ip.parse().map_or(EntryIp::Other, EntryIp::Address),
            None => EntryIp::Other,
        }
    }
}

/// One `hostAliases` entry: its text, and the bytes it covers in the
/// object, kept from the read.
#[derive(Debug, Clone)]
struct Entry<'a> {
    text: &'a str,
    at: Range<usize>,
    ip: EntryIp,
}

/// One entry as it is written: the entry (by index), and the address it
/// gets when it is ours to merge (a `host-gateway` entry has one unit per
/// address).
#[derive(Debug, Clone, Copy)]
struct Unit {
    entry: usize,
    address: Option<IpAddr>,
}

/// The `hostAliases` list of an object that holds at least one
/// `host-gateway` entry, read in place.
#[derive(Debug, Clone)]
pub struct HostAliases<'a> {
    object: &'a str,
    /// The bytes the list covers in the object.
    list: Range<usize>,
    /// Never empty: one of them is `host-gateway`.
    entries: Vec<Entry<'a>>,
}

impl<'a> HostAliases<'a> {
    /// The `hostAliases` list under the pod spec at `pod_spec_path`, when
    /// an entry's `ip` is exactly `host-gateway`. Shapes other than an
    /// array of objects (null, a string, entries without `ip`) hold nothing
    /// to rewrite.
    pub fn with_host_gateway(object: &'a str, pod_spec_path: &[&str]) -> Option<Self> {
        let list = host_aliases_list(object, pod_spec_path)?;
        let entries = json::elements(list)?
            .into_iter()
            .map(|text| {
                Some(Entry {
                    text,
                    at: json::range_in(object, text)?,
                    ip: EntryIp::of(text),
                })
            })
            .collect::<Option<Vec<Entry>>>()?;
        entries
            .iter()
            .any(|entry| entry.ip == EntryIp::HostGateway)
            .then_some(HostAliases {
                object,
                list: json::range_in(object, list)?,
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
        self.write(addresses)
    }

    /// The object without its `host-gateway` entries, every other byte as
    /// it came.
    pub fn without_host_gateway(&self) -> String {
        self.write(&[])
    }

    /// The object with each `host-gateway` entry written once per address
    /// (none for no address) and merged as [`HostAliases::rewrite`] says.
    fn write(&self, addresses: &[IpAddr]) -> String {
        let units = self.units(addresses);
        let groups = self.groups(&units, addresses.len());
        let list = self.write_list(&units, &groups);
        // The ranges come from the read, so the splice holds; were it to
        // fail, the object goes back unchanged, and the API server refuses
        // its `host-gateway` in its own words.
        json::splice(self.object, vec![(self.list.clone(), list)])
            .unwrap_or_else(|| self.object.to_string())
    }

    /// The string hostnames of the `host-gateway` entries, in order.
    pub fn host_gateway_names(&self) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        self.entries
            .iter()
            .filter(|entry| entry.ip == EntryIp::HostGateway)
            .flat_map(|entry| hostnames(entry.text))
    }

    /// The entries as they are written, in order.
    fn units(&self, addresses: &[IpAddr]) -> Vec<Unit> {
        let mut units = Vec::with_capacity(self.entries.len() + addresses.len());
        for (entry, found) in self.entries.iter().enumerate() {
            match found.ip {
                EntryIp::HostGateway => units.extend(addresses.iter().map(|a| Unit {
                    entry,
                    address: Some(*a),
                })),
                EntryIp::Address(ip) if addresses.contains(&ip) => units.push(Unit {
                    entry,
                    address: Some(ip),
                }),
                _ => units.push(Unit {
                    entry,
                    address: None,
                }),
            }
        }
        units
    }

    /// The entries (by index) that end up with each address, survivor
    /// first: the first that already held it (the stored entry, wherever
    /// the API server's merge put the re-applied one), else the first
    /// rewritten. One pass, and one rotation per address.
    fn groups(&self, units: &[Unit], addresses: usize) -> HashMap<IpAddr, Vec<usize>> {
        let mut groups: HashMap<IpAddr, Vec<usize>> = HashMap::with_capacity(addresses);
        for unit in units {
            if let Some(address) = unit.address {
                groups.entry(address).or_default().push(unit.entry);
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
        groups
    }

    /// The new text of the list: each unit's text, between the bytes that
    /// stood between the entries.
    fn write_list(&self, units: &[Unit], groups: &HashMap<IpAddr, Vec<usize>>) -> String {
        let (first, last) = (&self.entries[0], &self.entries[self.entries.len() - 1]);
        let mut list = String::with_capacity(self.list.len() + 64 * groups.len());
        list.push_str(&self.object[self.list.start..first.at.start]);
        let mut written = 0;
        for (k, unit) in units.iter().enumerate() {
            let Some(text) = self.unit_text(unit, groups) else {
                continue;
            };
            if written > 0 {
                list.push_str(self.separator(units, k));
            }
            list.push_str(&text);
            written += 1;
        }
        list.push_str(&self.object[last.at.end..self.list.end]);
        list
    }

    /// What a unit writes: its entry as it came, or the merged entry of its
    /// address, written at the survivor's one unit for that address (an
    /// entry has one unit per address); nothing for the others.
    fn unit_text(&self, unit: &Unit, groups: &HashMap<IpAddr, Vec<usize>>) -> Option<Cow<'a, str>> {
        match unit.address {
            None => Some(Cow::Borrowed(self.entries[unit.entry].text)),
            Some(address) => match groups.get(&address) {
                Some(members) if members[0] == unit.entry => {
                    Some(Cow::Owned(self.merged(members, address)))
                }
                _ => None,
            },
        }
    }

    /// What goes before the unit `k`, written after another: the bytes that
    /// stood before its entry, or a comma between the copies of one entry.
    fn separator(&self, units: &[Unit], k: usize) -> &'a str {
        let entry = units[k].entry;
        let starts_entry = k == 0 || units[k - 1].entry != entry;
        if starts_entry && entry > 0 {
            &self.object[self.entries[entry - 1].at.end..self.entries[entry].at.start]
        } else {
            ","
        }
    }

    /// The one entry for `address`, from the entries (by index) that end
    /// up with it, the first being the survivor.
    fn merged(&self, members: &[usize], address: IpAddr) -> String {
        let survivor = &self.entries[members[0]];
        let fields = json::members(survivor.text).unwrap_or_default();
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        let rewritten = survivor.ip == EntryIp::HostGateway;
        if rewritten && let Some(range) = last_member_range(survivor.text, &fields, "ip") {
            // An IpAddr prints with no character that needs escaping.
            edits.push((range, format!("\"{address}\"")));
        }
        // A rewritten entry's names are written as the union would be even
        // alone, so that re-applying it later changes nothing.
        if members.len() > 1 || rewritten {
            let mut appended = String::new();
            let union = self.union_of_names(members);
            if union != hostnames(survivor.text) {
                let list = json::quoted_list(&union);
                match last_member_range(survivor.text, &fields, "hostnames") {
                    Some(range) => edits.push((range, list)),
                    None => appended = format!(",\"hostnames\":{list}"),
                }
            }
            appended.push_str(&self.fields_of_others(members, &fields));
            if !appended.is_empty()
                && let Some(end) = survivor.text.rfind('}')
            {
                edits.push((end..end, appended));
            }
        }
        json::splice(survivor.text, edits).unwrap_or_else(|| survivor.text.to_string())
    }

    /// The names of the entries (by index), in order, each once.
    fn union_of_names(&self, members: &[usize]) -> Vec<Cow<'a, str>> {
        let mut seen = HashSet::new();
        members
            .iter()
            .flat_map(|i| hostnames(self.entries[*i].text))
            .filter(|name| seen.insert(name.clone()))
            .collect()
    }

    /// The fields other than `ip` and `hostnames` that the survivor, whose
    /// members are `fields`, lacks and the other entries have, as members
    /// to append (`,"key":value`), the first of each key.
    fn fields_of_others(&self, members: &[usize], fields: &[(Cow<str>, &str)]) -> String {
        let mut keys: HashSet<Cow<str>> = fields.iter().map(|(key, _)| key.clone()).collect();
        let mut appended = String::new();
        for i in &members[1..] {
            for (key, raw) in json::members(self.entries[*i].text).unwrap_or_default() {
                if key != "ip" && key != "hostnames" && !keys.contains(&key) {
                    let _ = write!(appended, ",{}:{raw}", json::quoted(&key));
                    keys.insert(key);
                }
            }
        }
        appended
    }
}

/// The bytes the value of the last member `key` covers in the object
/// `text`, whose members are `fields`.
fn last_member_range(text: &str, fields: &[(Cow<str>, &str)], key: &str) -> Option<Range<usize>> {
    fields
        .iter()
        .rev()
        .find(|(name, _)| name == key)
        .and_then(|(_, raw)| json::range_in(text, raw))
}

/// The most addresses a re-sent `host-gateway` takes from a stored list:
/// each `host-gateway` entry is written once per address.
const MAX_STORED_ADDRESSES: usize = 16;

/// The addresses at which the stored list `stored` holds the names of the
/// `host-gateway` entries of `aliases`, in its order, each once: what a
/// re-sent `host-gateway` stands for (none when its entries name nothing).
/// `None` when a name is held at no address, or the names at more than
/// [`MAX_STORED_ADDRESSES`].
pub fn stored_addresses(aliases: &HostAliases, stored: &str) -> Option<Vec<IpAddr>> {
    let wanted: HashSet<Cow<str>> = aliases.host_gateway_names().collect();
    let mut held: HashSet<Cow<str>> = HashSet::new();
    let mut addresses = Vec::new();
    for entry in json::elements(stored)? {
        let EntryIp::Address(ip) = EntryIp::of(entry) else {
            continue;
        };
        let names = hostnames(entry);
        if names.iter().any(|name| wanted.contains(name)) {
            if !addresses.contains(&ip) {
                // Bounded, so that this stays linear.
                if addresses.len() == MAX_STORED_ADDRESSES {
                    return None;
                }
                addresses.push(ip);
            }
            for name in names {
                held.insert(name);
            }
        }
    }
    wanted
        .iter()
        .all(|name| held.contains(name))
        .then_some(addresses)
}

/// The raw `hostAliases` of the pod spec at `pod_spec_path`, found in one
/// pass.
pub fn host_aliases_list<'a>(object: &'a str, pod_spec_path: &[&str]) -> Option<&'a str> {
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

/// Calls `each` with what the `ip` of each `hostAliases` entry under the
/// pod spec at `pod_spec_path` says, and each of its string `hostnames`.
pub fn for_each_name(object: &str, pod_spec_path: &[&str], mut each: impl FnMut(EntryIp, &str)) {
    let entries = host_aliases_list(object, pod_spec_path).and_then(json::elements);
    for entry in entries.unwrap_or_default() {
        let ip = EntryIp::of(entry);
        for name in hostnames(entry) {
            each(ip, &name);
        }
    }
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
pub fn names_any_of(object: &str, pod_spec_path: &[&str], names: &HashSet<Cow<str>>) -> bool {
    hostnames_present(object, pod_spec_path)
        .iter()
        .any(|name| names.contains(name.as_ref()))
}

/// The object with `names` taken out of every `hostAliases` entry whose
/// `ip` is an address other than those of `current`: each name then points
/// only at the current addresses. An entry of no other names becomes a
/// `host-gateway` entry instead. `None` when no entry holds such a name
/// (the object is unchanged).
pub fn without_stale_names(
    object: &str,
    pod_spec_path: &[&str],
    names: &HashSet<Cow<str>>,
    current: &[IpAddr],
) -> Option<String> {
    let list = host_aliases_list(object, pod_spec_path)?;
    let entries = json::elements(list)?;
    let mut kept: Vec<Cow<str>> = Vec::with_capacity(entries.len());
    let mut changed = false;
    for entry in entries {
        let stale = matches!(EntryIp::of(entry), EntryIp::Address(ip) if !current.contains(&ip));
        let own = hostnames(entry);
        if !stale || !own.iter().any(|name| names.contains(name.as_ref())) {
            kept.push(Cow::Borrowed(entry));
            continue;
        }
        changed = true;
        let left: Vec<&str> = own
            .iter()
            .map(AsRef::as_ref)
            .filter(|name| !names.contains(*name))
            .collect();
        // An entry of those names only is the policy's: it becomes a
        // host-gateway entry, its other fields kept, for the rewrite to
        // bring to the current addresses where it stands.
        if left.is_empty() {
            let ip = json::field(entry, "ip")?;
            kept.push(Cow::Owned(json::replace(
                entry,
                ip,
                &json::quoted(HOST_GATEWAY),
            )?));
            continue;
        }
        let raw = json::field(entry, "hostnames")?;
        kept.push(Cow::Owned(json::replace(
            entry,
            raw,
            &json::quoted_list(&left),
        )?));
    }
    if !changed {
        return None;
    }
    json::replace(
        object,
        list,
        &format!("[{}]", join(kept.iter().map(|k| k.as_ref()), ",")),
    )
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
        let names: HashSet<Cow<str>> = names.iter().map(|n| Cow::Borrowed(*n)).collect();
        without_stale_names(object, &["spec"], &names, &ips(current))
    }

    #[test]
    fn stale_names_leave_entries_of_other_addresses() {
        let pod = r#"{"spec":{"hostAliases":[ {"ip":"10.0.0.1","hostnames":["db","x"],"f":1}, {"ip":"10.0.0.2","hostnames":["db"]}, {"ip":"192.168.65.254","hostnames":["db"]}, {"ip":"host-gateway","hostnames":["db"]} ],"y":2}}"#;
        assert_eq!(
            stale(pod, &["db"], &["192.168.65.254"]).as_deref(),
            Some(
                r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1","hostnames":["x"],"f":1},{"ip":"host-gateway","hostnames":["db"]},{"ip":"192.168.65.254","hostnames":["db"]},{"ip":"host-gateway","hostnames":["db"]}],"y":2}}"#
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
        let names: HashSet<Cow<str>> = [Cow::Borrowed("db")].into_iter().collect();
        assert!(names_any_of(pod, &["spec"], &names));
        let names: HashSet<Cow<str>> = [Cow::Borrowed("cache")].into_iter().collect();
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
