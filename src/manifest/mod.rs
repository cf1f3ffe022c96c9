//! Manifests: YAML files → validated [`crate::model::DesiredState`].
//!
//! - [`read_inputs`] is the only file and stdin I/O (`-f FILE|DIR|-`).
//! - [`Variables`] are built at the edge from the environment and `.env`.
//! - [`validate`] is pure: it parses every document, checks the service's limits, and returns
//!   either the desired state or every problem found, each located with a hint.
//! - [`load`] strings these together for commands, printing diagnostics on failure.
//! - [`export`] turns model resources back into manifest YAML.
//!
//! Raw types ([`raw`]) mirror the YAML; the JSON Schema is generated from them ([`schema`]).
//! The YAML library is confined to [`yaml`].

mod diagnostic;
mod export;
mod interpolate;
mod load;
pub mod raw;
mod render;
mod schema;
mod source;
mod suggest;
mod validate;
mod variables;
pub mod yaml;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use export::{agent_document_json, export, export_seeds, store_document_json};
pub use load::{load, load_with, skipped_warnings, validate_files};
pub use raw::API_VERSION;
pub use render::{render_diagnostic, render_diagnostics};
pub use schema::{SCHEMA_PATH, json_documents, schema_json};
pub use source::{
    InputError, MAX_FILE_BYTES, SkipReason, Skipped, SourceFile, check_given, looks_like_manifest,
    read_inputs, read_inputs_skipping,
};
pub use validate::{
    DeploymentRef, ForEachLists, UndeclaredStore, Validated, list_files, validate, validate_with,
};
pub use variables::{VariableArgs, Variables};
