//! What the policy answers, and why: the verdict on one request, with the
//! rejection or warnings it carries. `messages` renders them as text.

use crate::intent::AnnotationError;
use crate::lookup::{Miss, Shortfall};
use crate::settings::SettingsError;
use crate::target::TargetRefusal;

/// What the policy answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted as it is.
    Accept,
    /// Accepted with `host-gateway` replaced (or names injected).
    Mutate(Mutation),
    /// Accepted as it is, with warnings: no address for the names to
    /// inject or refresh, or an annotation that cannot be read.
    Warn(Vec<Warning>),
    /// Refused, with one sentence saying why.
    Reject(Rejection),
}

impl Verdict {
    /// Accepted as it is, with these warnings if any.
    pub(crate) fn accept_with(warnings: Vec<Warning>) -> Verdict {
        if warnings.is_empty() {
            Verdict::Accept
        } else {
            Verdict::Warn(warnings)
        }
    }
}

/// A rewritten object and what to tell about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The object's JSON text with the rewritten `hostAliases` entries.
    pub object: String,
    /// Returned to the API client.
    pub warnings: Vec<Warning>,
    /// One line for the policy server's log, e.g.
    /// `[default] Deployment/web: host-gateway -> 192.168.65.254 (host.docker.internal)`.
    pub summary: String,
}

/// Why an admission request was rejected. Displays as one sentence of at
/// most [`MAX_REJECTION_BYTES`](crate::MAX_REJECTION_BYTES).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The payload is not a readable `validate` request.
    UnreadableRequest(String),
    /// The settings are invalid (policy-server refuses them at load, so
    /// this is seen only when a host skips `validate_settings`).
    InvalidSettings(SettingsError),
    /// No address was found, and there is no fallback.
    NoAddress(Shortfall),
    /// A workload's pod template carries an intent annotation that cannot
    /// be read: refused where the person who wrote it applies it.
    BadAnnotation(AnnotationError),
    /// An UPDATE of a Pod or a Job, whose pod spec cannot change once
    /// created, re-sends `host-gateway` naming a name the stored object
    /// does not hold at an address: nothing is looked up for it.
    ImmutablePodSpec {
        /// `Pod` or `Job`.
        kind: &'static str,
        /// What the entries ask for: `host-gateway`, or `dns:` where none
        /// is `host-gateway`.
        asked: &'static str,
    },
    /// A `dns:NAME` entry whose NAME may not be looked up: refused before
    /// any lookup.
    TargetRefused {
        /// NAME, as written.
        name: String,
        /// Why.
        refusal: TargetRefusal,
        /// The `allowedTargets` setting, as written in it.
        allowed: String,
    },
    /// More distinct `dns:` names than one object may ask for.
    TooManyTargets,
    /// The report form: names of a running Pod point at addresses the
    /// host no longer has.
    StaleAddress {
        /// The names, in the Pod's order.
        names: Vec<String>,
        /// The addresses they point at that are not the host's.
        held: Vec<String>,
        /// The host's addresses now.
        current: Vec<String>,
        /// What makes the Pod again: a sentence ending in a command.
        fix: String,
    },
    /// The report form: no name gave the host's address, so the Pod's
    /// cannot be checked. Answered with code 500, which the audit scanner
    /// records as an error, not as a stale Pod.
    CannotCheck(Shortfall),
    /// A `dns:NAME` entry whose NAME gave no address.
    TargetNoAddress {
        /// NAME.
        name: String,
        /// Why DNS gave none.
        shortfall: Shortfall,
    },
}

/// Why a target of the intent annotation was not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetMiss {
    /// `allowedTargets` (as written in it) does not cover it.
    NotAllowed(String),
    /// DNS gave no address.
    NoAddress(Shortfall),
}

impl Rejection {
    /// The HTTP status code the refusal carries: 500 where the policy
    /// could not decide, none (policy-server's default) otherwise.
    pub fn code(&self) -> Option<u16> {
        matches!(self, Rejection::CannotCheck(_)).then_some(500)
    }
}

/// Warnings returned to the API client (kubectl prints them). Each
/// displays in at most [`MAX_WARNING_BYTES`](crate::MAX_WARNING_BYTES).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// DNS gave no address; the fallback addresses were written.
    FallbackUsed {
        /// Why DNS gave none.
        shortfall: Shortfall,
        /// The addresses written, in order.
        addresses: Vec<String>,
    },
    /// DNS gave an address, passing over what a warning tells of: names
    /// that failed for now, addresses skipped as they cannot reach the host.
    PassedOver {
        /// What was passed over, in order.
        passed: Vec<Miss>,
        /// The addresses written, in order.
        addresses: Vec<String>,
        /// The name that gave them.
        name: String,
    },
    /// A Pod's intent annotation cannot be read: the Pod is admitted as if
    /// it had none, since a controller would retry a refused Pod forever.
    AnnotationIgnored(AnnotationError),
    /// No address for the names a Pod or template must point at the host:
    /// admitted with the addresses it has.
    NotRefreshed {
        /// The names left as they were.
        names: Vec<String>,
        /// Why DNS gave no address.
        shortfall: Shortfall,
    },
    /// No address for the names `injectHostnames` adds: the pod is
    /// admitted without them.
    NotInjected {
        /// The names not added.
        names: Vec<String>,
        /// Why DNS gave no address.
        shortfall: Shortfall,
    },
    /// The names the intent annotation points at `dns:NAME` are left as
    /// they are: NAME may not be looked up, or gave no address. A Pod is
    /// never refused for its annotation.
    TargetNotFollowed {
        /// The names left as they were.
        names: Vec<String>,
        /// NAME.
        name: String,
        /// Why.
        why: TargetMiss,
    },
    /// No address for a `dns:NAME` entry of a Pod a controller made: the
    /// entry is left out, since a controller would retry a refused Pod
    /// forever.
    TargetLeftOut {
        /// NAME.
        name: String,
        /// Why DNS gave no address.
        shortfall: Shortfall,
    },
}
