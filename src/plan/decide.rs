//! The per-resource decision: from "is it declared?" and "whose is the live one?"
//! to create, reconcile, delete, keep with a notice, conflict, or leave alone.
//!
//! # Expected flow
//! For every resource name that is declared or live, the planner classifies the live resource
//! ([`Owner`]), builds [`Facts`], and calls [`decide`]. `Reconcile` then goes to the
//! kind-specific comparison (`store::review`, `agent::review`), which picks nothing, an update,
//! a new version or a replace.
//!
//! # Guarantees
//! - Only a resource stamped with this set ([`Owner::Ours`]) can be deleted, and only under
//!   `--prune` (when undeclared) or `destroy`.
//! - A resource without this set's stamp is never written: declared, it is a conflict;
//!   undeclared, it is ignored.
//! - An agent whose latest version someone else created, but whose earlier version is ours
//!   ([`Owner::OursBeforeEdit`]), is reconciled (drift) when declared, and never deleted; a
//!   run that would otherwise delete it says so ([`Decision::NotDeleted`]).
//!
//! # Assumptions
//! The stamps in `metadata` are honest: a resource claiming `managed-by: foundryctl` and this
//! set is treated as ours. There is no state file to cross-check against, by design.
//!
//! # Errors
//! None: every combination has an outcome; conflicts are outcomes, not errors.

use serde::{Deserialize, Serialize};

/// Whose a live resource is, as far as this run is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    /// Nothing by that name exists.
    Absent,
    /// Stamped `managed-by: foundryctl` with this set.
    Ours,
    /// An agent whose latest version is unstamped while an earlier version is ours: someone
    /// made a version behind foundryctl's back (the portal does this).
    OursBeforeEdit,
    /// Managed by foundryctl, but for another set (or no set).
    OtherSet,
    /// Not managed by foundryctl.
    Unmanaged,
}

/// Everything [`decide`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub declared: bool,
    pub owner: Owner,
    pub prune: bool,
    pub destroy: bool,
}

/// The outcome before the kind-specific comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Create,
    /// Compare declared with live and pick nothing, an update, a new version or a replace.
    Reconcile,
    Delete,
    /// Owned but undeclared, kept because `--prune` was not given; listed in the plan.
    NotInManifests,
    /// Undeclared (or destroyed) and once ours, but its latest version is someone else's: kept,
    /// and said so in the plan.
    NotDeleted,
    /// Declared, but the live resource is not this set's to change.
    Conflict(ConflictKind),
    /// Nothing to do and nothing to say.
    Ignore,
}

/// Whose a declared resource is when it is not this set's to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Not stamped by foundryctl: someone made it by hand or with another tool.
    Unmanaged,
    /// Stamped by foundryctl for another set (or for no set).
    OtherSet,
}

/// The decision table, one arm per case.
pub fn decide(facts: Facts) -> Decision {
    let Facts {
        declared,
        owner,
        prune,
        destroy,
    } = facts;
    if destroy {
        // Destroy ignores what is declared: everything this set's stamp is on goes, nothing
        // else is touched (an agent edited behind our back included: its latest is not ours).
        return match owner {
            Owner::Ours => Decision::Delete,
            Owner::OursBeforeEdit => Decision::NotDeleted,
            Owner::Absent | Owner::OtherSet | Owner::Unmanaged => Decision::Ignore,
        };
    }
    match (declared, owner) {
        (true, Owner::Absent) => Decision::Create,
        (true, Owner::Ours | Owner::OursBeforeEdit) => Decision::Reconcile,
        (true, Owner::Unmanaged) => Decision::Conflict(ConflictKind::Unmanaged),
        (true, Owner::OtherSet) => Decision::Conflict(ConflictKind::OtherSet),
        (false, Owner::Ours) if prune => Decision::Delete,
        (false, Owner::Ours) => Decision::NotInManifests,
        (false, Owner::OursBeforeEdit) => Decision::NotDeleted,
        // Undeclared and never (or no longer) ours.
        (false, Owner::Absent | Owner::OtherSet | Owner::Unmanaged) => Decision::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decision table written out row by row, independently of `decide`'s match:
    /// (declared, owner, prune, destroy) → decision.
    #[test]
    fn decision_truth_table() {
        use Decision::*;
        use Owner::*;
        let owners = [Absent, Ours, OursBeforeEdit, OtherSet, Unmanaged];
        let expected = |declared: bool, owner: Owner, prune: bool, destroy: bool| -> Decision {
            if destroy {
                return match owner {
                    Ours => Delete,
                    OursBeforeEdit => NotDeleted,
                    _ => Ignore,
                };
            }
            match owner {
                Absent if declared => Create,
                Absent => Ignore,
                Ours if declared => Reconcile,
                Ours if prune => Delete,
                Ours => NotInManifests,
                OursBeforeEdit if declared => Reconcile,
                OursBeforeEdit => NotDeleted,
                OtherSet if declared => Conflict(ConflictKind::OtherSet),
                Unmanaged if declared => Conflict(ConflictKind::Unmanaged),
                OtherSet | Unmanaged => Ignore,
            }
        };
        let mut rows = 0;
        for declared in [false, true] {
            for owner in owners {
                for prune in [false, true] {
                    for destroy in [false, true] {
                        let facts = Facts {
                            declared,
                            owner,
                            prune,
                            destroy,
                        };
                        assert_eq!(
                            decide(facts),
                            expected(declared, owner, prune, destroy),
                            "{facts:?}"
                        );
                        rows += 1;
                    }
                }
            }
        }
        assert_eq!(rows, 40);
        // Spot checks that pin the table's most important rows literally.
        let f = |declared, owner, prune, destroy| Facts {
            declared,
            owner,
            prune,
            destroy,
        };
        assert_eq!(decide(f(true, Absent, false, false)), Create);
        assert_eq!(decide(f(false, Ours, false, false)), NotInManifests);
        assert_eq!(decide(f(false, Ours, true, false)), Delete);
        assert_eq!(
            decide(f(true, Unmanaged, true, false)),
            Conflict(ConflictKind::Unmanaged)
        );
        assert_eq!(decide(f(false, Unmanaged, true, true)), Ignore);
        // Never deleted, but said so.
        assert_eq!(decide(f(true, OursBeforeEdit, true, true)), NotDeleted);
        assert_eq!(decide(f(false, OursBeforeEdit, true, false)), NotDeleted);
    }
}
