//! One `validate` call, start to end, as named steps: read the request,
//! plan the work, choose the addresses, apply them, answer. DNS sits behind
//! a function argument, so the whole path runs and is tested without a
//! waPC host.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::IpAddr;
use std::ops::ControlFlow::{self, Break, Continue};

use crate::change::template_changed;
use crate::edit::edited_names;
use crate::inject::{INJECT_SETTING, names_to_inject};
use crate::intent;
use crate::json;
use crate::lookup::{Choice, LookupError, Shortfall, choose_addresses, choose_among};
use crate::messages::{object_name, rewrite_summary};
use crate::names::{name_set, union};
use crate::pod_spec::pod_spec_path;
use crate::prefilter::may_contain_any;
use crate::refresh::{Intent, Subject, all_targets, read_intent};
use crate::request::{Request, read_payload};
use crate::rewrite::{
    Answers, HOST_GATEWAY, HostAliases, host_aliases_list, names_any_of, stored_answers,
    with_asking_entry, without_stale_names,
};
use crate::settings::{REPORT_SETTING, Settings};
use crate::stale;
use crate::target::{MAX_TARGETS, TARGET_PREFIX, TargetRefusal, allowed_list, check_target};
use crate::text::as_written;
use crate::verdict::{Mutation, Rejection, TargetMiss, Verdict, Warning};

/// Evaluates a `validate` payload (`{"settings": ..., "request": ...}`).
/// `resolve` looks a host name up, answering its addresses or why it has
/// none; it is called only when the object asks for an address.
///
/// ```
/// use host_gateway_policy::{evaluate, Verdict};
///
/// let payload = br#"{"settings": {}, "request": {
///     "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
///     "name": "web", "namespace": "default",
///     "object": {"spec": {"hostAliases": [{"ip": "host-gateway", "hostnames": ["db"]}]}}}}"#;
/// let Verdict::Mutate(mutation) = evaluate(payload, |_| Ok(vec![[192, 168, 65, 254].into()])) else {
///     panic!("expected a mutation");
/// };
/// assert_eq!(mutation.object, r#"{"spec": {"hostAliases": [{"ip": "192.168.65.254", "hostnames": ["db"]}]}}"#);
/// ```
pub fn evaluate<R>(payload: &[u8], resolve: R) -> Verdict
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    match evaluate_steps(payload, resolve) {
        Break(verdict) | Continue(verdict) => verdict,
    }
}

/// The steps of [`evaluate`]; each answers early (`Break`) when the request
/// needs nothing more.
fn evaluate_steps<R>(payload: &[u8], mut resolve: R) -> ControlFlow<Verdict, Verdict>
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    let text = payload_text(payload)?;
    let (settings, target) = read_target(text)?;
    report_form(&target, settings, &mut resolve)?;
    quiet_update(&target)?;
    let (settings, mut plan) = plan(&target, settings)?;
    let choice = match plan.needs_the_host() {
        true => choose_addresses(&settings, &mut resolve),
        false => Choice::Found {
            found: Vec::new(),
            passed: Vec::new(),
        },
    };
    let current = choice.addresses();
    plan.edited = user_edits(&target, &current);
    let edited = &plan.edited;
    plan.intent.refresh.retain(|name| !edited.contains(name));
    (plan.intent.targeted).retain(|(name, _)| !edited.contains(name));
    let mut sources = sources(&target, &choice, &mut plan)?;
    let targets = target_answers(&target, &settings, &mut plan, &mut resolve, &mut sources)?;
    let answers = Answers {
        host: current,
        targets,
    };
    let rewritten = apply(&target, &plan, &answers);
    // The address had not moved: the object goes back as it came, so a
    // re-applied manifest starts no rollout.
    if rewritten == target.object {
        return Continue(Verdict::accept_with(plan.warnings));
    }
    Continue(Verdict::Mutate(Mutation {
        summary: summary(&target, &sources),
        object: rewritten,
        warnings: plan.warnings,
    }))
}

/// The payload as text, when it may ask anything of the policy. Nearly
/// every request stops here: neither `host-gateway`, `dns:`, the intent
/// annotation nor the setting that turns injection on occurs in it. (The
/// annotations' keys begin with `host-gateway`.)
fn payload_text(payload: &[u8]) -> ControlFlow<Verdict, &str> {
    const ASKING: [&str; 2] = [HOST_GATEWAY, TARGET_PREFIX];
    match std::str::from_utf8(payload) {
        Ok(text) if !may_contain_any(text, &[HOST_GATEWAY, TARGET_PREFIX, INJECT_SETTING]) => {
            Break(Verdict::Accept)
        }
        Ok(text) => Continue(text),
        // What is not UTF-8 is no JSON: refused only where it may ask for
        // an address, as any other payload is read only then.
        Err(e) if may_contain_any(&String::from_utf8_lossy(payload), &ASKING) => {
            Break(Verdict::Reject(Rejection::UnreadableRequest(e.to_string())))
        }
        Err(_) => Break(Verdict::Accept),
    }
}

/// The object of a request the policy handles: a Pod or a pod template,
/// created or updated.
struct Target<'a> {
    request: Request<'a>,
    object: &'a str,
    pod_spec_path: &'static [&'static str],
    metadata_path: Vec<&'static str>,
    is_pod: bool,
    is_pod_create: bool,
}

/// Reads the payload: the raw settings and the target, or the answer to a
/// request the policy does not handle.
fn read_target(text: &str) -> ControlFlow<Verdict, (Option<&str>, Target<'_>)> {
    let (settings, request) = match read_payload(text) {
        Ok(payload) => payload,
        Err(e) => return Break(Verdict::Reject(Rejection::UnreadableRequest(e.to_string()))),
    };
    if !matches!(request.operation.as_ref(), "CREATE" | "UPDATE") {
        return Break(Verdict::Accept);
    }
    let (Some(pod_spec_path), Some(object)) =
        (pod_spec_path(&request.group, &request.kind), request.object)
    else {
        return Break(Verdict::Accept);
    };
    let is_pod = request.group.is_empty() && request.kind == "Pod";
    let target = Target {
        is_pod_create: is_pod && request.operation == "CREATE",
        is_pod,
        metadata_path: intent::metadata_path(pod_spec_path),
        pod_spec_path,
        object,
        request,
    };
    Continue((settings, target))
}

/// The answer of the report form (`reportStale: true`, for the audit
/// scanner): a Pod is checked ([`stale::check`]), anything else passes,
/// nothing is mutated. Settings that cannot be read leave the mutating
/// form to answer, as it refuses them.
fn report_form<R>(target: &Target, settings: Option<&str>, resolve: &mut R) -> ControlFlow<Verdict>
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    let Some(Ok(settings)) = settings
        .filter(|raw| raw.contains(REPORT_SETTING))
        .map(|raw| Settings::from_json(raw.as_bytes()))
    else {
        return Continue(());
    };
    if !settings.report_stale {
        return Continue(());
    }
    let request = &target.request;
    Break(match target.is_pod {
        true => stale::check(
            target.object,
            &request.namespace,
            &request.name,
            &settings,
            resolve,
        ),
        false => Verdict::Accept,
    })
}

/// Kinds whose pod spec cannot change once created: a Pod's spec
/// (`ValidatePodUpdate`, pkg/apis/core/validation, lets an update change
/// only images, tolerations and a few more, not hostAliases) and a Job's
/// template (`ValidateJobSpecUpdate`, pkg/apis/batch/validation:
/// `ValidateImmutableField` on spec.template).
fn immutable_kind(request: &Request) -> Option<&'static str> {
    match (request.group.as_ref(), request.kind.as_ref()) {
        ("", "Pod") => Some("Pod"),
        ("batch", "Job") => Some("Job"),
        _ => None,
    }
}

/// The answer to an UPDATE that must leave the pod spec as it is stored:
/// a Pod's or a Job's, or a template this UPDATE does not change (compared
/// with `oldObject`, leaving out what the policy writes), as a controller
/// would roll it out. Nothing is looked up and no intent refreshed. A
/// re-sent `host-gateway` (a re-applied manifest) takes the addresses at
/// which the stored object holds its names, merged by `ip` into the stored
/// entries as any rewrite is. When the stored object does not hold them
/// all, a Pod or a Job is refused in one sentence; a template goes on to
/// be looked up, as it changes anyway.
fn quiet_update(target: &Target) -> ControlFlow<Verdict> {
    let request = &target.request;
    let immutable = immutable_kind(request);
    if request.operation != "UPDATE" || (immutable.is_none() && !template_kept(target)) {
        return Continue(());
    }
    let (object, sources) = match HostAliases::asking(target.object, target.pod_spec_path) {
        None => (target.object.to_string(), Vec::new()),
        Some(aliases) => {
            bounded_targets(&aliases)?;
            let answers = request
                .old_object
                .and_then(|old| host_aliases_list(old, target.pod_spec_path))
                .and_then(|stored| stored_answers(&aliases, stored));
            let Some(answers) = answers else {
                return match immutable {
                    Some(kind) => Break(Verdict::Reject(Rejection::ImmutablePodSpec {
                        kind,
                        asked: match aliases.asks_for_the_host() {
                            true => HOST_GATEWAY,
                            false => TARGET_PREFIX,
                        },
                    })),
                    None => Continue(()),
                };
            };
            let sources: Vec<(String, String)> = (answers.all().iter())
                .map(|address| (address.to_string(), "stored".to_string()))
                .collect();
            // Entries that name nothing add nothing to /etc/hosts: they go.
            (aliases.rewrite(&answers), sources)
        }
    };
    let edited = user_edits(target, &[]);
    let object = intent::without_names(&object, &target.metadata_path, &edited).unwrap_or(object);
    if object == target.object {
        return Break(Verdict::Accept);
    }
    Break(Verdict::Mutate(Mutation {
        summary: summary(target, &sources),
        object,
        warnings: Vec::new(),
    }))
}

/// The names the user edited in a template ([`edited_names`], given the
/// `current` addresses of the host). None for a Pod, a Job or a template
/// a controller owns: the stored template there is not the user's.
fn user_edits(target: &Target, current: &[IpAddr]) -> Vec<String> {
    let old = target.request.old_object;
    let (path, metadata) = (target.pod_spec_path, &target.metadata_path);
    match old {
        Some(old)
            if !target.is_pod
                && immutable_kind(&target.request).is_none()
                && !intent::has_controller(target.object) =>
        {
            edited_names(target.object, old, path, metadata, current)
        }
        _ => Vec::new(),
    }
}

/// The answer to a request that asks for no address: admitted as it is,
/// or with the names the user `edited` taken out of the intent annotation.
fn without_lookup(target: &Target, edited: &[String], warnings: Vec<Warning>) -> Verdict {
    match intent::without_names(target.object, &target.metadata_path, edited) {
        Some(object) => Verdict::Mutate(Mutation {
            summary: summary(target, &[]),
            object,
            warnings,
        }),
        None => Verdict::accept_with(warnings),
    }
}

/// Whether an UPDATE leaves the pod template as `oldObject` has it, but
/// for what the policy writes there.
fn template_kept(target: &Target) -> bool {
    target
        .request
        .old_object
        .is_some_and(|old| !template_changed(target.object, old, target.pod_spec_path))
}

/// Refuses more distinct `dns:` names than [`MAX_TARGETS`]: each costs a
/// lookup.
fn bounded_targets(aliases: &HostAliases) -> ControlFlow<Verdict> {
    match aliases.targets().len() > MAX_TARGETS {
        true => Break(Verdict::Reject(Rejection::TooManyTargets)),
        false => Continue(()),
    }
}

/// What one request asks of the policy.
struct Plan<'a> {
    /// The `hostAliases`, when an entry asks for an address.
    aliases: Option<HostAliases<'a>>,
    /// The names to refresh and the annotation to write.
    intent: Intent,
    /// The names to inject into a new Pod.
    inject: Vec<String>,
    /// Warnings so far: the intent's, then the addresses'.
    warnings: Vec<Warning>,
    /// The names the user edited, which leave the intent annotation.
    edited: Vec<String>,
}

impl Plan<'_> {
    /// Whether the request asks for no address at all, nor names a
    /// target to check.
    fn is_empty(&self) -> bool {
        let intent = &self.intent;
        self.aliases.is_none()
            && intent.refresh.is_empty()
            && intent.targeted.is_empty()
            && intent.annotated_targets.is_empty()
            && self.inject.is_empty()
    }

    /// Each target to look up, once, in order: the entries', then the
    /// annotation's.
    fn targets(&self) -> Vec<&str> {
        let targeted = self.intent.targeted.iter().map(|(_, target)| target);
        all_targets(self.aliases.as_ref(), targeted)
    }

    /// Whether the request asks for the host's address.
    fn needs_the_host(&self) -> bool {
        self.aliases
            .as_ref()
            .is_some_and(HostAliases::asks_for_the_host)
            || !self.intent.refresh.is_empty()
            || !self.inject.is_empty()
    }
}

/// Plans the work, with the settings it needs, or answers a request that
/// asks for no address. Settings are read only when an address is asked
/// for, and refused only where `host-gateway` or `dns:` is; a `dns:` name
/// that may not be looked up is refused before any lookup.
fn plan<'a>(
    target: &Target<'a>,
    settings: Option<&str>,
) -> ControlFlow<Verdict, (Settings, Plan<'a>)> {
    let aliases = HostAliases::asking(target.object, target.pod_spec_path);
    if let Some(aliases) = &aliases {
        bounded_targets(aliases)?;
    }
    let subject = Subject {
        object: target.object,
        pod_spec_path: target.pod_spec_path,
        metadata_path: &target.metadata_path,
        is_pod: target.is_pod,
        is_pod_create: target.is_pod_create,
        aliases: aliases.as_ref(),
    };
    let mut intent = match read_intent(&subject) {
        Ok(intent) => intent,
        Err(rejection) => return Break(Verdict::Reject(rejection)),
    };
    let warnings = std::mem::take(&mut intent.warnings);
    let mut plan = Plan {
        aliases,
        intent,
        inject: Vec::new(),
        warnings,
        edited: Vec::new(),
    };
    // Nothing to look up: admitted, with the user's edits applied.
    let asks_nothing = |plan: Plan| {
        Break(without_lookup(
            target,
            &user_edits(target, &[]),
            plan.warnings,
        ))
    };
    if plan.is_empty() && !target.is_pod_create {
        return asks_nothing(plan);
    }
    let settings = match settings.map(|raw| Settings::from_json(raw.as_bytes())) {
        None => Settings::default(),
        Some(Ok(settings)) => settings,
        // An object that asks for no address is never refused.
        Some(Err(_)) if plan.aliases.is_none() => return asks_nothing(plan),
        Some(Err(e)) => return Break(Verdict::Reject(Rejection::InvalidSettings(e))),
    };
    if let Some(aliases) = &plan.aliases {
        allowed_targets(aliases, &settings)?;
    }
    annotated_targets_allowed(target, &mut plan, &settings)?;
    if target.is_pod_create {
        plan.inject = names_to_inject(
            target.object,
            target.pod_spec_path,
            &settings.inject_hostnames,
        );
    }
    if plan.is_empty() {
        return asks_nothing(plan);
    }
    Continue((settings, plan))
}

/// Refuses a `dns:` name that is no DNS name or that `allowedTargets`
/// does not cover.
fn allowed_targets(aliases: &HostAliases, settings: &Settings) -> ControlFlow<Verdict> {
    for name in aliases.targets() {
        if let Err(refusal) = check_target(name, &settings.allowed_targets) {
            // A DNS name is named whole (at most 253 characters); anything
            // else as written, escaped and bounded.
            let name = match refusal {
                TargetRefusal::NotAllowed => name.to_string(),
                TargetRefusal::InvalidName => as_written(name),
            };
            return Break(Verdict::Reject(Rejection::TargetRefused {
                name,
                refusal,
                allowed: allowed_list(&settings.allowed_targets),
            }));
        }
    }
    Continue(())
}

/// Checks the targets the intent annotation names against
/// `allowedTargets`: a template is refused, where the person who wrote it
/// applies it; a Pod leaves the names of a target not allowed as they are,
/// warned, as a refused Pod would loop its controller.
fn annotated_targets_allowed(
    target: &Target,
    plan: &mut Plan,
    settings: &Settings,
) -> ControlFlow<Verdict> {
    let allowed = &settings.allowed_targets;
    for name in std::mem::take(&mut plan.intent.annotated_targets) {
        if check_target(&name, allowed).is_ok() {
            continue;
        }
        if !target.is_pod {
            return Break(Verdict::Reject(Rejection::TargetRefused {
                name,
                refusal: TargetRefusal::NotAllowed,
                allowed: allowed_list(allowed),
            }));
        }
        let targeted = &mut plan.intent.targeted;
        let names = targeted.iter().filter(|(_, t)| *t == name);
        let names: Vec<String> = names.map(|(n, _)| n.clone()).collect();
        targeted.retain(|(_, t)| *t != name);
        plan.warnings.push(Warning::TargetNotFollowed {
            names,
            name,
            why: TargetMiss::NotAllowed(allowed_list(allowed)),
        });
    }
    Continue(())
}

/// Each target's addresses, looked up once each in order, adding their
/// sources and the warnings of what was passed over. A target with no
/// address refuses the object, but for a Pod a controller made: its entry
/// is left out, with a warning, as a refused Pod would loop its controller.
/// A target only the intent annotation names never refuses: its names stay
/// as they are, warned.
fn target_answers<R>(
    target: &Target,
    settings: &Settings,
    plan: &mut Plan,
    resolve: &mut R,
    sources: &mut Vec<(String, String)>,
) -> ControlFlow<Verdict, Vec<(String, Vec<IpAddr>)>>
where
    R: FnMut(&str) -> Result<Vec<IpAddr>, LookupError>,
{
    let targets: Vec<String> = plan.targets().into_iter().map(str::to_string).collect();
    let asked = plan.aliases.as_ref().map_or(0, |a| a.targets().len());
    let mut answers = Vec::with_capacity(targets.len());
    for (i, name) in targets.into_iter().enumerate() {
        let names = std::slice::from_ref(&name);
        match choose_among(names, &settings.ip_families, &[], &mut *resolve) {
            Choice::Found { found, passed } => {
                let addresses: Vec<IpAddr> = found.iter().map(|f| f.ip).collect();
                let written: Vec<String> = addresses.iter().map(ToString::to_string).collect();
                let label = format!("{TARGET_PREFIX}{name}");
                sources.extend(written.iter().map(|a| (a.clone(), label.clone())));
                if !passed.is_empty() {
                    plan.warnings.push(Warning::PassedOver {
                        passed,
                        addresses: written,
                        name: name.clone(),
                    });
                }
                answers.push((name, addresses));
            }
            Choice::Fallback { shortfall, .. } | Choice::NoAddress(shortfall) if i >= asked => {
                let targeted = plan.intent.targeted.iter().filter(|(_, t)| *t == name);
                plan.warnings.push(Warning::TargetNotFollowed {
                    names: targeted.map(|(n, _)| n.clone()).collect(),
                    name: name.clone(),
                    why: TargetMiss::NoAddress(shortfall),
                });
                answers.push((name, Vec::new()));
            }
            Choice::Fallback { shortfall, .. } | Choice::NoAddress(shortfall) => {
                // A Pod a controller made goes without the entry: refused,
                // it would be made again and again.
                if !(target.is_pod && intent::has_controller(target.object)) {
                    return Break(Verdict::Reject(Rejection::TargetNoAddress {
                        name,
                        shortfall,
                    }));
                }
                plan.warnings.push(Warning::TargetLeftOut {
                    name: name.clone(),
                    shortfall,
                });
                answers.push((name, Vec::new()));
            }
        }
    }
    Continue(answers)
}

/// Each address to write with where it came from (a name, or
/// `fallbackAddresses`), adding the warning a fallback brings; or the
/// answer when there is no address.
fn sources(
    target: &Target,
    choice: &Choice,
    plan: &mut Plan,
) -> ControlFlow<Verdict, Vec<(String, String)>> {
    match choice {
        Choice::Found { found, passed } => {
            let sources: Vec<(String, String)> = found
                .iter()
                .map(|f| (f.ip.to_string(), f.hostname.to_string()))
                .collect();
            if let (false, Some(first)) = (passed.is_empty(), found.first()) {
                plan.warnings.push(Warning::PassedOver {
                    passed: passed.clone(),
                    addresses: sources.iter().map(|(a, _)| a.clone()).collect(),
                    name: first.hostname.to_string(),
                });
            }
            Continue(sources)
        }
        Choice::Fallback {
            addresses,
            shortfall,
        } => {
            let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            let sources = addresses
                .iter()
                .map(|a| (a.clone(), "fallbackAddresses".to_string()))
                .collect();
            plan.warnings.push(Warning::FallbackUsed {
                shortfall: shortfall.clone(),
                addresses,
            });
            Continue(sources)
        }
        Choice::NoAddress(shortfall) => {
            no_address(target, plan, shortfall.clone())?;
            Continue(Vec::new())
        }
    }
}

/// The answer when the host has no address. An object that asked for
/// host-gateway cannot be admitted without one (the API server refuses the
/// word); any other is never refused: a controller would retry its Pod
/// forever. The names the user edited still leave the annotation. An
/// object with `dns:` entries, or names its annotation points at a target,
/// goes on, warned, with nothing to refresh or inject, for its targets to
/// be written.
fn no_address(target: &Target, plan: &mut Plan, shortfall: Shortfall) -> ControlFlow<Verdict> {
    if plan
        .aliases
        .as_ref()
        .is_some_and(HostAliases::asks_for_the_host)
    {
        return Break(Verdict::Reject(Rejection::NoAddress(shortfall)));
    }
    let refresh = &plan.intent.refresh;
    let mut warnings = std::mem::take(&mut plan.warnings);
    if refresh.is_empty() && !plan.inject.is_empty() {
        warnings.push(Warning::NotInjected {
            names: plan.inject.clone(),
            shortfall,
        });
    } else if !refresh.is_empty() {
        let names = union(refresh, &plan.inject);
        let refreshed = name_set(refresh);
        warnings.push(
            match names_any_of(target.object, target.pod_spec_path, &refreshed) {
                true => Warning::NotRefreshed { names, shortfall },
                // An object that held none of them had no address to keep.
                false => Warning::NotInjected { names, shortfall },
            },
        );
    }
    if plan.aliases.is_some() || !plan.intent.targeted.is_empty() {
        plan.warnings = warnings;
        plan.intent.refresh.clear();
        plan.inject.clear();
        return Continue(());
    }
    // No address was found: the edits are those of no current address.
    Break(without_lookup(target, &plan.edited, warnings))
}

/// The object with the plan applied for `answers`: the annotation first,
/// then the names that must point at the host's current addresses, and
/// those that must point at each target's, each pointed there by
/// [`point_names`]; then the rewrite merges every entry by `ip`: one
/// lookup, one entry per address.
fn apply(target: &Target, plan: &Plan, answers: &Answers) -> String {
    let (object, path) = (target.object, target.pod_spec_path);
    let aliases = plan.aliases.as_ref();
    let mut text = Cow::Borrowed(object);
    let refresh = &plan.intent.refresh;
    if let Some(value) = &plan.intent.annotation
        && let Some(annotated) = intent::with_annotation(&text, &target.metadata_path, value)
    {
        text = Cow::Owned(annotated);
    }
    if let Some(followed) = intent::without_names(&text, &target.metadata_path, &plan.edited) {
        text = Cow::Owned(followed);
    }
    // The names to inject join the extra host-gateway entry only.
    let extra = union(refresh, &plan.inject);
    if let Some(pointed) = point_names(&text, path, aliases, None, refresh, &extra, &answers.host) {
        text = Cow::Owned(pointed);
    }
    for (name, addresses) in &answers.targets {
        let targeted = plan.intent.targeted.iter().filter(|(_, t)| t == name);
        let names: Vec<String> = targeted.map(|(n, _)| n.clone()).collect();
        if names.is_empty() || addresses.is_empty() {
            continue;
        }
        let target = Some(name.as_str());
        if let Some(pointed) = point_names(&text, path, aliases, target, &names, &names, addresses)
        {
            text = Cow::Owned(pointed);
        }
    }
    match HostAliases::asking(&text, path) {
        Some(aliases) => aliases.rewrite(answers),
        None => text.into_owned(),
    }
}

/// `text` with `names` taken out of the entries of addresses other than
/// `addresses`, and `extra` added on one more entry that asks for the host
/// (`target` `None`) or for `target`, for the rewrite to bring to
/// `addresses`. Names an entry of `aliases` already asks there for are not
/// added: they get the addresses with it. `None` when nothing changes.
fn point_names(
    text: &str,
    path: &[&str],
    aliases: Option<&HostAliases>,
    target: Option<&str>,
    names: &[String],
    extra: &[String],
    addresses: &[IpAddr],
) -> Option<String> {
    let ip = match target {
        None => Cow::Borrowed(HOST_GATEWAY),
        Some(target) => Cow::Owned(format!("{TARGET_PREFIX}{target}")),
    };
    let fresh = match names.is_empty() {
        true => None,
        false => without_stale_names(text, path, &name_set(names), addresses, &ip),
    };
    if extra.is_empty() {
        return fresh;
    }
    let asked: HashSet<Cow<str>> = (aliases.iter())
        .flat_map(|aliases| aliases.names_asking_for(target))
        .collect();
    let extra: Vec<&String> = extra
        .iter()
        .filter(|n| !asked.contains(n.as_str()))
        .collect();
    let text = fresh.as_deref().unwrap_or(text);
    match extra.is_empty() {
        true => fresh,
        false => with_asking_entry(text, path, &ip, &extra).or(fresh),
    }
}

/// The log line of a mutation. Only a nameless object is named by its
/// generateName: no pass for the others.
fn summary(target: &Target, sources: &[(String, String)]) -> String {
    let request = &target.request;
    let generate_name = request
        .name
        .is_empty()
        .then(|| json::path(target.object, &["metadata", "generateName"]).and_then(json::string))
        .flatten();
    rewrite_summary(
        &request.namespace,
        &request.kind,
        &object_name(&request.name, generate_name.as_deref()),
        sources,
    )
}
