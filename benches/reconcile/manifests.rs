//! The generated project: N agents and N/10 memory stores, one file per store with the ten
//! agents whose memory tool names it, so every agent depends on a store (two dependency
//! levels, as in real projects) and a 10% instructions edit touches one agent per file.

use std::fmt::Write as _;
use std::path::Path;

/// Agents per store, and per file; also the edit stride (every tenth agent is edited).
pub const AGENTS_PER_STORE: usize = 10;

/// The store count for `n` agents (at least one, so N = 10 still has a dependency level).
pub fn store_count(n: usize) -> usize {
    n.div_ceil(AGENTS_PER_STORE).max(1)
}

/// Whether agent `i` is one of the 10% whose instructions the "edit" manifests change.
pub fn is_edited(i: usize) -> bool {
    i.is_multiple_of(AGENTS_PER_STORE)
}

/// Writes the manifests for `n` agents into `dir`; `edited` adds a line to the instructions of
/// every tenth agent.
pub fn write(dir: &Path, n: usize, edited: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for s in 0..store_count(n) {
        let agents = (s * AGENTS_PER_STORE)..((s + 1) * AGENTS_PER_STORE).min(n);
        std::fs::write(
            dir.join(format!("team-{s:04}.yaml")),
            file_text(s, agents, edited),
        )?;
    }
    Ok(())
}

fn file_text(store: usize, agents: std::ops::Range<usize>, edited: bool) -> String {
    let mut text = format!(
        "apiVersion: foundryctl/v1
kind: MemoryStore
metadata:
  name: bench-store-{store:04}
  labels: {{team: bench}}
spec:
  description: Memories of team {store}.
  chat_model: gpt-4.1-mini
  embedding_model: text-embedding-3-large
  options:
    user_profile_enabled: true
    user_profile_details: Preferred languages, tools, OS, and answer style.
    chat_summary_enabled: true
"
    );
    for i in agents {
        let extra = if edited && is_edited(i) {
            "    Edited: answer in one sentence.\n"
        } else {
            ""
        };
        let _ = write!(
            text,
            "---
apiVersion: foundryctl/v1
kind: Agent
metadata:
  name: bench-agent-{i:05}
  labels: {{team: bench}}
spec:
  description: Benchmark agent {i}.
  model: gpt-4.1-mini
  temperature: 0.3
  instructions: |
    You are a developer's assistant number {i}. Always call the memory tool before answering.
    Keep answers short.
{extra}  tools:
    - type: memory_search
      memory_store_name: bench-store-{store:04}
      scope: \"{{{{$userId}}}}\"
      update_delay: 1
"
        );
    }
    text
}
