//! Variables for `${VAR}` interpolation: `--var KEY=VALUE` over the command's environment
//! snapshot (the process environment merged with `.env` or `--env-file`, see [`Env`]), taken
//! at the edge and passed in, so validation itself stays pure.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::env::Env;

/// The flags of every command that reads manifests. Precedence: `--var`, then the process
/// environment, then `--env-file` (or `.env` without it).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VariableArgs {
    /// Set `${KEY}` in the manifests; wins over the environment and env files. Repeatable.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// Read `${VAR}` values from this dotenv file instead of ./.env (the environment and
    /// `--var` win over it).
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

impl VariableArgs {
    /// The variables for `${…}`: `--var` over `env`, or, with `--env-file`, over the process
    /// environment merged with that file instead of `.env`. Reads the file: call at the edge.
    pub fn resolve(&self, env: &Env) -> Result<Variables, crate::dotenv::ReadError> {
        Ok(match &self.env_file {
            Some(path) => Variables::layered(&Env::load_file(path)?, &self.vars),
            None => Variables::layered(env, &self.vars),
        })
    }
}

/// `KEY=VALUE`, with the name rule of `${KEY}` (letters, digits, `_`, not starting with a
/// digit); the value may be empty and may hold `=`.
fn parse_var(text: &str) -> Result<(String, String), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("expected KEY=VALUE, got `{text}`"));
    };
    let valid = key
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if key.is_empty() || !valid {
        return Err(format!(
            "`{key}` is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

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

    /// `env`'s variables with `overrides` (`--var`, in order: the last of a name wins) over them.
    pub fn layered(env: &Env, overrides: &[(String, String)]) -> Self {
        let mut vars = Self::from(env);
        for (key, value) in overrides {
            vars.0.insert(key.clone(), value.clone());
        }
        vars
    }

    /// These variables and one more (`each` of a `for_each` copy).
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut vars = self.clone();
        vars.0.insert(name.to_owned(), value.to_owned());
        vars
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

    #[test]
    fn var_flags_win_over_the_environment_which_wins_over_the_env_file() {
        let env = Env::merge(
            [
                ("A".to_owned(), "env".to_owned()),
                ("B".to_owned(), "env".to_owned()),
            ],
            [
                ("A".to_owned(), "file".to_owned()),
                ("B".to_owned(), "file".to_owned()),
                ("C".to_owned(), "file".to_owned()),
            ],
        );
        let overrides = [
            ("A".to_owned(), "first".to_owned()),
            ("A".to_owned(), "var".to_owned()),
        ];
        let vars = Variables::layered(&env, &overrides);
        assert_eq!(
            (vars.get("A"), vars.get("B"), vars.get("C")),
            (Some("var"), Some("env"), Some("file"))
        );
    }

    #[test]
    fn var_flags_are_key_equals_value_with_a_variable_name() {
        assert_eq!(
            parse_var("URL=a=b"),
            Ok(("URL".to_owned(), "a=b".to_owned()))
        );
        assert_eq!(parse_var("E="), Ok(("E".to_owned(), String::new())));
        assert!(parse_var("NOVALUE").is_err());
        assert!(parse_var("1X=v").is_err());
        assert!(parse_var("A-B=v").is_err());
    }
}
