//! `memory add --file conversation.yaml`: the turns to remember, read from YAML.
//!
//! Two shapes, so one file can seed one user or a whole workshop:
//!
//! ```yaml
//! # a list of turns, for the scope given with --scope
//! - {role: user, text: I prefer dark roast coffee.}
//! - {role: assistant, text: Noted.}
//! ```
//!
//! ```yaml
//! # turns grouped by scope (no --scope)
//! user_dana:
//!   - {role: user, text: I write Rust on Linux.}
//! user_sam:
//!   - {role: user, text: I am learning Go.}
//! ```
//!
//! `${VAR}` is not expanded: conversations are data, not configuration.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::foundry::{Message, Role};
use crate::manifest::yaml;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Turn {
    role: TurnRole,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TurnRole {
    User,
    Assistant,
}

/// The two shapes a conversation file may have.
#[derive(Debug)]
enum File {
    Turns(Vec<Turn>),
    Scopes(BTreeMap<String, Vec<Turn>>),
}

impl File {
    /// Reads either shape. When neither fits, the error is the one of the shape that got
    /// further into the text: it names the actual problem (an unknown role, a misspelt key)
    /// where "matches neither shape" would not.
    fn parse(text: &str) -> Result<Option<File>, yaml::YamlError> {
        let list = match yaml::from_document::<Vec<Turn>>(text) {
            Ok(turns) => return Ok(turns.map(File::Turns)),
            Err(e) => e,
        };
        let map = match yaml::from_document::<BTreeMap<String, Vec<Turn>>>(text) {
            Ok(scopes) => return Ok(scopes.map(File::Scopes)),
            Err(e) => e,
        };
        let reach = |e: &yaml::YamlError| e.pos.map(|p| (p.line, p.column));
        Err(if reach(&map) > reach(&list) {
            map
        } else {
            list
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConversationError {
    #[error("read {path}: {message}")]
    Shape { path: String, message: String },
    #[error("read {path}: the file holds no turns")]
    Empty { path: String },
    #[error("read {path}: turn {turn} of scope `{scope}` has no text")]
    EmptyText {
        path: String,
        scope: String,
        turn: usize,
    },
    #[error("read {path}: a list of turns needs --scope to say whose memories they are")]
    NeedsScope { path: String },
    #[error("read {path}: the file groups turns by scope, so --scope {scope} is ambiguous")]
    ScopeGiven { path: String, scope: String },
    #[error("read {path}: scope `{scope}` has no turns")]
    EmptyScope { path: String, scope: String },
}

impl ConversationError {
    /// What to do about it; `main` prints it after the error chain.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ConversationError::Shape { .. } => Some(HINT),
            ConversationError::ScopeGiven { .. } => {
                Some("drop --scope, or write the file as a plain list of turns")
            }
            ConversationError::Empty { .. }
            | ConversationError::EmptyText { .. }
            | ConversationError::NeedsScope { .. }
            | ConversationError::EmptyScope { .. } => None,
        }
    }
}

const HINT: &str = "expected a list of {role: user|assistant, text: ...} turns, or a map from scope to such a list";

/// Parses `text` (read from `path`, named in errors) into `(scope, turns)` pairs, in file
/// order for a list and scope order for a map.
pub fn parse(
    path: &str,
    text: &str,
    scope: Option<&str>,
) -> Result<Vec<(String, Vec<Message>)>, ConversationError> {
    let file = File::parse(text).map_err(|e| ConversationError::Shape {
        path: match e.pos {
            Some(pos) => format!("{path}:{}:{}", pos.line, pos.column),
            None => path.to_owned(),
        },
        message: e.message,
    })?;
    let empty = || ConversationError::Empty {
        path: path.to_owned(),
    };
    let batches = match (file.ok_or_else(empty)?, scope) {
        (File::Turns(turns), Some(scope)) => {
            if turns.is_empty() {
                return Err(empty());
            }
            Ok(vec![(scope.to_owned(), messages(turns))])
        }
        (File::Turns(_), None) => Err(ConversationError::NeedsScope {
            path: path.to_owned(),
        }),
        (File::Scopes(_), Some(scope)) => Err(ConversationError::ScopeGiven {
            path: path.to_owned(),
            scope: scope.to_owned(),
        }),
        (File::Scopes(scopes), None) => {
            if scopes.is_empty() {
                return Err(empty());
            }
            scopes
                .into_iter()
                .map(|(scope, turns)| {
                    if turns.is_empty() {
                        Err(ConversationError::EmptyScope {
                            path: path.to_owned(),
                            scope,
                        })
                    } else {
                        Ok((scope, messages(turns)))
                    }
                })
                .collect()
        }
    }?;
    for (scope, turns) in &batches {
        if let Some(i) = turns.iter().position(|t| t.text.trim().is_empty()) {
            return Err(ConversationError::EmptyText {
                path: path.to_owned(),
                scope: scope.clone(),
                turn: i + 1,
            });
        }
    }
    Ok(batches)
}

fn messages(turns: Vec<Turn>) -> Vec<Message> {
    turns
        .into_iter()
        .map(|t| Message {
            role: match t.role {
                TurnRole::User => Role::User,
                TurnRole::Assistant => Role::Assistant,
            },
            text: t.text,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_turns_belongs_to_the_scope_flag() {
        let got = parse(
            "c.yaml",
            "- {role: user, text: I prefer dark roast.}\n- role: assistant\n  text: Noted.\n",
            Some("user_dana"),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![(
                "user_dana".to_owned(),
                vec![
                    Message::user("I prefer dark roast."),
                    Message::assistant("Noted.")
                ]
            )]
        );
    }

    #[test]
    fn turns_grouped_by_scope_give_one_update_each() {
        let got = parse(
            "c.yaml",
            "user_sam:\n  - {role: user, text: I am learning Go.}\nuser_dana:\n  - {role: user, text: I write Rust.}\n",
            None,
        )
        .unwrap();
        let scopes: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(scopes, ["user_dana", "user_sam"]);
        assert_eq!(got[1].1, vec![Message::user("I am learning Go.")]);
    }

    #[test]
    fn scope_flag_and_file_must_agree() {
        let list = "- {role: user, text: hi}\n";
        assert!(matches!(
            parse("c.yaml", list, None),
            Err(ConversationError::NeedsScope { .. })
        ));
        let map = "u:\n  - {role: user, text: hi}\n";
        let e = parse("c.yaml", map, Some("u")).unwrap_err();
        assert!(e.to_string().contains("--scope u is ambiguous"), "{e}");
        assert!(matches!(
            parse("c.yaml", "u: []\n", None),
            Err(ConversationError::EmptyScope { .. })
        ));
        assert!(matches!(
            parse("c.yaml", "", Some("u")),
            Err(ConversationError::Empty { .. })
        ));
    }

    #[test]
    fn a_wrong_shape_says_what_is_wrong_where_and_what_is_expected() {
        let e = parse(
            "c.yaml",
            "- {role: user, text: hi}\n- {role: system, text: x}\n",
            Some("u"),
        )
        .unwrap_err();
        assert!(
            e.hint()
                .is_some_and(|h| h.starts_with("expected a list of {role: user|assistant")),
            "{e}"
        );
        let e = e.to_string();
        assert!(
            e.starts_with("read c.yaml:2:10: unknown variant `system`"),
            "{e}"
        );
        // In the map shape too: the error is that of the shape the file is written in.
        let e = parse("c.yaml", "u:\n  - {role: user, txt: hi}\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("read c.yaml:2:18: unknown field `txt`"),
            "{e}"
        );
    }

    #[test]
    fn a_turn_without_text_is_refused() {
        let e = parse(
            "c.yaml",
            "- {role: user, text: hi}\n- {role: user, text: '  '}\n",
            Some("u"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "read c.yaml: turn 2 of scope `u` has no text");
    }
}
