//! Making a plan from validated manifests and the live project, and deciding whether a plan
//! may run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Context as _;

use super::Session;
use super::live::{Lists, read_live, read_live_from};
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::Deployments;
use crate::manifest::{self, Validated};
use crate::model::{
    DesiredState, LiveState, MemoryStoreName, References, ResourceRef, StoreReference,
    stamped_disposable,
};
use crate::plan::{self, ImportError, Plan, PlanOptions};

/// Reads the live project (from `lists`, started before the manifests were read), refuses
/// `--target`s that name nothing, checks that every memory tool's store exists (declared or
/// live; diagnostics go to `diagnostics`, coloured when `color`), and plans.
pub async fn make_plan(
    session: &Session,
    mut lists: Lists,
    validated: &Validated,
    options: &PlanOptions,
    diagnostics: &mut impl Write,
    color: bool,
) -> anyhow::Result<Plan> {
    // The deployments preflight reads its list beside the resources' lists: started with them
    // when the caller asked (`Lists::with_deployments`), or now. Not needed, it is cancelled.
    let needed = !options.destroy && !validated.deployment_refs.is_empty();
    let started = lists.take_deployments();
    let deployments =
        needed.then(|| started.unwrap_or_else(|| Lists::start_deployments(session.client())));
    let (live, prepared) = read_live_from(session, lists, &validated.desired, options).await?;
    check_targets(options, validated, &live)?;
    let refs = References::of(&validated.desired, &live);
    let mut undeployed = 0;
    if let Some(task) = deployments {
        let listed = task
            .finish()
            .await
            .context("the read of the model deployments stopped")?
            .context("failed to read the project's model deployments")?;
        undeployed = check_deployments(validated, &listed, diagnostics, color)?;
    }
    if !options.destroy {
        check_store_references(validated, &refs, diagnostics, color)?;
    }
    if undeployed > 0 {
        return Err(undeployed_error(undeployed).into());
    }
    let plan = plan::plan_indexed(&validated.desired, prepared, &live, &refs, options);
    locate_reference_problems(&plan, validated, diagnostics, color)?;
    Ok(plan)
}

/// The plan of `destroy`: every resource `session`'s set owns, deleted (agents before the
/// stores they use). `desired` is consulted only for `lifecycle: {disposable: true}`;
/// `allow_delete` lifts the protection of the stores it names.
pub async fn make_destroy_plan(
    session: &Session,
    desired: &DesiredState,
    allow_delete: &[ResourceRef],
    targets: &[ResourceRef],
) -> anyhow::Result<(Plan, PlanOptions)> {
    let options = PlanOptions {
        set: session.set.clone(),
        destroy: true,
        allow_delete: allow_delete.iter().cloned().collect(),
        targets: (!targets.is_empty()).then(|| targets.iter().cloned().collect()),
        ..PlanOptions::default()
    };
    let (live, prepared) = read_live(session, desired, &options).await?;
    if options.targets.is_none() {
        check_destroy_manifests(desired, &live, &session.set)?;
    }
    if let Some(targets) = &options.targets {
        // Only what exists can be destroyed: a target the project lacks is a typo, not
        // "nothing to destroy".
        let missing = plan::unmatched_targets(&DesiredState::default(), &live, targets);
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
            return Err(StatusError::new(
                ExitStatus::Error,
                format!(
                    "--target {} matches no resource in the project",
                    names.join(", ")
                ),
            )
            .with_hint("check the KIND/NAME (`foundryctl get` lists the project's resources)")
            .into());
        }
    }
    let plan = plan::plan_prepared(desired, prepared, &live, &options);
    Ok((plan, options))
}

/// Refuses `destroy -f` with manifests the project has under another set and none under this
/// one: a forgotten `--set`, which would delete this set's resources instead of theirs.
fn check_destroy_manifests(
    desired: &DesiredState,
    live: &LiveState,
    set: &crate::model::SetName,
) -> anyhow::Result<()> {
    let others = plan::sets_of_declared_elsewhere(desired, live, set);
    if others.is_empty() {
        return Ok(());
    }
    // The sets' names come from the project's stamps: shown escaped, and offered as `--set`
    // only when they are names `--set` takes.
    let visible = |s: &String| crate::render::escape::visible(s).into_owned();
    let named: Vec<String> = others.iter().map(|s| format!("`{}`", visible(s))).collect();
    let flags: Vec<String> = others
        .iter()
        .filter(|s| crate::model::SetName::new((*s).clone()).is_ok())
        .map(|s| format!("--set {s}"))
        .collect();
    let ours = format!(
        "to destroy set `{set}`, leave out -f (a store's disposable stamp is read from the project)"
    );
    let hint = if flags.is_empty() {
        ours
    } else {
        format!("to destroy that set, pass {}; {ours}", flags.join(" or "))
    };
    Err(StatusError::new(
        ExitStatus::Error,
        format!(
            "the manifests declare resources of set {} and none of set `{set}`; nothing was \
             deleted",
            named.join(", ")
        ),
    )
    .with_hint(hint)
    .into())
}

/// The plan of `import`: stamp `resource` as this set's (or re-stamp it), as
/// [`plan::plan_import`] decides from the live project.
pub async fn make_import_plan(
    session: &Session,
    validated: &Validated,
    resource: &ResourceRef,
    restamp: bool,
) -> anyhow::Result<Result<Plan, ImportError>> {
    let options = PlanOptions {
        set: session.set.clone(),
        ..PlanOptions::default()
    };
    let (live, _) = read_live(session, &validated.desired, &options).await?;
    Ok(plan::plan_import(
        &validated.desired,
        &live,
        &options,
        resource,
        restamp,
    ))
}

/// The deployments preflight: every model deployment the manifests name
/// ([`Validated::deployment_refs`]) must be in `listed`. Each one that is not is shown at its
/// file:line:column on `out`; returns how many. When the identity may not list deployments,
/// says on `out` that the check was skipped, and returns 0.
pub fn check_deployments(
    validated: &Validated,
    listed: &Deployments,
    out: &mut impl Write,
    color: bool,
) -> anyhow::Result<usize> {
    let names = match listed {
        Deployments::Listed(names) => names,
        Deployments::NotAllowed => {
            writeln!(
                out,
                "warning: skipped the deployments check: the identity may not list the project's \
                 model deployments (403); a model that is not deployed fails only at apply"
            )
            .context("failed to write diagnostics")?;
            return Ok(0);
        }
    };
    let missing: Vec<manifest::Diagnostic> = validated
        .deployment_refs
        .iter()
        .filter(|r| !names.contains(&r.deployment))
        .map(|r| r.missing(names))
        .collect();
    if !missing.is_empty() {
        manifest::render_diagnostics(out, &missing, color)
            .context("failed to write diagnostics")?;
    }
    Ok(missing.len())
}

/// The exit-3 error for `count` references to deployments the project does not have.
pub fn undeployed_error(count: usize) -> StatusError {
    StatusError::new(
        ExitStatus::InvalidManifests,
        format!(
            "invalid manifests: {count} model deployment reference(s) name no deployment of the project"
        ),
    )
    .with_hint("deploy the model, or name one of the project's deployments (each error above lists them)")
}

/// Refuses `--target`s that name nothing, declared or live: planning them would print "No
/// changes", which hides the typo.
fn check_targets(
    options: &PlanOptions,
    validated: &Validated,
    live: &LiveState,
) -> anyhow::Result<()> {
    let Some(targets) = &options.targets else {
        return Ok(());
    };
    let unmatched = plan::unmatched_targets(&validated.desired, live, targets);
    if unmatched.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = unmatched.iter().map(ToString::to_string).collect();
    Err(StatusError::new(
        ExitStatus::Error,
        format!(
            "--target {} matches no resource: neither the manifests nor the project have it",
            names.join(", ")
        ),
    )
    .with_hint("check the KIND/NAME (`foundryctl get` lists the project's resources)")
    .into())
}

/// Memory tools naming a store that neither the manifests nor the live project have
/// ([`References::unresolved`]): each is shown at its file:line:column, and the command ends
/// with exit 3 before anything is planned.
pub fn check_store_references(
    validated: &Validated,
    refs: &References,
    out: &mut impl Write,
    color: bool,
) -> anyhow::Result<()> {
    let unresolved: BTreeSet<StoreReference> = refs.unresolved().collect();
    let missing: Vec<_> = validated
        .undeclared_stores
        .iter()
        .filter(|u| {
            unresolved.contains(&StoreReference {
                agent: u.agent.clone(),
                store: u.store.clone(),
            })
        })
        .map(|u| u.diagnostic.clone().into_error())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    manifest::render_diagnostics(out, &missing, color).context("failed to write diagnostics")?;
    Err(StatusError::new(
        ExitStatus::InvalidManifests,
        format!(
            "invalid manifests: {} memory tool(s) reference a store that neither the manifests nor the project have",
            missing.len()
        ),
    )
    .into())
}

/// The plan's reference problems (an agent naming a store the plan deletes) at the memory
/// tool's file:line:column, on `out`: the plan says what is wrong, this says where. Each plan
/// diagnostic carries its agent and store, which find the tool among the manifests' undeclared
/// references.
fn locate_reference_problems(
    plan: &Plan,
    validated: &Validated,
    out: &mut impl Write,
    color: bool,
) -> anyhow::Result<()> {
    let located: Vec<manifest::Diagnostic> = plan
        .diagnostics
        .iter()
        .filter(|d| d.severity == plan::Severity::Error)
        .filter_map(|d| {
            let store = d.store.as_ref()?;
            match d.resource.as_ref()? {
                ResourceRef::Agent(agent) => Some((d, agent, store)),
                // Only an agent's memory tool references a store.
                ResourceRef::MemoryStore(_) => None,
                // A seed's store problem has no memory tool to point at.
                ResourceRef::MemorySeed(_) => None,
            }
        })
        .flat_map(|(d, agent, store)| {
            validated
                .undeclared_stores
                .iter()
                .filter(move |u| &u.agent == agent && &u.store == store)
                .map(move |u| {
                    let mut located = u.diagnostic.clone().into_error();
                    located.message.clone_from(&d.message);
                    located.hint.clone_from(&d.hint);
                    located
                })
        })
        .collect();
    if located.is_empty() {
        return Ok(());
    }
    manifest::render_diagnostics(out, &located, color).context("failed to write diagnostics")
}

/// A saved plan's protection, judged again right before it is applied: the file is not trusted
/// (a hand edit can turn an update into a delete and clear `blocked`). Every action whose op
/// replaces or deletes a store gets its resource from the op, its kind from the op, and its
/// `blocked` and `data_loss` from the store read now (one GET each) and this run's flags
/// (`plan::protect`); every exclusive seed's deletes are judged the same way from its op
/// (`plan::protect_deletes`). Flags given when the plan was made do not count: memories
/// written since would be lost too, so the apply must allow it again (the reason says so).
pub async fn recheck_protection(
    client: &crate::foundry::Client,
    plan: &mut Plan,
    allow: &PlanOptions,
) -> Result<(), crate::foundry::ClientError> {
    // Whether each store the plan writes stays stamped disposable once written.
    let stamped_after: BTreeMap<MemoryStoreName, bool> = plan
        .actions
        .iter()
        .filter_map(|action| match &action.op {
            plan::Op::CreateStore { name, metadata, .. }
            | plan::Op::UpdateStore { name, metadata, .. }
            | plan::Op::ReplaceStore { name, metadata, .. }
            | plan::Op::StampStore { name, metadata, .. } => {
                Some((name.clone(), stamped_disposable(metadata)))
            }
            plan::Op::DeleteStore { .. }
            | plan::Op::CreateAgentVersion { .. }
            | plan::Op::DeleteAgent { .. }
            | plan::Op::StampAgent { .. }
            | plan::Op::SeedMemories { .. } => None,
        })
        .collect();
    for action in &mut plan.actions {
        let seed = matches!(action.op, plan::Op::SeedMemories { .. });
        match &action.op {
            plan::Op::ReplaceStore { name, .. } | plan::Op::DeleteStore { name } => {
                let name = name.clone();
                action.resource = ResourceRef::MemoryStore(name.clone());
                action.id = action.resource.to_string();
                let live = client.get_store(&name).await?;
                plan::protect(action, live.as_ref(), allow);
            }
            plan::Op::SeedMemories { store, delete, .. } => {
                // The store is read for its disposable stamp, when there are deletes to allow;
                // a stamp this plan removes does not count.
                let disposable = !delete.is_empty()
                    && stamped_after.get(store).copied().unwrap_or(true)
                    && client
                        .get_store(store)
                        .await?
                        .is_some_and(|live| stamped_disposable(&live.metadata));
                plan::protect_deletes(action, disposable, allow);
            }
            // Written out, so a new op has to say whether it loses data.
            plan::Op::CreateStore { .. }
            | plan::Op::UpdateStore { .. }
            | plan::Op::StampStore { .. }
            | plan::Op::CreateAgentVersion { .. }
            | plan::Op::DeleteAgent { .. }
            | plan::Op::StampAgent { .. } => continue,
        }
        if let Some(blocked) = &mut action.blocked {
            blocked.reason = if seed {
                format!(
                    "{}: a saved plan's deletes must be allowed again when it is applied (the \
                     file is not trusted to say what it may delete)",
                    blocked.reason
                )
            } else {
                format!(
                    "{}, including any written since the plan was made: a saved plan's replace \
                     or delete must be allowed again when it is applied",
                    blocked.reason
                )
            };
        }
    }
    plan.summary = plan::Summary::of(&plan.actions, plan.conflicts.len());
    Ok(())
}

/// The exit status a rendered plan ends with before anything is executed, or `None` when it
/// may proceed: errors in the plan → 3, conflicts → 6, blocked actions → 4.
pub fn refusal(plan: &Plan) -> Option<StatusError> {
    if plan.has_errors() {
        Some(StatusError::new(
            ExitStatus::InvalidManifests,
            "the plan has errors (listed above); fix the manifests",
        ))
    } else if !plan.conflicts.is_empty() {
        Some(
            StatusError::new(
                ExitStatus::StaleOrConflict,
                format!(
                    "{} declared resource(s) exist but are not this set's to change (listed above)",
                    plan.conflicts.len()
                ),
            )
            .with_hint(conflicts_hint(&plan.conflicts)),
        )
    } else if plan.is_blocked() {
        let flags: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| a.blocked.as_ref().map(|b| b.unblock_flag.clone()))
            .collect();
        Some(StatusError::new(
            ExitStatus::Blocked,
            format!(
                "the plan is blocked by data-loss protection ({} action(s) would delete memories)",
                flags.len(),
            ),
        )
        .with_hint(format!(
            "if losing them is intended, rerun with {}",
            flags.join(" ")
        )))
    } else {
        None
    }
}

/// What to do about a plan's conflicts, said once after them: their own hint when they share
/// one (all of them another set's, as when `--set` was forgotten), else what each kind needs.
fn conflicts_hint(conflicts: &[plan::Conflict]) -> String {
    let mut hints = conflicts.iter().map(|c| c.hint.as_str());
    let first = hints.next().unwrap_or_default();
    if hints.all(|hint| hint == first) {
        // It names the owner's set, as the project has it: shown, never acted on.
        crate::render::escape::visible(first).into_owned()
    } else if conflicts
        .iter()
        .all(|c| c.kind == plan::decide::ConflictKind::Unmanaged)
    {
        "adopt an unmanaged one with `foundryctl import KIND/NAME -f …`".to_owned()
    } else {
        "each conflict above says what to do: --set NAME for another set's resources, \
         `foundryctl import` for unmanaged ones"
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{SourceFile, Variables};

    fn validated() -> Validated {
        let text = "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: buddy}\nspec: {model: gpt-x}\n";
        manifest::validate(&[SourceFile::new("a.yaml", text)], &Variables::default()).unwrap()
    }

    #[test]
    fn the_refusal_of_conflicts_says_the_fix_they_share_once() {
        use crate::model::{AgentName, MemoryStoreName};
        use plan::decide::ConflictKind::{OtherSet, Unmanaged};
        let conflict = |name: &str, kind, hint: &str| plan::Conflict {
            resource: ResourceRef::Agent(AgentName::new(name).unwrap()),
            kind,
            reason: String::new(),
            hint: hint.to_owned(),
        };
        let workshop = "manage it with --set workshop, or destroy it from that set first";
        // `--set` forgotten: every resource another set's, one fix.
        let forgotten = [
            conflict("a", OtherSet, workshop),
            conflict("b", OtherSet, workshop),
        ];
        assert_eq!(conflicts_hint(&forgotten), workshop);
        // One unmanaged resource: its own import command.
        let one = [conflict(
            "a",
            Unmanaged,
            "adopt it with `foundryctl import agent/a -f …`",
        )];
        assert_eq!(conflicts_hint(&one), one[0].hint);
        // Several: the way, not one of them.
        let store = plan::Conflict {
            resource: ResourceRef::MemoryStore(MemoryStoreName::new("s").unwrap()),
            ..conflict(
                "s",
                Unmanaged,
                "adopt it with `foundryctl import memory_store/s -f …`",
            )
        };
        let unmanaged = [one[0].clone(), store];
        assert!(conflicts_hint(&unmanaged).starts_with("adopt an unmanaged one"));
        let mixed = [unmanaged[0].clone(), forgotten[0].clone()];
        assert!(conflicts_hint(&mixed).contains("--set NAME"));
        // A set name is the project's: shown escaped, never a line or a terminal command.
        let hostile = "manage it with --set evil\u{1b}]0;x\u{7}\nhint: run this";
        let shown = conflicts_hint(&[conflict("a", OtherSet, hostile)]);
        assert!(!shown.contains(['\u{1b}', '\u{7}', '\n']), "{shown}");
    }

    #[test]
    fn destroy_names_another_set_escaped_and_offers_only_names_set_takes() {
        use crate::model::{
            MANAGED_BY_KEY, MANAGED_BY_VALUE, MemoryStoreName, MemoryStoreSpec, SET_KEY,
        };
        let store = |name: &str, set: &str| crate::model::LiveMemoryStore {
            name: MemoryStoreName::new(name).unwrap(),
            id: format!("memstore_{name}"),
            created_at: 1,
            updated_at: 1,
            metadata: [
                (MANAGED_BY_KEY.to_owned(), MANAGED_BY_VALUE.to_owned()),
                (SET_KEY.to_owned(), set.to_owned()),
            ]
            .into(),
            spec: MemoryStoreSpec::default(),
        };
        let declared = |name: &str| crate::model::MemoryStore {
            name: MemoryStoreName::new(name).unwrap(),
            spec: MemoryStoreSpec::default(),
            disposable: false,
        };
        let mut desired = DesiredState::default();
        let mut live = LiveState::default();
        for (name, set) in [("a", "workshop"), ("b", "evil\u{1b}[31m\nhint: run this")] {
            desired
                .stores
                .insert(MemoryStoreName::new(name).unwrap(), declared(name));
            live.stores
                .insert(MemoryStoreName::new(name).unwrap(), store(name, set));
        }
        let set = crate::model::SetName::new("default").unwrap();
        let error = check_destroy_manifests(&desired, &live, &set).unwrap_err();
        let message = error.to_string();
        let hints = crate::exit::hints(&error).join("\n");
        for text in [&message, &hints] {
            assert!(!text.contains(['\u{1b}', '\n']), "{text}");
        }
        assert!(
            message.contains("`evil\\u{1b}[31m\\u{a}hint: run this`"),
            "{message}"
        );
        assert!(
            hints.starts_with("to destroy that set, pass --set workshop; "),
            "{hints}"
        );
    }

    #[test]
    fn an_identity_that_may_not_list_deployments_skips_the_check_with_a_warning() {
        let mut out = Vec::new();
        let missing =
            check_deployments(&validated(), &Deployments::NotAllowed, &mut out, false).unwrap();
        assert_eq!(missing, 0);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("warning: skipped the deployments check"),
            "{text}"
        );
    }

    #[test]
    fn a_listed_project_without_the_model_is_one_located_error() {
        let mut out = Vec::new();
        let listed = Deployments::Listed(["gpt-4.1-mini".to_owned()].into());
        let missing = check_deployments(&validated(), &listed, &mut out, false).unwrap();
        assert_eq!(missing, 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a.yaml:4:15"), "{text}");
        assert!(text.contains("`gpt-x`"), "{text}");
    }
}
