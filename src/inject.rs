//! Injection: the names of the `injectHostnames` setting that a new Pod
//! gets, unless it opts out or already has them.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::json;
use crate::names::comparable_name;
use crate::rewrite::hostnames_present;

/// The Pod annotation that keeps `injectHostnames` out of a pod when it
/// says `"false"`.
pub const INJECT_ANNOTATION: &str = "host-gateway.kubewarden.io/inject";

/// The settings key that turns injection on: payloads that mention it are
/// read even when they hold no `host-gateway`.
pub const INJECT_SETTING: &str = "injectHostnames";

/// The annotation a kubelet puts on the mirror pod of a static pod
/// (`ConfigMirrorAnnotationKey`, kubernetes pkg/kubelet/types). The kubelet
/// runs the static pod from its own manifest, never from the mirror, so an
/// entry injected into the mirror would show what no container has.
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The names of `inject` that the Pod `object` gets: none when it opts
/// out or mirrors a static pod, else those its `hostAliases` do not hold
/// yet.
pub fn names_to_inject(object: &str, pod_spec_path: &[&str], inject: &[String]) -> Vec<String> {
    if inject.is_empty() || !takes_injection(object) {
        return Vec::new();
    }
    let present: HashSet<Cow<str>> = hostnames_present(object, pod_spec_path)
        .iter()
        .map(|name| Cow::Owned(comparable_name(name)))
        .collect();
    inject
        .iter()
        .filter(|name| !present.contains(comparable_name(name).as_str()))
        .cloned()
        .collect()
}

/// Whether the Pod `object` takes `injectHostnames`: it does not opt out
/// nor mirror a static pod.
pub fn takes_injection(object: &str) -> bool {
    json::path(object, &["metadata", "annotations", MIRROR_ANNOTATION]).is_none()
        && !opted_out(object)
}

/// Whether the Pod's annotation keeps injection out.
fn opted_out(object: &str) -> bool {
    json::path(object, &["metadata", "annotations", INJECT_ANNOTATION])
        .and_then(json::string)
        .is_some_and(|value| value == "false")
}
