//! The rewrite itself: find the `hostAliases` entries whose `ip` asks for
//! an address (`host-gateway`, or `dns:NAME`), and splice address(es) into
//! the object's JSON text, keeping the list a map keyed by `ip`. Every byte
//! outside the list is copied as it came.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;

use crate::intent::Item;
use crate::json;
use crate::names::is_dns1123_subdomain;
use crate::target::{MAX_TARGETS, TARGET_PREFIX};
use crate::text::join;

/// The `ip` value Docker's `--add-host NAME:host-gateway` made familiar.
pub const HOST_GATEWAY: &str = "host-gateway";

/// What an entry's `ip` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryIp {
    /// `host-gateway`.
    HostGateway,
    /// `dns:NAME`: NAME's address.
    Target,
    /// An address.
    Address(IpAddr),
    /// Anything else, or nothing.
    Other,
}

impl EntryIp {
    /// What the entry `text` has for `ip`.
    fn of(text: &str) -> Self {
        Self::read(text).0
    }

    /// What the entry `text` has for `ip`, with the name a `dns:` one asks
    /// for.
    fn read(text: &str) -> (Self, Option<Cow<'_, str>>) {
        let Some(ip) = json::field(text, "ip").and_then(json::string) else {
            return (EntryIp::Other, None);
        };
        if ip == HOST_GATEWAY {
            return (EntryIp::HostGateway, None);
        }
        let name = match &ip {
            Cow::Borrowed(ip) => ip.strip_prefix(TARGET_PREFIX).map(Cow::Borrowed),
            Cow::Owned(ip) => ip
                .strip_prefix(TARGET_PREFIX)
                .map(|n| Cow::Owned(n.to_string())),
        };
        match name {
            Some(name) => (EntryIp::Target, Some(name)),
            None => (ip.parse().map_or(EntryIp::Other, EntryIp::Address), None),
        }
    }

    /// Whether the entry asks for an address.
    fn asks(self) -> bool {
        matches!(self, EntryIp::HostGateway | EntryIp::Target)
    }
}

/// The addresses the entries that ask get: the host's for `host-gateway`,
/// and for `dns:NAME` NAME's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// The host's addresses, in order.
    pub host: Vec<IpAddr>,
    /// Each target and its addresses, in order.
    pub targets: Vec<(String, Vec<IpAddr>)>,
}

impl Answers {
    /// What `name`, a target, gets: nothing when it is not answered.
    fn of_target(&self, name: &str) -> &[IpAddr] {
        self.targets
            .iter()
            .find(|(target, _)| target == name)
            .map_or(&[], |(_, ips)| ips.as_slice())
    }

    /// Every address of the answers, each once.
    pub fn all(&self) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = Vec::new();
        for ip in self
            .host
            .iter()
            .chain(self.targets.iter().flat_map(|(_, ips)| ips))
        {
            if !all.contains(ip) {
                all.push(*ip);
            }
        }
        all
    }
}

/// One `hostAliases` entry: its text, and the bytes it covers in the
/// object, kept from the read.
#[derive(Debug, Clone)]
struct Entry<'a> {
    text: &'a str,
    at: Range<usize>,
    ip: EntryIp,
    /// For a `dns:` entry, its name's index in [`HostAliases::targets`].
    target: usize,
}

/// One entry as it is written: the entry (by index), and the address it
/// gets (by index) when it is ours to merge (an entry that asks has one
/// unit per address).
#[derive(Debug, Clone, Copy)]
struct Unit {
    entry: usize,
    address: Option<usize>,
}

/// The `hostAliases` list of an object that holds at least one entry that
/// asks for an address, read in place.
#[derive(Debug, Clone)]
pub struct HostAliases<'a> {
    object: &'a str,
    /// The bytes the list covers in the object.
    list: Range<usize>,
    /// Never empty: one of them asks.
    entries: Vec<Entry<'a>>,
    /// The names `dns:` entries ask for, each once, in order.
    targets: Vec<Cow<'a, str>>,
}

impl<'a> HostAliases<'a> {
    /// The `hostAliases` list under the pod spec at `pod_spec_path`, when
    /// an entry's `ip` is exactly `host-gateway` or starts with `dns:`.
    /// Shapes other than an array of objects (null, a string, entries
    /// without `ip`) hold nothing to rewrite.
    pub fn asking(object: &'a str, pod_spec_path: &[&str]) -> Option<Self> {
        let list = host_aliases_list(object, pod_spec_path)?;
        let mut targets: Vec<Cow<str>> = Vec::new();
        let mut entries = Vec::new();
        for text in json::elements(list)? {
            let (ip, name) = EntryIp::read(text);
            let target = name.map_or(0, |name| match targets.iter().position(|t| *t == name) {
                Some(i) => i,
                // One past the bound is kept, so that the object is refused;
                // the scan stays short, so this stays linear.
                None if targets.len() > MAX_TARGETS => MAX_TARGETS,
                None => {
                    targets.push(name);
                    targets.len() - 1
                }
            });
            entries.push(Entry {
                text,
                at: json::range_in(object, text)?,
                ip,
                target,
            });
        }
        entries
            .iter()
            .any(|entry| entry.ip.asks())
            .then_some(HostAliases {
                object,
                list: json::range_in(object, list)?,
                entries,
                targets,
            })
    }

    /// Whether an entry is `host-gateway`.
    pub fn asks_for_the_host(&self) -> bool {
        self.entries.iter().any(|e| e.ip == EntryIp::HostGateway)
    }

    /// What `entry` gets from `answers`: nothing for an entry that does
    /// not ask.
    fn answer<'r>(&self, answers: &'r Answers, entry: &Entry) -> &'r [IpAddr] {
        match entry.ip {
            EntryIp::HostGateway => &answers.host,
            EntryIp::Target => answers.of_target(&self.targets[entry.target]),
            _ => &[],
        }
    }

    /// The names `dns:` entries ask for, each once, in order: at most
    /// [`MAX_TARGETS`] and one more, which stands for all beyond.
    pub fn targets(&self) -> &[Cow<'a, str>] {
        &self.targets
    }

    /// The object with each entry that asks replaced by one copy per
    /// address it gets from `answers`, the copy's `ip` being that address,
    /// keeping `hostAliases` a map keyed by `ip`: all entries that end up
    /// with one address become one, with the union of their `hostnames`
    /// and the fields of each. It takes the place, and wins any conflict,
    /// of the first entry that already held the address, or else of the
    /// first rewritten one, so the order in which a re-applied entry
    /// arrives does not matter. Entries with other addresses stay as they
    /// are, and so does every byte outside the list; an entry that asks
    /// and gets no address is left out.
    pub fn rewrite(&self, answers: &Answers) -> String {
        let all = answers.all();
        let units = self.units(answers, &all);
        let groups = self.groups(&units, all.len());
        let list = self.write_list(&units, &groups, &all);
        // The ranges come from the read, so the splice holds; were it to
        // fail, the object goes back unchanged, and the API server refuses
        // its `host-gateway` in its own words.
        json::splice(self.object, vec![(self.list.clone(), list)])
            .unwrap_or_else(|| self.object.to_string())
    }

    /// The DNS-1123 names of the entries that ask, in order, each pointed
    /// where its entry asks (repeats kept): what the intent annotation of
    /// a template gains.
    pub fn asked_items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        for entry in &self.entries {
            let target = match entry.ip {
                EntryIp::HostGateway => None,
                EntryIp::Target if is_dns1123_subdomain(&self.targets[entry.target]) => {
                    Some(self.targets[entry.target].to_string())
                }
                _ => continue,
            };
            for name in hostnames(entry.text) {
                if is_dns1123_subdomain(&name) {
                    items.push(Item {
                        name: name.into_owned(),
                        target: target.clone(),
                    });
                }
            }
        }
        items
    }

    /// The string hostnames of the entries that ask for the host (`None`)
    /// or for `target`, in order.
    pub fn names_asking_for<'s>(
        &'s self,
        target: Option<&'s str>,
    ) -> impl Iterator<Item = Cow<'a, str>> + 's {
        (self.entries.iter())
            .filter(move |entry| match (entry.ip, target) {
                (EntryIp::HostGateway, None) => true,
                (EntryIp::Target, Some(target)) => self.targets[entry.target] == target,
                _ => false,
            })
            .flat_map(|entry| hostnames(entry.text))
    }

    /// The entries as they are written, in order; `all` holds every
    /// address of `answers` (a few dozen at most: a short scan finds one).
    fn units(&self, answers: &Answers, all: &[IpAddr]) -> Vec<Unit> {
        let index = |ip: &IpAddr| all.iter().position(|a| a == ip);
        let mut units = Vec::with_capacity(self.entries.len() + all.len());
        for (entry, found) in self.entries.iter().enumerate() {
            match found.ip {
                EntryIp::HostGateway | EntryIp::Target => {
                    units.extend(self.answer(answers, found).iter().map(|a| Unit {
                        entry,
                        address: index(a),
                    }))
                }
                EntryIp::Address(ip) => units.push(Unit {
                    entry,
                    address: index(&ip),
                }),
                EntryIp::Other => units.push(Unit {
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
    fn groups(&self, units: &[Unit], addresses: usize) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); addresses];
        for unit in units {
            if let Some(address) = unit.address {
                groups[address].push(unit.entry);
            }
        }
        for members in &mut groups {
            if let Some(held) = members.iter().position(|i| !self.entries[*i].ip.asks()) {
                members[..=held].rotate_right(1);
            }
        }
        groups
    }

    /// The new text of the list: each unit's text, between the bytes that
    /// stood between the entries.
    fn write_list(&self, units: &[Unit], groups: &[Vec<usize>], all: &[IpAddr]) -> String {
        let (first, last) = (&self.entries[0], &self.entries[self.entries.len() - 1]);
        let mut list = String::with_capacity(self.list.len() + 64 * groups.len());
        list.push_str(&self.object[self.list.start..first.at.start]);
        let mut written = 0;
        for (k, unit) in units.iter().enumerate() {
            let Some(text) = self.unit_text(unit, groups, all) else {
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
    fn unit_text(
        &self,
        unit: &Unit,
        groups: &[Vec<usize>],
        all: &[IpAddr],
    ) -> Option<Cow<'a, str>> {
        match unit.address {
            None => Some(Cow::Borrowed(self.entries[unit.entry].text)),
            Some(address) => match groups.get(address) {
                Some(members) if members.first() == Some(&unit.entry) => {
                    Some(Cow::Owned(self.merged(members, all[address])))
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
        let rewritten = survivor.ip.asks();
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

/// The most addresses a re-sent `host-gateway` or `dns:` entry takes from
/// a stored list: each such entry is written once per address.
const MAX_STORED_ADDRESSES: usize = 16;

/// What a re-sent `host-gateway` or `dns:NAME` entry stands for: the
/// addresses at which the stored list `stored` holds its names, in the
/// stored order, each once (none when its entries name nothing). `None`
/// when a name is held at no address, or the names of one entry at more
/// than [`MAX_STORED_ADDRESSES`]. The caller bounds the targets, so that
/// this stays linear.
pub fn stored_answers(aliases: &HostAliases, stored: &str) -> Option<Answers> {
    let stored: Vec<(IpAddr, Vec<Cow<str>>)> = json::elements(stored)?
        .into_iter()
        .filter_map(|entry| match EntryIp::of(entry) {
            EntryIp::Address(ip) => Some((ip, hostnames(entry))),
            _ => None,
        })
        .collect();
    // What the host-gateway entries stand for, then each target's.
    let mut found = Vec::with_capacity(1 + aliases.targets.len());
    for ask in 0..=aliases.targets.len() {
        let asking = aliases.entries.iter().filter(|e| match e.ip {
            EntryIp::HostGateway => ask == 0,
            EntryIp::Target => ask == 1 + e.target,
            _ => false,
        });
        let wanted: HashSet<Cow<str>> = asking.flat_map(|e| hostnames(e.text)).collect();
        found.push(stored_addresses(&wanted, &stored)?);
    }
    let mut found = found.into_iter();
    Some(Answers {
        host: found.next().unwrap_or_default(),
        targets: aliases
            .targets
            .iter()
            .map(|t| t.to_string())
            .zip(found)
            .collect(),
    })
}

/// The addresses at which `stored` holds the `wanted` names, in its order,
/// each once; `None` when a name is held nowhere, or at more than
/// [`MAX_STORED_ADDRESSES`].
fn stored_addresses(
    wanted: &HashSet<Cow<str>>,
    stored: &[(IpAddr, Vec<Cow<str>>)],
) -> Option<Vec<IpAddr>> {
    let mut held: HashSet<Cow<str>> = HashSet::new();
    let mut addresses = Vec::new();
    for (ip, names) in stored {
        if names.iter().any(|name| wanted.contains(name)) {
            if !addresses.contains(ip) {
                if addresses.len() == MAX_STORED_ADDRESSES {
                    return None;
                }
                addresses.push(*ip);
            }
            held.extend(names.iter().cloned());
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
/// pod spec at `pod_spec_path` says (with the name a `dns:` one asks for),
/// and each of its string `hostnames`.
pub fn for_each_name(
    object: &str,
    pod_spec_path: &[&str],
    mut each: impl FnMut(EntryIp, Option<&str>, &str),
) {
    let entries = host_aliases_list(object, pod_spec_path).and_then(json::elements);
    for entry in entries.unwrap_or_default() {
        let (ip, target) = EntryIp::read(entry);
        for name in hostnames(entry) {
            each(ip, target.as_deref(), &name);
        }
    }
}

/// The object with one more `hostAliases` entry under the pod spec at
/// `pod_spec_path`, `{"ip":ip,"hostnames":names}` where `ip` asks
/// (`host-gateway` or `dns:NAME`), last in the list (created when absent
/// or null), for [`HostAliases`] to rewrite like any other. `None` when the
/// spec or the list has another shape.
pub fn with_asking_entry<S: AsRef<str>>(
    object: &str,
    pod_spec_path: &[&str],
    ip: &str,
    names: &[S],
) -> Option<String> {
    let spec = json::path(object, pod_spec_path).filter(|spec| spec.starts_with('{'))?;
    let entry = format!(
        "{{\"ip\":{},\"hostnames\":{}}}",
        json::quoted(ip),
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
/// only at the current addresses. An entry of no other names asks for them
/// instead, its `ip` becoming `asking` (`host-gateway` or `dns:NAME`).
/// `None` when no entry holds such a name (the object is unchanged).
pub fn without_stale_names(
    object: &str,
    pod_spec_path: &[&str],
    names: &HashSet<Cow<str>>,
    current: &[IpAddr],
    asking: &str,
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
        // An entry of those names only is the policy's: it asks again,
        // its other fields kept, for the rewrite to bring to the current
        // addresses where it stands.
        if left.is_empty() {
            let ip = json::field(entry, "ip")?;
            kept.push(Cow::Owned(json::replace(entry, ip, &json::quoted(asking))?));
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
        let answers = Answers {
            host: ips(addresses),
            targets: vec![],
        };
        HostAliases::asking(object, path)
            .map_or_else(|| object.to_string(), |found| found.rewrite(&answers))
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
        assert!(HostAliases::asking(object, &["spec"]).is_none());
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
            with_asking_entry(object, &["spec"], HOST_GATEWAY, &["h".to_string()]).as_deref(),
            Some(expected)
        );
    }

    #[rstest]
    #[case::no_spec(r#"{"metadata":{}}"#)]
    #[case::spec_a_list(r#"{"spec":[]}"#)]
    #[case::list_a_string(r#"{"spec":{"hostAliases":"x"}}"#)]
    fn adds_nothing_to_other_shapes(#[case] object: &str) {
        assert_eq!(
            with_asking_entry(object, &["spec"], HOST_GATEWAY, &["h".to_string()]),
            None
        );
    }

    fn stale(object: &str, names: &[&str], current: &[&str]) -> Option<String> {
        let names: HashSet<Cow<str>> = names.iter().map(|n| Cow::Borrowed(*n)).collect();
        without_stale_names(object, &["spec"], &names, &ips(current), HOST_GATEWAY)
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
    fn without_addresses_the_entries_that_ask_are_left_out() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"host-gateway"},{"ip":"10.0.0.1"}, {"ip":"dns:a.b"}]}}"#;
        assert_eq!(
            rewrite(pod, &["spec"], &[]),
            r#"{"spec":{"hostAliases":[{"ip":"10.0.0.1"}]}}"#
        );
    }

    /// The pod with `aliases` rewritten: the host at `host`, and each
    /// target, in order of first appearance, at its addresses.
    fn rewrite_targets(aliases: Value, host: &[&str], targets: Vec<Vec<&str>>) -> Value {
        let pod = json!({"spec": {"hostAliases": aliases}}).to_string();
        let found = HostAliases::asking(&pod, &["spec"]).unwrap();
        let answers = Answers {
            host: ips(host),
            targets: (found.targets().iter())
                .zip(&targets)
                .map(|(name, t)| (name.to_string(), ips(t)))
                .collect(),
        };
        let out: Value = serde_json::from_str(&found.rewrite(&answers)).unwrap();
        out["spec"]["hostAliases"].clone()
    }

    #[test]
    fn reads_each_target_once_in_order() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"dns:b.svc"},{"ip":"host-gateway"},{"ip":"dns:a.svc"},{"ip":"dns\u003ab.svc"},{"ip":"dns:"}]}}"#;
        let found = HostAliases::asking(pod, &["spec"]).unwrap();
        assert_eq!(found.targets(), ["b.svc", "a.svc", ""]);
        assert!(found.asks_for_the_host());
        let only_targets = r#"{"spec":{"hostAliases":[{"ip":"dns:b.svc"}]}}"#;
        assert!(
            !HostAliases::asking(only_targets, &["spec"])
                .unwrap()
                .asks_for_the_host()
        );
    }

    #[rstest]
    #[case::each_target_its_address(
        json!([{"ip": "dns:a.svc", "hostnames": ["a"], "x": 1}, {"ip": "dns:b.svc", "hostnames": ["b"]}, {"ip": "dns:a.svc", "hostnames": ["c"]}]),
        &[],
        vec![vec!["10.96.0.1"], vec!["10.96.0.2"]],
        json!([{"ip": "10.96.0.1", "hostnames": ["a", "c"], "x": 1}, {"ip": "10.96.0.2", "hostnames": ["b"]}])
    )]
    #[case::a_target_at_the_host_merges_with_host_gateway(
        json!([{"ip": "host-gateway", "hostnames": ["h"]}, {"ip": "dns:a.svc", "hostnames": ["a"]}]),
        &["172.19.0.1"],
        vec![vec!["172.19.0.1"]],
        json!([{"ip": "172.19.0.1", "hostnames": ["h", "a"]}])
    )]
    #[case::a_target_merges_into_a_literal_entry(
        json!([{"ip": "10.96.0.1", "hostnames": ["old"]}, {"ip": "dns:a.svc", "hostnames": ["a"]}]),
        &[],
        vec![vec!["10.96.0.1"]],
        json!([{"ip": "10.96.0.1", "hostnames": ["old", "a"]}])
    )]
    #[case::two_families(
        json!([{"ip": "dns:a.svc", "hostnames": ["a"]}]),
        &[],
        vec![vec!["10.96.0.1", "fd00::1"]],
        json!([{"ip": "10.96.0.1", "hostnames": ["a"]}, {"ip": "fd00::1", "hostnames": ["a"]}])
    )]
    #[case::a_target_without_address_is_left_out(
        json!([{"ip": "dns:a.svc", "hostnames": ["a"]}, {"ip": "dns:b.svc", "hostnames": ["b"]}]),
        &[],
        vec![vec![], vec!["10.96.0.2"]],
        json!([{"ip": "10.96.0.2", "hostnames": ["b"]}])
    )]
    fn targets_get_their_addresses_merged_by_ip(
        #[case] aliases: Value,
        #[case] host: &[&str],
        #[case] targets: Vec<Vec<&str>>,
        #[case] expected: Value,
    ) {
        assert_eq!(rewrite_targets(aliases, host, targets), expected);
    }

    #[test]
    fn answers_follow_the_name_not_the_order() {
        let pod = r#"{"spec":{"hostAliases":[{"ip":"dns:a.svc"},{"ip":"dns:b.svc"}]}}"#;
        let answers = Answers {
            host: vec![],
            targets: vec![
                ("b.svc".into(), ips(&["10.96.0.2"])),
                ("a.svc".into(), ips(&["10.96.0.1"])),
            ],
        };
        let found = HostAliases::asking(pod, &["spec"]).unwrap();
        assert_eq!(
            found.rewrite(&answers),
            r#"{"spec":{"hostAliases":[{"ip":"10.96.0.1"},{"ip":"10.96.0.2"}]}}"#
        );
    }

    #[rstest]
    #[case::each_its_own(
        json!([{"ip": "host-gateway", "hostnames": ["h"]}, {"ip": "dns:a.svc", "hostnames": ["a", "a2"]}]),
        json!([{"ip": "10.96.0.1", "hostnames": ["a", "a2"]}, {"ip": "172.19.0.1", "hostnames": ["h"]}]),
        Some(Answers { host: ips(&["172.19.0.1"]), targets: vec![("a.svc".into(), ips(&["10.96.0.1"]))] })
    )]
    #[case::a_name_held_nowhere(
        json!([{"ip": "dns:a.svc", "hostnames": ["a", "gone"]}]),
        json!([{"ip": "10.96.0.1", "hostnames": ["a"]}]),
        None
    )]
    #[case::one_name_asked_twice(
        json!([{"ip": "host-gateway", "hostnames": ["x"]}, {"ip": "dns:a.svc", "hostnames": ["x"]}]),
        json!([{"ip": "10.96.0.1", "hostnames": ["x"]}]),
        Some(Answers { host: ips(&["10.96.0.1"]), targets: vec![("a.svc".into(), ips(&["10.96.0.1"]))] })
    )]
    #[case::nothing_named(
        json!([{"ip": "dns:a.svc"}]),
        json!([]),
        Some(Answers { host: vec![], targets: vec![("a.svc".into(), vec![])] })
    )]
    fn stored_answers_follow_each_entry(
        #[case] aliases: Value,
        #[case] stored: Value,
        #[case] expected: Option<Answers>,
    ) {
        let pod = json!({"spec": {"hostAliases": aliases}}).to_string();
        let found = HostAliases::asking(&pod, &["spec"]).unwrap();
        assert_eq!(stored_answers(&found, &stored.to_string()), expected);
    }

    #[test]
    fn rewritten_object_holds_no_host_gateway() {
        let pod =
            json!({"spec": {"hostAliases": [{"ip": "host-gateway"}, {"ip": "host-gateway"}]}})
                .to_string();
        let once = rewrite(&pod, &["spec"], &["10.0.0.1", "fd00::1"]);
        assert!(HostAliases::asking(&once, &["spec"]).is_none());
        assert!(!once.contains(HOST_GATEWAY));
    }
}
