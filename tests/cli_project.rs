//! End to end, issue 10: where the local project is found, what `get` shows and exports, and
//! how `destroy` is narrowed and what it says. The real binary against the embedded emulator.

mod common;

use std::path::Path;

use common::Project;
use predicates::prelude::*;
use predicates::str::contains;

const MANIFESTS: &str = r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  instructions: You are helpful.
  tools:
    - type: memory_search
      memory_store_name: prefs
      scope: "{{$userId}}"
"#;

fn run(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    common::foundryctl(dir).args(args).assert()
}

/// Issue 10.2: read-only commands run where there is no project create none; `apply` creates
/// it in the working directory; from a subdirectory every command finds it, as git finds
/// `.git`, and the target line names it absolutely.
#[test]
fn the_local_project_is_found_from_a_subdirectory_and_reads_create_nothing() {
    let project = Project::new();
    let root = project.path().canonicalize().unwrap();
    project.write("manifests/m.yaml", MANIFESTS);
    let sub = root.join("manifests");
    let store_args = ["--store", "prefs", "--scope", "u"];
    let reads: [&[&str]; 8] = [
        &["get"],
        &["plan", "-f", "manifests"],
        &["validate", "-f", "manifests"],
        &[
            "memory",
            "search",
            store_args[0],
            store_args[1],
            store_args[2],
            store_args[3],
            "q",
        ],
        &[
            "memory",
            "list",
            store_args[0],
            store_args[1],
            store_args[2],
            store_args[3],
        ],
        &["agent", "invoke", "buddy", "hello"],
        &["destroy", "--auto-approve"],
        &[
            "memory",
            "forget",
            store_args[0],
            store_args[1],
            store_args[2],
            store_args[3],
            "--yes",
        ],
    ];
    for args in reads {
        let out = common::foundryctl(&root).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if args[0] != "validate" {
            assert!(
                stderr
                    .contains("target: local emulator (.foundryctl/local, not created yet: empty)"),
                "{args:?}: {stderr}"
            );
        }
        assert!(
            !root.join(".foundryctl").exists(),
            "{args:?} created the project"
        );
    }
    run(&root, &["get"])
        .success()
        .stdout(contains("prefs").not());

    run(&root, &["apply", "-f", "manifests", "--auto-approve"])
        .success()
        .stderr(contains("target: local emulator (.foundryctl/local)\n"));
    assert!(root.join(".foundryctl/local/emulator.db").is_file());

    let found = format!(
        "target: local emulator ({})\n",
        root.join(".foundryctl/local").display()
    );
    run(&sub, &["get"])
        .success()
        .stdout(contains("prefs").and(contains("buddy")))
        .stderr(contains(found.as_str()));
    run(&sub, &["plan", "-f", ".", "--detailed-exitcode"])
        .code(0)
        .stdout(contains("No changes."));
    // A writing command in the subdirectory also uses the project found.
    run(&sub, &["apply", "-f", ".", "--auto-approve"])
        .success()
        .stderr(contains(found.as_str()))
        .stdout(contains("No changes."));
    run(&sub, &["--endpoint", "local", "get"])
        .success()
        .stdout(contains("buddy"));
    assert!(!sub.join(".foundryctl").exists());
}
