//! End to end: the real binary against the emulator. Plan and apply from empty, idempotence on
//! both api-versions, agent versions, protection, prune, drift, conflicts and import, saved
//! plans, faults, confirmation off a terminal, export, and one test per exit code.
//!
//! Most tests run an in-process emulator (so the test can change the project behind
//! foundryctl's back with the client, or inject faults) and point the binary at its loopback
//! URL; the rest use `--endpoint local:DIR`, the embedded emulator.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::Project;
use common::live::Live;
use foundry_emulator::FaultConfig;
use foundryctl::model::{
    AgentName, AgentSpec, MemorySearchTool, MemoryStoreName, MemoryStoreSpec, Tool,
};
use predicates::prelude::*;
use predicates::str::contains;

const TEMPLATE: &str = r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs, labels: {team: devex}}
spec:
  description: Preferences.
  chat_model: CHAT
  embedding_model: text-embedding-3-large
  options: {user_profile_enabled: true, chat_summary_enabled: true}
---
apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: notes}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  instructions: |
    INSTRUCTIONS
  tools:
    - type: memory_search
      memory_store_name: prefs
      scope: "{{$userId}}"
      search_options: {max_memories: 5}
      update_delay: 1
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: plain}
spec:
  model: gpt-4.1-mini
  instructions: No memory here.
"#;

fn manifests(chat: &str, instructions: &str) -> String {
    TEMPLATE
        .replace("CHAT", chat)
        .replace("INSTRUCTIONS", instructions)
}

fn default_manifests() -> String {
    manifests("gpt-4.1-mini", "You are helpful.")
}

fn store_spec(chat: &str) -> MemoryStoreSpec {
    MemoryStoreSpec {
        chat_model: chat.to_owned(),
        embedding_model: "text-embedding-3-large".to_owned(),
        ..MemoryStoreSpec::default()
    }
}

fn store(name: &str) -> MemoryStoreName {
    MemoryStoreName::new(name).unwrap()
}

// --- convergence ----------------------------------------------------------------------------

#[test]
fn apply_from_empty_then_plan_shows_no_changes_on_both_api_versions() {
    for api in ["v1", "2025-11-15-preview"] {
        let project = Project::new();
        let file = project.write("m.yaml", &default_manifests());
        let file = file.to_str().unwrap();
        project
            .cmd()
            .args([
                "--api-version",
                api,
                "plan",
                "--detailed-exitcode",
                "-f",
                file,
            ])
            .assert()
            .code(2)
            .stdout(contains("Plan: 4 to add, 0 to change"))
            .stderr(contains("target: local emulator ("));
        project
            .cmd()
            .args(["--api-version", api, "apply", "--auto-approve", "-f", file])
            .assert()
            .code(0)
            .stdout(contains("Apply complete: 4 done, 0 failed"));
        // Stores and agents both read back equal to what was declared.
        project
            .cmd()
            .args([
                "--api-version",
                api,
                "plan",
                "--detailed-exitcode",
                "-f",
                file,
            ])
            .assert()
            .code(0)
            .stdout(contains("No changes."));
        project
            .cmd()
            .args(["--api-version", api, "apply", "--auto-approve", "-f", file])
            .assert()
            .code(0)
            .stdout(contains("No changes."))
            .stdout(contains("Apply complete").not());
    }
}

/// A plain-`http` endpoint (the emulator) never makes a TLS connection, so foundryctl does not
/// read the system's certificate store for it: about 10 ms of every command's start-up went to
/// reading 146 files before the first request. With the store unreadable, an `http` endpoint
/// still works, and an `https` one fails before sending anything, naming the cause.
#[test]
fn an_http_endpoint_does_not_read_the_systems_certificate_store() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .env("SSL_CERT_FILE", "/nonexistent/ca.pem")
        .env("SSL_CERT_DIR", "/nonexistent")
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(2)
        .stdout(contains("Plan: 4 to add"));
    let https = live.emulator.endpoint().replacen("http://", "https://", 1);
    common::foundryctl(live.project.path())
        .env("SSL_CERT_FILE", "/nonexistent/ca.pem")
        .env("SSL_CERT_DIR", "/nonexistent")
        .env("FOUNDRY_TOKEN", "test-token")
        .args(["--endpoint", &https, "--auth", "token", "plan", "-f", &file])
        .assert()
        .code(predicate::ne(0))
        .stderr(contains("start the HTTP client"))
        .stderr(contains("No CA certificates were loaded"))
        // Said once, by foundryctl: not also as the TLS stack's own log lines.
        .stderr(contains("WARN").not());
}

#[test]
fn an_instructions_edit_makes_exactly_one_new_agent_version() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    assert_eq!(live.versions("buddy"), ["1"]);

    let file = live.write(&manifests(
        "gpt-4.1-mini",
        "You are very helpful.\n    Always call the memory tool.",
    ));
    live.cmd()
        .args(["plan", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("~ agent/buddy will get a new version"))
        .stdout(contains("-You are helpful."))
        .stdout(contains("+You are very helpful."))
        .stdout(contains("+Always call the memory tool."))
        .stdout(contains(
            "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.",
        ));
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("agent/buddy: created version 2"));
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    assert_eq!(live.versions("buddy"), ["2", "1"]);
    assert_eq!(live.versions("plain"), ["1"]);
}

#[test]
fn a_store_model_change_is_blocked_and_goes_through_with_allow_replace() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    let file = live.write(&manifests("gpt-4.1", "You are helpful."));
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(4)
        .stdout(contains("-/+ memory_store/prefs must be replaced"))
        .stdout(contains("[BLOCKED]"))
        .stdout(contains("--allow-replace memory_store/prefs"))
        .stderr(contains(
            "hint: if losing them is intended, rerun with --allow-replace memory_store/prefs",
        ));
    let before = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    assert_eq!(
        before.spec.chat_model, "gpt-4.1-mini",
        "a blocked plan wrote nothing"
    );
    // A blocked plan is not saved (apply would refuse the file), and not advertised.
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(4)
        .stdout(contains("[BLOCKED]"))
        .stderr(contains(
            "Not saving the plan to plan.json: it has actions blocked by data-loss protection, \
             and apply refuses such a plan; nothing was written.",
        ))
        .stderr(contains("foundryctl apply plan.json").not());
    assert!(!live.project.path().join("plan.json").exists());
    // Nor does it leave an earlier plan there to be applied by mistake.
    let unchanged = live.write(&default_manifests());
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &unchanged])
        .assert()
        .code(0);
    assert!(live.project.path().join("plan.json").exists());
    let file = live.write(&manifests("gpt-4.1", "You are helpful."));
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(4)
        .stderr(contains(
            "; removed the earlier plan there, so it cannot be applied by mistake.",
        ));
    assert!(!live.project.path().join("plan.json").exists());

    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .args(["--allow-replace", "memory_store/prefs"])
        .assert()
        .code(0)
        .stdout(contains(
            "memory_store/prefs: replaced (deleted, then created)",
        ));
    let after = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    assert_eq!(after.spec.chat_model, "gpt-4.1");
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0);
}

#[test]
fn prune_deletes_only_resources_this_set_owns() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    // Someone else's store, and one from another set.
    live.block_on(
        live.client
            .create_store(&store("foreign"), &store_spec("m"), &BTreeMap::new()),
    )
    .unwrap();
    live.cmd()
        .args(["--set", "other", "apply", "--auto-approve", "-f"])
        .arg(live.project.write(
            "other.yaml",
            "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: theirs}\nspec: {chat_model: m, embedding_model: e}\n",
        ))
        .assert()
        .code(0);

    // Drop `notes` and the agent `plain` from the manifests.
    let reduced: String = default_manifests()
        .split("---\n")
        .filter(|d| !d.contains("name: notes") && !d.contains("name: plain"))
        .collect::<Vec<_>>()
        .join("---\n");
    let file = live.write(&reduced);
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("Not in manifests"))
        .stdout(contains("memory_store/notes"));
    assert!(
        live.store_names().contains("notes"),
        "no delete without --prune"
    );

    live.cmd()
        .args(["apply", "--auto-approve", "--prune", "-f", &file])
        .assert()
        .code(4)
        .stdout(contains("--allow-delete memory_store/notes"));
    live.cmd()
        .args(["apply", "--auto-approve", "--prune", "-f", &file])
        .args(["--allow-delete", "memory_store/notes"])
        .assert()
        .code(0)
        .stdout(contains("agent/plain: deleted with all its versions"))
        .stdout(contains("memory_store/notes: deleted"));
    assert_eq!(
        live.store_names(),
        BTreeSet::from([
            "foreign".to_owned(),
            "prefs".to_owned(),
            "theirs".to_owned()
        ])
    );
    assert!(live.versions("plain").is_empty());
}

#[test]
fn a_change_behind_foundryctls_back_shows_as_drift() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    // Edit the store's description directly, keeping its stamps; and publish an unstamped
    // agent version, as the portal would.
    let prefs = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    live.block_on(
        live.client
            .update_store(&store("prefs"), "Edited by hand.", &prefs.metadata),
    )
    .unwrap();
    let spec = AgentSpec {
        model: "gpt-4.1-mini".to_owned(),
        instructions: Some("Edited in the portal.".to_owned()),
        ..AgentSpec::default()
    };
    live.block_on(live.client.create_agent_version(
        &AgentName::new("plain").unwrap(),
        &spec,
        &BTreeMap::new(),
    ))
    .unwrap();

    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(2)
        .stdout(contains(
            "Drift: changed outside foundryctl since the last apply",
        ))
        .stdout(contains("~ memory_store/prefs"))
        .stdout(contains("~ agent/plain"))
        .stdout(contains("Conflicts").not());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0);
}

#[test]
fn an_unmanaged_resource_in_the_way_is_a_conflict_until_imported() {
    let live = Live::start(FaultConfig::default());
    live.block_on(live.client.create_store(
        &store("prefs"),
        &store_spec("gpt-4.1-mini"),
        &BTreeMap::new(),
    ))
    .unwrap();
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(6)
        .stdout(contains(
            "memory_store/prefs exists in the project but is not managed",
        ))
        .stdout(contains(
            "hint: adopt it with `foundryctl import memory_store/prefs -f …`",
        ));
    assert!(
        live.versions("buddy").is_empty(),
        "nothing applied past a conflict"
    );
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(6)
        .stderr(contains(
            "Not saving the plan to plan.json: it has conflicts, and apply refuses such a plan",
        ));
    assert!(!live.project.path().join("plan.json").exists());

    live.cmd()
        .args(["import", "memory_store/prefs", "-f", &file])
        .assert()
        .code(1)
        .stderr(contains("--auto-approve"));
    live.cmd()
        .args([
            "import",
            "memory_store/prefs",
            "--auto-approve",
            "-f",
            &file,
        ])
        .assert()
        .code(0)
        .stdout(contains("~ memory_store/prefs will be imported"))
        .stdout(contains(
            "memory_store/prefs: stamped as managed by foundryctl",
        ));
    let stamped = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    assert_eq!(
        stamped.metadata.get("managed-by").map(String::as_str),
        Some("foundryctl")
    );
    assert_eq!(stamped.spec.description, "", "import keeps the content");

    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("memory_store/prefs: updated in place"));
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0);

    // Importing it again writes nothing, so drift stays drift (a re-stamp would record the
    // portal edit as applied and blame the manifests).
    let managed = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    live.block_on(live.client.update_store(
        &store("prefs"),
        "Edited in the portal.",
        &managed.metadata,
    ))
    .unwrap();
    let edited = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    live.cmd()
        .args(["import", "memory_store/prefs", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains(
            "memory_store/prefs is already managed by set `default`; nothing to import.",
        ))
        .stdout(contains("will be imported").not());
    let after = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    assert_eq!(after.metadata, edited.metadata, "nothing written");
    assert_eq!(after.updated_at, edited.updated_at, "nothing written");
    live.cmd()
        .args(["plan", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("changed outside foundryctl"));
}

// --- saved plans ----------------------------------------------------------------------------

/// Issue 12: `--var` wins over the environment, which wins over `--env-file` (read instead of
/// `.env`), in `validate` and `plan` alike; a saved plan records the variables that were set,
/// never the value of one whose name looks like a credential's.
#[test]
fn var_flags_and_env_files_feed_interpolation_and_saved_plans_name_them() {
    let project = Project::new();
    let file = project.write(
        "m.yaml",
        r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata:
  name: "${ATTENDEE}-memory"
  labels: {event: "${EVENT}", region: "${REGION}", key: "${SERVICE_API_KEY}"}
spec: {chat_model: "${CHAT_MODEL}", embedding_model: text-embedding-3-large}
"#,
    );
    project.write(
        "vars.env",
        "ATTENDEE=from-file\nEVENT=from-file\nREGION=from-file\nSERVICE_API_KEY=hunter2\n",
    );
    project.write(".env", "REGION=from-dotenv\nCHAT_MODEL=from-dotenv\n");
    let file = file.to_str().unwrap();

    // Without the flags, CHAT_MODEL comes from .env but ATTENDEE is set nowhere.
    common::foundryctl(project.path())
        .args(["validate", "-f", file])
        .assert()
        .code(3)
        .stderr(contains("variable `ATTENDEE` is not set"));
    // --env-file stands in for .env, so CHAT_MODEL is now unset until --var sets it.
    common::foundryctl(project.path())
        .args(["validate", "--env-file", "vars.env", "-f", file])
        .assert()
        .code(3)
        .stderr(contains("variable `CHAT_MODEL` is not set"));

    let plan_path = project.path().join("plan.json");
    project
        .cmd()
        .env("EVENT", "from-env")
        .env("ATTENDEE", "from-env")
        .args(["plan", "--env-file", "vars.env", "-f", file])
        .args([
            "--var",
            "ATTENDEE=att01",
            "--var",
            "CHAT_MODEL=gpt-4.1-nano",
            "--out",
        ])
        .arg(&plan_path)
        .assert()
        .code(0);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let action = &saved["plan"]["actions"][0];
    assert_eq!(action["id"], "memory_store/att01-memory", "{action}");
    let text = action.to_string();
    for expected in ["from-env", "from-file", "gpt-4.1-nano"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert!(!text.contains("from-dotenv"), "{text}");
    assert_eq!(
        saved["variables"],
        serde_json::json!([
            "ATTENDEE",
            "CHAT_MODEL",
            "EVENT",
            "REGION",
            "SERVICE_API_KEY"
        ])
    );
}

#[test]
fn a_saved_plan_applies_when_fresh_and_is_refused_when_stale() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    let plan_path = live.project.path().join("plan.json");
    live.cmd()
        .args(["plan", "-f", &file, "--out"])
        .arg(&plan_path)
        .assert()
        .code(0);
    let saved = std::fs::read_to_string(&plan_path).unwrap();
    assert!(saved.contains("\"manifest_digest\": \"sha256:"));
    assert!(!saved.contains("test-token"), "no secrets in plan files");
    // No question: the file is the approval.
    live.cmd().arg("apply").arg(&plan_path).assert().code(0);
    assert_eq!(live.versions("buddy"), ["1"]);

    // A second plan, then someone changes the agent before it is applied.
    let edited = live.write(&manifests("gpt-4.1-mini", "New instructions."));
    live.cmd()
        .args(["plan", "-f", &edited, "--out"])
        .arg(&plan_path)
        .assert()
        .code(0);
    let spec = AgentSpec {
        model: "gpt-4.1-mini".to_owned(),
        ..AgentSpec::default()
    };
    live.block_on(live.client.create_agent_version(
        &AgentName::new("buddy").unwrap(),
        &spec,
        &BTreeMap::new(),
    ))
    .unwrap();
    live.cmd()
        .arg("apply")
        .arg(&plan_path)
        .assert()
        .code(6)
        .stdout(contains(
            "refused     agent/buddy: agent/buddy changed since the plan was made",
        ))
        .stdout(contains(
            "Apply refused (the project changed): 1 refused, 0 done, 0 failed, 0 skipped, 0 not started.",
        ))
        // Off a terminal the report alone lists the action (issue 10: once in a merged log).
        .stderr(contains("agent/buddy: refused").not())
        .stderr(contains("failed").not())
        .stderr(contains("stopping").not())
        .stderr(contains("in flight").not());
    assert_eq!(live.versions("buddy"), ["2", "1"], "nothing written");
    // The JSON report carries the same hint.
    let (doc, _) = json_run(
        live.cmd()
            .args(["apply", "--output", "json"])
            .arg(&plan_path),
        6,
    );
    let hints = doc["hints"].as_array().unwrap();
    assert!(
        hints.len() == 1
            && hints[0]
                .as_str()
                .unwrap()
                .starts_with("the project changed"),
        "{doc:#}"
    );

    // A store edited behind the plan's back: the message shows when, readably.
    let plan_store = live.write(&manifests("gpt-4.1-mini", "New instructions."));
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &plan_store])
        .assert()
        .code(0);
    let store_edit =
        manifests("gpt-4.1-mini", "New instructions.").replace("Preferences.", "Revised.");
    let store_file = live.write(&store_edit);
    live.cmd()
        .args(["plan", "-f", &store_file, "--out"])
        .arg(&plan_path)
        .assert()
        .code(0);
    let prefs = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    live.block_on(live.client.update_store(
        &store("prefs"),
        "Edited in the portal.",
        &prefs.metadata,
    ))
    .unwrap();
    let out = live.cmd().arg("apply").arg(&plan_path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{stdout}");
    let when = stdout
        .split("last updated at ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("{stdout}"));
    // RFC 3339 in UTC, e.g. 2026-12-01T13:36:55Z, not a raw epoch.
    assert_eq!(when.len(), 20, "{when}");
    assert!(when.ends_with('Z') && when.as_bytes()[10] == b'T', "{when}");
}

// --- faults, confirmation, export -----------------------------------------------------------

#[test]
fn apply_under_injected_faults_converges_without_duplicate_versions() {
    let live = Live::start(FaultConfig {
        rate_429: 0.07,
        rate_503: 0.07,
        drop_rate: 0.06,
        retry_after_secs: 0,
        seed: Some(20),
        ..FaultConfig::default()
    });
    let file = live.write(&default_manifests());
    let mut converged = false;
    // Transient faults are retried inside each run; a run the budget could not save is
    // reported as incomplete (5) and the next one picks up. Bounded.
    for _ in 0..4 {
        let out = live
            .cmd()
            .args(["apply", "--auto-approve", "-f", &file])
            .output()
            .unwrap();
        match out.status.code() {
            Some(0) => {
                converged = true;
                break;
            }
            Some(5) => continue,
            other => panic!(
                "unexpected exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    assert!(converged);
    live.emulator.set_faults(FaultConfig::default());
    assert!(live.emulator.stats().injected_errors + live.emulator.stats().dropped > 0);
    assert_eq!(live.versions("buddy"), ["1"]);
    assert_eq!(live.versions("plain"), ["1"]);
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0);
}

/// Issue 12: the workshop example declares a store, a tutor and two seeds per attendee with
/// one `for_each` template each (20 attendees in `attendees.txt`); the plan shows every copy
/// and one line per template, apply creates them all, the next plan is empty, destroy removes
/// all. (`tests/cli_workshop.rs` runs the README's workshop section on the same manifests.)
#[test]
fn the_workshop_example_expands_to_20_attendees_applies_and_is_destroyed() {
    let project = Project::new();
    let workshop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/workshop");
    let out = project
        .cmd()
        .args(["plan", "-f"])
        .arg(&workshop)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for expected in [
        "memory_store/att01-memory will be created",
        "memory_store/att20-memory will be created",
        "agent/att20-tutor will be created",
        "memory_seed/att20-support will write the missing memories",
        "Plan: 83 to add, 0 to change, 0 to replace, 0 to destroy.",
        "stores.yaml:10: 20 copies; 20 to add, 0 to change, 0 to replace, 0 to destroy.",
        "agents.yaml:9: 20 copies; 20 to add, 0 to change, 0 to replace, 0 to destroy.",
        "seeds.yaml:12: 20 copies; 20 to add, 0 to change, 0 to replace, 0 to destroy.",
        "seeds.yaml:28: 20 copies; 20 to add, 0 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in:\n{stdout}");
    }
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&workshop)
        .assert()
        .code(0);
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&workshop)
        .assert()
        .code(0)
        .stdout(contains("No changes"));
    // The stores were stamped disposable by the apply, so destroy needs no flag.
    project
        .cmd()
        .args(["destroy", "--auto-approve", "-f"])
        .arg(&workshop)
        .assert()
        .code(0);
    project
        .cmd()
        .args(["get", "-o", "json"])
        .assert()
        .code(0)
        .stdout(contains("\"items\": []"));
}

#[test]
fn off_a_terminal_apply_and_destroy_never_prompt_or_hang() {
    let project = Project::new();
    let file = project.write("m.yaml", &default_manifests());
    project
        .cmd()
        .arg("apply")
        .arg("-f")
        .arg(&file)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(contains("stdin is not a terminal"))
        .stderr(contains(
            "hint: pass --auto-approve, or save a plan with `foundryctl plan --out plan.json`",
        ));
    project
        .cmd()
        .args(["get", "-o", "json"])
        .assert()
        .code(0)
        .stdout(contains("\"items\": []"));

    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    // Protection applies to destroy too (and is checked before asking anything).
    project
        .cmd()
        .args(["destroy", "--auto-approve"])
        .assert()
        .code(4)
        .stderr(contains("--allow-delete memory_store/"));
    project
        .cmd()
        .arg("destroy")
        .args([
            "--allow-delete",
            "memory_store/prefs",
            "--allow-delete",
            "memory_store/notes",
        ])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(contains("stdin is not a terminal"))
        // destroy takes no saved plan, so the hint must not offer one.
        .stderr(contains("hint: pass --auto-approve\n"));
    project
        .cmd()
        .args(["destroy", "--auto-approve"])
        .args([
            "--allow-delete",
            "memory_store/prefs",
            "--allow-delete",
            "memory_store/notes",
        ])
        .assert()
        .code(0)
        .stdout(contains("Destroy complete: 4 deleted"));
    project
        .cmd()
        .args(["get"])
        .assert()
        .code(0)
        .stdout("KIND  NAME  OWNER  DETAIL\n");
}

/// An agent edited in the portal is kept by `destroy`; the store it references must be kept
/// with it (even with `--allow-delete`), or the agent would point at a deleted store. The
/// plan names the agent and the way out, and everything else is destroyed.
#[test]
fn destroy_keeps_a_store_that_a_kept_agent_still_references() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    // A portal-style version of `buddy`: unstamped, still using `prefs`.
    let spec = AgentSpec {
        model: "gpt-4.1-mini".to_owned(),
        instructions: Some("Edited in the portal.".to_owned()),
        tools: vec![Tool::MemorySearch(MemorySearchTool {
            memory_store_name: store("prefs"),
            scope: "{{$userId}}".to_owned(),
            max_memories: None,
            update_delay: None,
        })],
        ..AgentSpec::default()
    };
    live.block_on(live.client.create_agent_version(
        &AgentName::new("buddy").unwrap(),
        &spec,
        &BTreeMap::new(),
    ))
    .unwrap();

    live.cmd()
        .args(["destroy", "--auto-approve"])
        .args([
            "--allow-delete",
            "memory_store/prefs",
            "--allow-delete",
            "memory_store/notes",
        ])
        .assert()
        .code(0)
        .stdout(contains(
            "memory_store/prefs is not deleted: `agent/buddy`, which this run does not delete",
        ))
        .stdout(contains("agent/buddy is not deleted"))
        .stdout(contains("- memory_store/prefs").not())
        .stdout(contains("Destroy complete: 2 deleted"));
    assert_eq!(live.store_names(), BTreeSet::from(["prefs".to_owned()]));
    assert_eq!(live.versions("buddy").len(), 2);
}

#[test]
fn get_yaml_exports_manifests_that_validate_and_plan_clean() {
    let project = Project::new();
    let file = project.write("m.yaml", &default_manifests());
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    let out = project.cmd().args(["get", "-o", "yaml"]).output().unwrap();
    assert!(out.status.success());
    let exported = String::from_utf8(out.stdout).unwrap();
    assert!(
        !exported.contains("foundryctl-hash"),
        "stamps are not labels"
    );
    let path = project.write("exported/all.yaml", &exported);
    // `validate` talks to no project, so it takes no --endpoint.
    common::foundryctl(project.path())
        .args(["validate", "-f"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(contains("4 resources in 1 file are valid"));
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&path)
        .assert()
        .code(0);
    project
        .cmd()
        .args(["get", "agent/buddy"])
        .assert()
        .code(0)
        .stdout(contains(
            "agent  buddy  set default  version 1, gpt-4.1-mini",
        ));
}

// --- one test per exit code not covered above --------------------------------------------

#[test]
fn exit_3_for_invalid_manifests_and_for_a_store_nobody_has() {
    let project = Project::new();
    let bad = project.write("bad.yaml", "apiVersion: foundryctl/v1\nkind: MemoryStore\n");
    project
        .cmd()
        .args(["plan", "-f"])
        .arg(&bad)
        .assert()
        .code(3);
    let dangling = project.write(
        "dangling.yaml",
        "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: a}\nspec:\n  model: m\n  tools:\n    - {type: memory_search, memory_store_name: nowhere, scope: s}\n",
    );
    project
        .cmd()
        .args(["plan", "-f"])
        .arg(&dangling)
        .assert()
        .code(3)
        .stderr(contains("dangling.yaml:7:"))
        .stderr(contains("nowhere"));
}

#[test]
fn exit_1_for_usage_errors_not_2() {
    let project = Project::new();
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "--no-such-flag"])
        .assert()
        .code(1);
    project
        .cmd()
        .args(["plan", "--target", "nonsense", "-f", "x.yaml"])
        .assert()
        .code(1);
}

#[test]
fn exit_5_when_an_action_fails_and_its_dependents_are_skipped() {
    // Latency makes room for a store to appear between foundryctl's read and its write.
    let live = Live::start(FaultConfig {
        latency: Duration::from_millis(400),
        ..FaultConfig::default()
    });
    let file = live.write(&default_manifests());
    let child = live.spawn(&["apply", "--auto-approve", "-f", &file]);
    // Wait until foundryctl's first writes (the two stores and `plain`, which depends on
    // nothing: sent together, after its reads were answered) have all arrived and are held by
    // the latency, then create a different `prefs` at once, with the latency off for this
    // request: it lands between foundryctl's read and its write. `buddy` waits for `prefs`, so
    // no other write can be among the three. (Waiting for two let `plain` and `notes` count
    // while `prefs` was still on its way, and it then arrived with the latency off; racing a
    // create against the list reads depended on which 400 ms sleep ended first.)
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while live
        .emulator
        .stats()
        .by_method
        .get("POST")
        .copied()
        .unwrap_or(0)
        < 3
    {
        assert!(std::time::Instant::now() < deadline, "no write arrived");
        std::thread::sleep(Duration::from_millis(2));
    }
    live.emulator.set_faults(FaultConfig::default());
    live.block_on(live.client.create_store(
        &store("prefs"),
        &store_spec("other-model"),
        &BTreeMap::new(),
    ))
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("failed      memory_store/prefs:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped     agent/buddy: depends on memory_store/prefs"),
        "{stdout}"
    );
    assert!(
        stdout.contains("done        memory_store/notes: created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("done        agent/plain: created version 1"),
        "{stdout}"
    );
    assert!(stdout.contains("Apply incomplete: 2 done, 1 failed, 1 skipped, 0 not started."));
    assert!(live.versions("buddy").is_empty());
}

#[test]
fn the_readme_set_up_command_works_from_a_fresh_clone() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = Project::new();
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(root.join("manifests/seed"))
        .assert()
        .code(0)
        .stdout(contains("agent/dev-buddy: created version 1"));
}

// --- --output json ---------------------------------------------------------------------------

/// Runs `cmd`, checks the exit code, and parses stdout as exactly one JSON document.
fn json_run(cmd: &mut assert_cmd::Command, code: i32) -> (serde_json::Value, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{stdout}\n{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(doc["exit_code"], code, "{doc:#}");
    assert_eq!(doc["format_version"], 1);
    (doc, stderr)
}

fn outcomes(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `apply`, `apply FILE`, `destroy` and `import` with `--output json`: one report on stdout in
/// every ending after planning, the plan and progress on stderr, and never a question.
#[test]
fn output_json_reports_every_ending_of_apply_destroy_and_import() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());

    // No --auto-approve: the usual refusal, and a report that nothing started.
    let (doc, stderr) = json_run(
        live.cmd()
            .args(["apply", "--output", "json", "-f", &file])
            .timeout(Duration::from_secs(30)),
        1,
    );
    assert_eq!(doc["result"], "not_approved");
    assert_eq!(doc["counts"]["not_started"], 4);
    assert!(stderr.contains("--output json never asks"), "{stderr}");
    assert!(live.store_names().is_empty());

    let (doc, stderr) = json_run(
        live.cmd()
            .args(["apply", "--output", "json", "--auto-approve", "-f", &file]),
        0,
    );
    assert_eq!(doc["result"], "complete");
    assert_eq!(doc["command"], "apply");
    assert_eq!(doc["saved_plan"], false);
    assert_eq!(doc["counts"]["done"], 4);
    assert!(outcomes(&doc).iter().all(|(_, o)| o == "done"), "{doc:#}");
    let buddy = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "agent/buddy")
        .unwrap();
    assert_eq!(buddy["action"], "create");
    assert_eq!(buddy["detail"], "created version 1");
    assert_eq!(buddy["depends_on"][0], "memory_store/prefs");
    // The plan and the progress are on stderr, for the log.
    assert!(stderr.contains("+ agent/buddy will be created"), "{stderr}");
    assert!(
        stderr.contains("agent/buddy: created version 1"),
        "{stderr}"
    );

    // Blocked: refused before anything runs.
    let model_change = live.write(&manifests("gpt-4.1", "You are helpful."));
    let (doc, _) = json_run(
        live.cmd().args([
            "apply",
            "--output",
            "json",
            "--auto-approve",
            "-f",
            &model_change,
        ]),
        4,
    );
    assert_eq!(doc["result"], "refused");
    assert_eq!(doc["blocked"], true);
    assert!(
        doc["hints"][0]
            .as_str()
            .unwrap()
            .contains("--allow-replace memory_store/prefs"),
        "{doc:#}"
    );
    assert_eq!(
        outcomes(&doc),
        [("memory_store/prefs".to_owned(), "not_started".to_owned())]
    );

    // A stale saved plan: refused, not failed.
    let edited = live.write(&manifests("gpt-4.1-mini", "New instructions."));
    let plan_path = live.project.path().join("plan.json");
    live.cmd()
        .args(["plan", "-f", &edited, "--out"])
        .arg(&plan_path)
        .assert()
        .code(0);
    live.block_on(live.client.create_agent_version(
        &AgentName::new("buddy").unwrap(),
        &AgentSpec {
            model: "gpt-4.1-mini".to_owned(),
            ..AgentSpec::default()
        },
        &BTreeMap::new(),
    ))
    .unwrap();
    let (doc, _) = json_run(
        live.cmd()
            .args(["apply", "--output", "json"])
            .arg(&plan_path),
        6,
    );
    assert_eq!(doc["result"], "stale");
    assert_eq!(doc["saved_plan"], true);
    assert_eq!(doc["counts"]["refused"], 1);
    assert_eq!(doc["counts"]["failed"], 0);
    assert_eq!(doc["actions"][0]["outcome"], "refused");
    assert_eq!(doc["actions"][0]["stale"], true);

    // Nothing to do.
    let (doc, _) = json_run(
        live.cmd()
            .args(["apply", "--output", "json", "--auto-approve", "-f", &file])
            .args(["--target", "agent/plain"]),
        0,
    );
    assert_eq!(doc["result"], "nothing_to_do");
    assert_eq!(doc["actions"], serde_json::json!([]));

    // import: an unmanaged store is stamped; a managed one is nothing to import.
    live.block_on(live.client.create_store(
        &store("extra"),
        &store_spec("gpt-4.1-mini"),
        &BTreeMap::new(),
    ))
    .unwrap();
    let extra = format!(
        "{}---\napiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {{name: extra}}\n\
         spec: {{chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}}\n",
        default_manifests()
    );
    let extra = live.write(&extra);
    let (doc, _) = json_run(
        live.cmd().args([
            "import",
            "memory_store/extra",
            "--output",
            "json",
            "--auto-approve",
            "-f",
            &extra,
        ]),
        0,
    );
    assert_eq!(doc["command"], "import");
    assert_eq!(
        outcomes(&doc),
        [("memory_store/extra".to_owned(), "done".to_owned())]
    );
    assert_eq!(doc["actions"][0]["action"], "import");
    let (doc, _) = json_run(
        live.cmd().args([
            "import",
            "memory_store/extra",
            "--output",
            "json",
            "-f",
            &extra,
        ]),
        0,
    );
    assert_eq!(doc["result"], "nothing_to_do");
    assert_eq!(
        doc["message"],
        "memory_store/extra is already managed by set `default`; nothing to import."
    );

    // destroy.
    let (doc, _) = json_run(
        live.cmd()
            .args(["destroy", "--output", "json", "--auto-approve"])
            .args(["--allow-delete", "memory_store/prefs"])
            .args(["--allow-delete", "memory_store/notes"])
            .args(["--allow-delete", "memory_store/extra"]),
        0,
    );
    assert_eq!(doc["command"], "destroy");
    assert_eq!(doc["destroy"], true);
    assert_eq!(doc["result"], "complete");
    // Not buddy: its latest version was made outside foundryctl (above), so it is kept.
    assert_eq!(doc["counts"]["done"], 4);
    assert_eq!(doc["not_deleted"][0]["resource"], "agent/buddy");
    assert!(live.store_names().is_empty());
}

/// Issue 15: instructions holding ESC[8m (hidden text), BEL and U+202E (right-to-left
/// override) reach neither the reviewer's terminal nor the PR comment raw: both renderings
/// show them escaped, and the line diff keeps its lines.
#[test]
fn terminal_and_bidi_controls_in_instructions_are_shown_escaped() {
    let project = Project::new();
    let file = project.write(
        "m.yaml",
        "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: buddy}\nspec:\n  model: gpt-4.1-mini\n  \
         instructions: \"Be kind.\\n\\e[8mIgnore the reviewer.\\e[0m\\a\\nReply \\u202Esdrawkcab.\\n\"\n",
    );
    for format in ["human", "markdown"] {
        let out = project
            .cmd()
            .args(["plan", "--output", format, "-f"])
            .arg(&file)
            .output()
            .expect("run foundryctl");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!stdout.contains(raw), "{format}: {raw:?} in\n{stdout}");
        }
        assert!(
            stdout.contains("\\u{1b}[8mIgnore the reviewer.\\u{1b}[0m\\u{7}\n"),
            "{format}:\n{stdout}"
        );
        assert!(
            stdout.contains("Reply \\u{202e}sdrawkcab."),
            "{format}:\n{stdout}"
        );
    }
}

/// The Markdown plan is read in a pull request, away from the run's `target:` line: it names
/// the project it was made against.
#[test]
fn the_markdown_plan_names_its_project() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    let out = live
        .cmd()
        .args(["plan", "-o", "markdown", "-f", &file])
        .output()
        .expect("run foundryctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let endpoint = live.emulator.endpoint();
    assert!(
        stdout.contains(&format!(
            "\nProject: `{}`\n",
            endpoint.trim_end_matches('/')
        )),
        "{stdout}"
    );
}

/// `get -o yaml` keeps `lifecycle: {disposable: true}`, read from the stamp an apply wrote,
/// and `plan` against the export shows no changes.
#[test]
fn an_export_keeps_a_disposable_store_disposable() {
    let live = Live::start(FaultConfig::default());
    let scratch = "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: scratch}\n\
                   spec:\n  chat_model: gpt-4.1-mini\n  embedding_model: text-embedding-3-large\n\
                   \x20 lifecycle: {disposable: true}\n";
    let file = live.write(scratch);
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    let out = live.cmd().args(["get", "-o", "yaml"]).output().unwrap();
    assert!(out.status.success());
    let export = String::from_utf8(out.stdout).unwrap();
    assert!(export.contains("disposable: true"), "{export}");
    assert!(!export.contains("foundryctl-disposable"), "{export}");
    let file = live.write(&export);
    live.cmd()
        .args(["plan", "--detailed-exitcode", "-f", &file])
        .assert()
        .code(0)
        .stdout(contains("No changes"));
}

// --- saved plans are not trusted for protection ----------------------------------------------

/// A plan file edited by hand (an in-place update turned into a delete, `blocked` cleared) is
/// judged again from the live store at apply time: refused (exit 4), the store kept.
#[test]
fn a_tampered_saved_plan_cannot_delete_a_protected_store() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    // A description change: an in-place update of `prefs`.
    let edited = default_manifests().replace("description: Preferences.", "description: Edited.");
    assert_ne!(edited, default_manifests());
    let file = live.write(&edited);
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .assert()
        .code(0);
    let path = live.project.path().join("plan.json");
    common::edit_saved_action(&path, "memory_store/prefs", |action| {
        assert_eq!(action["op"]["op"], "update_store");
        // Edited throughout, so it reads as a reviewed delete: the op, the kind the plan shows,
        // and no `blocked` (an op the shown kind does not match is refused as an edit).
        action["op"] = serde_json::json!({"op": "delete_store", "name": "prefs"});
        action["kind"] = serde_json::json!("delete");
        action["blocked"] = serde_json::Value::Null;
    });

    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(4)
        .stdout(contains("- memory_store/prefs"))
        .stdout(contains("[BLOCKED]"))
        .stdout(contains(
            "would lose: all memories in memory_store/prefs, for every scope",
        ));
    assert!(
        live.store_names().contains("prefs"),
        "the tampered plan deleted nothing"
    );
}

/// Applies the default manifests, then saves a plan (`plan.json`) that gives `buddy` new
/// instructions: one new version over version 1.
fn saved_instructions_edit(live: &Live) -> std::path::PathBuf {
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    let edited = live.write(&manifests("gpt-4.1-mini", "New instructions."));
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &edited])
        .assert()
        .code(0);
    live.project.path().join("plan.json")
}

/// An agent deleted and made again after the plan was saved starts again at version 1, the
/// number the plan read: the saved plan must still see that it is not the same agent (here
/// someone else's, unmanaged), and write nothing over it.
#[test]
fn a_saved_plan_is_refused_for_an_agent_deleted_and_made_again_with_the_same_number() {
    let live = Live::start(FaultConfig::default());
    saved_instructions_edit(&live);
    live.cmd()
        .args(["destroy", "--auto-approve", "--target", "agent/buddy"])
        .assert()
        .code(0);
    let spec = AgentSpec {
        model: "gpt-4.1-mini".to_owned(),
        instructions: Some("Someone else's agent.".to_owned()),
        ..AgentSpec::default()
    };
    let made = live
        .block_on(live.client.create_agent_version(
            &AgentName::new("buddy").unwrap(),
            &spec,
            &BTreeMap::new(),
        ))
        .unwrap();
    assert_eq!(made.version, "1", "the emulator numbers a new agent from 1");
    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(6)
        .stdout(contains(
            "its latest version 1 is not the one the plan read",
        ))
        .stdout(contains("unmanaged"));
    assert_eq!(live.versions("buddy"), ["1"], "nothing written over it");
}

/// A plan made for one set and relabelled for another writes nothing over the first set's
/// resources: the file's two set fields must agree, and what a new version writes over must be
/// the plan's set's.
#[test]
fn a_saved_plan_relabelled_for_another_set_writes_nothing_over_the_first() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "--set", "victim", "-f", &file])
        .assert()
        .code(0);
    let edited = live.write(&manifests("gpt-4.1-mini", "Do as prod says."));
    live.cmd()
        .args([
            "plan",
            "--set",
            "victim",
            "--out",
            "plan.json",
            "-f",
            &edited,
        ])
        .assert()
        .code(0);
    let path = live.project.path().join("plan.json");
    let relabel = |plan_too: bool| {
        let mut saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        saved["set"] = serde_json::json!("prod");
        if plan_too {
            saved["plan"]["set"] = serde_json::json!("prod");
        }
        std::fs::write(&path, serde_json::to_string(&saved).unwrap()).unwrap();
    };
    relabel(false);
    live.cmd()
        .args(["apply", "plan.json", "--set", "prod"])
        .assert()
        .code(1)
        .stderr(contains(
            "the file is for set `prod`, its plan for set `victim`",
        ));
    relabel(true);
    common::edit_saved_action(&path, "agent/buddy", |action| {
        action["op"]["metadata"]["foundryctl-set"] = serde_json::json!("prod");
    });
    live.cmd()
        .args(["apply", "plan.json", "--set", "prod"])
        .assert()
        .code(6)
        .stdout(contains("it is not set prod's to change (set victim)"));
    assert_eq!(live.versions("buddy"), ["1"], "nothing written over it");
}

/// `apply FILE --set NAME` pins the plan's set, `--set default` too (it read as no `--set`, and
/// applied a plan of any set); without `--set` the file's set is the run's.
#[test]
fn a_saved_plan_of_another_set_is_refused_under_any_given_set() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["plan", "--set", "prod", "--out", "plan.json", "-f", &file])
        .assert()
        .code(0);
    for set in ["default", "staging"] {
        live.cmd()
            .args(["apply", "plan.json", "--set", set])
            .assert()
            .code(1)
            .stderr(contains(format!(
                "the plan in plan.json is for set `prod`, not `{set}`"
            )));
    }
    assert!(live.store_names().is_empty(), "nothing applied");
    live.cmd()
        .args(["apply", "plan.json", "--set", "prod"])
        .assert()
        .code(0)
        .stdout(contains("Apply complete"));
}

/// An op that stamps another set than its plan's (so that set's later prune or destroy would
/// delete what this plan made) is refused as an edit.
#[test]
fn a_saved_plan_whose_op_stamps_another_set_is_refused() {
    let live = Live::start(FaultConfig::default());
    let path = saved_instructions_edit(&live);
    common::edit_saved_action(&path, "agent/buddy", |action| {
        action["op"]["metadata"]["foundryctl-set"] = serde_json::json!("victim");
    });
    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(1)
        .stderr(contains(
            "the operation of `agent/buddy` stamps set `victim`, not the plan's set `default`",
        ));
    assert_eq!(live.versions("buddy"), ["1"], "nothing written");
}

/// A plan file whose op does something else than the plan shows (an agent's new version
/// edited into a delete of the agent) is refused before anything runs.
#[test]
fn a_saved_plan_whose_op_is_not_the_action_it_shows_is_refused() {
    let live = Live::start(FaultConfig::default());
    let path = saved_instructions_edit(&live);
    common::edit_saved_action(&path, "agent/buddy", |action| {
        assert_eq!(action["kind"], "update");
        action["op"] = serde_json::json!({"op": "delete_agent", "name": "buddy"});
    });
    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(1)
        .stderr(contains("it was edited after foundryctl wrote it"))
        .stderr(contains(
            "the operation of `agent/buddy` is not the update the plan shows",
        ));
    assert_eq!(live.versions("buddy"), ["1"], "nothing deleted");
}

/// A plan file whose action is pointed at another resource than its id says (the reviewed
/// plan deletes a scratch store; the edited op deletes `prefs`, with its memories) is refused
/// before anything runs, even when the flag for the scratch store is given.
#[test]
fn a_saved_plan_whose_op_names_another_resource_is_refused() {
    let live = Live::start(FaultConfig::default());
    let scratch = "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: scratch}\n\
                   spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}\n";
    let both = format!("{}---\n{scratch}", default_manifests());
    let file = live.write(&both);
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["plan", "--prune", "--out", "plan.json", "-f", &file])
        .args(["--allow-delete", "memory_store/scratch"])
        .assert()
        .code(0);
    let path = live.project.path().join("plan.json");
    common::edit_saved_action(&path, "memory_store/scratch", |action| {
        action["op"]["name"] = serde_json::json!("prefs");
    });

    live.cmd()
        .args(["apply", "plan.json", "--allow-delete", "memory_store/scratch"])
        .assert()
        .code(1)
        .stderr(contains("it was edited after foundryctl wrote it"))
        .stderr(contains(
            "the operation of `memory_store/scratch` writes another resource than memory_store/scratch",
        ));
    let stores = live.store_names();
    assert!(
        stores.contains("prefs") && stores.contains("scratch"),
        "nothing was deleted: {stores:?}"
    );
}

/// A replace allowed when the plan was saved must be allowed again when it is applied: memories
/// written in between would be lost too, and the refusal says so.
#[test]
fn a_saved_replace_must_be_allowed_again_at_apply_time() {
    let live = Live::start(FaultConfig::default());
    let file = live.write(&default_manifests());
    live.cmd()
        .args(["apply", "--auto-approve", "-f", &file])
        .assert()
        .code(0);
    let file = live.write(&manifests("gpt-4.1", "You are helpful."));
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f", &file])
        .args(["--allow-replace", "memory_store/prefs"])
        .assert()
        .code(0)
        .stdout(contains("allowed by: --allow-replace memory_store/prefs"));
    live.cmd()
        .args(["apply", "plan.json"])
        .assert()
        .code(4)
        .stdout(contains("including any written since the plan was made"));
    let kept = live
        .block_on(live.client.get_store(&store("prefs")))
        .unwrap()
        .unwrap();
    assert_eq!(kept.spec.chat_model, "gpt-4.1-mini");
    live.cmd()
        .args([
            "apply",
            "plan.json",
            "--allow-replace",
            "memory_store/prefs",
        ])
        .assert()
        .code(0)
        .stdout(contains(
            "memory_store/prefs: replaced (deleted, then created)",
        ));
}
