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

/// The largest plan file read. A plan of 1,100 creates is 3.1 MB, so this holds projects of
/// about ninety thousand resources; anything larger is not a plan (a device, a dump, an
/// endless pipe), and reading it whole would take all of memory.
pub const MAX_PLAN_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Why a plan file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("it is larger than {} MiB, the limit for a plan file", .limit / (1024 * 1024))]
    TooLarge { limit: u64 },
}

/// Reads the text of a plan file, reading at most one byte past [`MAX_PLAN_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read_text_within(path, MAX_PLAN_FILE_BYTES)
}

fn read_text_within(path: &Path, limit: u64) -> Result<String, ReadError> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    // A regular file says its size: one too large is refused unread.
    if file.metadata()?.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(text)
}

/// Removes a plan saved earlier at `path` and says whether there was one. Anything else there
/// (no file, a file that is not a saved plan, one too large to be one) is left alone.
pub fn remove_earlier(path: &Path) -> anyhow::Result<bool> {
    let Ok(text) = read_text(path) else {
        return Ok(false);
    };
    if serde_json::from_str::<SavedPlan>(&text).is_err() {
        return Ok(false);
    }
    std::fs::remove_file(path)
        .with_context(|| format!("failed to remove the earlier plan in {}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless or huge input costs a bounded read: `/dev/zero` would otherwise fill memory.
    #[test]
    fn a_plan_file_is_read_only_up_to_the_limit() {
        #[cfg(unix)]
        {
            let error = read_text_within(Path::new("/dev/zero"), 4 << 20).unwrap_err();
            assert!(matches!(error, ReadError::TooLarge { .. }), "{error:?}");
            assert_eq!(
                error.to_string(),
                "it is larger than 4 MiB, the limit for a plan file"
            );
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "x".repeat(1024)).unwrap();
        assert_eq!(read_text_within(&path, 1024).unwrap().len(), 1024);
        assert!(read_text_within(&path, 1023).is_err());
        // A missing file is an I/O error, as before.
        assert!(matches!(
            read_text(&dir.path().join("missing.json")),
            Err(ReadError::Io(_))
        ));
    }
}
