//! `.env` files: the one reader both the endpoint (`PROJECT_ENDPOINT`) and manifest
//! interpolation (`${VAR}`) use, so a file means the same thing to both. Parsing is pure; only
//! [`read`] touches the file system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A `.env` line that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct DotenvError {
    pub line: usize,
    pub reason: &'static str,
}

/// The `.env` dialect of python-dotenv, narrowed to what manifests need: `KEY=VALUE`, an
/// optional `export ` prefix, `#` comments, blank lines, and single- or double-quoted values
/// (double quotes understand `\n`, `\"` and `\\`). Unquoted values end at ` #`.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, DotenvError> {
    let mut map = BTreeMap::new();
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

/// The text of `dir/.env`, or `None` when there is no such file.
fn read(dir: &Path) -> Result<Option<String>, ReadError> {
    let path = dir.join(".env");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ReadError::Io { path, error }),
    }
}

/// Reads and parses `dir/.env`; an absent file is an empty map.
pub fn load(dir: &Path) -> Result<BTreeMap<String, String>, ReadError> {
    match read(dir)? {
        Some(text) => parse(&text).map_err(|source| ReadError::Syntax {
            path: dir.join(".env"),
            source,
        }),
        None => Ok(BTreeMap::new()),
    }
}

/// Reads and parses the dotenv file at `path` (`--env-file`); unlike `.env`, it must exist.
pub fn load_file(path: &Path) -> Result<BTreeMap<String, String>, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|error| ReadError::Io {
        path: path.to_owned(),
        error,
    })?;
    parse(&text).map_err(|source| ReadError::Syntax {
        path: path.to_owned(),
        source,
    })
}

/// Why `.env` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The I/O error is part of the message, not also a source: a cause is printed once.
    #[error("read {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a valid .env file", path.display())]
    Syntax {
        path: PathBuf,
        #[source]
        source: DotenvError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_understands_quotes_comments_and_export() {
        let map = parse(
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
        assert_eq!(parse("A=1\nnot a pair\n").unwrap_err().line, 2);
        assert_eq!(parse("A=\"open\n").unwrap_err().line, 1);
        assert_eq!(parse("1A=x\n").unwrap_err().line, 1);
    }
}
