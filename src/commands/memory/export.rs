//! `foundryctl memory export`: the memories of named scopes as a `MemorySeed` document, to
//! review, back up, or restore (or move to another project) with `apply`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;

use super::read::require_items_api;
use super::{lookup, parse_scope};
use crate::commands::output;
use crate::exit::ExitStatus;
use crate::foundry::{Client, convert};
use crate::model::{MemorySeed, MemoryStoreName, SeedName, seed_memories};

/// Options of `memory export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The memory store.
    #[arg(long, value_name = "NAME")]
    pub store: MemoryStoreName,

    /// A scope whose memories to export (the service cannot list scopes, so name each).
    /// Repeatable.
    #[arg(long = "scope", value_name = "SCOPE", value_parser = parse_scope, required = true)]
    pub scopes: Vec<String>,

    /// The seed's name [default: STORE-memories, made a valid seed name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<SeedName>,

    /// Write the document to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub async fn run(client: &Client, args: ExportArgs) -> anyhow::Result<ExitStatus> {
    require_items_api(client, "`memory export`")?;
    let mut scopes = BTreeMap::new();
    let mut duplicates = 0;
    for scope in &args.scopes {
        let items = lookup::on_store(
            client,
            &args.store,
            client.list_items(&args.store, scope).await,
            format!("failed to list the memories of scope {scope}"),
        )
        .await?;
        let items: Vec<_> = items.iter().map(convert::live_memory).collect();
        let (memories, left_out) = seed_memories(&items);
        duplicates += left_out;
        scopes.insert(scope.clone(), memories);
    }
    let empty: Vec<&String> = scopes
        .iter()
        .filter(|(_, m)| m.is_empty())
        .map(|(s, _)| s)
        .collect();
    if !empty.is_empty() {
        let names: Vec<&str> = empty.iter().map(|s| s.as_str()).collect();
        anyhow::bail!(
            "scope {} of memory store `{}` has no memories to export (a seed cannot declare an empty scope)",
            names.join(", "),
            args.store
        );
    }
    let seed = MemorySeed {
        name: match &args.name {
            Some(name) => name.clone(),
            None => default_name(&args.store).context("failed to name the seed; pass --name")?,
        },
        store: args.store.clone(),
        scopes,
        exclusive: false,
    };
    let text = crate::manifest::export_seeds(std::slice::from_ref(&seed))
        .map_err(|e| anyhow::anyhow!("failed to write the seed as YAML: {e}"))?;
    let count: usize = seed.scopes.values().map(Vec::len).sum();
    match &args.out {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("failed to write {}", path.display()))?,
        None => output::print_text(&text).or_else(output::reader_gone)?,
    }
    crate::say!(
        "exported {count} {} of {} {} as memory_seed/{}",
        if count == 1 { "memory" } else { "memories" },
        seed.scopes.len(),
        if seed.scopes.len() == 1 {
            "scope"
        } else {
            "scopes"
        },
        seed.name
    );
    if duplicates > 0 {
        crate::say!(
            "left out {duplicates} repeated or empty {} (a seed declares each memory once)",
            if duplicates == 1 {
                "memory"
            } else {
                "memories"
            }
        );
    }
    Ok(ExitStatus::Success)
}

/// `STORE-memories`, with the characters a seed name cannot hold as `-`, at most 63 long.
fn default_name(store: &MemoryStoreName) -> Result<SeedName, crate::model::NameError> {
    let mut name: String = store
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(SeedName::MAX_LEN - "-memories".len())
        .collect();
    name.push_str("-memories");
    SeedName::new(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_valid_seed_names() {
        let store = MemoryStoreName::new("dev prefs".replace(' ', "é")).unwrap();
        assert_eq!(default_name(&store).unwrap().as_str(), "dev-prefs-memories");
        let long = MemoryStoreName::new("x".repeat(200)).unwrap();
        assert_eq!(default_name(&long).unwrap().as_str().len(), 63);
    }
}
