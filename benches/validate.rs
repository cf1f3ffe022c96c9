//! Validating 1,000 resources across 100 files (issue 3: under 200 ms in a release build).
//!
//! Generates 100 files of 5 stores and 5 agents each (with labels, interpolation and memory
//! tools) in a temporary directory, then times `read_inputs` + `validate_files` over several runs
//! and prints the median and the slowest. Exits non-zero if the median exceeds the budget.
//! Run: `cargo bench --bench validate`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use foundryctl::manifest::{self, Variables};

const FILES: usize = 100;
const STORES_PER_FILE: usize = 5;
const AGENTS_PER_FILE: usize = 5;
const RUNS: usize = 15;
const BUDGET: Duration = Duration::from_millis(200);

fn file_text(file: usize) -> String {
    let mut text =
        String::from("# yaml-language-server: $schema=../schemas/manifest.schema.json\n");
    for i in 0..STORES_PER_FILE {
        let _ = write!(
            text,
            "---
apiVersion: foundryctl/v1
kind: MemoryStore
metadata:
  name: store-{file}-{i}
  labels: {{team: devex, file: \"{file}\"}}
spec:
  description: Store {i} of file {file}.
  chat_model: ${{CHAT_MODEL:-gpt-4.1-mini}}
  embedding_model: ${{EMBEDDING_MODEL:-text-embedding-3-large}}
  options:
    user_profile_enabled: true
    user_profile_details: Preferred languages, tools, OS, and answer style.
    chat_summary_enabled: true
"
        );
    }
    for i in 0..AGENTS_PER_FILE {
        let _ = write!(
            text,
            "---
apiVersion: foundryctl/v1
kind: Agent
metadata:
  name: agent-{file}-{i}
  labels: {{team: devex}}
spec:
  description: Agent {i} of file {file}.
  model: ${{CHAT_MODEL:-gpt-4.1-mini}}
  temperature: 0.3
  instructions: |
    You are a developer's assistant. Always call the memory tool before answering.
    Keep answers short.
  tools:
    - type: memory_search
      memory_store_name: store-{file}-{i}
      scope: \"{{{{$userId}}}}\"
      update_delay: 1
"
        );
    }
    text
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for file in 0..FILES {
        std::fs::write(dir.path().join(format!("m{file:03}.yaml")), file_text(file))
            .expect("write manifest");
    }
    let vars = Variables::from_pairs([("CHAT_MODEL", "gpt-4o")]);
    let paths = [dir.path().to_path_buf()];
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let files = manifest::read_inputs(&paths).expect("read manifests");
        // As the commands do: with the look for `for_each: {file: …}` lists first.
        let validated = manifest::validate_files(&files, &vars).expect("valid manifests");
        times.push(started.elapsed());
        assert_eq!(
            validated.resource_count(),
            FILES * (STORES_PER_FILE + AGENTS_PER_FILE)
        );
        assert_eq!(validated.file_count, FILES);
    }
    times.sort();
    let median = times[RUNS / 2];
    let worst = times[RUNS - 1];
    println!(
        "validate: {} resources in {FILES} files: median {:.1} ms, best {:.1} ms, worst {:.1} ms ({RUNS} runs; budget {} ms)",
        FILES * (STORES_PER_FILE + AGENTS_PER_FILE),
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        BUDGET.as_millis()
    );
    if median > BUDGET {
        eprintln!("error: median {median:?} exceeds the {BUDGET:?} budget");
        std::process::exit(1);
    }
}
