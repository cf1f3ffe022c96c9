//! `--allow-replace` and `--allow-delete` names that unblock nothing. A `--target` naming
//! nothing is an error; an allow flag naming nothing used to be silently ignored, which hides a
//! typo until the blocked run. These are warnings, not errors: a pipeline may always pass the
//! flag, whether or not this run replaces or deletes the store.
//!
//! # Guarantees
//! - A flag is reported when no action of the plan is of the kind it allows (replace, delete)
//!   on the resource it names; a flag whose action is there is never reported.
//! - A flag naming an agent is always reported, with its own reason: agents are not protected
//!   (deleting one loses no memories), so the flag could never mean anything.
//! - `--allow-delete` of a store the plan keeps on purpose (listed as not deleted, with why and
//!   the way out) is not reported: "check the name" would be wrong advice there.

use std::fmt;

use super::types::{ActionKind, Plan, PlanOptions};
use crate::model::ResourceRef;

/// One allow flag that has no effect on the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedAllow {
    /// `--allow-replace` or `--allow-delete`.
    pub flag: &'static str,
    pub resource: ResourceRef,
}

impl fmt::Display for UnusedAllow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { flag, resource } = self;
        match resource {
            ResourceRef::Agent(_) => write!(
                f,
                "{flag} {resource} has no effect: agents are not protected (deleting or \
                 changing one loses no memories), only memory stores need {flag}"
            ),
            ResourceRef::MemorySeed(_) => write!(
                f,
                "{flag} {resource} has no effect: this plan deletes no memories of that seed \
                 (only an `exclusive: true` seed deletes, and only undeclared memories)"
            ),
            ResourceRef::MemoryStore(_) => {
                let what = match *flag {
                    ALLOW_DELETE => "deletes",
                    // --replace names a store this set owns and the manifests declare.
                    REPLACE => "can replace (declared, and owned by this set)",
                    _ => "replaces",
                };
                write!(
                    f,
                    "{flag} {resource} has no effect: this plan {what} no such store \
                     (check the name; `foundryctl get memory_store` lists the stores)"
                )
            }
        }
    }
}

const REPLACE: &str = "--replace";
const ALLOW_REPLACE: &str = "--allow-replace";
const ALLOW_DELETE: &str = "--allow-delete";

/// The allow flags of `options` that match no action of `plan` needing them, `--allow-replace`
/// first, each in resource order (stores, then agents).
pub fn unused_allows(plan: &Plan, options: &PlanOptions) -> Vec<UnusedAllow> {
    let used = |resource: &ResourceRef, kind: ActionKind| {
        let kind = match resource {
            // An exclusive seed's deletes are in its update.
            ResourceRef::MemorySeed(_) if kind == ActionKind::Delete => ActionKind::Update,
            ResourceRef::MemorySeed(_) | ResourceRef::MemoryStore(_) | ResourceRef::Agent(_) => {
                kind
            }
        };
        let kept =
            kind == ActionKind::Delete && plan.not_deleted.iter().any(|n| &n.resource == resource);
        matches!(
            resource,
            ResourceRef::MemoryStore(_) | ResourceRef::MemorySeed(_)
        ) && (kept
            || plan
                .actions
                .iter()
                .any(|a| a.kind == kind && &a.resource == resource))
    };
    let flags = [
        (REPLACE, &options.replace, ActionKind::Replace),
        (ALLOW_REPLACE, &options.allow_replace, ActionKind::Replace),
        (ALLOW_DELETE, &options.allow_delete, ActionKind::Delete),
    ];
    flags
        .into_iter()
        .flat_map(|(flag, named, kind)| {
            named
                .iter()
                .filter(move |r| !used(r, kind))
                .map(move |r| UnusedAllow {
                    flag,
                    resource: r.clone(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::plan::service_model::Service;
    use crate::plan::tests::{agent, desired, plan_against, store};

    fn r(s: &str) -> ResourceRef {
        s.parse().unwrap()
    }

    #[test]
    fn flags_that_unblock_an_action_are_used_and_the_rest_are_reported() {
        let mut svc = Service::default();
        let both = desired(&[store("old"), store("keep")], &[agent("gone", "old")]);
        svc.apply(&plan_against(&svc, &both, &PlanOptions::default()));
        let options = PlanOptions {
            prune: true,
            allow_delete: BTreeSet::from([
                r("memory_store/old"),
                r("memory_store/olf"),
                r("memory_store/keep"),
                r("agent/gone"),
            ]),
            allow_replace: BTreeSet::from([r("memory_store/old")]),
            ..PlanOptions::default()
        };
        let plan = plan_against(&svc, &desired(&[store("keep")], &[]), &options);
        assert!(!plan.is_blocked(), "{plan:#?}");
        let unused: Vec<String> = unused_allows(&plan, &options)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            unused,
            [
                "--allow-replace memory_store/old has no effect: this plan replaces no such \
                 store (check the name; `foundryctl get memory_store` lists the stores)",
                "--allow-delete memory_store/keep has no effect: this plan deletes no such \
                 store (check the name; `foundryctl get memory_store` lists the stores)",
                "--allow-delete memory_store/olf has no effect: this plan deletes no such \
                 store (check the name; `foundryctl get memory_store` lists the stores)",
                "--allow-delete agent/gone has no effect: agents are not protected (deleting or \
                 changing one loses no memories), only memory stores need --allow-delete",
            ]
        );
    }

    /// A store kept for an agent outside `--target` is explained by the plan (why, and how to
    /// let it go); its `--allow-delete` is not also called a typo.
    #[test]
    fn allowing_the_delete_of_a_store_kept_on_purpose_is_not_reported() {
        let mut svc = Service::default();
        let both = desired(&[store("old")], &[agent("user", "old")]);
        svc.apply(&plan_against(&svc, &both, &PlanOptions::default()));
        let options = PlanOptions {
            destroy: true,
            targets: Some(BTreeSet::from([r("memory_store/old")])),
            allow_delete: BTreeSet::from([r("memory_store/old")]),
            ..PlanOptions::default()
        };
        let plan = plan_against(&svc, &both, &options);
        assert!(plan.actions.is_empty(), "{plan:#?}");
        assert_eq!(plan.not_deleted.len(), 1, "{plan:#?}");
        assert!(
            plan.not_deleted[0]
                .hint
                .starts_with("add `--target agent/user` to include that agent in this run"),
            "{plan:#?}"
        );
        assert!(unused_allows(&plan, &options).is_empty());

        // An agent in the run, kept for a reason of its own (a version made elsewhere), is not
        // one to add: the hint is the one without `--target`.
        let mut svc = Service::default();
        svc.apply(&plan_against(&svc, &both, &PlanOptions::default()));
        let user = crate::model::AgentName::new("user").unwrap();
        let spec = both.agents[&user].spec.clone();
        svc.create_version(&user, Some(&spec), &std::collections::BTreeMap::new());
        let options = PlanOptions {
            targets: Some(BTreeSet::from([r("memory_store/old"), r("agent/user")])),
            ..options
        };
        let plan = plan_against(&svc, &both, &options);
        let kept_store = plan
            .not_deleted
            .iter()
            .find(|n| n.resource == r("memory_store/old"))
            .expect("the store is kept");
        assert!(!kept_store.hint.contains("--target"), "{plan:#?}");
    }

    #[test]
    fn no_flags_nothing_reported() {
        let plan = plan_against(
            &Service::default(),
            &desired(&[store("a")], &[]),
            &PlanOptions::default(),
        );
        assert!(unused_allows(&plan, &PlanOptions::default()).is_empty());
    }
}
