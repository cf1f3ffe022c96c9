//! The edge: read inputs, validate, and report. Commands call [`load`] with the variables of
//! their environment snapshot ([`crate::env::Env`]); it is the only part of `manifest` that
//! prints.

use std::io::Write;
use std::path::PathBuf;

use crate::exit::{ExitStatus, StatusError};

use super::diagnostic::Diagnostic;
use super::render::render_diagnostics;
use super::source::read_list_files;
use super::source::{InputError, SkipReason, read_inputs_skipping};
use super::validate::{Validated, validate_with};
use super::variables::Variables;

/// Reads, interpolates and validates the manifests at `paths`. Warnings and, on failure, every
/// diagnostic go to stderr, coloured when `color` (the caller's resolved `--color`; stderr is
/// written as is, so `--color always` keeps its escapes off a terminal and `never` has none on
/// one); invalid manifests end in [`ExitStatus::InvalidManifests`].
pub fn load(paths: &[PathBuf], vars: &Variables, color: bool) -> anyhow::Result<Validated> {
    // Rendered first and written at once, stderr locked only for that: the live reads a command
    // starts before reading its manifests log to stderr (-v) from other threads, and a lock held
    // while a large project is validated would hold back each of their next requests.
    let mut rendered = Vec::new();
    let result = load_with(paths, vars, &mut rendered, color);
    let written = if rendered.is_empty() {
        Ok(())
    } else {
        std::io::stderr().lock().write_all(&rendered)
    };
    let validated = result?;
    written?;
    Ok(validated)
}

/// [`load`] with explicit variables and diagnostic output (for tests and `validate`).
pub fn load_with(
    paths: &[PathBuf],
    vars: &Variables,
    diagnostics_out: &mut impl Write,
    color: bool,
) -> anyhow::Result<Validated> {
    let (files, skipped) = match read_inputs_skipping(paths) {
        Ok(read) => read,
        Err(error) => return Err(input_failure(error, diagnostics_out, color)),
    };
    let skipped = skipped_warnings(&skipped);
    match validate_files(&files, vars) {
        Ok(validated) => {
            if !validated.warnings.is_empty() || !skipped.is_empty() {
                render_diagnostics(
                    diagnostics_out,
                    skipped.iter().chain(&validated.warnings),
                    color,
                )?;
                writeln!(diagnostics_out)?;
            }
            Ok(validated)
        }
        Err(diagnostics) => {
            render_diagnostics(
                diagnostics_out,
                skipped.iter().chain(diagnostics.iter()),
                color,
            )?;
            writeln!(diagnostics_out)?;
            Err(StatusError::new(
                ExitStatus::InvalidManifests,
                format!("invalid manifests: {diagnostics}"),
            )
            .into())
        }
    }
}

/// Validates `files` after reading the list files their `for_each: {file: …}` documents name
/// (relative to each manifest; `-` is relative to the working directory).
pub fn validate_files(
    files: &[super::source::SourceFile],
    vars: &Variables,
) -> Result<Validated, super::diagnostic::Diagnostics> {
    let lists = read_list_files(&super::validate::list_files(files));
    validate_with(files, vars, &lists)
}

/// What a directory walk skipped: non-regular files as warnings (someone put them there, and a
/// command that silently ignored a `*.yaml` would puzzle them); other tools' YAML only in the
/// `-v` log, since a repository is full of it.
pub fn skipped_warnings(skipped: &[super::source::Skipped]) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for skip in skipped {
        match skip.reason {
            SkipReason::NotRegular(_) => {
                let mut diagnostic = Diagnostic::about_input(skip.path.clone(), skip.to_string());
                diagnostic.severity = super::diagnostic::Severity::Warning;
                diagnostic.hint = Some(
                    "only regular files are read in a directory; name it explicitly to read it"
                        .to_owned(),
                );
                warnings.push(diagnostic);
            }
            SkipReason::NotManifest => {
                tracing::info!(target: "foundryctl::manifests", "{skip}");
            }
        }
    }
    warnings
}

/// Content problems (too large, not text) are invalid manifests (exit 3); anything else is an
/// I/O error (exit 1).
fn input_failure(error: InputError, out: &mut impl Write, color: bool) -> anyhow::Error {
    if !error.is_content_error() {
        return anyhow::Error::new(error).context("failed to read the manifests");
    }
    let mut diagnostic = Diagnostic::about_input(error.path(), error.to_string());
    if let InputError::NotUtf8 { line, column, .. } = error {
        diagnostic.line = line;
        diagnostic.column = column;
        diagnostic.hint = Some("manifests are UTF-8 YAML text; is this the right file?".to_owned());
    } else {
        diagnostic.hint =
            Some("is this the right file? manifest files are small YAML text".to_owned());
    }
    if let Err(e) = render_diagnostics(out, [&diagnostic], color).and_then(|()| writeln!(out)) {
        return e.into();
    }
    StatusError::new(
        ExitStatus::InvalidManifests,
        "invalid manifests: 1 problem found in the manifests",
    )
    .into()
}
