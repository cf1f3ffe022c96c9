//! The pipeline examples under `examples/`, tested: their structure is what a runner needs, and
//! their scripts, run in order with bash as GitHub Actions and Azure Pipelines would, plan on a
//! pull request, apply on merge and report drift against the emulator. Authentication is the
//! real flow: `--auth github-oidc` exchanges the (emulated) runner's ID token at the (emulated)
//! Entra endpoint, and the project accepts only the tokens that endpoint issued.

mod azure;
#[path = "../common/mod.rs"]
mod common;
mod github;
mod world;

use std::collections::HashMap;

use serde_json::Value;

use github::Event;
use world::World;

const GITHUB: [&str; 3] = ["plan.yml", "apply.yml", "drift.yml"];
const AZURE: [&str; 2] = ["plan.yml", "apply.yml"];

/// The repository variables the GitHub examples document.
fn github_vars(world: &World) -> HashMap<String, String> {
    HashMap::from([
        ("PROJECT_ENDPOINT".to_owned(), world.emulator.endpoint()),
        (
            "AZURE_CLIENT_ID".to_owned(),
            "00000000-0000-0000-0000-00000000c11e".to_owned(),
        ),
        (
            "AZURE_TENANT_ID".to_owned(),
            "contoso.onmicrosoft.com".to_owned(),
        ),
        (
            "FOUNDRYCTL_GIT".to_owned(),
            "https://example.invalid/foundryctl.git".to_owned(),
        ),
    ])
}

/// Every `run:` script of a GitHub workflow, with where it is.
fn github_scripts(workflow: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (job_id, job) in workflow["jobs"].as_object().unwrap() {
        for step in job["steps"].as_array().unwrap() {
            if let Some(run) = step["run"].as_str() {
                let name = step["name"].as_str().unwrap_or("?");
                out.push((format!("{job_id}: {name}"), run.to_owned()));
            }
        }
    }
    out
}

/// Every bash script of an Azure pipeline (`bash:` steps and `AzureCLI@2` inline scripts).
fn azure_scripts(pipeline: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                let name = m.get("displayName").and_then(Value::as_str).unwrap_or("?");
                if let Some(s) = m.get("bash").and_then(Value::as_str) {
                    out.push((name.to_owned(), s.to_owned()));
                }
                if let Some(s) = m
                    .get("inputs")
                    .and_then(|i| i.get("inlineScript"))
                    .and_then(Value::as_str)
                {
                    out.push((name.to_owned(), s.to_owned()));
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(pipeline, &mut out);
    out
}

/// The `foundryctl plan|apply …` command lines of a script, continuation lines joined.
fn foundryctl_calls(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("foundryctl plan") || l.starts_with("foundryctl apply"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn github_workflows_have_what_a_runner_needs_and_no_secret() {
    for file in GITHUB {
        let path = format!("examples/github-actions/{file}");
        let text =
            std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let wf = world::load(&path);
        assert!(wf["name"].is_string(), "{file}: a name");
        assert!(wf["on"].is_object(), "{file}: triggers under `on:`");
        assert_eq!(
            wf["permissions"]["id-token"], "write",
            "{file}: OIDC needs id-token: write"
        );
        assert_eq!(wf["permissions"]["contents"], "read", "{file}");
        assert!(
            !text.contains("secrets.") && !text.contains("AZURE_CLIENT_SECRET"),
            "{file}: no client secret"
        );
        for (job_id, job) in wf["jobs"].as_object().unwrap() {
            assert!(
                job["runs-on"].is_string(),
                "{file}: {job_id} runs somewhere"
            );
            for step in job["steps"].as_array().unwrap() {
                match (step.get("run"), step["uses"].as_str()) {
                    (Some(_), None) => {}
                    (None, Some(action)) => assert!(
                        github::KNOWN_ACTIONS.contains(&action),
                        "{file}: unknown action {action}"
                    ),
                    _ => panic!("{file}: a step has one of run: or uses: {step}"),
                }
            }
        }
        let scripts = github_scripts(&wf);
        assert!(!scripts.is_empty());
        let mut calls = 0;
        for (where_, script) in &scripts {
            // Expressions in scripts are injection-prone; values come in through env: instead.
            assert!(
                !script.contains("${{"),
                "{file}: {where_}: an expression inside run:"
            );
            for call in foundryctl_calls(script) {
                calls += 1;
                assert!(
                    call.contains("--auth github-oidc"),
                    "{file}: {where_}: {call}"
                );
            }
        }
        assert!(calls > 0, "{file} runs foundryctl");
    }
    let plan = world::load("examples/github-actions/plan.yml");
    assert!(plan["on"]["pull_request"].is_object());
    assert_eq!(plan["permissions"]["pull-requests"], "write");
    let apply = world::load("examples/github-actions/apply.yml");
    assert_eq!(apply["on"]["push"]["branches"][0], "main");
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
    assert!(
        apply["concurrency"]["group"]
            .as_str()
            .unwrap()
            .contains("vars.PROJECT_ENDPOINT")
    );
    assert_eq!(apply["jobs"]["apply"]["needs"], "plan");
    assert_eq!(apply["jobs"]["apply"]["environment"], "foundry-production");
    let drift = world::load("examples/github-actions/drift.yml");
    assert!(drift["on"]["schedule"][0]["cron"].is_string());
    assert_eq!(drift["permissions"]["issues"], "write");
}

#[test]
fn azure_pipelines_have_what_an_agent_needs_and_no_secret() {
    for file in AZURE {
        let path = format!("examples/azure-pipelines/{file}");
        let text =
            std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let p = world::load(&path);
        assert!(
            !p["trigger"].is_null() && !p["pr"].is_null(),
            "{file}: triggers"
        );
        assert!(
            !text.contains("AZURE_CLIENT_SECRET"),
            "{file}: no client secret"
        );
        let scripts = azure_scripts(&p);
        assert!(!scripts.is_empty());
        let mut calls = 0;
        for (where_, script) in &scripts {
            // `$(X)` is a macro Azure would expand inside the script: env vars instead.
            assert!(
                !script.contains("$("),
                "{file}: {where_}: a macro or $(…) in a script"
            );
            for call in foundryctl_calls(script) {
                calls += 1;
                assert!(call.contains("--auth cli"), "{file}: {where_}: {call}");
            }
        }
        assert!(calls > 0);
        assert!(text.contains("task: AzureCLI@2") && text.contains("azureSubscription:"));
    }
    let apply = world::load("examples/azure-pipelines/apply.yml");
    assert_eq!(apply["lockBehavior"], "sequential");
    assert_eq!(
        apply["stages"][1]["jobs"][0]["environment"],
        "foundry-production"
    );
}

#[test]
fn shellcheck_passes_on_every_script_when_installed() {
    let available = std::process::Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("FOUNDRYCTL_SHELLCHECK").is_none(),
            "FOUNDRYCTL_SHELLCHECK is set (.ci/run installed shellcheck), but shellcheck is not on PATH"
        );
        eprintln!("shellcheck is not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for file in GITHUB {
        all.extend(
            github_scripts(&world::load(&format!("examples/github-actions/{file}")))
                .into_iter()
                .map(|(w, s)| (format!("github-actions/{file}: {w}"), s)),
        );
    }
    for file in AZURE {
        all.extend(
            azure_scripts(&world::load(&format!("examples/azure-pipelines/{file}")))
                .into_iter()
                .map(|(w, s)| (format!("azure-pipelines/{file}: {w}"), s)),
        );
    }
    // The fakes are scripts too.
    for fake in ["fake-gh.sh", "fake-az.sh"] {
        let path = format!("{}/tests/examples/{fake}", env!("CARGO_MANIFEST_DIR"));
        all.push((fake.to_owned(), std::fs::read_to_string(path).unwrap()));
    }
    let mut failures = Vec::new();
    for (i, (where_, script)) in all.iter().enumerate() {
        let path = dir.path().join(format!("script-{i}.sh"));
        std::fs::write(&path, format!("#!/usr/bin/env bash\n{script}")).unwrap();
        let out = std::process::Command::new("shellcheck")
            .args(["--shell=bash", "--severity=style"])
            .arg(&path)
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{where_}:\n{}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn assert_ok(job: &github::Job) {
    assert!(job.ran && job.ok, "the job failed:\n{job:#?}");
}

#[test]
fn a_pull_request_is_planned_in_one_comment_updated_on_each_push() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    let vars = github_vars(&w);

    let run = github::run(&w, "plan.yml", &Event::pull_request(7, "aaa111"), &vars);
    let job = run.job("plan");
    assert_ok(job);
    assert_eq!(job.step("Plan").outputs["exitcode"], "2");
    assert!(job.summary.contains("dev-prefs-memory"), "{}", job.summary);
    let saved = run.artifact("foundryctl-plan");
    assert!(saved["plan.json"].contains("\"endpoint\""), "{saved:?}");
    assert!(w.store_names().is_empty(), "a plan changes nothing");
    assert_eq!(
        w.take_gh_calls(),
        [
            "api repos/octo-org/octo-repo/issues/7/comments --paginate --jq .[] | select(.body | startswith(\"<!-- foundryctl-plan -->\")) | .id",
            "api --method POST repos/octo-org/octo-repo/issues/7/comments -F body=@comment.md",
        ]
    );
    let comments = w.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments["1"].contains("**Changes pending**") && comments["1"].contains("aaa111"));

    // A second push: the same comment, edited.
    w.write_manifests(&world::seed_manifests().replace(
        "Developer preferences and working context.",
        "Preferences, edited in the pull request.",
    ));
    let run = github::run(&w, "plan.yml", &Event::pull_request(7, "bbb222"), &vars);
    assert_ok(run.job("plan"));
    let calls = w.take_gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        calls[1],
        "api --method PATCH repos/octo-org/octo-repo/issues/comments/1 -F body=@comment.md"
    );
    let comments = w.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments["1"].contains("bbb222") && !comments["1"].contains("aaa111"));
}

#[test]
fn a_pull_request_fails_on_a_conflict_and_says_so_in_its_comment() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    w.create_unmanaged_store("dev-prefs-memory");
    let run = github::run(
        &w,
        "plan.yml",
        &Event::pull_request(9, "eee555"),
        &github_vars(&w),
    );
    let job = run.job("plan");
    assert!(!job.ok);
    assert_eq!(job.step("Plan").outputs["exitcode"], "6");
    assert_eq!(job.step("Pass on 0 or 2, fail on 3, 4 or 6").code, Some(6));
    let comment = &w.comments()["1"];
    assert!(comment.contains("**Conflict** (exit 6)"), "{comment}");
    assert!(
        comment.contains("foundryctl output"),
        "the reason is in the comment: {comment}"
    );
}

#[test]
fn a_pull_request_fails_on_invalid_manifests_and_on_a_blocked_plan() {
    let w = World::start();
    let vars = github_vars(&w);
    w.write_manifests("apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: x}\nspec: {chat_model: 3}\n");
    let run = github::run(&w, "plan.yml", &Event::pull_request(8, "ccc333"), &vars);
    let job = run.job("plan");
    assert!(!job.ok);
    let validate = job.step("Validate the manifests");
    assert_eq!(validate.outputs["exitcode"], "3", "{job:#?}");
    assert_eq!(job.step("Plan").code, None, "no plan of invalid manifests");
    let comment = &w.comments()["1"];
    assert!(
        comment.contains("**Invalid manifests** (exit 3)"),
        "{comment}"
    );
    assert!(
        comment.contains("chat_model"),
        "the comment says what is wrong: {comment}"
    );
    assert_eq!(job.step("Pass on 0 or 2, fail on 3, 4 or 6").code, Some(3));

    // Applied, then a pull request that replaces the store: blocked (its memories would go).
    w.write_manifests(&world::seed_manifests());
    let applied = github::run(&w, "apply.yml", &Event::push(), &vars);
    assert_ok(applied.job("apply"));
    w.write_manifests(
        &world::seed_manifests().replace("text-embedding-3-large", "text-embedding-3-small"),
    );
    w.take_gh_calls();
    let run = github::run(&w, "plan.yml", &Event::pull_request(8, "ddd444"), &vars);
    let job = run.job("plan");
    assert!(!job.ok);
    assert_eq!(job.step("Plan").outputs["exitcode"], "4");
    assert_eq!(
        job.step("Comment the plan on the pull request").code,
        Some(0)
    );
    assert_eq!(job.step("Pass on 0 or 2, fail on 3, 4 or 6").code, Some(4));
    assert!(w.comments()["1"].contains("**Blocked by protection** (exit 4)"));
    assert!(
        !run.artifact("foundryctl-plan").contains_key("plan.json"),
        "no plan that apply would refuse"
    );
}

/// A push that breaks the manifests replaces the comment of the push before: a pull request
/// whose newest head does not validate must not still read "changes pending".
#[test]
fn a_push_with_invalid_manifests_updates_the_comment_of_the_push_before() {
    let w = World::start();
    let vars = github_vars(&w);
    w.write_manifests(&world::seed_manifests());
    let run = github::run(&w, "plan.yml", &Event::pull_request(5, "fff666"), &vars);
    assert_ok(run.job("plan"));
    assert!(w.comments()["1"].contains("**Changes pending**"));

    w.write_manifests(&world::seed_manifests().replace("chat_model:", "chat_modle:"));
    let run = github::run(&w, "plan.yml", &Event::pull_request(5, "ggg777"), &vars);
    let job = run.job("plan");
    assert!(!job.ok);
    let comments = w.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    let comment = &comments["1"];
    assert!(
        comment.contains("**Invalid manifests** (exit 3)"),
        "{comment}"
    );
    assert!(!comment.contains("Changes pending"), "{comment}");
    assert!(
        comment.contains("ggg777") && !comment.contains("fff666"),
        "{comment}"
    );
    assert!(comment.contains("chat_modle"), "{comment}");
}

#[test]
fn a_merge_applies_the_reviewed_plan_and_the_next_finds_nothing_to_do() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    let vars = github_vars(&w);
    let run = github::run(&w, "apply.yml", &Event::push(), &vars);
    assert_ok(run.job("plan"));
    assert_eq!(run.job("plan").outputs["changes"], "true");
    let apply = run.job("apply");
    assert_ok(apply);
    assert_eq!(apply.step("Apply the saved plan").outputs["exitcode"], "0");
    let report: Value =
        serde_json::from_str(&run.artifact("foundryctl-apply-report")["apply-report.json"])
            .unwrap();
    assert_eq!(report["exit_code"], 0, "{report}");
    assert_eq!(w.store_names(), ["dev-prefs-memory"]);

    let again = github::run(&w, "apply.yml", &Event::push(), &vars);
    assert_ok(again.job("plan"));
    assert_eq!(again.job("plan").outputs["changes"], "false");
    assert!(
        !again.job("apply").ran,
        "no changes: no apply, no approval asked"
    );
}

#[test]
fn a_plan_made_stale_while_awaiting_approval_is_refused_not_applied() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    let vars = github_vars(&w);
    assert_ok(github::run(&w, "apply.yml", &Event::push(), &vars).job("apply"));
    w.write_manifests(&world::seed_manifests().replace(
        "Developer preferences and working context.",
        "Reviewed description.",
    ));
    let run = github::run_with(&w, "apply.yml", &Event::push(), &vars, |job| {
        if job == "apply" {
            w.edit_store_behind_foundryctls_back("dev-prefs-memory", "Someone else's edit.");
        }
    });
    assert_eq!(run.job("plan").outputs["changes"], "true");
    let apply = run.job("apply");
    assert!(!apply.ok);
    assert_eq!(apply.step("Apply the saved plan").outputs["exitcode"], "6");
    let report: Value =
        serde_json::from_str(&run.artifact("foundryctl-apply-report")["apply-report.json"])
            .unwrap();
    assert_eq!(
        report["exit_code"], 6,
        "the report is uploaded anyway: {report}"
    );
}

#[test]
fn drift_opens_one_issue_updates_it_and_closes_it_when_converged() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    let vars = github_vars(&w);
    assert_ok(github::run(&w, "apply.yml", &Event::push(), &vars).job("apply"));

    let run = github::run(&w, "drift.yml", &Event::schedule(), &vars);
    assert_ok(run.job("drift"));
    assert_eq!(run.job("drift").step("Plan").outputs["exitcode"], "0");
    assert!(w.issues().is_empty());

    w.edit_store_behind_foundryctls_back("dev-prefs-memory", "Edited in the portal.");
    let run = github::run(&w, "drift.yml", &Event::schedule(), &vars);
    assert_ok(run.job("drift"));
    assert_eq!(run.job("drift").step("Plan").outputs["exitcode"], "2");
    let issues = w.issues();
    assert_eq!(issues.len(), 1);
    let (state, label, body) = &issues["1"];
    assert_eq!(
        (state.as_str(), label.as_str()),
        ("open", "foundryctl-drift")
    );
    assert!(body.contains("dev-prefs-memory"), "{body}");
    assert!(body.contains("https://github.com/octo-org/octo-repo/actions/runs/4242"));
    // The JSON plan's summary says why: an edit behind foundryctl's back, nothing requested.
    assert!(
        body.contains(
            "**Someone edited the project**: 1 resource(s) were changed outside foundryctl."
        ),
        "{body}"
    );
    assert!(!body.contains("Changes pending"), "{body}");

    // Still drifted the next night: the same issue, its description replaced.
    w.take_gh_calls();
    assert_ok(github::run(&w, "drift.yml", &Event::schedule(), &vars).job("drift"));
    let calls = w.take_gh_calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("issue edit 1 --body-file")),
        "{calls:?}"
    );
    assert_eq!(w.issues().len(), 1);

    // Converged (the apply workflow restores the manifests' description): closed.
    assert_ok(github::run(&w, "apply.yml", &Event::push(), &vars).job("apply"));
    assert_ok(github::run(&w, "drift.yml", &Event::schedule(), &vars).job("drift"));
    assert_eq!(w.issues()["1"].0, "closed");
}

/// Issue 13: manifests merged but never applied are "changes pending", not an edit of the
/// project.
#[test]
fn drift_tells_changes_pending_from_an_edit_of_the_project() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    let vars = github_vars(&w);
    assert_ok(github::run(&w, "apply.yml", &Event::push(), &vars).job("apply"));
    w.write_manifests(&world::seed_manifests().replace(
        "Assistant with per-user memory.",
        "Assistant with per-user memory, renamed on main.",
    ));
    let run = github::run(&w, "drift.yml", &Event::schedule(), &vars);
    assert_ok(run.job("drift"));
    let plan = run.job("drift").step("Plan");
    assert_eq!(plan.outputs["exitcode"], "2");
    assert_eq!(plan.outputs["drift"], "0");
    assert_eq!(plan.outputs["requested"], "1");
    let issues = w.issues();
    let body = &issues["1"].2;
    assert!(
        body.contains("**Changes pending**: the manifests on `main` ask for 1 change(s) that were never applied."),
        "{body}"
    );
    assert!(!body.contains("Someone edited"), "{body}");
}

#[test]
fn azure_pipelines_plan_a_pull_request_and_apply_the_saved_plan_on_main() {
    let w = World::start();
    w.write_manifests(&world::seed_manifests());
    let vars = HashMap::from([
        ("PROJECT_ENDPOINT".to_owned(), w.emulator.endpoint()),
        (
            "FOUNDRYCTL_GIT".to_owned(),
            "https://example.invalid/foundryctl.git".to_owned(),
        ),
    ]);
    let run = azure::run(&w, "plan.yml", &vars);
    let job = run.job("__default", "__default");
    assert!(job.ok, "{job:#?}");
    assert!(job.summaries[0].contains("dev-prefs-memory"), "{job:#?}");
    assert!(run.artifact("foundryctl-plan").contains_key("plan.json"));
    assert!(
        run.az_calls.iter().all(|c| c
            .starts_with("account get-access-token -o json --scope https://ai.azure.com/.default")),
        "{:?}",
        run.az_calls
    );
    assert!(w.store_names().is_empty());

    let run = azure::run(&w, "apply.yml", &vars);
    assert!(run.job("plan", "plan").ok, "{run:#?}");
    let apply = run.job("apply", "apply");
    assert!(apply.ok, "{apply:#?}");
    assert!(
        run.artifact("foundryctl-apply-report")
            .contains_key("apply-report.json")
    );
    assert_eq!(w.store_names(), ["dev-prefs-memory"]);

    let again = azure::run(&w, "apply.yml", &vars);
    assert_eq!(again.job("plan", "plan").outputs["plan.changes"], "false");
    assert!(
        again.stages["apply"].is_empty(),
        "no changes: the apply stage is skipped"
    );
}
