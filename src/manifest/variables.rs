//! Variables for `${VAR}` interpolation: the process environment merged with a `.env` file.
//! Built at the edge (the command layer reads the environment and the file) and passed in, so
//! validation itself stays pure.

use std::collections::HashMap;

/// The values `${VAR}` may expand to. The environment wins over `.env`, as in Docker Compose
/// and the seed tutorial's `load_dotenv()` default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables(HashMap<String, String>);

/// A `.env` line that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse .env line {line}: {reason}")]
pub struct DotenvError {
    pub line: usize,
    pub reason: &'static str,
}

impl Variables {
    /// Merges `env` (wins) over the `KEY=VALUE` lines of `dotenv` (when there is one).
    pub fn new(
        env: impl IntoIterator<Item = (String, String)>,
        dotenv: Option<&str>,
    ) -> Result<Self, DotenvError> {
        let mut map = match dotenv {
            Some(text) => parse_dotenv(text)?,
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

/// The `.env` dialect of python-dotenv, narrowed to what manifests need: `KEY=VALUE`, an
/// optional `export ` prefix, `#` comments, blank lines, and single- or double-quoted values
/// (double quotes understand `\n`, `\"` and `\\`). Unquoted values end at ` #`.
pub fn parse_dotenv(text: &str) -> Result<HashMap<String, String>, DotenvError> {
    let mut map = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            return Err(DotenvError {
                line: line_no,
                reason: "expected KEY=VALUE",
            });
        };
        let key = key.trim();
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            return Err(DotenvError {
                line: line_no,
                reason: "variable names are letters, digits and underscores",
            });
        }
        let value = parse_value(value.trim()).ok_or(DotenvError {
            line: line_no,
            reason: "unterminated quoted value",
        })?;
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

fn parse_value(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix('\'') {
        return rest.find('\'').map(|end| rest[..end].to_owned());
    }
    if let Some(rest) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    other => out.push(other),
                },
                other => out.push(other),
            }
        }
        return None;
    }
    let value = value.split(" #").next().unwrap_or_default();
    Some(value.trim_end().to_owned())
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

    #[test]
    fn dotenv_understands_quotes_comments_and_export() {
        let map = parse_dotenv(
            "# comment\n\nexport A=1\nB='x # y'\nC=\"line\\nnext\"\nD=plain # trailing\nE=\n",
        )
        .unwrap();
        assert_eq!(map["A"], "1");
        assert_eq!(map["B"], "x # y");
        assert_eq!(map["C"], "line\nnext");
        assert_eq!(map["D"], "plain");
        assert_eq!(map["E"], "");
    }

    #[test]
    fn malformed_dotenv_lines_are_located() {
        assert_eq!(parse_dotenv("A=1\nnot a pair\n").unwrap_err().line, 2);
        assert_eq!(parse_dotenv("A=\"open\n").unwrap_err().line, 1);
        assert_eq!(parse_dotenv("1A=x\n").unwrap_err().line, 1);
    }
}
