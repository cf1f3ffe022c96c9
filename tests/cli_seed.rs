//! End to end: memory seeds, `apply --replace` and `memory export`, the real binary against
//! the emulator (issue 12, points 3, 4 and 6).
//!
//! The in-process emulator lets a test play the users, writing memories of their own with the
//! client behind foundryctl's back.

mod common;

use std::collections::BTreeSet;

use common::Project;
use common::live::Live;
use foundry_emulator::FaultConfig;
use foundryctl::foundry::MemoryKind;
use foundryctl::model::MemoryStoreName;
use predicates::prelude::*;
use predicates::str::contains;

const STORE: &str = r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
"#;

const SEED: &str = r#"---
apiVersion: foundryctl/v1
kind: MemorySeed
metadata: {name: demo-users}
spec:
  memory_store_name: prefs
  EXCLUSIVE
  scopes:
    user_dana:
      - {kind: user_profile, content: "Works mostly in Python; prefers short, code-first answers."}
      - {kind: chat_summary, content: "Asked how to   read a CSV file."}
    user_lee:
      - {kind: user_profile, content: "Writes Rust on Linux."}
"#;

fn manifests(exclusive: bool) -> String {
    let exclusive = if exclusive { "exclusive: true" } else { "" };
    format!("{STORE}{}", SEED.replace("EXCLUSIVE", exclusive))
}

fn prefs() -> MemoryStoreName {
    MemoryStoreName::new("prefs").unwrap()
}

/// The memories of a scope as (kind, content), sorted.
fn memories(live: &Live, scope: &str) -> BTreeSet<(String, String)> {
    live.block_on(live.client.list_items(&prefs(), scope))
        .unwrap()
        .into_iter()
        .map(|i| (i.kind.as_str().to_owned(), i.content))
        .collect()
}

fn users_own(live: &Live, scope: &str, content: &str) {
    live.block_on(
        live.client
            .create_item(&prefs(), scope, content, &MemoryKind::UserProfile),
    )
    .unwrap();
}

/// The id of the memory of `scope` that says `content`.
fn memory_id(live: &Live, scope: &str, content: &str) -> String {
    live.block_on(live.client.list_items(&prefs(), scope))
        .unwrap()
        .into_iter()
        .find(|i| i.content == content)
        .unwrap_or_else(|| panic!("no memory {content:?} in {scope}"))
        .memory_id
}

fn pair(kind: &str, content: &str) -> (String, String) {
    (kind.to_owned(), content.to_owned())
}

fn apply(live: &Live, file: &str, extra: &[&str]) {
    live.cmd()
        .args(["apply", "--auto-approve", "-f", file])
        .args(extra)
        .assert()
        .code(0);
}

#[test]
fn seeds_are_written_after_their_store_then_plan_shows_no_changes() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(false));
    live.cmd()
        .args(["plan", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("+ memory_seed/demo-users will write the missing memories"))
        .stdout(contains(
            "+ user_dana.user_profile: \"Works mostly in Python; prefers short, code-first answers.\"",
        ))
        .stdout(contains("Plan: 2 to add"));
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("memory_seed/demo-users: wrote 3 memories"));
    assert_eq!(
        memories(&live, "user_dana"),
        BTreeSet::from([
            pair(
                "user_profile",
                "Works mostly in Python; prefers short, code-first answers."
            ),
            pair("chat_summary", "Asked how to   read a CSV file."),
        ])
    );
    assert_eq!(
        memories(&live, "user_lee"),
        BTreeSet::from([pair("user_profile", "Writes Rust on Linux.")])
    );
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("No changes."));
}

#[test]
fn undeclared_memories_are_left_in_place_and_listed_by_every_renderer() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(false));
    apply(&live, &file, &[]);
    users_own(&live, "user_dana", "Drinks tea.");
    users_own(&live, "user_kim", "Not a seeded scope.");
    // A memory taken out of the manifest stays, and is listed.
    let fewer = live.write(&manifests(false).replace(
        "      - {kind: chat_summary, content: \"Asked how to   read a CSV file.\"}\n",
        "",
    ));
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &fewer])
        .assert()
        .code(0)
        .stdout(contains("No changes."))
        .stdout(contains("left in place"))
        .stdout(contains(
            "memory_seed/demo-users user_dana.chat_summary: \"Asked how to   read a CSV file.\"",
        ))
        .stdout(contains(
            "memory_seed/demo-users user_dana.user_profile: \"Drinks tea.\"",
        ))
        .stdout(contains("Not a seeded scope").not());
    let json = live
        .cmd()
        .args(["plan", "-o", "json", "-f", &fewer])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let plan: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let left = plan["memories_left_in_place"].as_array().unwrap();
    assert_eq!(left.len(), 2, "{plan:#}");
    assert_eq!(left[0]["seed"], "memory_seed/demo-users");
    live.cmd()
        .args(["plan", "-o", "markdown", "-f", &fewer])
        .assert()
        .code(0)
        .stdout(contains("`user_dana.user_profile`: Drinks tea."));
    apply(&live, &fewer, &[]);
    assert_eq!(memories(&live, "user_dana").len(), 3);
    assert_eq!(memories(&live, "user_kim").len(), 1);
}

#[test]
fn an_exclusive_seed_deletes_undeclared_memories_only_when_allowed() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(true));
    apply(&live, &file, &[]);
    users_own(&live, "user_dana", "Drinks tea.");
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(4)
        .stdout(contains("- user_dana.user_profile: \"Drinks tea.\""))
        .stdout(contains(
            "would lose: 1 memory in scope user_dana of memory_store/prefs",
        ))
        .stderr(contains("--allow-delete memory_seed/demo-users"));
    assert_eq!(
        memories(&live, "user_dana").len(),
        3,
        "blocked: nothing deleted"
    );
    apply(&live, &file, &["--allow-delete", "memory_seed/demo-users"]);
    assert_eq!(memories(&live, "user_dana").len(), 2);
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0);
}

#[test]
fn replace_resets_a_store_and_writes_its_seeds_again() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(false));
    apply(&live, &file, &[]);
    users_own(&live, "user_dana", "Drinks tea.");
    users_own(&live, "user_kim", "Somebody else.");
    live.cmd()
        .args([
            "plan",
            "--replace",
            "memory_store/prefs",
            "--detailed-exitcode",
            "-f",
            &file,
        ])
        .assert()
        .code(2)
        .stdout(contains("-/+ memory_store/prefs must be replaced"))
        .stdout(contains("every memory in it, for every scope, is deleted"))
        .stdout(contains(
            "memory_seed/demo-users will write the missing memories",
        ));
    live.cmd()
        .args(["plan", "--replace", "memory_store/prfs", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("No changes."))
        .stderr(contains(
            "warning: --replace memory_store/prfs has no effect",
        ));
    // No --allow-replace: naming the store with --replace is the permission.
    apply(&live, &file, &["--replace", "memory_store/prefs"]);
    assert_eq!(memories(&live, "user_dana").len(), 2);
    assert!(memories(&live, "user_kim").is_empty());
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0);
}

/// A reset saved for review (`plan --replace --out`) is carried out when it is applied with
/// the permission given again, and only then says "already applied": the store it replaces
/// looks the same as the one it makes, but it is not the one the plan read.
#[test]
fn a_saved_reset_runs_when_applied_and_is_then_already_applied() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(false));
    apply(&live, &file, &[]);
    users_own(&live, "user_kim", "Somebody else.");
    live.cmd()
        .args([
            "plan",
            "--replace",
            "memory_store/prefs",
            "--out",
            "reset.json",
            "-f",
            &file,
        ])
        .assert()
        .code(0);
    live.cmd()
        .args(["apply", "reset.json"])
        .assert()
        .code(4)
        .stdout(contains("[BLOCKED]"));
    assert_eq!(memories(&live, "user_kim").len(), 1, "nothing reset yet");
    live.cmd()
        .args([
            "apply",
            "reset.json",
            "--allow-replace",
            "memory_store/prefs",
        ])
        .assert()
        .code(0)
        .stdout(contains("Apply complete"));
    assert!(
        memories(&live, "user_kim").is_empty(),
        "the store was reset"
    );
    assert_eq!(memories(&live, "user_dana").len(), 2, "and seeded again");
    live.cmd()
        .args([
            "apply",
            "reset.json",
            "--allow-replace",
            "memory_store/prefs",
        ])
        .assert()
        .code(0)
        .stdout(contains("was already applied"));
}

#[test]
fn a_saved_seed_plan_is_refused_when_its_scopes_changed() {
    let live = Live::start(FaultConfig::default());
    live.write(STORE);
    let store_only = live.write(STORE);
    apply(&live, &store_only, &[]);
    let file = live.write(&manifests(false));
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(0);
    // A saved plan is applied as it was made: --replace cannot change it.
    live.cmd()
        .args(["apply", "plan.json", "--replace", "memory_store/prefs"])
        .assert()
        .code(1)
        .stderr(contains("cannot be used with"));
    users_own(&live, "user_lee", "Writes Rust on Linux.");
    live.cmd()
        .args(["apply", "--auto-approve", "plan.json"])
        .assert()
        .code(6)
        .stdout(contains(
            "the memories of its scopes in memory_store/prefs differ",
        ));
    assert!(memories(&live, "user_dana").is_empty(), "nothing written");
}

/// A saved plan with seeds, applied a second time, finds its memories written: "already
/// applied", exit 0, not a refusal because the store it created now exists.
#[test]
fn a_saved_seed_plan_applied_twice_says_it_was_already_applied() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(true));
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(0);
    live.cmd().args(["apply", "plan.json"]).assert().code(0);
    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(0)
        .stdout(contains("was already applied"));
    assert_eq!(memories(&live, "user_dana").len(), 2);
}

/// An exclusive seed's deletes in a saved plan need `--allow-delete` again when it is applied,
/// whatever the file says (it is not trusted to say what it may delete): the flag given to
/// `plan` does not carry over, a delete the plan does not show is refused as an edit, and with
/// the flag only the memories the plan shows are deleted.
#[test]
fn a_saved_seed_plan_must_be_allowed_to_delete_again_at_apply_time() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(true));
    apply(&live, &file, &[]);
    users_own(&live, "user_dana", "Uses Emacs.");
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .args(["--allow-delete", "memory_seed/demo-users"])
        .assert()
        .code(0);
    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(4)
        .stdout(contains("[BLOCKED]"))
        .stdout(contains("must be allowed again when it is applied"))
        .stderr(contains("--allow-delete memory_seed/demo-users"));
    assert!(
        memories(&live, "user_dana").contains(&pair("user_profile", "Uses Emacs.")),
        "nothing deleted without the flag"
    );
    live.cmd()
        .args([
            "apply",
            "plan.json",
            "--allow-delete",
            "memory_seed/demo-users",
        ])
        .assert()
        .code(0)
        .stdout(contains("deleted 1 memory"));
    assert!(!memories(&live, "user_dana").contains(&pair("user_profile", "Uses Emacs.")));

    // Not exclusive: the plan writes a new memory and leaves the user's in place; an edit that
    // adds a delete the plan does not show is refused as an edit, even where a disposable store
    // would let it through.
    let kim =
        "    user_kim:\n      - {kind: user_profile, content: \"Likes Go.\"}\n    user_lee:\n";
    let file = live.write(&manifests(false).replace("    user_lee:\n", kim));
    users_own(&live, "user_dana", "Uses Vim.");
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(0);
    let path = live.project.path().join("plan.json");
    let id = memory_id(&live, "user_dana", "Uses Vim.");
    common::edit_saved_action(&path, "memory_seed/demo-users", |action| {
        action["op"]["delete"] = serde_json::json!([{
            "scope": "user_dana", "memory_id": id, "kind": "user_profile", "content": "Uses Vim."
        }]);
        action["kind"] = serde_json::json!("update");
    });
    live.cmd()
        .args([
            "apply",
            "plan.json",
            "--allow-delete",
            "memory_seed/demo-users",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "writes or deletes other memories than the plan shows",
        ));
    assert!(memories(&live, "user_dana").contains(&pair("user_profile", "Uses Vim.")));

    // With the flag, a delete the plan shows still goes only to that memory: an id edited to
    // point at the memory of a scope the seed does not declare (shown as Dana's) is refused
    // before anything is written.
    let file = live.write(&manifests(true).replace("    user_lee:\n", kim));
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .args(["--allow-delete", "memory_seed/demo-users"])
        .assert()
        .code(0);
    users_own(&live, "user_zed", "Secret of Zed.");
    let zed = memory_id(&live, "user_zed", "Secret of Zed.");
    common::edit_saved_action(&path, "memory_seed/demo-users", |action| {
        action["op"]["delete"][0]["memory_id"] = serde_json::json!(zed);
    });
    live.cmd()
        .args([
            "apply",
            "plan.json",
            "--allow-delete",
            "memory_seed/demo-users",
        ])
        .assert()
        .code(6)
        .stdout(contains(
            "is not the user_profile memory \"Uses Vim.\" of scope user_dana",
        ));
    assert!(memories(&live, "user_zed").contains(&pair("user_profile", "Secret of Zed.")));
    assert!(memories(&live, "user_dana").contains(&pair("user_profile", "Uses Vim.")));
    assert!(memories(&live, "user_kim").is_empty(), "nothing written");
}

#[test]
fn memory_export_round_trips_through_destroy_and_apply() {
    let live = Live::start(FaultConfig::default());
    let store_file = live.project.write("store/store.yaml", STORE);
    let store_file = store_file.to_str().unwrap();
    apply(&live, store_file, &[]);
    users_own(&live, "user_dana", "Prefers dark themes.");
    live.block_on(live.client.create_item(
        &prefs(),
        "user_dana",
        "Talked about  pandas.",
        &MemoryKind::ChatSummary,
    ))
    .unwrap();
    users_own(&live, "user_lee", "Uses Vim.");
    let before = (memories(&live, "user_dana"), memories(&live, "user_lee"));

    live.cmd()
        .args([
            "memory",
            "export",
            "--store",
            "prefs",
            "--scope",
            "user_dana",
            "--scope",
            "user_lee",
            "--out",
            "store/backup.yaml",
        ])
        .assert()
        .code(0)
        .stderr(contains(
            "exported 3 memories of 2 scopes as memory_seed/prefs-memories",
        ));
    let exported = std::fs::read_to_string(live.project.path().join("store/backup.yaml")).unwrap();
    assert!(exported.contains("kind: MemorySeed"), "{exported}");

    live.cmd()
        .args([
            "destroy",
            "--auto-approve",
            "--allow-delete",
            "memory_store/prefs",
            "-f",
            store_file,
        ])
        .assert()
        .code(0);
    assert!(live.store_names().is_empty());

    let dir = live.project.path().join("store");
    live.cmd()
        .args(["apply", "--auto-approve", "-f", dir.to_str().unwrap()])
        .assert()
        .code(0)
        .stdout(contains("memory_seed/prefs-memories: wrote 3 memories"));
    assert_eq!(
        (memories(&live, "user_dana"), memories(&live, "user_lee")),
        before
    );
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", dir.to_str().unwrap()])
        .assert()
        .code(0);
}

#[test]
fn get_points_from_seeds_to_the_manifests_and_memory_export() {
    let project = Project::new();
    project
        .cmd()
        .args(["get", "memory_seed/demo-users", "-o", "yaml"])
        .assert()
        .code(1)
        .stderr(contains("memory seeds exist only in the manifests"))
        .stderr(contains("pass -f with the manifests that declare them"))
        .stderr(contains(
            "foundryctl memory export --store STORE --scope SCOPE",
        ));
    let file = project.write("m.yaml", &manifests(false));
    project
        .cmd()
        .args(["get", "agent", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains("-f is for `get memory_seed`"));
}

/// `get memory_seed -f`: each declared scope as it stands (declared memories present, others
/// beside them), and `-o yaml` the seed as its scopes are now, which applies back to the same
/// memories after a reset.
#[test]
fn get_shows_a_seed_as_it_is_live_and_its_yaml_restores_it() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&manifests(false));
    live.cmd()
        .args(["get", "memory_seed", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains(
            "demo-users  prefs  user_dana  store absent: 0 of 2 declared present",
        ));
    apply(&live, &file, &[]);
    users_own(&live, "user_dana", "Prefers dark mode.");
    live.cmd()
        .args(["get", "memory_seed", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains(
            "demo-users  prefs  user_dana  2 of 2 declared present, 1 not declared",
        ))
        .stdout(contains(
            "demo-users  prefs  user_lee   1 of 1 declared present",
        ));
    live.cmd()
        .args(["get", "memory_seed/demo-users", "-f", &file, "-o", "json"])
        .assert()
        .code(0)
        .stdout(contains("\"other\": 1"))
        .stdout(contains("\"store_exists\": true"));
    let out = live
        .cmd()
        .args(["get", "memory_seed/demo-users", "-f", &file, "-o", "yaml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let snapshot = String::from_utf8(out.stdout).unwrap();
    assert!(snapshot.contains("Prefers dark mode."), "{snapshot}");
    let before = memories(&live, "user_dana");
    // Reset the store (the users' own memory is gone), then apply the snapshot: all back.
    apply(&live, &file, &["--replace", "memory_store/prefs"]);
    assert!(!memories(&live, "user_dana").contains(&pair("user_profile", "Prefers dark mode.")));
    let restore = live.project.write("snapshot.yaml", &snapshot);
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file, "-f"])
        .arg(&restore)
        .assert()
        .code(3)
        .stderr(contains("demo-users"));
    // The snapshot has the seed's own name: it replaces the seed in the manifests, not adds to it.
    let store_only = live.project.write("store.yaml", STORE);
    live.cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&store_only)
        .arg("-f")
        .arg(&restore)
        .assert()
        .code(0);
    assert_eq!(memories(&live, "user_dana"), before);
}

#[test]
fn seeds_refuse_the_preview_api_version() {
    let project = Project::new();
    let file = project.write("m.yaml", &manifests(false));
    project
        .cmd()
        .args(["--api-version", "2025-11-15-preview", "plan", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains(
            "memory seeds use the memory item operations, which exist only on api-version v1",
        ));
}

#[test]
fn seed_validation_reports_unknown_stores_empty_content_and_duplicates() {
    let project = Project::new();
    let file = project.write(
        "m.yaml",
        r#"apiVersion: foundryctl/v1
kind: MemorySeed
metadata: {name: bad}
spec:
  memory_store_name: nowhere
  scopes:
    user_dana:
      - {kind: user_profile, content: "Likes tea."}
      - {kind: user_profile, content: " Likes   tea. "}
      - {kind: chat_summary, content: "   "}
      - {kind: opinion, content: "x"}
"#,
    );
    common::foundryctl(project.path())
        .args(["validate", "-f"])
        .arg(&file)
        .assert()
        .code(3)
        .stderr(contains(
            "memory seed `bad` seeds memory store `nowhere`, which the manifests do not declare",
        ))
        .stderr(contains("m.yaml:5:22"))
        .stderr(contains(
            "scope `user_dana` declares this user_profile memory twice",
        ))
        .stderr(contains("a memory of scope `user_dana` has empty content"))
        .stderr(contains("unknown memory kind `opinion`"));
}

/// Two applies of one set once wrote every seeded memory twice, both exiting 0 (each read the
/// scope as missing, then both wrote). A seed now looks again after its writes: a memory it
/// wrote that someone else also wrote meanwhile is deleted again, and the run says so (exit 6),
/// so no duplicate survives and the next plan shows the truth.
#[test]
fn a_memory_written_concurrently_with_a_seed_is_not_left_twice() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(STORE);
    apply(&live, &file, &[]);
    let file = live.write(&manifests(false));
    // Latency holds foundryctl's memory writes in flight; the other writer goes around it.
    live.emulator.set_faults(FaultConfig {
        latency: std::time::Duration::from_millis(400),
        ..FaultConfig::default()
    });
    let before = live
        .emulator
        .stats()
        .by_method
        .get("POST")
        .copied()
        .unwrap_or(0);
    let child = live.spawn(&["apply", "--auto-approve", "-f", &file]);
    // The plan reads the two scopes (a POST items:list each), then the seed sends its three
    // creates together: once all five have arrived, the creates are held by the latency.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while live
        .emulator
        .stats()
        .by_method
        .get("POST")
        .copied()
        .unwrap_or(0)
        < before + 5
    {
        assert!(std::time::Instant::now() < deadline, "no write arrived");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    live.emulator.set_faults(FaultConfig::default());
    users_own(&live, "user_lee", "Writes Rust on Linux.");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "memory_seed/demo-users was written concurrently: 1 memory it wrote was also \
             written by someone else meanwhile; the extra copies were deleted, so each is \
             there once"
        ),
        "{stdout}"
    );
    let lee = live
        .block_on(live.client.list_items(&prefs(), "user_lee"))
        .unwrap();
    assert_eq!(lee.len(), 1, "{lee:?}");
    assert_eq!(memories(&live, "user_dana").len(), 2);
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("No changes."));
}
