//! Variables for `${VAR}` interpolation: the command's environment snapshot (the process
//! environment merged with `.env`, see [`Env`]), taken at the edge and passed in, so
//! validation itself stays pure.

use std::collections::HashMap;

use crate::env::Env;

/// The values `${VAR}` may expand to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables(HashMap<String, String>);

impl From<&Env> for Variables {
    /// Every variable of `env`, empty ones included (`${VAR:-default}` tells empty from unset).
    fn from(env: &Env) -> Self {
        Self::from_pairs(env.iter())
    }
}

impl Variables {
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
    fn the_environment_snapshot_wins_over_dotenv_and_keeps_empty_values() {
        let env = Env::merge(
            [
                ("CHAT_MODEL".to_owned(), "from-env".to_owned()),
                ("EMPTY".to_owned(), String::new()),
            ],
            [
                ("CHAT_MODEL".to_owned(), "from-file".to_owned()),
                ("EMBEDDING_MODEL".to_owned(), "emb".to_owned()),
            ],
        );
        let vars = Variables::from(&env);
        assert_eq!(vars.get("CHAT_MODEL"), Some("from-env"));
        assert_eq!(vars.get("EMBEDDING_MODEL"), Some("emb"));
        assert_eq!(vars.get("EMPTY"), Some(""));
    }
}
