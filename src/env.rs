//! The environment a command sees, taken once at the edge: the process environment merged with
//! the `.env` file of the working directory (the environment wins, as in Docker Compose and
//! python-dotenv's default). Target resolution, credentials and `${VAR}` interpolation all
//! read this one snapshot, so a file means the same thing to each and is read once.
//!
//! Tests describe an environment as a value (setting process variables is `unsafe` in edition
//! 2024, and this crate forbids `unsafe`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::dotenv::{self, ReadError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// The keys whose value came from `.env` (not set in the process environment).
    from_dotenv: BTreeSet<String>,
}

impl Env {
    /// The process environment merged with `dir/.env` (absent is fine; unreadable or malformed
    /// is an error naming the file). Variables whose name or value is not UTF-8 are skipped:
    /// nothing foundryctl reads can use them.
    pub fn load(dir: &Path) -> Result<Env, ReadError> {
        let process = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Ok(Env::merge(process, dotenv::load(dir)?))
    }

    /// The process environment merged over the dotenv file at `path` (`--env-file`, which
    /// then stands in for `.env`); the file must exist.
    pub fn load_file(path: &Path) -> Result<Env, ReadError> {
        let process = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Ok(Env::merge(process, dotenv::load_file(path)?))
    }

    /// `process` (wins) merged over the `.env` pairs `file`.
    pub fn merge(
        process: impl IntoIterator<Item = (String, String)>,
        file: impl IntoIterator<Item = (String, String)>,
    ) -> Env {
        let mut vars: BTreeMap<String, String> = process.into_iter().collect();
        let mut from_dotenv = BTreeSet::new();
        for (k, v) in file {
            if let std::collections::btree_map::Entry::Vacant(slot) = vars.entry(k) {
                from_dotenv.insert(slot.key().clone());
                slot.insert(v);
            }
        }
        Env { vars, from_dotenv }
    }

    /// A process environment of exactly these pairs, and no `.env`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env::merge(
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())),
            [],
        )
    }

    /// A variable's value; an empty value counts as unset (as `FOO= cmd` usually intends).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Whether `key`'s value came from `.env` rather than the process environment.
    pub fn is_from_dotenv(&self, key: &str) -> bool {
        self.from_dotenv.contains(key)
    }

    /// Every variable as set, empty values included (`${VAR}` interpolation tells empty from
    /// unset itself).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_process_environment_wins_over_dotenv_and_the_origin_is_kept() {
        let env = Env::merge(
            pairs(&[("A", "process"), ("EMPTY", "")]),
            pairs(&[("A", "file"), ("B", "file")]),
        );
        assert_eq!(env.get("A"), Some("process"));
        assert_eq!(env.get("B"), Some("file"));
        assert!(!env.is_from_dotenv("A"));
        assert!(env.is_from_dotenv("B"));
        assert_eq!(env.get("EMPTY"), None, "empty counts as unset");
        assert!(env.iter().any(|kv| kv == ("EMPTY", "")));
    }

    #[test]
    fn load_reads_the_dotenv_of_the_directory_and_names_it_when_malformed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Env::load(dir.path()).unwrap().from_dotenv.len(), 0);
        std::fs::write(
            dir.path().join(".env"),
            "FOUNDRYCTL_TEST_ONLY_IN_FILE=yes\n",
        )
        .unwrap();
        let env = Env::load(dir.path()).unwrap();
        assert_eq!(env.get("FOUNDRYCTL_TEST_ONLY_IN_FILE"), Some("yes"));
        assert!(env.is_from_dotenv("FOUNDRYCTL_TEST_ONLY_IN_FILE"));
        std::fs::write(dir.path().join(".env"), "OK=1\nbad line\n").unwrap();
        let e = Env::load(dir.path()).unwrap_err();
        assert!(
            e.to_string().ends_with(".env is not a valid .env file"),
            "{e}"
        );
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("line 2: expected KEY=VALUE"));
    }
}
