//! Saved plans on disk: written by `plan --out FILE` (provenance plus the plan, no secrets),
//! and removed when a later plan of that path is refused, so a stale file cannot be applied by
//! mistake.

use std::path::Path;

use anyhow::Context as _;

use super::Session;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest::Validated;
use crate::plan::{self, Plan, SavedPlan};

/// Writes the saved plan: provenance plus the plan. Holds no token or credential: a plan whose
/// pass-through tools carry credential-like fields is refused (see `plan::secrets`).
pub fn save(
    session: &Session,
    validated: &Validated,
    plan: &Plan,
    path: &Path,
) -> anyhow::Result<()> {
    let secrets = plan::secret_fields(plan);
    if !secrets.is_empty() {
        let fields: Vec<String> = secrets.iter().map(ToString::to_string).collect();
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "refusing to save the plan to {}: it would hold credential-like values of \
                 pass-through tools ({}), and plan files hold no secrets",
                path.display(),
                fields.join(", ")
            ),
        )
        .with_hint(
            "keep the credential in a project connection and name it with \
             `project_connection_id`, or apply from the manifests (`foundryctl apply -f …`) \
             instead of a saved plan",
        )
        .into());
    }
    let saved = SavedPlan {
        format_version: SavedPlan::FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        endpoint: session.endpoint_id(),
        set: plan.set.clone(),
        manifest_digest: validated.digest(),
        variables: validated.variables.keys().cloned().collect(),
        plan: plan.clone(),
    };
    let mut text = serde_json::to_string_pretty(&saved).context("failed to serialise the plan")?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))
}

/// Removes a plan saved earlier at `path` and says whether there was one. Anything else there
/// (no file, or a file that is not a saved plan) is left alone.
pub fn remove_earlier(path: &Path) -> anyhow::Result<bool> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(false);
    };
    if serde_json::from_str::<SavedPlan>(&text).is_err() {
        return Ok(false);
    }
    std::fs::remove_file(path)
        .with_context(|| format!("failed to remove the earlier plan in {}", path.display()))?;
    Ok(true)
}
