//! Checks shared by both kinds: labels, descriptions, required strings.

use std::collections::BTreeMap;

use crate::model::{DISPOSABLE_KEY, RESERVED_METADATA_KEYS};

use super::super::diagnostic::Diagnostic;
use super::super::yaml::Spanned;
use super::document::Document;

/// The service's metadata limits (agents document them; stores behave the same in recordings).
pub const MAX_METADATA_KEYS: usize = 16;
pub const MAX_LABEL_KEY_CHARS: usize = 64;
pub const MAX_LABEL_VALUE_CHARS: usize = 512;
/// foundryctl's stamps take three of the sixteen keys.
pub const MAX_USER_LABELS: usize = MAX_METADATA_KEYS - RESERVED_METADATA_KEYS.len();
pub const MAX_DESCRIPTION_CHARS: usize = 512;

/// Collects the problems of one document.
pub struct Checker<'a, 'd> {
    pub doc: Document<'a>,
    pub errors: &'d mut Vec<Diagnostic>,
    /// File positions (line, column) of values whose `${…}` could not be expanded: they were
    /// reported once, and whatever else is found wrong there follows from it.
    pub failed: Vec<(usize, usize)>,
    /// The errors about those values, added after the rest of the document is checked.
    pub interpolation: Vec<Diagnostic>,
    /// The variables the document's references found set.
    pub used: std::collections::BTreeSet<String>,
    /// The model deployments the document names, located.
    pub deployments: Vec<super::DeploymentRef>,
    /// Whether the document was read only as far as its head (`yaml::quick_head`) before its
    /// typed parse, rather than in full: see `parse`.
    pub head_only: bool,
}

impl Checker<'_, '_> {
    /// Records that `resource` names the deployment `value` in `field`, at its line.
    pub fn deployment(
        &mut self,
        resource: crate::model::ResourceRef,
        field: &'static str,
        value: &Spanned<String>,
    ) {
        let pos = self.doc.at(value).or_else(|| self.doc.start());
        self.deployments.push(super::DeploymentRef {
            resource,
            field,
            deployment: value.value.clone(),
            diagnostic: Diagnostic::warning(self.doc.file, pos, ""),
        });
    }
}

impl Checker<'_, '_> {
    /// An error at a value (or at the document, for values built without a location).
    pub fn error_at<T>(&mut self, value: &Spanned<T>, message: impl Into<String>) {
        let pos = self.doc.at(value).or_else(|| self.doc.start());
        self.errors
            .push(Diagnostic::error(self.doc.file, pos, message));
    }

    /// [`Self::error_at`] with a hint.
    pub fn error_hint<T>(
        &mut self,
        value: &Spanned<T>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let pos = self.doc.at(value).or_else(|| self.doc.start());
        self.errors
            .push(Diagnostic::error(self.doc.file, pos, message).with_hint(hint));
    }

    /// User labels, refusing foundryctl's own keys and the service's limits.
    pub fn labels(
        &mut self,
        labels: &BTreeMap<String, Spanned<String>>,
        name: &Spanned<String>,
    ) -> BTreeMap<String, String> {
        if labels.len() > MAX_USER_LABELS {
            // At the `labels:` key (the map as a whole carries no location), else the name.
            let pos = self
                .doc
                .find_key(0, "labels")
                .or_else(|| self.doc.at(name))
                .or_else(|| self.doc.start());
            let hint = format!(
                "the service allows {MAX_METADATA_KEYS} metadata keys and foundryctl uses {} of them ({})",
                RESERVED_METADATA_KEYS.len(),
                RESERVED_METADATA_KEYS.join(", ")
            );
            self.errors.push(
                Diagnostic::error(
                    self.doc.file,
                    pos,
                    format!(
                        "{} labels declared; at most {MAX_USER_LABELS} are allowed",
                        labels.len()
                    ),
                )
                .with_hint(hint),
            );
        }
        let mut out = BTreeMap::new();
        for (key, value) in labels {
            if RESERVED_METADATA_KEYS.contains(&key.as_str()) || key == DISPOSABLE_KEY {
                self.error_hint(
                    value,
                    format!("label `{key}` is reserved for foundryctl"),
                    "foundryctl writes this key itself to recognise its resources; choose another key",
                );
                continue;
            }
            let key_len = key.chars().count();
            if key.is_empty() {
                self.error_at(value, "label keys must not be empty");
            } else if key_len > MAX_LABEL_KEY_CHARS {
                self.error_at(
                    value,
                    format!(
                        "label key is {key_len} characters long; the limit is {MAX_LABEL_KEY_CHARS}"
                    ),
                );
            }
            let value_len = value.value.chars().count();
            if value_len > MAX_LABEL_VALUE_CHARS {
                self.error_at(value, format!("label `{key}` is {value_len} characters long; the limit is {MAX_LABEL_VALUE_CHARS}"));
            }
            out.insert(key.clone(), value.value.clone());
        }
        out
    }

    /// `description`, at most 512 characters; `""` when absent (as the service reports it).
    pub fn description(&mut self, description: Option<&Spanned<String>>) -> String {
        let Some(description) = description else {
            return String::new();
        };
        let len = description.value.chars().count();
        if len > MAX_DESCRIPTION_CHARS {
            self.error_at(
                description,
                format!(
                    "description is {len} characters long; the limit is {MAX_DESCRIPTION_CHARS}"
                ),
            );
        }
        description.value.clone()
    }

    /// A model deployment name: required non-empty, and free of control characters (which
    /// could only be a mistake, and would be sent to the service as they are).
    pub fn required(&mut self, value: &Spanned<String>, field: &str) -> String {
        if value.value.trim().is_empty() {
            self.error_hint(
                value,
                format!("`{field}` must not be empty"),
                "name a model deployment of the project, for example gpt-4.1-mini",
            );
        } else if let Some(c) = value.value.chars().find(|c| c.is_control()) {
            self.error_hint(
                value,
                format!(
                    "`{field}` contains the control character {}",
                    c.escape_unicode()
                ),
                "a deployment name is printable text; check the quoting and escapes",
            );
        }
        value.value.clone()
    }
}
