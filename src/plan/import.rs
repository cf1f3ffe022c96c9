//! `foundryctl import KIND/NAME`: adopt a live resource by stamping it, without changing its
//! content, so the next `plan` shows the difference to the manifests as an ordinary change.
//!
//! # Expected flow
//! The resource must be declared (the manifests say what it should be) and live. The plan holds
//! one `Import` action: a `StampStore` (description unchanged, metadata = live labels + stamps)
//! or a `StampAgent` (the live latest definition as a new version, with stamps). Its `changes`
//! are what the next apply would change, shown so the user adopts with open eyes.
//!
//! # Guarantees
//! - Content is not changed by the import itself: the stamp records the *live* content, so a
//!   later `plan` diffs the manifests against what is really there.
//! - Another set's resource is refused. One this set already owns is not imported again
//!   ([`ImportError::AlreadyManaged`]): re-stamping it would record its live content as what
//!   was applied and so forget its drift. Only `restamp` (`import --restamp`) re-stamps it, the
//!   way out when the planner had to infer a change to options the service does not report.
//!
//! # Assumptions
//! Store options the service does not report are assumed to equal the declared ones: there is
//! no way to read them, and the user is adopting the store *as declared*.
//!
//! # Errors
//! [`ImportError`]: not declared, not live, another set's, already this set's (without
//! `restamp`), or not a prompt agent.

use std::collections::BTreeSet;

use super::diff::diff;
use super::types::{
    Action, ActionKind, FieldChange, Op, Plan, PlanOptions, Precondition, Summary, action_id,
};
use crate::model::normalize;
use crate::model::{
    DesiredState, LiveState, ResourceKind, ResourceRef, fingerprint, labels_of, stamped_metadata,
};

/// Why a resource cannot be imported. Messages read after "failed to import KIND/NAME: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("it is not declared in the manifests")]
    NotDeclared,
    #[error("it does not exist in the project")]
    NotFound,
    #[error("it is managed by foundryctl for set `{0}`")]
    OtherSet(String),
    /// Not a failure: there is nothing to import. The command says so and exits 0.
    #[error("it is already managed by set `{0}`; nothing to import")]
    AlreadyManaged(String),
    #[error("its latest version is not a prompt agent")]
    NotPromptAgent,
    /// A seed is memories, which carry no stamp: `apply` writes the missing ones instead.
    #[error("a memory seed has nothing to adopt: its memories carry no stamp")]
    NotImportable,
}

/// Plans the import of `target` into `options.set`. `restamp` allows re-stamping a resource
/// this set already owns (see the module's guarantees).
pub fn plan_import(
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
    target: &ResourceRef,
    restamp: bool,
) -> Result<Plan, ImportError> {
    let set = &options.set;
    let action = match target {
        ResourceRef::MemorySeed(_) => return Err(ImportError::NotImportable),
        ResourceRef::MemoryStore(name) => {
            let want = desired.stores.get(name).ok_or(ImportError::NotDeclared)?;
            let have = live.stores.get(name).ok_or(ImportError::NotFound)?;
            refuse_owned(&have.ownership(), set, restamp)?;
            let want_n = normalize::desired_store(&want.spec);
            let seen = normalize::live_store(&have.spec);
            let mut assumed = seen.value.clone();
            for path in &seen.unreported {
                if let Some(v) = normalize::get_path(&want_n, path) {
                    normalize::set_path(&mut assumed, path, v.clone());
                }
            }
            let fp = fingerprint::of_normalized(ResourceKind::MemoryStore, &assumed);
            let labels = labels_of(&have.metadata);
            let changes =
                super::store::classify(diff(Some(&seen.value), Some(&want_n), &seen.unreported));
            Action {
                id: action_id(target),
                resource: target.clone(),
                kind: ActionKind::Import,
                op: Op::StampStore {
                    name: name.clone(),
                    description: have.spec.description.clone(),
                    // A restamp keeps the disposable stamp; adopting never adds one (the next
                    // apply does, when the store is declared disposable).
                    metadata: crate::model::with_disposable(
                        stamped_metadata(&labels, set, &fp),
                        crate::model::stamped_disposable(&have.metadata),
                    ),
                },
                fingerprint: Some(fp),
                precondition: Precondition::for_store(Some(have)),
                reasons: import_reasons(&changes),
                changes,
                depends_on: Vec::new(),
                level: 0,
                blocked: None,
                data_loss: None,
            }
        }
        ResourceRef::Agent(name) => {
            let want = desired.agents.get(name).ok_or(ImportError::NotDeclared)?;
            let have = live.agents.get(name).ok_or(ImportError::NotFound)?;
            refuse_owned(&have.ownership(), set, restamp)?;
            let spec = have
                .latest
                .spec
                .clone()
                .ok_or(ImportError::NotPromptAgent)?;
            let fp = fingerprint::agent(&spec);
            let labels = labels_of(&have.latest.metadata);
            let changes = diff(
                Some(&normalize::agent(&spec)),
                Some(&normalize::agent(&want.spec)),
                &BTreeSet::new(),
            );
            Action {
                id: action_id(target),
                resource: target.clone(),
                kind: ActionKind::Import,
                reasons: import_reasons(&changes),
                changes,
                op: Op::StampAgent {
                    name: name.clone(),
                    spec,
                    metadata: stamped_metadata(&labels, set, &fp),
                },
                fingerprint: Some(fp),
                precondition: Precondition::for_agent(Some(have)),
                depends_on: Vec::new(),
                level: 0,
                blocked: None,
                data_loss: None,
            }
        }
    };
    let actions = vec![action];
    Ok(Plan {
        memories_left_in_place: Vec::new(),
        set: set.clone(),
        prune: false,
        destroy: false,
        summary: Summary::of(&actions, 0),
        actions,
        drift: Vec::new(),
        conflicts: Vec::new(),
        not_in_manifests: Vec::new(),
        not_deleted: Vec::new(),
        diagnostics: Vec::new(),
        templates: Vec::new(),
    })
}

/// Another set's resource is never imported; this set's only when re-stamping is asked for.
fn refuse_owned(
    ownership: &crate::model::Ownership,
    set: &crate::model::SetName,
    restamp: bool,
) -> Result<(), ImportError> {
    if ownership.is_owned_by(set) {
        if restamp {
            return Ok(());
        }
        return Err(ImportError::AlreadyManaged(set.to_string()));
    }
    if ownership.managed {
        return Err(ImportError::OtherSet(
            ownership.set.clone().unwrap_or_else(|| "(none)".to_owned()),
        ));
    }
    Ok(())
}

/// Why the import happens, and what the listed changes mean; when there are none, the
/// manifests already match and saying "the changes below" would point at nothing.
fn import_reasons(changes: &[FieldChange]) -> Vec<String> {
    let next = if changes.is_empty() {
        "the manifests already match it, so the next apply changes nothing"
    } else {
        "the changes below are what the next apply would make"
    };
    let mut reasons = vec![format!(
        "stamp the live resource as managed by foundryctl, keeping its content; {next}"
    )];
    // Adopting with open eyes: a store whose create-only fields differ cannot be updated.
    if changes.iter().any(|c| c.forces_replacement) {
        reasons.push(
            "the next apply would replace this store, which deletes its memories; it is blocked \
             unless the store is disposable or the run names it with --allow-replace"
                .to_owned(),
        );
    }
    reasons
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::service_model::Service;
    use crate::plan::tests::{agent, agent_name, desired, plan_against, store, store_name};

    #[test]
    fn imported_store_then_plan_shows_only_the_real_difference() {
        let want = desired(&[store("prefs")], &[]);
        let mut svc = Service::default();
        let mut theirs = store("prefs").spec;
        theirs.description = "made by hand".to_owned();
        svc.create_store(&store_name("prefs"), &theirs, &BTreeMap::new());
        let target = ResourceRef::MemoryStore(store_name("prefs"));
        let options = PlanOptions::default();
        let before = plan_against(&svc, &want, &options);
        assert_eq!(before.conflicts.len(), 1);

        let import =
            plan_import(&want, &svc.live(&BTreeSet::new()), &options, &target, false).unwrap();
        assert_eq!(import.summary.to_import, 1);
        assert_eq!(import.actions[0].changes[0].path, "description");
        assert!(
            import.actions[0].reasons[0].ends_with("what the next apply would make"),
            "{:?}",
            import.actions[0].reasons
        );
        svc.apply(&import);

        let after = plan_against(&svc, &want, &options);
        assert!(after.conflicts.is_empty());
        assert!(after.drift.is_empty());
        assert_eq!(after.actions.len(), 1);
        assert_eq!(after.actions[0].kind, ActionKind::Update);
        svc.apply(&after);
        assert!(!plan_against(&svc, &want, &options).has_changes());
    }

    #[test]
    fn importing_a_store_with_other_models_says_the_next_apply_replaces_it() {
        let want = desired(&[store("prefs")], &[]);
        let mut svc = Service::default();
        let mut theirs = store("prefs").spec;
        theirs.chat_model = "gpt-4o".to_owned();
        svc.create_store(&store_name("prefs"), &theirs, &BTreeMap::new());
        let target = ResourceRef::MemoryStore(store_name("prefs"));
        let options = PlanOptions::default();
        let import =
            plan_import(&want, &svc.live(&BTreeSet::new()), &options, &target, false).unwrap();
        let action = &import.actions[0];
        let change = action
            .changes
            .iter()
            .find(|c| c.path == "chat_model")
            .unwrap();
        assert!(change.forces_replacement);
        assert!(
            action.reasons[1].starts_with("the next apply would replace this store"),
            "{:?}",
            action.reasons
        );
        svc.apply(&import);
        let after = plan_against(&svc, &want, &options);
        assert_eq!(after.actions[0].kind, ActionKind::Replace);
        assert!(after.actions[0].blocked.is_some());
    }

    #[test]
    fn imported_agent_keeps_its_definition() {
        let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
        let mut svc = Service::default();
        svc.create_store(&store_name("prefs"), &store("prefs").spec, &BTreeMap::new());
        let spec = want.agents[&agent_name("buddy")].spec.clone();
        svc.create_version(&agent_name("buddy"), Some(&spec), &BTreeMap::new());
        let target = ResourceRef::Agent(agent_name("buddy"));
        let plan = plan_import(
            &want,
            &svc.live(&BTreeSet::new()),
            &PlanOptions::default(),
            &target,
            false,
        )
        .unwrap();
        assert!(plan.actions[0].changes.is_empty());
        // No "changes below" when there are none to show.
        assert!(
            plan.actions[0].reasons[0].ends_with("the next apply changes nothing"),
            "{:?}",
            plan.actions[0].reasons
        );
        svc.apply(&plan);
        let next = plan_against(&svc, &want, &PlanOptions::default());
        assert!(next.actions.is_empty(), "{next:#?}");
    }

    #[test]
    fn import_refuses_another_sets_resource_and_undeclared_ones() {
        let want = desired(&[store("prefs")], &[]);
        let mut svc = Service::default();
        let other = crate::model::SetName::new("other").unwrap();
        let md = stamped_metadata(&BTreeMap::new(), &other, "h");
        svc.create_store(&store_name("prefs"), &store("prefs").spec, &md);
        let live = svc.live(&BTreeSet::new());
        let options = PlanOptions::default();
        assert_eq!(
            plan_import(
                &want,
                &live,
                &options,
                &ResourceRef::MemoryStore(store_name("prefs")),
                false,
            ),
            Err(ImportError::OtherSet("other".to_owned()))
        );
        assert_eq!(
            plan_import(
                &want,
                &live,
                &options,
                &ResourceRef::MemoryStore(store_name("nope")),
                false,
            ),
            Err(ImportError::NotDeclared)
        );
    }

    /// Importing what this set already owns writes nothing: a re-stamp would record the
    /// drifted live content as applied, and the next plan would blame the manifests. Only
    /// `restamp` re-stamps, and then the drift is indeed forgotten.
    #[test]
    fn import_of_this_sets_own_resource_is_nothing_to_do_unless_restamping() {
        let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
        let mut svc = Service::default();
        let options = PlanOptions::default();
        svc.apply(&plan_against(&svc, &want, &options));
        // Drift: the description is edited behind foundryctl's back.
        let prefs = store_name("prefs");
        svc.stores.get_mut(&prefs).unwrap().spec.description = "edited in the portal".to_owned();
        let drifted = plan_against(&svc, &want, &options);
        assert_eq!(drifted.drift.len(), 1, "{drifted:#?}");

        let live = svc.live(&BTreeSet::new());
        for target in [
            ResourceRef::MemoryStore(prefs.clone()),
            ResourceRef::Agent(agent_name("buddy")),
        ] {
            assert_eq!(
                plan_import(&want, &live, &options, &target, false),
                Err(ImportError::AlreadyManaged("default".to_owned())),
                "{target}"
            );
        }
        assert_eq!(plan_against(&svc, &want, &options), drifted);

        let restamp = plan_import(
            &want,
            &live,
            &options,
            &ResourceRef::MemoryStore(prefs),
            true,
        )
        .unwrap();
        assert_eq!(restamp.actions[0].kind, ActionKind::Import);
        svc.apply(&restamp);
        assert!(plan_against(&svc, &want, &options).drift.is_empty());
    }
}
