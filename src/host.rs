//! The policy's calls to its host, through the SDK: the DNS lookup and the
//! log line. Kept apart so that everything else runs without a waPC host.

use std::net::IpAddr;

use kubewarden_policy_sdk::wapc_guest;
use serde::Serialize;

use crate::json;
use crate::lookup::LookupError;

/// What the policy says when the host's DNS answer is not the SDK's
/// `LookupResponse`.
const UNREADABLE_DNS_ANSWER: &str = "the host's answer is not a list of addresses";

/// How long the lookups of one request may take in all. A DNS server that
/// does not answer costs each name the resolver's timeout (5 s in the
/// official musl policy-server image), and policy-server stops an
/// evaluation at its time limit (12 s in `deploy/`), so the fallback would
/// never be reached; once the lookups have taken this long, no more names
/// are looked up. Names that fail fast (CoreDNS's SERVFAIL on an offline
/// laptop) still go on to the next.
pub const LOOKUP_BUDGET_NS: u64 = 2_000_000_000;

/// The DNS host capability for one request, within [`LOOKUP_BUDGET_NS`].
#[derive(Default)]
pub struct Dns {
    spent_ns: u64,
}

impl Dns {
    /// [`lookup_host`] while time is left; [`LookupError::OutOfTime`] after.
    pub fn lookup(&mut self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        if self.spent_ns >= LOOKUP_BUDGET_NS {
            return Err(LookupError::OutOfTime);
        }
        let started = monotonic_ns();
        let answer = lookup_host(name);
        // No clock (a reading of 0) spends nothing.
        if started > 0 {
            self.spent_ns = self
                .spent_ns
                .saturating_add(monotonic_ns().saturating_sub(started));
        }
        answer
    }
}

/// WASI's monotonic clock, in nanoseconds; 0 if the host has none, which
/// leaves the budget unspent. Called directly: `std::time::Instant` adds
/// 2.5 KB of error formatting to the module for a call that cannot fail.
#[cfg(target_arch = "wasm32")]
fn monotonic_ns() -> u64 {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u16;
    }
    const MONOTONIC: u32 = 1;
    let mut time = 0;
    // SAFETY: the host writes one u64 at a pointer to a live local.
    match unsafe { clock_time_get(MONOTONIC, 1, &mut time) } {
        0 => time,
        _ => 0,
    }
}

/// The monotonic clock where the module is built for tests.
#[cfg(not(target_arch = "wasm32"))]
fn monotonic_ns() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let elapsed = START.get_or_init(std::time::Instant::now).elapsed();
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

/// Kubewarden's `net/v1/dns_lookup_host`: the addresses found, or why
/// there are none, classified here once. The call is the SDK's
/// `net::lookup_host`, but for the request and the answer: the SDK builds
/// the request as a `serde_json::Value`, whose serialiser (numbers, floats
/// and all) would cost the module 5.7 KB of its 300 KB budget to write one
/// string, and reads the answer (`{"ips": [...]}`, the SDK's
/// `LookupResponse`) with a derived reader of its own, where the policy's
/// JSON helpers serve.
fn lookup_host(name: &str) -> Result<Vec<IpAddr>, LookupError> {
    // A string always serialises.
    let request = serde_json::to_vec(name).unwrap_or_default();
    match wapc_guest::host_call("kubewarden", "net", "v1/dns_lookup_host", &request) {
        Ok(answer) => addresses(&answer).ok_or_else(|| LookupError::failed(UNREADABLE_DNS_ANSWER)),
        Err(error) => Err(classify(&error.to_string())),
    }
}

/// The addresses of an answer, `None` when it cannot be read. What does
/// not parse (a link-local address with a zone, say) is skipped: no pod
/// can use it.
fn addresses(answer: &[u8]) -> Option<Vec<IpAddr>> {
    let text = std::str::from_utf8(answer).ok()?;
    let ips = json::field(text, "ips").and_then(json::elements)?;
    let ips = ips.into_iter().filter_map(json::string);
    Some(ips.filter_map(|ip| ip.parse().ok()).collect())
}

/// Reads the text of a failed host call. The SDK and the runtime wrap the
/// resolver's words (`error invoking host capability net.dns_lookup_host:
/// Host error: Callback evaluation failure: failed to lookup address
/// information: Name does not resolve`, then maybe a backtrace); only the
/// resolver's words mean anything to a person.
fn classify(text: &str) -> LookupError {
    let mut words = text.lines().next().unwrap_or("").trim();
    if words.contains("has not been granted access to") {
        return LookupError::NotGranted;
    }
    for wrapper in [
        "error invoking host capability net.dns_lookup_host:",
        "Host error:",
        "Callback evaluation failure:",
        "failed to lookup address information:",
    ] {
        if let Some(rest) = words.strip_prefix(wrapper) {
            words = rest.trim_start();
        }
    }
    LookupError::failed(words)
}

/// The SDK's log event, as policy-server's `tracing/log` host call reads
/// it (the format of the SDK's slog `KubewardenDrain`). Not that drain: it
/// builds every event as a `serde_json::Value` map, with a serialiser for
/// each slog value type, which would take the module over its 300 KB
/// budget, and a refused log call makes it panic. The policy logs one
/// line, with no key-value pairs, so it sends that event itself.
#[derive(Serialize)]
struct Event<'a> {
    level: &'a str,
    message: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
}

/// One line for policy-server's log, at info level.
pub fn log_rewrite(summary: &str) {
    let event = Event {
        level: "info",
        message: summary,
        file: file!(),
        line: line!(),
        column: column!(),
    };
    // A log line must never fail an admission: a failure is dropped.
    if let Ok(bytes) = serde_json::to_vec(&event) {
        let _ = wapc_guest::host_call("kubewarden", "tracing", "log", &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const NOT_GRANTED: &str = "Policy has not been granted access to the \
        'net/v1/dns_lookup_host' host capability. The violation has been reported.";

    #[rstest]
    #[case::replayed_by_kwctl(
        "Callback evaluation failure: Name does not resolve",
        "Name does not resolve"
    )]
    #[case::musl_policy_server(
        "Callback evaluation failure: failed to lookup address information: Name does not resolve",
        "Name does not resolve"
    )]
    #[case::glibc_with_backtrace(
        "Host error: Callback evaluation failure: failed to lookup address information: \
         Name or service not known\n\nStack backtrace:\n   0: anyhow::error",
        "Name or service not known"
    )]
    #[case::through_the_sdk(
        "error invoking host capability net.dns_lookup_host: Host error: Callback evaluation \
         failure: failed to lookup address information: Name does not resolve",
        "Name does not resolve"
    )]
    #[case::first_line_only(
        &format!("failed to lookup address information\n{}", "backtrace ".repeat(10_000)),
        "failed to lookup address information"
    )]
    #[case::bare(
        "No address associated with hostname",
        "No address associated with hostname"
    )]
    #[case::empty("", "lookup failed")]
    #[case::only_wrappers("Callback evaluation failure: ", "lookup failed")]
    fn host_errors_become_the_resolvers_words(#[case] text: &str, #[case] words: &str) {
        assert_eq!(classify(text), LookupError::Failed(words.into()));
    }

    #[rstest]
    #[case::musl_policy_server(
        "Host error: Callback evaluation failure: failed to lookup address information: Try again",
        "Try again"
    )]
    #[case::glibc(
        "Host error: Callback evaluation failure: failed to lookup address information: \
         Temporary failure in name resolution",
        "Temporary failure in name resolution"
    )]
    #[case::replayed_by_kwctl("Host error: Callback evaluation failure: Try again", "Try again")]
    fn a_temporary_failure_is_told_apart(#[case] text: &str, #[case] words: &str) {
        assert_eq!(classify(text), LookupError::ForNow(words.into()));
    }

    #[test]
    fn host_errors_are_bounded_without_halving_a_word() {
        let LookupError::Failed(words) = classify(&"resolver said ".repeat(50)) else {
            panic!("expected a failure");
        };
        assert!(words.len() <= 64);
        assert!(words.ends_with("said..."), "{words}");
    }

    #[test]
    fn refused_capability_is_recognised() {
        assert_eq!(classify(NOT_GRANTED), LookupError::NotGranted);
    }

    #[test]
    fn unparsable_answers_are_skipped() {
        let answer = br#"{"ips": ["fe80::1%eth0", "bogus", 7, "fd00::2", "192.168.65.254"]}"#;
        assert_eq!(
            addresses(answer),
            Some(vec![
                IpAddr::from([0xfd00, 0, 0, 0, 0, 0, 0, 2]),
                IpAddr::from([192, 168, 65, 254])
            ])
        );
    }

    #[rstest]
    #[case::not_json(b"ips")]
    #[case::no_list(br#"{"ips": "192.168.65.254"}"#)]
    #[case::no_ips(br#"{"addresses": ["192.168.65.254"]}"#)]
    #[case::not_utf8(b"{\"ips\": [\"\xff\"]}")]
    fn unreadable_answers_are_told(#[case] answer: &[u8]) {
        assert_eq!(addresses(answer), None);
    }
}
