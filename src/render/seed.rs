//! `get memory_seed`: each seed the manifests declare, scope by scope, as it stands in the
//! project (a seed has no resource of its own: its live state is its scopes' memories).

use serde_json::{Value, json};

use super::escape::visible;
use crate::model::{MemorySeed, ScopeStatus};

/// One declared seed and how its scopes stand.
pub struct SeedView<'a> {
    pub seed: &'a MemorySeed,
    /// Whether its store exists; when it does not, every scope counts as empty.
    pub store_exists: bool,
    pub scopes: Vec<ScopeStatus>,
}

/// A table for people: one row per declared scope.
pub fn table(views: &[SeedView<'_>]) -> String {
    let mut rows: Vec<[String; 4]> = vec![[
        "SEED".to_owned(),
        "STORE".to_owned(),
        "SCOPE".to_owned(),
        "MEMORIES".to_owned(),
    ]];
    for view in views {
        for scope in &view.scopes {
            let memories = if view.store_exists {
                let mut text = format!("{} of {} declared present", scope.present, scope.declared);
                if scope.other > 0 {
                    text.push_str(&format!(", {} not declared", scope.other));
                }
                text
            } else {
                format!("store absent: 0 of {} declared present", scope.declared)
            };
            rows.push([
                view.seed.name.to_string(),
                view.seed.store.to_string(),
                visible(&scope.scope).into_owned(),
                memories,
            ]);
        }
    }
    super::columns(&rows)
}

/// `get memory_seed -o json` (docs/get-json.md): `{"seeds": [...]}`.
pub fn json(views: &[SeedView<'_>]) -> Value {
    let seeds: Vec<Value> = views
        .iter()
        .map(|view| {
            json!({
                "name": view.seed.name.as_str(),
                "store": view.seed.store.as_str(),
                "store_exists": view.store_exists,
                "exclusive": view.seed.exclusive,
                "scopes": view.scopes,
            })
        })
        .collect();
    json!({ "seeds": seeds })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{MemoryStoreName, SeedMemory, SeedName};

    #[test]
    fn each_declared_scope_is_a_row_and_hostile_scope_names_are_escaped() {
        let seed = MemorySeed {
            name: SeedName::new("demo").unwrap(),
            store: MemoryStoreName::new("prefs").unwrap(),
            scopes: BTreeMap::from([(
                "dana\u{1b}[8m".to_owned(),
                vec![SeedMemory {
                    kind: "user_profile".into(),
                    content: "x".into(),
                }],
            )]),
            exclusive: false,
        };
        let status = ScopeStatus {
            scope: "dana\u{1b}[8m".into(),
            declared: 2,
            present: 1,
            other: 3,
        };
        let present = [SeedView {
            seed: &seed,
            store_exists: true,
            scopes: vec![status.clone()],
        }];
        assert_eq!(
            table(&present),
            "SEED  STORE  SCOPE          MEMORIES\n\
             demo  prefs  dana\\u{1b}[8m  1 of 2 declared present, 3 not declared\n"
        );
        let absent = [SeedView {
            seed: &seed,
            store_exists: false,
            scopes: vec![status],
        }];
        assert!(table(&absent).contains("store absent: 0 of 2 declared present"));
        assert_eq!(json(&absent)["seeds"][0]["scopes"][0]["other"], 3);
        assert_eq!(json(&absent)["seeds"][0]["store_exists"], false);
    }
}
