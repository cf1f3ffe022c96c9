//! The executor against the in-process emulator: it converges, refuses blocked and stale plans
//! without writing, and on a failure skips exactly the dependents.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use foundry_emulator::{Config, Emulator};
use reqwest::Url;

use super::*;
use crate::apply::schedule::Outcome;
use crate::exit::ExitStatus;
use crate::foundry::{ApiVersion, Auth, Client, TransportConfig};
use crate::manifest::{SourceFile, Variables, validate};
use crate::model::{DesiredState, MemoryStoreName, MemoryStoreSpec, ResourceRef};
use crate::plan::{self, Plan, PlanOptions};

const MANIFESTS: &str = "\
apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
---
apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: other}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  instructions: Be helpful.
  tools:
    - {type: memory_search, memory_store_name: prefs, scope: '{{$userId}}'}
";

fn desired() -> DesiredState {
    let files = [SourceFile::new("test.yaml", MANIFESTS)];
    validate(&files, &Variables::from_pairs::<&str, &str>([]))
        .expect("valid test manifests")
        .desired
}

async fn setup() -> (Emulator, Client) {
    setup_with(Config::default()).await
}

/// An emulator started with `config`, and a client of it.
async fn setup_with(config: Config) -> (Emulator, Client) {
    let emulator = Emulator::start(config).await.unwrap();
    let client = Client::new(
        Url::parse(&emulator.endpoint()).unwrap(),
        ApiVersion::V1,
        Auth::None,
        TransportConfig::default(),
    )
    .unwrap();
    (emulator, client)
}

/// Someone else creates store `prefs` (unstamped, with `chat_model`) after a plan was made.
async fn create_prefs_behind_the_plan(client: &Client, chat_model: &str) -> MemoryStoreName {
    let prefs = MemoryStoreName::new("prefs").unwrap();
    let spec = MemoryStoreSpec {
        chat_model: chat_model.to_owned(),
        embedding_model: "text-embedding-3-large".to_owned(),
        ..MemoryStoreSpec::default()
    };
    client
        .create_store(&prefs, &spec, &BTreeMap::new())
        .await
        .unwrap();
    prefs
}

async fn plan_now(client: &Client, desired: &DesiredState, options: &PlanOptions) -> Plan {
    let names: BTreeSet<_> = desired.agents.keys().cloned().collect();
    let live = client.read_live_state(&names).await.unwrap();
    plan::plan(desired, &live, options)
}

/// Runs `plan` with the default options, no stop and no progress output.
async fn run_silently(client: &Client, plan: &Plan) -> Report {
    execute(
        client,
        plan,
        ExecuteOptions::default(),
        never(),
        &mut Progress::silent(),
    )
    .await
    .unwrap()
}

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

/// A line sink the test can read back.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn executing_a_plan_from_empty_converges_and_logs_one_line_per_action() {
    let (_emulator, client) = setup().await;
    let desired = desired();
    let options = PlanOptions::default();
    let first = plan_now(&client, &desired, &options).await;
    assert_eq!(first.actions.len(), 3);

    let log = Buffer::default();
    let mut progress = Progress::lines(Box::new(log.clone()));
    let report = execute(
        &client,
        &first,
        ExecuteOptions::default(),
        never(),
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(report.status(), ExitStatus::Success, "{report:?}");
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.contains("agent/buddy: created version 1"), "{log}");

    let again = plan_now(&client, &desired, &options).await;
    assert!(!again.has_changes(), "{again:#?}");
}

#[tokio::test]
async fn a_blocked_plan_is_refused_before_any_write() {
    let (_emulator, client) = setup().await;
    let desired = desired();
    let first = plan_now(&client, &desired, &PlanOptions::default()).await;
    let mut blocked = first.clone();
    blocked.actions[0].blocked = Some(crate::plan::Blocked {
        cause: crate::plan::BlockedCause::ReplaceStore,
        reason: "test".to_owned(),
        data_loss: "test".to_owned(),
        unblock_flag: "--allow-replace memory_store/other".to_owned(),
    });
    let result = execute(
        &client,
        &blocked,
        ExecuteOptions::default(),
        never(),
        &mut Progress::silent(),
    )
    .await;
    assert!(matches!(result, Err(ExecuteError::Blocked(_))));
    assert!(client.list_stores().await.unwrap().is_empty());
    assert!(client.list_agents().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_stale_saved_plan_writes_nothing_for_the_changed_resource_and_stops() {
    let (_emulator, client) = setup().await;
    let desired = desired();
    let saved = plan_now(&client, &desired, &PlanOptions::default()).await;
    // Someone creates `prefs` after the plan was made.
    let prefs = create_prefs_behind_the_plan(&client, "gpt-4.1-mini").await;

    let options = ExecuteOptions {
        parallelism: 1,
        check_preconditions: true,
    };
    let log = Buffer::default();
    let mut progress = Progress::lines(Box::new(log.clone()));
    let report = execute(&client, &saved, options, never(), &mut progress)
        .await
        .unwrap();
    assert_eq!(report.status(), ExitStatus::StaleOrConflict, "{report:?}");
    // It reads as a refusal throughout, never as a failure or a Ctrl-C stop.
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("memory_store/prefs: refused: memory_store/prefs changed since the plan was made (it exists now)"),
        "{log}"
    );
    // Whether the stop is seen before the run runs out of work is a race; if it is, it says
    // why in the refusal's words (see `progress`'s test), never Ctrl-C's.
    assert!(!log.contains("failed"), "{log}");
    assert!(!log.contains("stopping"), "{log}");
    let prefs_entry = report
        .entries
        .iter()
        .find(|e| e.resource == ResourceRef::MemoryStore(prefs.clone()))
        .unwrap();
    assert!(prefs_entry.stale);
    // The agent depended on it and never ran; the foreign store is untouched.
    assert!(client.list_agents().await.unwrap().is_empty());
    let live = client.get_store(&prefs).await.unwrap().unwrap();
    assert!(live.metadata.is_empty());
}

#[tokio::test]
async fn a_failed_action_skips_its_dependents_and_independent_ones_still_run() {
    let (_emulator, client) = setup().await;
    let desired = desired();
    let plan = plan_now(&client, &desired, &PlanOptions::default()).await;
    // A different `prefs` appears after planning: creating it fails as a conflict.
    create_prefs_behind_the_plan(&client, "someone-elses-model").await;

    let report = run_silently(&client, &plan).await;
    assert_eq!(report.status(), ExitStatus::ApplyIncomplete, "{report:?}");
    let outcome = |id: &str| {
        report
            .entries
            .iter()
            .find(|e| e.resource.to_string() == id)
            .map(|e| e.outcome.clone())
            .unwrap()
    };
    assert!(matches!(outcome("memory_store/prefs"), Outcome::Failed(_)));
    assert!(matches!(outcome("agent/buddy"), Outcome::Skipped { .. }));
    assert!(matches!(outcome("memory_store/other"), Outcome::Done(_)));
    let counts = report.counts();
    assert_eq!((counts.done, counts.failed, counts.skipped), (1, 1, 1));

    let mut text = Vec::new();
    report.render(&mut text, None).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("skipped     agent/buddy: depends on memory_store/prefs"),
        "{text}"
    );
    assert!(text.contains("Apply incomplete: 1 done, 1 failed, 1 skipped, 0 not started."));
}

/// An emulator that never merges a version identical to the latest (the service does not
/// promise to), so every POST of a version makes one.
async fn setup_without_dedup() -> (Emulator, Client) {
    setup_with(Config {
        version_dedup: foundry_emulator::VersionDedup::Off,
        ..Config::default()
    })
    .await
}

async fn versions(client: &Client, agent: &str) -> Vec<String> {
    let name = crate::model::AgentName::new(agent).unwrap();
    client
        .list_agent_versions(&name)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect()
}

/// A fresh (unsaved) plan whose agent gained a version between planning and the write. Run at
/// once (`--auto-approve`), the write lands, gets version 2 over the other writer's 1, and is
/// undone: a conflict (exit 6). Run after a person approved it (preconditions re-checked), the
/// write is refused before it is sent. Either way only the other writer's version remains.
#[tokio::test]
async fn an_agent_written_after_planning_is_a_conflict_even_without_a_saved_plan() {
    for check_preconditions in [false, true] {
        let (_emulator, client) = setup_without_dedup().await;
        let desired = desired();
        let plan = plan_now(&client, &desired, &PlanOptions::default()).await;
        // Another writer creates `buddy` (with its own definition) after the plan was made.
        let buddy = &desired.agents.values().next().unwrap();
        let mut theirs = buddy.spec.clone();
        theirs.instructions = Some("Someone else's.".to_owned());
        client
            .create_agent_version(&buddy.name, &theirs, &BTreeMap::new())
            .await
            .unwrap();

        let options = ExecuteOptions {
            check_preconditions,
            ..ExecuteOptions::default()
        };
        let report = execute(&client, &plan, options, never(), &mut Progress::silent())
            .await
            .unwrap();
        assert_eq!(report.status(), ExitStatus::StaleOrConflict, "{report:?}");
        let (label, detail) = report.describe(
            report
                .entries
                .iter()
                .position(|e| e.resource.to_string() == "agent/buddy")
                .unwrap(),
        );
        if check_preconditions {
            assert_eq!(label, "refused", "{detail}");
            assert!(detail.contains("it exists now, at version 1"), "{detail}");
        } else {
            assert!(
                detail.contains(
                    "another writer made version 1 after the plan's read, before this \
                     apply's version 2; version 2 was deleted again"
                ),
                "{label}: {detail}"
            );
        }
        assert_eq!(versions(&client, "buddy").await, ["1"]);
    }
}

/// The write itself got a version other than the planned one (someone wrote between the re-read
/// and the POST): a conflict, and the version made is deleted again.
#[tokio::test]
async fn a_version_other_than_the_planned_one_is_a_conflict_and_is_undone() {
    let (_emulator, client) = setup_without_dedup().await;
    let desired = desired();
    let plan = plan_now(&client, &desired, &PlanOptions::default()).await;
    let create = plan
        .actions
        .iter()
        .find(|a| a.resource.to_string() == "agent/buddy")
        .unwrap();
    assert_eq!(create.precondition, crate::plan::Precondition::Absent);
    let buddy = &desired.agents.values().next().unwrap();
    let mut theirs = buddy.spec.clone();
    theirs.instructions = Some("Someone else's.".to_owned());
    client
        .create_agent_version(&buddy.name, &theirs, &BTreeMap::new())
        .await
        .unwrap();

    // The write without the re-read: the race's second half.
    let error = ops::run(&client, create).await.unwrap_err();
    assert!(error.is_stale(), "{error}");
    assert_eq!(
        error.to_string(),
        "agent/buddy was written concurrently: another writer made version 1 after the plan's \
         read, before this apply's version 2; version 2 was deleted again"
    );
    assert_eq!(versions(&client, "buddy").await, ["1"]);
}

/// The service never reuses a deleted version's number, so after a deleted latest version (a
/// losing concurrent apply undoing its write, or one deleted in the portal) the next version
/// is not the latest + 1. That gap is not a concurrent write: the apply goes through (exit 0),
/// and so does the next one.
#[tokio::test]
async fn a_gap_in_version_numbers_is_not_taken_for_a_concurrent_write() {
    let (_emulator, client) = setup_without_dedup().await;
    let mut desired = desired();
    let report = run_silently(
        &client,
        &plan_now(&client, &desired, &PlanOptions::default()).await,
    )
    .await;
    assert_eq!(report.status(), ExitStatus::Success, "{report:?}");
    // Version 2 made and deleted behind foundryctl's back: the next number is 3.
    let buddy = desired.agents.values().next().unwrap().clone();
    let made = client
        .create_agent_version(&buddy.name, &buddy.spec, &BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(made.version, "2");
    client.delete_agent_version(&buddy.name, "2").await.unwrap();
    for (round, instructions) in ["Be brief.", "Be briefer."].into_iter().enumerate() {
        desired
            .agents
            .get_mut(&buddy.name)
            .unwrap()
            .spec
            .instructions = Some(instructions.to_owned());
        let plan = plan_now(&client, &desired, &PlanOptions::default()).await;
        let report = run_silently(&client, &plan).await;
        assert_eq!(
            report.status(),
            ExitStatus::Success,
            "round {round}: {report:?}"
        );
    }
    assert_eq!(versions(&client, "buddy").await, ["4", "3", "1"]);
}

/// A seed's memories are written concurrently, not one round trip after another: with six
/// memories to write and 50 ms per request, the emulator sees all six in flight at once.
#[tokio::test]
async fn a_seeds_memories_are_written_concurrently() {
    let (emulator, client) = setup_with(Config {
        faults: foundry_emulator::FaultConfig {
            latency: std::time::Duration::from_millis(50),
            ..foundry_emulator::FaultConfig::default()
        },
        ..Config::default()
    })
    .await;
    let memories: String = (1..=6)
        .map(|i| format!("      - {{kind: user_profile, content: \"Fact number {i}.\"}}\n"))
        .collect();
    let text = format!(
        "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {{name: prefs}}\n\
         spec: {{chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}}\n---\n\
         apiVersion: foundryctl/v1\nkind: MemorySeed\nmetadata: {{name: facts}}\nspec:\n  \
         memory_store_name: prefs\n  scopes:\n    user_dana:\n{memories}"
    );
    let desired = validate(&[SourceFile::new("seed.yaml", text)], &Variables::default())
        .expect("valid seed manifests")
        .desired;
    let plan = plan_now(&client, &desired, &PlanOptions::default()).await;
    assert_eq!(plan.actions.len(), 2, "{plan:?}");
    let report = run_silently(&client, &plan).await;
    assert_eq!(report.status(), ExitStatus::Success, "{report:?}");
    let name = MemoryStoreName::new("prefs").unwrap();
    assert_eq!(
        client.list_items(&name, "user_dana").await.unwrap().len(),
        6
    );
    assert_eq!(emulator.stats().max_in_flight, 6, "{:?}", emulator.stats());
}
