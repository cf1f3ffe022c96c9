//! Comparing a declared prompt agent with its owned live counterpart.
//!
//! # Expected flow
//! Agent versions are immutable, so the only possible change is a new version. [`review`]
//! compares the fingerprint of the declared spec (`want`), of the latest version's content
//! (`seen`) and the stamp (`H`) of the newest version foundryctl made:
//!
//! | case | outcome |
//! |---|---|
//! | latest version unstamped, an earlier one ours | drift: new version (even when the content matches, to restore the stamp) |
//! | want = H, seen = H | nothing to do |
//! | want = H, seen ≠ H | drift: new version restoring the declared spec |
//! | want ≠ H, seen = H | the manifests changed: new version |
//! | want ≠ H, seen ≠ H, contents differ | new version; drift too, when there was a stamp to differ from |
//! | want ≠ H, seen ≠ H, contents equal | re-stamp: new version (the stamp is stale or missing) |
//!
//! # Guarantees
//! - Identical content never produces a version unless the stamp itself must be restored, so
//!   "apply, then plan" is empty (foundryctl never relies on the service deduplicating).
//! - Every field of the version (model, instructions, tools, options, description, labels)
//!   counts.
//!
//! # Assumptions
//! A version echoes its definition as it was sent (recorded), so nothing is unreported and a
//! missing `update_delay` is the service default.
//!
//! # Errors
//! None.

use super::build::{Accumulator, action, conflict, create, delete_reason, facts, owner_of};
use super::decide::{Decision, Owner, decide};
use super::diff::diff;
use super::prepare::{Declared, DeclaredAgent};
use super::types::{
    Action, ActionKind, Drift, FieldChange, NotDeleted, Op, PlanOptions, Precondition,
};
use crate::model::normalize;
use crate::model::{
    Agent, LiveAgent, Ownership, ResourceKind, ResourceRef, SetName, fingerprint,
    newest_stamped_owner, stamped_metadata,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub new_version: bool,
    pub changes: Vec<FieldChange>,
    pub reasons: Vec<String>,
    pub drift: Option<Drift>,
}

/// Compares a declared agent with a live agent that is ours (latest stamped with `set`) or was
/// ours before someone else made its latest version.
/// `declared` is the declared agent's normal form (as canonical text) and fingerprint.
pub fn review(
    desired: &Agent,
    declared: &DeclaredAgent,
    live: &LiveAgent,
    set: &SetName,
) -> Review {
    let resource = ResourceRef::Agent(desired.name.clone());
    let want_fp = &declared.fingerprint;
    let seen = live.latest.spec.as_ref().map(normalize::agent);
    let seen_text = seen.as_ref().map(fingerprint::canonical_json);
    let same = seen_text.as_deref() == Some(&*declared.canonical);
    // Equal normal forms have equal fingerprints (and no changes): the live one is hashed, and
    // the declared one rebuilt to be compared field by field, only when they differ.
    let seen_fp = seen_text.map(|text| {
        if same {
            want_fp.clone()
        } else {
            fingerprint::of_canonical(ResourceKind::Agent, &text)
        }
    });
    let changes = if same {
        Vec::new()
    } else {
        let want = DeclaredAgent::normal(&desired.spec);
        diff(seen.as_ref(), Some(&want), &Default::default())
    };

    let latest_is_ours = live.ownership().is_owned_by(set);
    let (stamp, edited_after) = if latest_is_ours {
        (live.ownership().hash, None)
    } else {
        let ours = live
            .history
            .iter()
            .flatten()
            .find(|v| crate::model::Ownership::from_metadata(&v.metadata).is_owned_by(set));
        (
            ours.and_then(|v| crate::model::Ownership::from_metadata(&v.metadata).hash),
            ours.map(|v| v.version.clone()),
        )
    };
    let want_is_stamp = stamp.as_deref() == Some(want_fp.as_str());
    let seen_is_stamp = stamp.is_some() && seen_fp == stamp;

    let mut reasons = Vec::new();
    if live.latest.spec.is_none() {
        reasons.push(format!(
            "the latest version ({}) is not a prompt agent",
            live.latest.version
        ));
    }
    let drift = |description: String| Drift {
        resource: resource.clone(),
        description,
        changes: changes.clone(),
    };
    let (new_version, drift) = match (edited_after, want_is_stamp, seen_is_stamp) {
        (Some(ours), _, _) => {
            reasons.push(format!(
                "restore the declared state and the foundryctl stamp (version {} was made \
                 outside foundryctl)",
                live.latest.version
            ));
            (
                true,
                Some(drift(format!(
                    "version {} was created outside foundryctl (the last version foundryctl \
                     applied is {ours})",
                    live.latest.version
                ))),
            )
        }
        (None, true, true) => (false, None),
        (None, true, false) => {
            reasons.push(
                "restore the declared state (the agent was changed outside foundryctl)".to_owned(),
            );
            (
                true,
                Some(drift(
                    "changed outside foundryctl: the latest version no longer matches what \
                     foundryctl applied"
                        .to_owned(),
                )),
            )
        }
        (None, false, true) => {
            reasons.push("the manifests changed".to_owned());
            (true, None)
        }
        (None, false, false) if changes.is_empty() => {
            reasons.push(
                "re-stamp: the latest version matches the manifests but carries an outdated or \
                 missing foundryctl-hash"
                    .to_owned(),
            );
            (true, None)
        }
        (None, false, false) => {
            reasons.push("the live agent differs from the manifests".to_owned());
            let drifted = stamp.is_some().then(|| {
                drift(
                    "changed outside foundryctl: the latest version no longer matches what \
                     foundryctl applied"
                        .to_owned(),
                )
            });
            (true, drifted)
        }
    };
    Review {
        new_version,
        changes,
        reasons,
        drift,
    }
}

/// Decides what happens to one agent, declared (`want`, with its prepared normal form)
/// and/or live (`have`), and records it in `out`.
pub(super) fn plan(
    out: &mut Accumulator,
    resource: ResourceRef,
    want: Option<(&Agent, DeclaredAgent)>,
    have: Option<&LiveAgent>,
    options: &PlanOptions,
) {
    let facts = facts(want.is_some(), agent_owner(have, &options.set), options);
    // Made only for an action: most agents of a large project have none.
    let precondition = || Precondition::for_agent(have);
    match (decide(facts), want, have) {
        (Decision::Create, Some((want, declared)), _) => {
            let op = Op::CreateAgentVersion {
                name: want.name.clone(),
                spec: want.spec.clone(),
                metadata: stamped_metadata(&want.spec.labels, &options.set, &declared.fingerprint),
            };
            let declared = Declared {
                normal: DeclaredAgent::normal(&want.spec),
                fingerprint: declared.fingerprint,
            };
            out.actions
                .push(create(resource, op, declared, precondition()));
        }
        (Decision::Reconcile, Some((want, declared)), Some(have)) => {
            let review = review(want, &declared, have, &options.set);
            out.drift.extend(review.drift);
            if !review.new_version {
                return;
            }
            let fp = declared.fingerprint;
            let op = Op::CreateAgentVersion {
                name: want.name.clone(),
                spec: want.spec.clone(),
                metadata: stamped_metadata(&want.spec.labels, &options.set, &fp),
            };
            out.actions.push(Action {
                fingerprint: Some(fp),
                reasons: review.reasons,
                changes: review.changes,
                ..action(resource, ActionKind::Update, op, precondition())
            });
        }
        (Decision::Delete, _, Some(have)) => {
            let op = Op::DeleteAgent {
                name: have.name.clone(),
            };
            out.actions.push(Action {
                reasons: vec![format!(
                    "{}; every version is deleted",
                    delete_reason(options)
                )],
                ..action(resource, ActionKind::Delete, op, precondition())
            });
        }
        (Decision::NotInManifests, _, _) => out.not_in_manifests.push(resource),
        (Decision::NotDeleted, _, Some(have)) => {
            out.not_deleted
                .push(not_deleted(resource, have, &options.set));
        }
        (Decision::Conflict(kind), _, _) => {
            out.conflicts
                .push(conflict(resource, kind, have.map(LiveAgent::ownership)));
        }
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

fn agent_owner(live: Option<&LiveAgent>, set: &SetName) -> Owner {
    let Some(agent) = live else {
        return Owner::Absent;
    };
    let latest = agent.ownership();
    if !latest.managed
        && agent
            .history
            .as_deref()
            .and_then(newest_stamped_owner)
            .is_some_and(|o| o.is_owned_by(set))
    {
        return Owner::OursBeforeEdit;
    }
    owner_of(&latest, set)
}

/// Why an agent this set once owned is kept by a deleting run: its latest version is not ours,
/// and foundryctl deletes only what carries its stamp.
fn not_deleted(resource: ResourceRef, have: &LiveAgent, set: &SetName) -> NotDeleted {
    let ours = have
        .history
        .iter()
        .flatten()
        .find(|v| Ownership::from_metadata(&v.metadata).is_owned_by(set))
        .map_or_else(String::new, |v| {
            format!(" (the last version foundryctl applied is {})", v.version)
        });
    NotDeleted {
        reason: format!(
            "{resource} is not deleted: its latest version ({}) was made outside foundryctl{ours}",
            have.latest.version
        ),
        hint: format!(
            "delete it in the portal if it should go, or declare it and apply so the latest \
             version is foundryctl's again; `{resource}` is then deleted like the rest"
        ),
        resource,
    }
}
