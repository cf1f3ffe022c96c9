//! Variables for `${VAR}` interpolation: the process environment merged with a `.env` file.
//! Built at the edge (the command layer reads the environment and the file) and passed in, so
//! validation itself stays pure.

use std::collections::HashMap;

use crate::dotenv::{self, DotenvError};

/// The values `${VAR}` may expand to. The environment wins over `.env`, as in Docker Compose
/// and the seed tutorial's `load_dotenv()` default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables(HashMap<String, String>);

impl Variables {
    /// Merges `env` (wins) over the `KEY=VALUE` lines of `dotenv` (when there is one).
    pub fn new(
        env: impl IntoIterator<Item = (String, String)>,
        dotenv: Option<&str>,
    ) -> Result<Self, DotenvError> {
        let mut map = match dotenv {
            Some(text) => dotenv::parse(text)?.into_iter().collect(),
            None => HashMap::new(),
        };
        map.extend(env);
        Ok(Self(map))
    }

    /// Variables from explicit pairs only (tests, benchmarks).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(super) fn as_map(&self) -> &HashMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_dotenv() {
        let vars = Variables::new(
            [("CHAT_MODEL".to_owned(), "from-env".to_owned())],
            Some("CHAT_MODEL=from-file\nEMBEDDING_MODEL=emb\n"),
        )
        .unwrap();
        assert_eq!(vars.get("CHAT_MODEL"), Some("from-env"));
        assert_eq!(vars.get("EMBEDDING_MODEL"), Some("emb"));
    }
}
