//! Comparing a declared memory store with its owned live counterpart.
//!
//! # Expected flow
//! [`review`] normalises both sides, then establishes two facts from the `foundryctl-hash`
//! stamp, and matches on them:
//! - `desired_matches_stamp`: the manifests still declare what was last applied;
//! - `recovered`: the last-applied spec rebuilt from what the service reports. Options the
//!   service does not report (`procedural_memory_enabled` never; `user_profile_details` only
//!   when sent; `default_ttl_seconds` not by every service version) are filled with each
//!   plausible candidate (the declared value, the default, and both booleans) until one
//!   reproduces the stamp. A match proves the live store is as foundryctl left it and tells us
//!   the values the service hid.
//!
//! | desired = stamp | recovered | outcome |
//! |---|---|---|
//! | yes | yes | nothing to do |
//! | yes | no | drift: restore the reported fields that differ |
//! | no | yes | the manifests changed: diff declared against the recovered spec (hidden options included) |
//! | no | no, reported fields differ | act on the reported differences; warn when hidden options cannot be verified |
//! | no | no, reported fields equal, some hidden | the change is in a hidden option: replace (warned: `import --restamp` re-stamps instead) |
//! | no | no, reported fields equal, none hidden | only the stamp is stale: re-stamp in place |
//!
//! # Guarantees
//! - A change to an option the service never echoes is still detected (through the stamp), so
//!   "edit the manifest, apply" replaces the store instead of silently keeping the old option.
//! - An unreported option is never shown as a difference by itself: `None` live is unknown.
//! - Description and labels change in place; models and options force a replacement.
//!
//! # Assumptions
//! Create-only fields (models, options) cannot be edited behind our back, so drift lives in
//! description and labels. The stamp was computed with this version's normal form (see
//! `model::fingerprint`).
//!
//! # Errors
//! None. When the facts are ambiguous (drift *and* a manifest change on a store with hidden
//! options), the reported differences are acted on and a warning says what cannot be verified.

use serde_json::Value;

use super::build::{Accumulator, action, conflict, create, delete_reason, facts, owner_of};
use super::decide::{Decision, Owner, decide};
use super::diff::diff;
use super::prepare::Declared;
use super::types::{
    Action, ActionKind, Blocked, BlockedCause, DataLoss, Diagnostic, Drift, FieldChange, Op,
    PlanOptions, Precondition,
};
use crate::model::fingerprint;
use crate::model::normalize::{self, Normalized};
use crate::model::{
    DISPOSABLE_KEY, LiveMemoryStore, MemoryStore, MemoryStoreSpec, ResourceKind, ResourceRef,
    SetName, stamped_disposable, stamped_metadata, with_disposable,
};

/// What the comparison concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    NoOp,
    /// Description and/or labels (or only the stamp) change in place.
    Update,
    /// Models or options change: delete and create again.
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub verdict: Verdict,
    pub changes: Vec<FieldChange>,
    pub reasons: Vec<String>,
    pub drift: Option<Drift>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Compares a declared store with the live store stamped with this set.
/// `declared` is the desired store's normal form and fingerprint.
pub fn review(desired: &MemoryStore, declared: &Declared, live: &LiveMemoryStore) -> Review {
    let resource = ResourceRef::MemoryStore(desired.name.clone());
    let (want, want_fp) = (&declared.normal, &declared.fingerprint);
    let seen = normalize::live_store(&live.spec);
    let stamp = live.ownership().hash;
    let desired_matches_stamp = stamp.as_deref() == Some(want_fp.as_str());
    let recovered = stamp.as_deref().and_then(|h| recover(&seen, want, h));
    let reported = classify(diff(Some(&seen.value), Some(want), &seen.unreported));

    let mut review = Review {
        verdict: Verdict::NoOp,
        changes: Vec::new(),
        reasons: Vec::new(),
        drift: None,
        diagnostics: Vec::new(),
    };
    match (desired_matches_stamp, recovered) {
        (true, Some(_)) => {}
        (true, None) => {
            review.drift = Some(Drift {
                resource,
                description: "changed outside foundryctl: the live store no longer matches \
                              what foundryctl applied"
                    .to_owned(),
                changes: reported.clone(),
            });
            review.reasons.push(
                "restore the declared state (the store was changed outside foundryctl)".to_owned(),
            );
            review.changes = reported;
        }
        (false, Some(last_applied)) => {
            review.reasons.push("the manifests changed".to_owned());
            review.changes = classify(diff(Some(&last_applied), Some(want), &Default::default()));
        }
        (false, None) if !reported.is_empty() => {
            review
                .reasons
                .push("the live store differs from the manifests".to_owned());
            if stamp.is_some() && seen.unreported.is_empty() {
                review.drift = Some(Drift {
                    resource: resource.clone(),
                    description: "changed outside foundryctl: the live store no longer \
                                  matches what foundryctl applied"
                        .to_owned(),
                    changes: reported.clone(),
                });
            } else if !seen.unreported.is_empty() {
                review.diagnostics.push(Diagnostic::warning(
                    &resource,
                    format!(
                        "cannot verify {} of {resource}: the service does not report them and \
                         the store no longer matches its stamp",
                        list(&seen.unreported),
                    ),
                    format!(
                        "if you changed one of them, the store must be replaced: take it out of \
                         the manifests, run `foundryctl apply --prune --allow-delete {resource}`, \
                         then put it back and apply again"
                    ),
                ));
            }
            review.changes = reported;
        }
        (false, None) if stamp.is_some() && !seen.unreported.is_empty() => {
            // Either a hidden option changed (the common case: an edited manifest), or someone
            // edited the description or labels behind our back to exactly the new declared
            // values. Only the first is consistent without a coincidence, so replace; but say
            // how to back out when it is the second.
            review.diagnostics.push(Diagnostic::warning(
                &resource,
                format!(
                    "{resource}: the manifests changed but every reported field already \
                     matches, so foundryctl infers a change in {} (not reported by the service)",
                    list(&seen.unreported)
                ),
                format!(
                    "if you did not change those options, re-stamp the store with \
                     `foundryctl import {resource} --restamp -f …` instead of replacing it"
                ),
            ));
            review.reasons.push(format!(
                "the manifests changed, and every field the service reports already matches: \
                 the change is in {} (not reported by the service)",
                list(&seen.unreported)
            ));
            review.changes = seen
                .unreported
                .iter()
                .filter_map(|path| {
                    normalize::get_path(want, path).map(|after| FieldChange {
                        path: path.clone(),
                        before: None,
                        after: Some(after.clone()),
                        before_unreported: true,
                        forces_replacement: true,
                    })
                })
                .collect();
        }
        (false, None) => {
            review.reasons.push(
                "re-stamp: the live store matches the manifests but carries an outdated or \
                 missing foundryctl-hash"
                    .to_owned(),
            );
            review.verdict = Verdict::Update;
            return review;
        }
    }
    review.verdict = if review.changes.is_empty() {
        Verdict::NoOp
    } else if review.changes.iter().any(|c| c.forces_replacement) {
        review.reasons.push(format!(
            "{} can only be set when the store is created",
            list(
                review
                    .changes
                    .iter()
                    .filter(|c| c.forces_replacement)
                    .map(|c| &c.path)
            )
        ));
        Verdict::Replace
    } else {
        Verdict::Update
    };
    review
}

/// Marks the changes that force a replacement: everything but description and labels.
pub(super) fn classify(mut changes: Vec<FieldChange>) -> Vec<FieldChange> {
    for change in &mut changes {
        change.forces_replacement = !(change.path == "description"
            || change.path == "labels"
            || change.path.starts_with("labels."));
    }
    changes
}

/// Rebuilds the last-applied normal form from the reported one by trying candidate values for
/// the unreported options until one reproduces `stamp`. Deterministic: candidates are tried in
/// a fixed order. At most 2^5 hashes (each unreported option has at most two distinct
/// candidates once duplicates are removed, and there are five options).
fn recover(seen: &Normalized, want: &Value, stamp: &str) -> Option<Value> {
    let defaults = normalize::desired_store(&MemoryStoreSpec::default());
    let candidates: Vec<(&String, Vec<Value>)> = seen
        .unreported
        .iter()
        .map(|path| {
            let mut values: Vec<Value> = Vec::new();
            let declared = normalize::get_path(want, path).cloned();
            let default = normalize::get_path(&defaults, path).cloned();
            for v in declared.into_iter().chain(default) {
                if let Value::Bool(b) = v {
                    for b in [b, !b] {
                        push_unique(&mut values, Value::Bool(b));
                    }
                } else {
                    push_unique(&mut values, v);
                }
            }
            (path, values)
        })
        .collect();
    let total: usize = candidates.iter().map(|(_, v)| v.len().max(1)).product();
    (0..total).find_map(|mut n| {
        let mut filled = seen.value.clone();
        for (path, values) in &candidates {
            if values.is_empty() {
                continue;
            }
            normalize::set_path(&mut filled, path, values[n % values.len()].clone());
            n /= values.len();
        }
        (fingerprint::of_normalized(ResourceKind::MemoryStore, &filled) == stamp).then_some(filled)
    })
}

fn push_unique(values: &mut Vec<Value>, v: Value) {
    if !values.contains(&v) {
        values.push(v);
    }
}

fn list<'a>(paths: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<&str> = paths.into_iter().map(String::as_str).collect();
    items.join(", ")
}

/// Decides what happens to one memory store, declared (`want`, with its prepared normal
/// form) and/or live (`have`), and records it in `out`.
pub(super) fn plan(
    out: &mut Accumulator,
    resource: ResourceRef,
    want: Option<(&MemoryStore, Declared)>,
    have: Option<&LiveMemoryStore>,
    options: &PlanOptions,
) {
    let facts = facts(want.is_some(), store_owner(have, &options.set), options);
    let precondition = Precondition::for_store(have);
    match (decide(facts), want, have) {
        (Decision::Create, Some((want, declared)), _) => {
            let op = Op::CreateStore {
                name: want.name.clone(),
                spec: want.spec.clone(),
                metadata: with_disposable(
                    stamped_metadata(&want.spec.labels, &options.set, &declared.fingerprint),
                    want.disposable,
                ),
            };
            out.actions
                .push(create(resource, op, declared, precondition));
        }
        (Decision::Reconcile, Some((want, declared)), Some(have)) => {
            let mut review = review(want, &declared, have);
            if options.replace.contains(&resource) {
                on_request(&mut review);
            }
            out.drift.extend(review.drift);
            out.diagnostics.extend(review.diagnostics);
            let fp = declared.fingerprint;
            let metadata = with_disposable(
                stamped_metadata(&want.spec.labels, &options.set, &fp),
                want.disposable,
            );
            let stamped = stamped_disposable(&have.metadata);
            if review.verdict == Verdict::NoOp && stamped != want.disposable {
                review.verdict = Verdict::Update;
                review.reasons.push(if want.disposable {
                    "declared disposable: stamped in place, so later applies may replace or \
                     delete it without a flag (this one may not)"
                        .to_owned()
                } else {
                    "no longer declared disposable: the stamp is removed, so replacing or \
                     deleting it needs a flag again"
                        .to_owned()
                });
            }
            let (kind, op) = match review.verdict {
                Verdict::NoOp => return,
                Verdict::Update => (
                    ActionKind::Update,
                    Op::UpdateStore {
                        name: want.name.clone(),
                        description: want.spec.description.clone(),
                        metadata,
                    },
                ),
                Verdict::Replace => (
                    ActionKind::Replace,
                    Op::ReplaceStore {
                        name: want.name.clone(),
                        spec: want.spec.clone(),
                        metadata,
                    },
                ),
            };
            let mut action = Action {
                fingerprint: Some(fp),
                reasons: review.reasons,
                changes: review.changes,
                ..action(resource, kind, op, precondition)
            };
            protect(&mut action, Some(have), options);
            out.actions.push(action);
        }
        (Decision::Delete, _, Some(have)) => {
            let op = Op::DeleteStore {
                name: have.name.clone(),
            };
            let mut action = Action {
                reasons: vec![delete_reason(options)],
                ..action(resource, ActionKind::Delete, op, precondition)
            };
            protect(&mut action, Some(have), options);
            out.actions.push(action);
        }
        (Decision::NotInManifests, _, _) => out.not_in_manifests.push(resource),
        (Decision::Conflict(kind), _, _) => out.conflicts.push(conflict(
            resource,
            kind,
            have.map(LiveMemoryStore::ownership),
        )),
        // Create without a declaration, reconcile or delete without a live store: `decide`
        // never returns these (Create needs `declared`, Reconcile and Delete need an owner).
        // Stores have no versions, so never `NotDeleted`.
        (
            Decision::Create
            | Decision::Reconcile
            | Decision::Delete
            | Decision::NotDeleted
            | Decision::Ignore,
            _,
            _,
        ) => {}
    }
}

/// `apply --replace`: the store is replaced whatever the comparison found, and the plan says
/// what that loses (naming the store is the permission, so it is not blocked).
fn on_request(review: &mut Review) {
    review.verdict = Verdict::Replace;
    review.reasons.push(
        "replaced on request (--replace): every memory in it, for every scope, is deleted; \
         the seeds of the store are written again after it"
            .to_owned(),
    );
}

fn store_owner(live: Option<&LiveMemoryStore>, set: &SetName) -> Owner {
    match live.map(LiveMemoryStore::ownership) {
        None => Owner::Absent,
        Some(o) => owner_of(&o, set),
    }
}

/// Data-loss protection for one action, decided from the **live** store and the run's flags:
/// a replace or delete of a store is allowed only when the live store carries the disposable
/// stamp (an earlier apply wrote it) or the run names it (`--allow-replace`, `--allow-delete`).
/// What the manifests declare now never counts, so one edit cannot both declare a store
/// disposable and replace it. Sets `blocked` and `data_loss` (every replace and delete says
/// what it destroys, allowed or not) from the op, so a saved plan whose action was edited by
/// hand is judged by what it would do; other ops get neither. The kind follows the op, too.
///
/// `live` is the store as read now (`None`: absent, nothing to lose).
pub fn protect(action: &mut Action, live: Option<&LiveMemoryStore>, options: &PlanOptions) {
    let (cause, kind, allowed) = match &action.op {
        Op::ReplaceStore { .. } => (
            BlockedCause::ReplaceStore,
            ActionKind::Replace,
            &options.allow_replace,
        ),
        Op::DeleteStore { .. } => (
            BlockedCause::DeleteStore,
            ActionKind::Delete,
            &options.allow_delete,
        ),
        // Written out, so a new op has to say whether it loses a store's memories.
        Op::CreateStore { .. }
        | Op::UpdateStore { .. }
        | Op::StampStore { .. }
        | Op::CreateAgentVersion { .. }
        | Op::StampAgent { .. }
        | Op::DeleteAgent { .. }
        | Op::SeedMemories { .. } => {
            action.blocked = None;
            action.data_loss = None;
            return;
        }
    };
    action.kind = kind;
    let Some(live) = live else {
        action.blocked = None;
        action.data_loss = None;
        return;
    };
    let resource = ResourceRef::MemoryStore(live.name.clone());
    let blocked = blocked(&resource, cause);
    let allowed_by = if allowed.contains(&resource) {
        Some(blocked.unblock_flag.clone())
    } else if cause == BlockedCause::ReplaceStore && options.replace.contains(&resource) {
        // `--replace` names the store: asking for the reset is the permission.
        Some(format!("--replace {resource}"))
    } else if stamped_disposable(&live.metadata) {
        Some(format!(
            "the live store is stamped disposable ({DISPOSABLE_KEY}: \"true\")"
        ))
    } else {
        None
    };
    action.data_loss = Some(DataLoss {
        what: blocked.data_loss.clone(),
        allowed_by: allowed_by.clone(),
    });
    action.blocked = allowed_by.is_none().then_some(blocked);
}

fn blocked(resource: &ResourceRef, cause: BlockedCause) -> Blocked {
    let (verb, flag) = match cause {
        BlockedCause::ReplaceStore => ("replacing", "--allow-replace"),
        // Not a store's cause (a seed builds its own), but the same flag.
        BlockedCause::DeleteStore | BlockedCause::DeleteMemories => ("deleting", "--allow-delete"),
    };
    Blocked {
        cause,
        reason: format!("{verb} a memory store deletes every memory in it"),
        data_loss: format!("all memories in {resource}, for every scope"),
        unblock_flag: format!("{flag} {resource}"),
    }
}
