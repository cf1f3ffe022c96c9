//! `foundryctl validate`: check manifests without contacting the project.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use crate::commands::GlobalArgs;
use crate::commands::output::{OutputFormat, stderr_color};
use crate::env::Env;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest::{self, Diagnostic, Validated};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest file or directory (recursively *.yaml, *.yml); `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub variables: manifest::VariableArgs,

    /// `human` writes the result to stdout and problems to stderr; `json` writes one JSON
    /// object (result and every diagnostic) to stdout.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

/// The `--output json` document. Versioned so scripts can rely on it.
#[derive(Debug, Serialize)]
struct JsonReport {
    format_version: u32,
    valid: bool,
    files: usize,
    resources: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let cwd = std::env::current_dir().context("failed to find the working directory")?;
    let vars = Env::load(&cwd)
        .map_err(anyhow::Error::from)
        .and_then(|env| Ok(args.variables.resolve(&env)?));
    match args.output {
        OutputFormat::Human => {
            let vars = vars?;
            let color = stderr_color(global.color);
            let validated = manifest::load_with(&args.files, &vars, &mut std::io::stderr(), color)?;
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", summary(&validated))?;
            Ok(ExitStatus::Success)
        }
        OutputFormat::Json => {
            let env_file = args.variables.env_file.as_ref();
            let label = env_file.map_or_else(|| ".env".to_owned(), |p| p.display().to_string());
            run_json(&args.files, vars, &label)
        }
    }
}

/// One JSON report on stdout whatever happens, so a script always has something to parse:
/// invalid manifests end with exit 3, inputs that cannot be read (a missing file, a broken
/// `.env`) with exit 1, and either way the report's diagnostics say why.
fn run_json(
    paths: &[PathBuf],
    vars: anyhow::Result<manifest::Variables>,
    env_label: &str,
) -> anyhow::Result<ExitStatus> {
    let unreadable = |path: &str, error: anyhow::Error| {
        (
            report(
                false,
                0,
                0,
                None,
                vec![Diagnostic::about_input(path, format!("{error:#}"))],
            ),
            ExitStatus::Error,
        )
    };
    let (report, status) = match (vars, manifest::read_inputs_skipping(paths)) {
        (Err(error), _) => unreadable(env_label, error),
        (_, Err(error)) if !error.is_content_error() => {
            let path = error.path().to_owned();
            unreadable(
                &path,
                anyhow::Error::new(error).context("failed to read the manifests"),
            )
        }
        (Ok(_), Err(error)) => {
            let diagnostic = Diagnostic::about_input(error.path(), error.to_string());
            (
                report(false, 0, 0, None, vec![diagnostic]),
                ExitStatus::InvalidManifests,
            )
        }
        (Ok(vars), Ok((files, skipped))) => {
            let mut skipped = manifest::skipped_warnings(&skipped);
            match manifest::validate_files(&files, &vars) {
                Ok(v) => {
                    skipped.extend(v.warnings.iter().cloned());
                    let json = report(
                        true,
                        v.file_count,
                        v.resource_count(),
                        Some(v.digest.clone()),
                        skipped,
                    );
                    (json, ExitStatus::Success)
                }
                Err(diagnostics) => (
                    report(false, files.len(), 0, None, {
                        skipped.extend(diagnostics.0);
                        skipped
                    }),
                    ExitStatus::InvalidManifests,
                ),
            }
        }
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &report)?;
    writeln!(stdout)?;
    match status {
        ExitStatus::Success => Ok(status),
        ExitStatus::InvalidManifests => {
            Err(StatusError::new(status, "invalid manifests (see the JSON report)").into())
        }
        _ => {
            Err(StatusError::new(status, "could not read the inputs (see the JSON report)").into())
        }
    }
}

fn report(
    valid: bool,
    files: usize,
    resources: usize,
    digest: Option<String>,
    diagnostics: Vec<Diagnostic>,
) -> JsonReport {
    JsonReport {
        format_version: 1,
        valid,
        files,
        resources,
        digest,
        diagnostics,
    }
}

/// "3 resources in 2 files are valid".
pub fn summary(validated: &Validated) -> String {
    let resources = validated.resource_count();
    let files = validated.file_count;
    format!(
        "{resources} resource{} in {files} file{} {} valid",
        if resources == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" },
        if resources == 1 { "is" } else { "are" },
    )
}
