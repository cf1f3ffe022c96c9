//! A snapshot of the environment variables the client reads, taken once at the edge.
//!
//! Credential and target resolution read this instead of `std::env`, so tests describe an
//! environment as a value (setting process variables is `unsafe` in edition 2024, and this
//! crate forbids `unsafe`).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// A variable's value; an empty value counts as unset (as `FOO= cmd` usually intends).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Adds variables that are not already set (a `.env` file never overrides the environment).
    pub fn with_defaults(mut self, defaults: impl IntoIterator<Item = (String, String)>) -> Self {
        for (k, v) in defaults {
            self.0.entry(k).or_insert(v);
        }
        self
    }
}
