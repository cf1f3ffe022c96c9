//! `foundryctl schema`: write the manifest JSON Schema, or check the committed one is current.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::commands::{GlobalArgs, output};
use crate::exit::{ExitStatus, StatusError};
use crate::manifest;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fail (exit 1) when the file differs from what this foundryctl generates, instead of
    /// writing it.
    #[arg(long)]
    pub check: bool,

    /// Where the schema lives; `-` writes it to stdout.
    #[arg(long, value_name = "FILE", default_value = manifest::SCHEMA_PATH)]
    pub path: PathBuf,
}

pub async fn run(_global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let schema = manifest::schema_json();
    if args.path.as_os_str() == "-" {
        output::print_text(&schema).or_else(output::reader_gone)?;
        return Ok(ExitStatus::Success);
    }
    let path = args.path.display().to_string();
    if args.check {
        let current = std::fs::read_to_string(&args.path)
            .with_context(|| format!("failed to read {path}"))?;
        if current != schema {
            return Err(
                StatusError::new(ExitStatus::Error, format!("{path} is stale"))
                    .with_hint("run `foundryctl schema` and commit the result")
                    .into(),
            );
        }
        output::print_text(&format!("{path} is up to date\n")).or_else(output::reader_gone)?;
        return Ok(ExitStatus::Success);
    }
    if let Some(dir) = args.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
    }
    std::fs::write(&args.path, &schema).with_context(|| format!("failed to write {path}"))?;
    crate::say!("wrote {path}");
    Ok(ExitStatus::Success)
}
