//! The README's "Running a workshop" section, run as an instructor runs it: each line of its
//! `sh` blocks by `sh -c`, in order, in an empty directory holding a copy of the repository's
//! manifests, against the embedded local project, with the built foundryctl first on PATH.
//! Each step's outcome is checked, so the section cannot drift from the tool.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

mod common;

use common::copy_dir;
use common::readme::section_commands;

const WORKSHOP: &str = "## Running a workshop";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What each step must show, in README order: the start of its command line, and the check.
/// The README may reword its prose freely, but a changed command list fails here until this
/// table changes with it.
type Check = fn(&Output, &Path);

fn steps() -> Vec<(&'static str, Check)> {
    vec![
        ("foundryctl validate -f manifests/workshop", |o, _| {
            assert!(
                stdout(o).contains("83 resources in 3 files are valid"),
                "{}",
                stdout(o)
            );
        }),
        (
            "foundryctl plan --set workshop -f manifests/workshop",
            |o, _| {
                let out = stdout(o);
                assert!(out.contains("Plan: 83 to add, 0 to change"), "{out}");
                // One summary line per for_each template: 20 attendees each.
                for template in [
                    "for_each manifests/workshop/agents.yaml:9: 20 copies",
                    "for_each manifests/workshop/stores.yaml:10: 20 copies",
                    "for_each manifests/workshop/seeds.yaml:12: 20 copies",
                    "for_each manifests/workshop/seeds.yaml:28: 20 copies",
                ] {
                    assert!(out.contains(template), "{template} missing:\n{out}");
                }
                // The shared store gets one scope per attendee.
                assert!(
                    out.contains("+ att20.chat_summary: \"att20 installed the Azure CLI"),
                    "{out}"
                );
            },
        ),
        (
            "foundryctl apply --set workshop -f manifests/workshop --auto-approve",
            |o, _| {
                assert!(
                    stdout(o).contains("Apply complete: 83 done, 0 failed"),
                    "{}",
                    stdout(o)
                );
            },
        ),
        ("foundryctl check -f manifests/workshop", |o, _| {
            let out = stdout(o);
            assert!(
                out.contains("22 probes of 22 agents: 22 passed, 0 failed"),
                "{out}"
            );
            assert!(out.contains("agent/att07-tutor\n  PASS"), "{out}");
            assert!(
                out.contains("- att01 installed the Azure CLI and signed in"),
                "{out}"
            );
        }),
        (
            "foundryctl agent invoke att01-tutor \"Which language",
            |o, _| {
                let out = stdout(o);
                assert!(out.contains("att01-tutor (version 1)"), "{out}");
                assert!(out.contains("Writes Python on Linux"), "{out}");
            },
        ),
        (
            "foundryctl agent invoke att01-tutor \"I write Rust at work.\"",
            |o, _| {
                assert!(
                    stdout(o).contains("att01-tutor (version 1)"),
                    "{}",
                    stdout(o)
                );
            },
        ),
        ("sleep 2", |_, _| {}),
        (
            "foundryctl memory export --store att01-memory --scope att01",
            |_, dir| {
                // What the attendee taught (the tutor writes each turn at once: update_delay 0).
                let backup = std::fs::read_to_string(dir.join("att01-backup.yaml")).unwrap();
                assert!(backup.contains("kind: MemorySeed"), "{backup}");
                assert!(backup.contains("I write Rust at work."), "{backup}");
            },
        ),
        (
            "foundryctl apply --set workshop -f manifests/workshop --replace 'memory_store/att*-memory'",
            |o, _| {
                let out = stdout(o);
                // 20 stores replaced, then each one's demo seed written again; nothing else.
                assert!(
                    out.contains("Plan: 20 to add, 0 to change, 20 to replace, 0 to destroy."),
                    "{out}"
                );
                assert!(
                    out.contains("allowed by: --replace memory_store/att13-memory"),
                    "{out}"
                );
                assert!(out.contains("Apply complete: 40 done, 0 failed"), "{out}");
            },
        ),
        (
            "foundryctl memory list --store att01-memory --scope att01",
            |o, _| {
                // The reset wiped what att01 taught (the count goes to stderr).
                assert_eq!(stdout(o), "");
                assert!(
                    stderr(o).contains("0 memories in scope att01"),
                    "{}",
                    stderr(o)
                );
            },
        ),
        (
            "foundryctl memory list --store att01-memory --scope demo_user",
            |o, _| {
                // ...and wrote the demo user's seeded memories again.
                let out = stdout(o);
                assert_eq!(out.lines().count(), 2, "{out}");
                assert!(out.contains("Uses VS Code and is new to Azure."), "{out}");
                assert!(out.contains("Writes Python on Linux"), "{out}");
            },
        ),
        (
            "foundryctl apply --set workshop -f manifests/workshop -f att01-backup.yaml",
            |o, _| {
                // The backup, applied beside the store it seeds, writes att01's memories back.
                let out = stdout(o);
                assert!(
                    out.contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."),
                    "{out}"
                );
                assert!(
                    out.contains("memory_seed/att01-memory-memories: wrote 2 memories"),
                    "{out}"
                );
            },
        ),
        ("echo att21 >> manifests/workshop/attendees.txt", |_, _| {}),
        (
            "foundryctl apply --set workshop -f manifests/workshop --auto-approve",
            |o, _| {
                let out = stdout(o);
                // att21's store, tutor, demo seed and support seed; everyone else left alone.
                assert!(
                    out.contains("Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy."),
                    "{out}"
                );
                assert!(out.contains("memory_seed/att21-support"), "{out}");
            },
        ),
        (
            "foundryctl destroy --set workshop -f manifests/workshop --auto-approve",
            |o, _| {
                assert!(
                    stdout(o).contains("Destroy complete: 45 deleted, 0 failed"),
                    "{}",
                    stdout(o)
                );
            },
        ),
    ]
}

/// `sh -c LINE` in `dir`, with the built foundryctl first on PATH and the same isolated
/// environment as [`common::foundryctl`].
fn sh(dir: &Path, line: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_foundryctl"))
        .parent()
        .unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    assert_cmd::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("PROJECT_ENDPOINT")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .env_remove("CHAT_MODEL")
        .env_remove("EMBEDDING_MODEL")
        .env_remove("WORKSHOP_EVENT")
        .env_remove("TUTOR_MODEL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .write_stdin("")
        .timeout(Duration::from_secs(120))
        .output()
        .expect("sh runs")
}

#[test]
fn the_readme_workshop_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = section_commands(&readme, WORKSHOP);
    let steps = steps();
    assert_eq!(
        commands.len(),
        steps.len(),
        "the workshop section's commands and this test's steps differ:\n{commands:#?}"
    );
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root.join("manifests"), &dir.path().join("manifests"));
    // The README's set-up comes first: its resources are in the set `default`, and the
    // workshop (its own set) must neither list nor destroy them.
    let setup = sh(
        dir.path(),
        "foundryctl apply -f manifests/seed --endpoint local --auto-approve",
    );
    assert!(setup.status.success(), "{}", stderr(&setup));

    for (line, (expected, check)) in commands.iter().zip(&steps) {
        assert!(
            line.starts_with(expected),
            "README step `{line}` is not the expected `{expected}…`"
        );
        let out = sh(dir.path(), line);
        assert!(
            out.status.success(),
            "`{line}` exited {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        // Every command that reaches a project says which one first (`validate` reaches none).
        if line.starts_with("foundryctl") && !line.starts_with("foundryctl validate") {
            assert!(
                stderr(&out).starts_with("target: local emulator (.foundryctl/local"),
                "`{line}`: {}",
                stderr(&out)
            );
        }
        check(&out, dir.path());
        assert!(
            !stdout(&out).contains("dev-buddy"),
            "`{line}` shows the set-up's resources:\n{}",
            stdout(&out)
        );
    }
    let left = sh(dir.path(), "foundryctl get");
    assert!(
        stdout(&left).contains("dev-buddy") && stdout(&left).contains("dev-prefs-memory"),
        "the workshop's destroy deleted the set-up's resources:\n{}",
        stdout(&left)
    );
}

/// `--replace` with `*` names every declared store it matches; one that matches none is an
/// error before anything is read or written (a reset that resets nothing is a typo), and a
/// pattern whose fixed parts cannot be in a name is refused as the flag's value.
#[test]
fn a_replace_pattern_must_match_a_declared_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root.join("manifests"), &dir.path().join("manifests"));
    let plan = |pattern: &str| {
        sh(
            dir.path(),
            &format!("foundryctl plan -f manifests/workshop --replace '{pattern}'"),
        )
    };
    let out = plan("memory_store/nobody-*");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "error: --replace memory_store/nobody-* matches no memory store the manifests declare"
        ),
        "{}",
        stderr(&out)
    );
    // Only stores are replaced on request: a pattern of another kind says so, rather than
    // that it matches no store.
    for pattern in ["agent/att*-tutor", "memory_seed/*"] {
        let out = plan(pattern);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "error: --replace {pattern} names no memory store: only memory stores can be replaced on request"
            )),
            "{pattern}: {}",
            stderr(&out)
        );
    }
    let out = plan("memory_store/att 0*");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid value 'memory_store/att 0*' for '--replace"),
        "{}",
        stderr(&out)
    );
    // Against the empty project nothing can be replaced yet: the plan creates the stores a
    // pattern matched, and says so once for the pattern, not once for each of its stores.
    let out = plan("memory_store/att*-memory");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: --replace memory_store/att*-memory has no effect on 20 of the stores it \
             matches: this plan creates them, or --target leaves them out"
        ]
    );
}
