//! The policy's calls to its host, through the SDK: the DNS lookup and the
//! log line. Kept apart so that everything else runs without a waPC host.

use std::sync::LazyLock;

use kubewarden_policy_sdk::error::Error;
use kubewarden_policy_sdk::host_capabilities::net;
use kubewarden_policy_sdk::logging::KubewardenDrain;
use slog::{Drain, Logger, info, o};

use crate::messages::UNREADABLE_DNS_ANSWER;

/// Kubewarden's `net/v1/dns_lookup_host`, through the SDK. An error comes
/// back as the host's text, which `lookup::read_host_error` reads; an
/// answer that is not the SDK's `LookupResponse` reads as one short
/// sentence.
pub fn lookup_host(name: &str) -> Result<Vec<String>, String> {
    match net::lookup_host(name) {
        Ok(answer) => Ok(answer.ips),
        Err(Error::Deserialization { .. }) => Err(UNREADABLE_DNS_ANSWER.to_string()),
        Err(error) => Err(error.to_string()),
    }
}

/// The SDK's drain, as Kubewarden's own policies log, without the `Fuse`
/// that `KubewardenDrain::new` adds: a fused drain panics when the host
/// refuses a log call, and a log line must never fail an admission.
static LOG: LazyLock<Logger> = LazyLock::new(|| {
    Logger::root(
        KubewardenDrain::default().ignore_res(),
        o!("policy" => "host-gateway"),
    )
});

/// One line for policy-server's log.
pub fn log_rewrite(summary: &str) {
    info!(LOG, "{}", summary);
}
