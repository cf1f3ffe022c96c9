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

    // The apply that creates the project says so.
    run(&root, &["apply", "-f", "manifests", "--auto-approve"])
        .success()
        .stderr(contains(
            "target: local emulator (.foundryctl/local, created now: empty)\n",
        ));
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

fn set_manifests(set: &str) -> String {
    format!(
        r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {{name: {set}-store, labels: {{team: {set}, tier: gold}}}}
spec:
  description: "Costs $$5, not ${{PRICE}}."
  chat_model: gpt-4.1-mini
  embedding_model: text-embedding-3-large
  options: {{user_profile_enabled: true, chat_summary_enabled: false}}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {{name: {set}-agent, labels: {{team: {set}}}}}
spec:
  model: gpt-4.1-mini
  instructions: |
    Help team {set}.
    Second line.
  tools:
    - type: memory_search
      memory_store_name: {set}-store
      scope: "{{{{$userId}}}}"
      update_delay: 1
"#
    )
}

/// Issue 10.3: `get` filters by set and by label, hides unmanaged resources unless asked, and
/// an export of one set, taken in a project holding three sets and a foreign resource, plans
/// back to no changes for that set.
#[test]
fn get_filters_by_set_and_label_and_one_sets_export_plans_to_no_changes() {
    let live = common::live::Live::start(foundry_emulator::FaultConfig::default());
    let foreign = foundryctl::model::MemoryStoreName::new("foreign").unwrap();
    let spec = foundryctl::model::MemoryStoreSpec {
        chat_model: "gpt-4.1-mini".to_owned(),
        embedding_model: "text-embedding-3-large".to_owned(),
        ..Default::default()
    };
    live.block_on(
        live.client
            .create_store(&foreign, &spec, &std::collections::BTreeMap::new()),
    )
    .unwrap();
    for set in ["red", "green", "blue"] {
        let file = live
            .project
            .write(&format!("{set}.yaml"), &set_manifests(set));
        live.cmd()
            .args([
                "apply",
                "--var",
                "PRICE=9",
                "--auto-approve",
                "--set",
                set,
                "-f",
            ])
            .arg(&file)
            .assert()
            .success();
    }

    let get = |args: &[&str]| {
        let out = live.cmd().arg("get").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (all, stderr) = get(&[]);
    assert!(
        all.contains("red-store") && all.contains("blue-agent"),
        "{all}"
    );
    assert!(!all.contains("foreign"), "{all}");
    assert!(
        stderr.contains("note: 1 unmanaged resource is not shown; --include-unmanaged shows it"),
        "{stderr}"
    );
    assert!(get(&["--include-unmanaged"]).0.contains("foreign"));
    assert!(get(&["memory_store/foreign"]).0.contains("foreign"));

    let (green, _) = get(&["--set", "green"]);
    assert!(
        green.contains("green-store") && green.contains("green-agent"),
        "{green}"
    );
    assert!(
        !green.contains("red-") && !green.contains("blue-"),
        "{green}"
    );
    // Before the command too, as every --set.
    let out = live.cmd().args(["--set", "green", "get"]).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), green);

    let (labelled, _) = get(&["-l", "team=blue"]);
    assert!(
        labelled.contains("blue-store") && labelled.contains("blue-agent"),
        "{labelled}"
    );
    assert!(!labelled.contains("red-"), "{labelled}");
    let (both, _) = get(&["-l", "team=red", "-l", "tier=gold"]);
    assert!(
        both.contains("red-store") && !both.contains("red-agent"),
        "{both}"
    );

    let (export, _) = get(&["--set", "green", "-o", "yaml"]);
    assert!(
        export.starts_with("# yaml-language-server: $schema="),
        "{export}"
    );
    assert!(
        !export.contains("red-") && !export.contains("foreign"),
        "{export}"
    );
    let exported = live.project.write("exported.yaml", &export);
    live.cmd()
        .args(["plan", "--set", "green", "--detailed-exitcode", "-f"])
        .arg(&exported)
        .assert()
        .code(0)
        .stdout(contains("No changes."));
}

/// Issue 10.5: `destroy --target` deletes only what it names (not the store a named agent
/// uses), a target the project lacks is an error, and destroy speaks of destroying.
#[test]
fn destroy_is_narrowed_by_target_and_speaks_of_destroying() {
    let project = Project::new();
    let file = project.write("m.yaml", MANIFESTS);
    let file = file.to_str().unwrap();
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f", file])
        .assert()
        .success();
    project
        .cmd()
        .args([
            "destroy",
            "--auto-approve",
            "--target",
            "agent/buddy",
            "-f",
            file,
        ])
        .assert()
        .success()
        .stdout(contains("Destroy complete: 1 deleted, 0 failed"))
        .stdout(contains("Apply").not());
    project
        .cmd()
        .arg("get")
        .assert()
        .success()
        .stdout(contains("prefs").and(contains("buddy").not()));
    project
        .cmd()
        .args(["destroy", "--auto-approve", "--target", "agent/nope"])
        .assert()
        .code(1)
        .stderr(contains(
            "--target agent/nope matches no resource in the project",
        ));
    // The README's example: the rest of the set, its protected store named.
    project
        .cmd()
        .args([
            "destroy",
            "--auto-approve",
            "--allow-delete",
            "memory_store/prefs",
        ])
        .assert()
        .success()
        .stdout(contains("Destroy complete: 1 deleted"));
    project
        .cmd()
        .args(["destroy", "--auto-approve"])
        .assert()
        .success()
        .stdout(contains("Nothing to destroy in set `default`."))
        .stdout(contains("No changes").not().and(contains("Apply").not()));
}

/// Issue 10.10: applying a saved plan a second time says in one sentence that it was already
/// applied, and succeeds; nothing is refused and nothing is "in flight".
#[test]
fn a_saved_plan_applied_twice_says_it_was_already_applied() {
    let project = Project::new();
    let file = project.write("m.yaml", MANIFESTS);
    project
        .cmd()
        .args(["plan", "--out", "plan.json", "-f"])
        .arg(&file)
        .assert()
        .success();
    project
        .cmd()
        .args(["apply", "plan.json"])
        .assert()
        .success()
        .stdout(contains("Apply complete: 2 done"));
    project
        .cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(0)
        .stdout(
            "The plan in plan.json was already applied: the project holds everything it makes, \
             so there is nothing to do.\n",
        )
        .stderr(contains("in flight").not().and(contains("refus").not()));
    // A change made since is not mistaken for that: the plan is stale, as before.
    project
        .cmd()
        .args(["destroy", "--auto-approve", "--target", "agent/buddy"])
        .assert()
        .success();
    project
        .cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(6)
        .stdout(contains("Apply refused (the project changed)"));
}

/// A command that fails after opening the local project still closes its database: nothing is
/// left beside `emulator.db` for someone copying the project to miss.
#[test]
fn a_failed_command_leaves_the_local_database_closed() {
    let project = Project::new();
    let file = project.write("m.yaml", MANIFESTS);
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .success();
    let bad = project.write(
        "bad.yaml",
        "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: bad}\nspec: {model: no-such-model}\n",
    );
    // `Project::cmd` names the project's directory with `--endpoint local:DIR`.
    let local = project.path().join("project");
    for _ in 0..3 {
        project
            .cmd()
            .args(["plan", "-f"])
            .arg(&bad)
            .assert()
            .code(3)
            .stderr(contains("no-such-model"));
        let beside: Vec<_> = std::fs::read_dir(&local)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(beside, ["emulator.db"], "after a failed plan");
    }
}

/// `apply FILE` with a plan made for another endpoint is refused before the local project is
/// made: nothing is left behind for later commands to find. With a plan made for the local
/// project that does not exist yet, the project is made and the plan applied.
#[test]
fn a_saved_plan_for_another_endpoint_leaves_no_local_project_behind() {
    let live = common::live::Live::start(foundry_emulator::FaultConfig::default());
    let file = live.project.write("m.yaml", MANIFESTS);
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    let elsewhere = Project::new();
    std::fs::copy(
        live.project.path().join("plan.json"),
        elsewhere.path().join("plan.json"),
    )
    .unwrap();
    run(elsewhere.path(), &["apply", "plan.json"])
        .code(1)
        .stderr(contains("was made for http://127.0.0.1:"))
        .stderr(contains("created now").not());
    assert!(
        !elsewhere.path().join(".foundryctl").exists(),
        "no local project was made"
    );

    let fresh = Project::new();
    let file = fresh.write("m.yaml", MANIFESTS);
    run(
        fresh.path(),
        &["plan", "--out", "plan.json", "-f", file.to_str().unwrap()],
    )
    .code(0);
    assert!(
        !fresh.path().join(".foundryctl").exists(),
        "plan makes none"
    );
    run(fresh.path(), &["apply", "plan.json"])
        .code(0)
        .stderr(contains("created now: empty"))
        .stderr(contains("not created yet").not())
        .stdout(contains("Apply complete: 2 done"));
}

/// A saved plan is applied as it was made: the flags that would change what manifests say
/// (`--var`, `--env-file`) are refused with it, like `-f`, instead of being ignored.
#[test]
fn variables_cannot_be_given_with_a_saved_plan() {
    let project = Project::new();
    for flags in [["--var", "MODEL=gpt-4o"], ["--env-file", "other.env"]] {
        run(project.path(), &["apply", "plan.json", flags[0], flags[1]])
            .code(1)
            .stderr(contains("cannot be used with"));
    }
}

/// A plan file of another format is refused by its version, before anything else is read from
/// it (format 1 lacked the fingerprint of an agent's latest version).
#[test]
fn a_saved_plan_of_an_older_format_is_refused_by_its_version() {
    let project = Project::new();
    let file = project.write("m.yaml", MANIFESTS);
    run(
        project.path(),
        &["apply", "--auto-approve", "-f", file.to_str().unwrap()],
    )
    .code(0);
    let edited = project.write(
        "m.yaml",
        &MANIFESTS.replace("You are helpful.", "You are terse."),
    );
    run(
        project.path(),
        &["plan", "--out", "plan.json", "-f", edited.to_str().unwrap()],
    )
    .code(0);
    let path = project.path().join("plan.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 2);
    saved["format_version"] = serde_json::json!(1);
    for action in saved["plan"]["actions"].as_array_mut().unwrap() {
        if let Some(precondition) = action["precondition"].as_object_mut() {
            precondition.remove("fingerprint");
        }
    }
    std::fs::write(&path, serde_json::to_string(&saved).unwrap()).unwrap();
    run(project.path(), &["apply", "plan.json"])
        .code(1)
        .stderr(contains("has format version 1, this foundryctl reads 2"))
        .stderr(contains("make the plan again with this foundryctl"));
}
