//! The deployments preflight end to end against the embedded emulator (whose project lists
//! the default deployments gpt-4.1-mini, text-embedding-3-large and gpt-4.1-nano): `plan` and
//! `validate --against-project` report every model reference that names no deployment, at its
//! line, and exit 3.

mod common;

use common::Project;
use predicates::str::contains;

const UNDEPLOYED: &str = "apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec:
  chat_model: gpt-5-nowhere
  embedding_model: text-embedding-3-large
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mni
";

#[test]
fn plan_reports_every_model_that_names_no_deployment_at_its_line() {
    let p = Project::new();
    let file = p.write("m/all.yaml", UNDEPLOYED);
    let out = p.cmd().args(["plan", "-f"]).arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("MemoryStore `prefs` names the model deployment `gpt-5-nowhere` in `chat_model`, which the project does not have"),
        "{stderr}"
    );
    assert!(stderr.contains("all.yaml:5:15"), "{stderr}");
    assert!(
        stderr.contains("Agent `buddy` names the model deployment `gpt-4.1-mni` in `model`"),
        "{stderr}"
    );
    assert!(stderr.contains("all.yaml:12:10"), "{stderr}");
    assert!(stderr.contains("did you mean `gpt-4.1-mini`?"), "{stderr}");
    assert!(
        stderr.contains("2 model deployment reference(s) name no deployment of the project"),
        "{stderr}"
    );
    // Nothing was planned, so nothing is shown as if it could be applied.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("to add"));

    let fixed = UNDEPLOYED
        .replace("gpt-5-nowhere", "gpt-4.1-mini")
        .replace("gpt-4.1-mni", "gpt-4.1-nano");
    let file = p.write("m/all.yaml", &fixed);
    p.cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .assert()
        .code(2);
}

#[test]
fn validate_runs_the_same_check_only_when_asked_to() {
    let p = Project::new();
    let file = p.write("m/all.yaml", UNDEPLOYED);
    // Without --against-project nothing is contacted: the manifests are well-formed.
    common::foundryctl(p.path())
        .args(["validate", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    p.cmd()
        .args(["validate", "--against-project", "-f"])
        .arg(&file)
        .assert()
        .code(3)
        .stderr(contains("names the model deployment `gpt-5-nowhere`"))
        .stderr(contains("all.yaml:5:15"));
    let out = p
        .cmd()
        .args(["validate", "--against-project", "-o", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.contains("which the project does not have"))
            .count(),
        2,
        "{messages:?}"
    );
}

#[test]
fn validate_against_a_project_nobody_serves_still_writes_its_json_report() {
    let p = Project::new();
    let file = p.write("m/all.yaml", UNDEPLOYED);
    // A loopback port nothing listens on: the read fails fast.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = common::foundryctl(p.path())
        .args([
            "validate",
            "--against-project",
            "-o",
            "json",
            "--auth",
            "token",
        ])
        .arg("--endpoint")
        .arg(format!("http://127.0.0.1:{port}/api/projects/p"))
        .env("FOUNDRY_TOKEN", "t")
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = report["diagnostics"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["file"], "project", "{report}");
}
