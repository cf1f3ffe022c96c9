//! Making a plan from validated manifests and the live project, and deciding whether a plan
//! may run.

use std::io::Write;

use anyhow::Context as _;

use super::Session;
use super::live::read_live;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest::{self, Validated};
use crate::model::LiveState;
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
    if !options.destroy {
        check_store_references(validated, &live, diagnostics, color)?;
    }
    Ok(plan::plan_prepared(
        &validated.desired,
        prepared,
        &live,
        options,
    ))
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
            "--target {} matches no resource: neither the manifests nor the project have it\n\
             hint: check the KIND/NAME (`foundryctl get` lists the project's resources)",
            names.join(", ")
        ),
    )
    .into())
}

/// Memory tools naming a store that neither the manifests nor the live project have: each is
/// shown at its file:line:column, and the command ends with exit 3.
pub fn check_store_references(
    validated: &Validated,
    live: &LiveState,
    out: &mut impl Write,
    color: bool,
) -> anyhow::Result<()> {
    let missing: Vec<_> = validated
        .undeclared_stores
        .iter()
        .filter(|u| !live.stores.contains_key(&u.store))
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

/// The exit status a rendered plan ends with before anything is executed, or `None` when it
/// may proceed: errors in the plan → 3, conflicts → 6, blocked actions → 4.
pub fn refusal(plan: &Plan) -> Option<StatusError> {
    if plan.has_errors() {
        Some(StatusError::new(
            ExitStatus::InvalidManifests,
            "the plan has errors (listed above); fix the manifests",
        ))
    } else if !plan.conflicts.is_empty() {
        Some(StatusError::new(
            ExitStatus::StaleOrConflict,
            format!(
                "{} declared resource(s) exist but are not this set's to change (listed above)\n\
                 hint: adopt an unmanaged one with `foundryctl import KIND/NAME -f …`",
                plan.conflicts.len()
            ),
        ))
    } else if plan.is_blocked() {
        let flags: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| a.blocked.as_ref().map(|b| b.unblock_flag.clone()))
            .collect();
        Some(StatusError::new(
            ExitStatus::Blocked,
            format!(
                "the plan is blocked by data-loss protection ({} action(s) would delete memories)\n\
                 hint: if losing them is intended, rerun with {}",
                flags.len(),
                flags.join(" ")
            ),
        ))
    } else {
        None
    }
}
