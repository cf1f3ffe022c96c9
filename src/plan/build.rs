//! What both kinds' decisions build plans from: the accumulator of a planning run and the
//! pieces of an action every kind shares (a create, a conflict, the owner of a live resource).

use super::decide::{ConflictKind, Facts, Owner};
use super::diff::additions;
use super::prepare::Declared;
use super::types::{
    Action, ActionKind, Conflict, Diagnostic, Drift, LeftInPlace, NotDeleted, Op, PlanOptions,
    Precondition, action_id,
};
use crate::model::{Ownership, ResourceRef, SetName};

/// What a planning run collects, resource by resource.
#[derive(Default)]
pub(super) struct Accumulator {
    pub actions: Vec<Action>,
    pub drift: Vec<Drift>,
    pub conflicts: Vec<Conflict>,
    pub not_in_manifests: Vec<ResourceRef>,
    pub not_deleted: Vec<NotDeleted>,
    pub memories_left_in_place: Vec<LeftInPlace>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A create of either kind: stamped with the declared spec's fingerprint, and listing every
/// declared field of its normal form as a change from nothing.
pub(super) fn create(
    resource: ResourceRef,
    op: Op,
    Declared {
        normal,
        fingerprint,
    }: Declared,
    precondition: Precondition,
) -> Action {
    Action {
        fingerprint: Some(fingerprint),
        reasons: vec!["declared in the manifests and absent from the project".to_owned()],
        changes: additions(normal),
        ..action(resource, ActionKind::Create, op, precondition)
    }
}

/// An action with the fields every constructor shares; the rest is filled at the call site.
pub(super) fn action(
    resource: ResourceRef,
    kind: ActionKind,
    op: Op,
    precondition: Precondition,
) -> Action {
    Action {
        id: action_id(&resource),
        resource,
        kind,
        op,
        fingerprint: None,
        precondition,
        reasons: Vec::new(),
        changes: Vec::new(),
        depends_on: Vec::new(),
        level: 0,
        blocked: None,
        data_loss: None,
    }
}

pub(super) fn delete_reason(options: &PlanOptions) -> String {
    if options.destroy {
        "destroy: owned by this set".to_owned()
    } else {
        "not in the manifests (--prune)".to_owned()
    }
}

pub(super) fn conflict(
    resource: ResourceRef,
    kind: ConflictKind,
    ownership: Option<Ownership>,
) -> Conflict {
    match kind {
        ConflictKind::Unmanaged => Conflict {
            kind,
            reason: format!("{resource} exists in the project but is not managed by foundryctl"),
            hint: format!("adopt it with `foundryctl import {resource} -f …`"),
            resource,
        },
        ConflictKind::OtherSet => {
            let set = ownership.and_then(|o| o.set);
            let (owner, hint) = match set {
                Some(set) => (
                    format!("set `{set}`"),
                    format!("manage it with --set {set}, or destroy it from that set first"),
                ),
                None => (
                    "no set".to_owned(),
                    "remove its managed-by stamp, then adopt it with `foundryctl import`"
                        .to_owned(),
                ),
            };
            Conflict {
                kind,
                reason: format!("{resource} is managed by foundryctl for {owner}, not this set"),
                hint,
                resource,
            }
        }
    }
}

/// What [`decide`](super::decide::decide) reads about one resource of either kind: whether it
/// is declared, whose the live one is, and the run's `--prune` and `destroy`.
pub(super) fn facts(declared: bool, owner: Owner, options: &PlanOptions) -> Facts {
    Facts {
        declared,
        owner,
        prune: options.prune,
        destroy: options.destroy,
    }
}

pub(super) fn owner_of(ownership: &Ownership, set: &SetName) -> Owner {
    if ownership.is_owned_by(set) {
        Owner::Ours
    } else if ownership.managed {
        Owner::OtherSet
    } else {
        Owner::Unmanaged
    }
}
