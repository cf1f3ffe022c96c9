//! Making a plan from validated manifests and the live project, and deciding whether a plan
//! may run.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Context as _;

use super::Session;
use super::live::read_live;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest::{self, Validated};
use crate::model::{LiveState, References, ResourceRef, StoreReference};
use crate::plan::{self, Plan, PlanOptions};

/// Reads the live project, refuses `--target`s that name nothing, checks that every memory
/// tool's store exists (declared or live; diagnostics go to `diagnostics`, coloured when
/// `color`), and plans.
pub async fn make_plan(
    session: &Session,
    validated: &Validated,
    options: &PlanOptions,
    diagnostics: &mut impl Write,
    color: bool,
) -> anyhow::Result<Plan> {
    let (live, prepared) = read_live(session, &validated.desired, options).await?;
    check_targets(options, validated, &live)?;
    let refs = References::of(&validated.desired, &live);
    if !options.destroy {
        check_store_references(validated, &refs, diagnostics, color)?;
    }
    let plan = plan::plan_indexed(&validated.desired, prepared, &live, &refs, options);
    locate_reference_problems(&plan, validated, diagnostics, color)?;
    Ok(plan)
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
/// (`plan::protect`). Flags given when the plan was made do not count: memories written since
/// would be lost too, so the apply must allow it again (the reason says so).
pub async fn recheck_protection(
    client: &crate::foundry::Client,
    plan: &mut Plan,
    allow: &PlanOptions,
) -> Result<(), crate::foundry::ClientError> {
    for action in &mut plan.actions {
        let (plan::Op::ReplaceStore { name, .. } | plan::Op::DeleteStore { name }) = &action.op
        else {
            continue;
        };
        let name = name.clone();
        action.resource = ResourceRef::MemoryStore(name.clone());
        action.id = action.resource.to_string();
        let live = client.get_store(&name).await?;
        plan::protect(action, live.as_ref(), allow);
        if let Some(blocked) = &mut action.blocked {
            blocked.reason = format!(
                "{}, including any written since the plan was made: a saved plan's replace or \
                 delete must be allowed again when it is applied",
                blocked.reason
            );
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
            .with_hint("adopt an unmanaged one with `foundryctl import KIND/NAME -f …`"),
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
