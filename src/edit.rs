//! The user's edit wins. A name that the stored template lists in its
//! intent annotation and holds at an address, and that an UPDATE gives
//! another address or removes, leaves the annotation: the Pods made from
//! the template then follow the edit, not the host (or the `dns:` name).

use std::net::IpAddr;

use crate::intent;
use crate::rewrite::{EntryIp, for_each_name};

// A bit of a `u64` marks each annotated name.
const _: () = assert!(intent::MAX_ANNOTATED_NAMES <= 64);

/// The most addresses kept per name: each is compared for every entry
/// that holds the name, so this stays linear.
const MAX_ADDRESSES_PER_NAME: usize = 16;

/// The annotated names of the stored template `old` that the UPDATE's
/// `object` holds at none of the addresses `old` held them at, nor where
/// the annotation points them: in a `host-gateway` entry or at the
/// `current` addresses of the host, or in a `dns:` entry of their target.
/// A name `old` held nowhere (the GitOps form) is never edited.
pub fn edited_names(
    object: &str,
    old: &str,
    pod_spec_path: &[&str],
    metadata_path: &[&str],
    current: &[IpAddr],
) -> Vec<String> {
    let Some(Ok(annotated)) = intent::annotation(old, metadata_path).map(intent::parse_raw) else {
        return Vec::new();
    };
    // At most 64 names (`intent::MAX_ANNOTATED_NAMES`): finding one is a
    // short scan, and a bit of a `u64` marks each.
    let index = |name: &str| annotated.iter().position(|item| item.name == name);
    let mut stored: Vec<Vec<IpAddr>> = Vec::new();
    stored.resize_with(annotated.len(), Vec::new);
    for_each_name(old, pod_spec_path, |ip, _, name| {
        if let (EntryIp::Address(ip), Some(i)) = (ip, index(name))
            && stored[i].len() < MAX_ADDRESSES_PER_NAME
            && !stored[i].contains(&ip)
        {
            stored[i].push(ip);
        }
    });
    // Kept (one bit a name): held where it was, at the host's address, or
    // asked of the host.
    let mut kept = 0u64;
    for_each_name(object, pod_spec_path, |ip, target, name| {
        if let Some(i) = index(name) {
            let to_host = annotated[i].target.is_none();
            let held = match ip {
                EntryIp::HostGateway => to_host,
                EntryIp::Target => target.is_some() && annotated[i].target.as_deref() == target,
                EntryIp::Address(ip) => {
                    stored[i].contains(&ip) || (to_host && current.contains(&ip))
                }
                // Pointed elsewhere: the user's edit.
                EntryIp::Other => false,
            };
            kept |= u64::from(held) << i;
        }
    });
    let mut edited = Vec::new();
    for (i, item) in annotated.iter().enumerate() {
        if kept & (1 << i) == 0 && !stored[i].is_empty() {
            edited.push(item.name.clone());
        }
    }
    edited
}
