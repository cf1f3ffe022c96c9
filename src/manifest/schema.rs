//! The manifest JSON Schema, generated from the raw types so it cannot disagree with the
//! parser. Committed at [`SCHEMA_PATH`]; `foundryctl schema --check` fails when it is stale.

use super::raw::Document;
use super::variables::Variables;
use super::yaml::{self, YamlError};

/// Where the schema lives in the repository (and where the examples' modelines point).
pub const SCHEMA_PATH: &str = "schemas/manifest.schema.json";

/// The schema as pretty JSON (JSON Schema 2020-12), ending with a newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Document);
    // A schema is a tree of maps and strings; serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The documents of a manifest as JSON values, interpolated with `vars`: what the JSON Schema
/// describes (editors check the same shape).
pub fn json_documents(text: &str, vars: &Variables) -> Result<Vec<serde_json::Value>, YamlError> {
    yaml::to_json_documents(text, vars.as_map())
}
