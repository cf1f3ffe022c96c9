//! The manifest JSON Schema, generated from the raw types so it cannot disagree with the
//! parser. Committed at [`SCHEMA_PATH`]; `foundryctl schema --check` fails when it is stale.

use super::raw::Document;

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
