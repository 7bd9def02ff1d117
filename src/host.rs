//! The policy's calls to its host, through the SDK: the DNS lookup and the
//! log line. Kept apart so that everything else runs without a waPC host.

use std::sync::LazyLock;

use kubewarden_policy_sdk::error::Error;
use kubewarden_policy_sdk::host_capabilities::net;
use serde::Serialize;
use slog::{Drain, Logger, OwnedKVList, Record, info, o};

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

/// A slog drain that sends each record to policy-server's `tracing/log`
/// host call in the event format of the SDK's `KubewardenDrain`. Not that
/// drain itself: it builds every event as a `serde_json::Value` map, with a
/// serialiser for each slog value type, 24 KB that would take the module
/// over its 300 KB budget, and `KubewardenDrain::new()` fuses it, so that a
/// refused log call panics. Only the message is sent: the policy logs no
/// key-value pairs.
struct HostDrain;

/// The SDK's log event, as policy-server reads it.
#[derive(Serialize)]
struct Event<'a> {
    level: &'a str,
    message: String,
    file: &'a str,
    line: u32,
    column: u32,
}

impl Drain for HostDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record, _: &OwnedKVList) -> Result<(), slog::Never> {
        let event = Event {
            level: match record.level() {
                slog::Level::Debug => "debug",
                slog::Level::Info => "info",
                slog::Level::Warning => "warning",
                _ => "error",
            },
            message: record.msg().to_string(),
            file: record.file(),
            line: record.line(),
            column: record.column(),
        };
        // A log line must never fail an admission: a failure is dropped.
        if let Ok(bytes) = serde_json::to_vec(&event) {
            let _ = wapc_guest::host_call("kubewarden", "tracing", "log", &bytes);
        }
        Ok(())
    }
}

static LOG: LazyLock<Logger> = LazyLock::new(|| Logger::root(HostDrain, o!()));

/// One line for policy-server's log.
pub fn log_rewrite(summary: &str) {
    info!(LOG, "{}", summary);
}
