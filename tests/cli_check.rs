//! `foundryctl check` end to end against the embedded emulator, whose stand-in model recalls
//! the scope's memories into its answer: declared probes pass and fail on `expect`, agents
//! without probes get the default one, a failed probe exits 7, and a throw-away probe's scope
//! is forgotten afterwards.

mod common;

use std::process::Output;

use common::Project;
use serde_json::Value;

const MANIFESTS: &str = "apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec:
  chat_model: gpt-4.1-mini
  embedding_model: text-embedding-3-large
  options: {user_profile_enabled: true}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  tools:
    - {type: memory_search, memory_store_name: prefs, scope: \"{{$userId}}\", update_delay: 1}
  checks:
    - ask: Which language should the examples use?
      user_id: user_dana
      expect: {memory_recalled: Python, answer_contains: python}
    - ask: I write Haskell at work. Which language should the examples use?
      expect: {answer_contains: EXPECTED_FOR_STRANGER}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: plain}
spec:
  model: gpt-4.1-mini
";

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A project with the manifests applied (the stranger's expectation set to `stranger`) and
/// one memory for user_dana.
fn project(stranger: &str) -> Project {
    let p = Project::new();
    p.write(
        "m/all.yaml",
        &MANIFESTS.replace("EXPECTED_FOR_STRANGER", stranger),
    );
    let apply = p
        .cmd()
        .args(["apply", "-f", "m", "--auto-approve"])
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", out(&apply));
    let add = p
        .cmd()
        .args([
            "memory",
            "add",
            "--store",
            "prefs",
            "--scope",
            "user_dana",
            "--user",
            "I work mostly in Python and prefer short, code-first answers.",
        ])
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", out(&add));
    p
}

fn check(p: &Project, format: &str) -> Output {
    p.cmd()
        .args(["check", "-f", "m", "-o", format])
        .output()
        .unwrap()
}

#[test]
fn every_probe_passes_and_the_report_says_what_each_recalled() {
    let p = project("no memories");
    let o = check(&p, "json");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["passed"], true);
    assert_eq!(report["summary"]["probes"], 3);
    assert_eq!(report["summary"]["passed"], 3);
    let buddy = &report["agents"][0];
    assert_eq!(buddy["agent"], "buddy");
    assert_eq!(buddy["has_memory_tool"], true);
    let dana = &buddy["probes"][0];
    assert_eq!(dana["answered"], true);
    assert_eq!(dana["memory_tool_called"], true);
    assert!(
        dana["memories"][0].as_str().unwrap().contains("Python"),
        "{dana}"
    );
    assert!(
        dana["may_leave"].as_str().unwrap().contains("user_dana"),
        "{dana}"
    );
    // The stranger asks as a throw-away user: nothing recalled, and the scope forgotten after
    // its write-back (update_delay 1) landed. Its statement would be remembered (the stand-in
    // extracts "I write Haskell at work."), so an empty scope afterwards shows it was forgotten.
    let stranger = &buddy["probes"][1];
    assert_eq!(stranger["user_id"], Value::Null);
    assert_eq!(stranger["memories"].as_array().unwrap().len(), 0);
    assert_eq!(stranger["may_leave"], Value::Null);
    let scope = stranger["asked_as"].as_str().unwrap();
    assert!(scope.starts_with("foundryctl-check-"), "{scope}");
    assert!(
        stranger["forgot_scope"].as_str().unwrap().contains(scope),
        "{stranger}"
    );
    let list = p
        .cmd()
        .args([
            "memory", "list", "--store", "prefs", "--scope", scope, "-o", "json",
        ])
        .output()
        .unwrap();
    assert!(list.status.success(), "{}", out(&list));
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        listed["memories"].as_array().map(Vec::len),
        Some(0),
        "the throw-away scope still holds memories: {listed}"
    );
    // The agent without probes and without a memory tool gets the default probe.
    let plain = &report["agents"][1];
    assert_eq!(plain["agent"], "plain");
    assert_eq!(plain["has_memory_tool"], false);
    assert_eq!(plain["probes"][0]["default_probe"], true);
    assert_eq!(plain["probes"][0]["passed"], true);
}

#[test]
fn a_failed_expectation_exits_7_and_every_format_says_why() {
    let p = project("Haskell");
    let human = check(&p, "human");
    assert_eq!(human.status.code(), Some(7), "{}", out(&human));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("FAIL \"I write Haskell at work."), "{text}");
    assert!(
        text.contains("the answer does not contain \"Haskell\""),
        "{text}"
    );
    assert!(
        text.contains("may write this turn to memory scope user_dana"),
        "{text}"
    );
    assert!(
        text.contains("forgot throw-away scope foundryctl-check-"),
        "{text}"
    );
    assert!(
        text.contains("3 probes of 2 agents: 2 passed, 1 failed"),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&human.stderr).contains("checks failed"),
        "{}",
        out(&human)
    );
    let markdown = check(&p, "markdown");
    assert_eq!(markdown.status.code(), Some(7), "{}", out(&markdown));
    let md = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        md.starts_with("### foundryctl check: some probes failed"),
        "{md}"
    );
    assert!(md.contains("| ❌ fail | buddy |"), "{md}");
    let json = check(&p, "json");
    assert_eq!(json.status.code(), Some(7), "{}", out(&json));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["summary"]["failed"], 1);
}

#[test]
fn an_agent_missing_from_the_project_fails_its_probe_not_the_run() {
    let p = Project::new();
    p.write(
        "m/all.yaml",
        &MANIFESTS.replace("EXPECTED_FOR_STRANGER", "x"),
    );
    let o = check(&p, "json");
    assert_eq!(o.status.code(), Some(7), "{}", out(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let plain = &report["agents"][1]["probes"][0];
    assert_eq!(plain["answered"], false);
    assert!(
        plain["failures"][0]
            .as_str()
            .unwrap()
            .starts_with("the agent could not be invoked"),
        "{plain}"
    );
}
