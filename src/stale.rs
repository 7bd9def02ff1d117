//! The report form (`reportStale: true`): whether a running Pod still
//! points its names at the host. Kubewarden's audit scanner sends each
//! stored Pod as a CREATE; a Pod whose names point at an address the host
//! no longer has is refused, which the scanner records as "fail" in its
//! reports. Nothing is ever mutated. Like a Docker container, a Pod keeps
//! the `/etc/hosts` it started with; unlike Docker, restarting a container
//! does not re-read it: the Pod must be made again.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::IpAddr;

use crate::inject::takes_injection;
use crate::intent;
use crate::json;
use crate::lookup::{Choice, LookupError, choose_addresses};
use crate::rewrite::{EntryIp, for_each_name};
use crate::settings::Settings;
use crate::verdict::{Rejection, Verdict};

/// The Pod's metadata, beside its spec.
const POD_METADATA: [&str; 1] = ["metadata"];

/// The verdict on the Pod `object`, in `namespace`, named `name`: refused
/// when a name it holds for the host (annotated, or from
/// `injectHostnames`) points at an address not among the host's current
/// ones; refused with code 500 (an error to check, not "stale") when no
/// name resolves. Nothing is looked up for a Pod that holds no such name.
pub fn check<R>(
    object: &str,
    namespace: &str,
    name: &str,
    settings: &Settings,
    resolve: R,
) -> Verdict
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    let names = host_names(object, settings);
    let held = held_addresses(object, &names);
    if held.is_empty() {
        return Verdict::Accept;
    }
    let current = match choose_addresses(settings, resolve) {
        Choice::Found { found, .. } => found.iter().map(|f| f.ip).collect::<Vec<_>>(),
        Choice::Fallback { shortfall, .. } | Choice::NoAddress(shortfall) => {
            return Verdict::Reject(Rejection::CannotCheck(shortfall));
        }
    };
    // Names are 80 at most (a short scan finds a repeat); addresses are
    // one per entry, so a set keeps this linear.
    let mut stale_names: Vec<String> = Vec::new();
    let mut stale_addresses: Vec<String> = Vec::new();
    let mut seen: HashSet<Cow<str>> = HashSet::new();
    for (held_name, ip) in &held {
        if current.contains(ip) {
            continue;
        }
        if !stale_names.contains(held_name) {
            stale_names.push(held_name.clone());
        }
        let ip = ip.to_string();
        if seen.insert(Cow::Owned(ip.clone())) {
            stale_addresses.push(ip);
        }
    }
    if stale_names.is_empty() {
        return Verdict::Accept;
    }
    Verdict::Reject(Rejection::StaleAddress {
        names: stale_names,
        held: stale_addresses,
        current: current.iter().map(ToString::to_string).collect(),
        fix: fix(object, namespace, name),
    })
}

/// The names the Pod holds for the host: its annotation's (those that
/// point at the host), then `injectHostnames` unless it opts out.
fn host_names(object: &str, settings: &Settings) -> Vec<String> {
    let annotated = intent::annotation(object, &POD_METADATA).map(intent::parse_raw);
    let mut names = match annotated {
        Some(Ok(items)) => intent::host_names(&items),
        _ => Vec::new(),
    };
    if takes_injection(object) {
        for injected in &settings.inject_hostnames {
            if !names.contains(injected) {
                names.push(injected.clone());
            }
        }
    }
    names
}

/// Each of `names` the Pod's entries hold at an address, with it, in the
/// entries' order (80 names at most: a short scan finds one).
fn held_addresses(object: &str, names: &[String]) -> Vec<(String, IpAddr)> {
    let mut held = Vec::new();
    if names.is_empty() {
        return held;
    }
    for_each_name(object, &["spec"], |ip, _, name| {
        if let EntryIp::Address(ip) = ip
            && names.iter().any(|n| n == name)
        {
            held.push((name.to_string(), ip));
        }
    });
    held
}

/// What makes the Pod again, as a command: its owner's rollout where the
/// Pod alone says exactly which owner (a Deployment's ReplicaSet, a
/// StatefulSet, a DaemonSet), else deleting the Pod.
fn fix(object: &str, namespace: &str, name: &str) -> String {
    let namespace = match namespace {
        "" => String::new(),
        namespace => format!("-n {namespace} "),
    };
    match owner(object) {
        Some(owner) => {
            format!("restart the Pod's owner: kubectl {namespace}rollout restart {owner}")
        }
        None => format!("recreate the Pod: kubectl {namespace}delete pod {name}"),
    }
}

/// `deployment/NAME`, `statefulset/NAME` or `daemonset/NAME`: the owner
/// that a rollout restart makes the Pod again from. A ReplicaSet is a
/// Deployment's when its name is the Deployment's, `-`, and the Pod's
/// `pod-template-hash` label (pkg/controller/deployment/sync.go).
fn owner(object: &str) -> Option<String> {
    let owners = json::path(object, &["metadata", "ownerReferences"]).and_then(json::elements)?;
    let controller = owners
        .into_iter()
        .find(|owner| json::field(owner, "controller") == Some("true"))?;
    let field = |key| json::field(controller, key).and_then(json::string);
    let (kind, owner_name) = (field("kind")?, field("name")?);
    match kind.as_ref() {
        "StatefulSet" => Some(format!("statefulset/{owner_name}")),
        "DaemonSet" => Some(format!("daemonset/{owner_name}")),
        "ReplicaSet" => {
            let hash = json::path(object, &["metadata", "labels", "pod-template-hash"])
                .and_then(json::string)?;
            let deployment = owner_name.strip_suffix(hash.as_ref())?.strip_suffix('-')?;
            (!deployment.is_empty()).then(|| format!("deployment/{deployment}"))
        }
        _ => None,
    }
}
