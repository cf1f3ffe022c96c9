//! End to end: the errors a user meets and the flags that must not be silently ignored. Each
//! test pins one behaviour: what failed, why, and the hint, with the documented exit code.

mod common;

use common::Project;
use predicates::prelude::*;
use predicates::str::contains;

const SEED: &str = r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  instructions: Be brief.
"#;

#[test]
fn a_target_that_names_nothing_is_an_error_not_no_changes() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "--target", "agent/budy", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout(contains("No changes").not())
        .stderr(contains(
            "--target agent/budy matches no resource: neither the manifests nor the project have it",
        ))
        .stderr(contains("hint: check the KIND/NAME"));
    // A declared target still plans.
    project
        .cmd()
        .args([
            "plan",
            "--detailed-exitcode",
            "--target",
            "agent/buddy",
            "-f",
        ])
        .arg(&file)
        .assert()
        .code(2)
        .stdout(contains("agent/buddy will be created"));
}

#[test]
fn apply_with_a_plan_file_refuses_planning_flags_it_would_ignore() {
    let project = Project::new();
    project.write("plan.json", "{}");
    project
        .cmd()
        .args(["apply", "plan.json", "--prune"])
        .assert()
        .code(1)
        .stderr(contains("cannot be used with"));
    // The allow flags are not ignored with a plan file: a saved replace or delete needs them
    // again (see `a_saved_replace_must_be_allowed_again_at_apply_time`), so they parse.
    project
        .cmd()
        .args(["apply", "plan.json", "--allow-delete", "memory_store/prefs"])
        .assert()
        .code(1)
        .stderr(contains("cannot be used with").not());
}

#[test]
fn import_takes_only_manifests_not_planning_flags() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    for flag in [
        &["--prune"][..],
        &["--target", "agent/buddy"],
        &["--allow-replace", "memory_store/prefs"],
    ] {
        project
            .cmd()
            .args(["import", "memory_store/prefs", "-f"])
            .arg(&file)
            .args(flag)
            .assert()
            .code(1)
            .stderr(contains("unexpected argument"));
    }
}

#[test]
fn an_endpoint_with_a_password_is_refused_without_echoing_it() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    common::foundryctl(project.path())
        .args([
            "plan",
            "--endpoint",
            "https://me:hunter2@acct.services.ai.azure.com/api/projects/p",
            "-f",
        ])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains("takes no user name or password"))
        .stderr(contains("hunter2").not());
}

#[test]
fn a_missing_manifest_path_names_the_path_and_the_cause_once() {
    let project = Project::new();
    let out = project
        .cmd()
        .args(["plan", "-f", "nowhere.yaml"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&out);
    assert!(stderr.contains("read nowhere.yaml"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn a_directory_without_manifests_says_which_files_are_read() {
    let project = Project::new();
    project.write("empty/readme.txt", "not a manifest");
    project
        .cmd()
        .args(["plan", "-f", "empty"])
        .assert()
        .code(1)
        .stderr(contains("empty contains no foundryctl manifests"))
        .stderr(contains("hint: pass the file or directory"));
}

#[test]
fn an_endpoint_nobody_listens_on_fails_in_bounded_time_with_a_hint() {
    // A port that was just free: nothing accepts connections there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port();
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    let started = std::time::Instant::now();
    common::foundryctl(project.path())
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{port}/api/projects/p"),
        ])
        .args(["--auth", "token", "plan", "-f"])
        .arg(&file)
        .env("FOUNDRY_TOKEN", "t")
        .assert()
        .code(1)
        .stderr(contains("failed to read the live project"))
        .stderr(contains("could not connect"))
        .stderr(contains(
            "hint: nothing accepted the connection; check --endpoint",
        ));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn ci_without_an_endpoint_is_refused_but_an_explicit_local_is_not() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    common::foundryctl(project.path())
        .env("CI", "true")
        .args(["plan", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains("no endpoint is configured"))
        .stderr(contains("hint: pass --endpoint"));
    project
        .cmd()
        .env("CI", "true")
        .args(["plan", "-f"])
        .arg(&file)
        .assert()
        .code(0);
}

/// One `.env` in the working directory serves both the endpoint and `${VAR}` interpolation,
/// the process environment wins over it, and a malformed one is named with its line.
#[test]
fn dotenv_sets_the_endpoint_and_the_variables_and_the_environment_wins() {
    let project = Project::new();
    let file = project.write(
        "m.yaml",
        "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: prefs}\nspec:\n  \
         chat_model: ${CHAT_MODEL}\n  embedding_model: text-embedding-3-large\n",
    );
    project.write(
        ".env",
        "# read once per command\nPROJECT_ENDPOINT=local:from-dotenv\nCHAT_MODEL=gpt-4.1-nano\n",
    );
    common::foundryctl(project.path())
        .args(["plan", "-f"])
        .arg(&file)
        .assert()
        .code(0)
        .stderr(contains(
            "target: local emulator (from-dotenv, not created yet: empty)",
        ))
        .stdout(contains("+ chat_model: \"gpt-4.1-nano\""));
    common::foundryctl(project.path())
        .env("CHAT_MODEL", "gpt-4.1-mini")
        .env("PROJECT_ENDPOINT", "local:from-env")
        .args(["plan", "-f"])
        .arg(&file)
        .assert()
        .code(0)
        .stderr(contains(
            "target: local emulator (from-env, not created yet: empty)",
        ))
        .stdout(contains("+ chat_model: \"gpt-4.1-mini\""));

    project.write(".env", "CHAT_MODEL=ok\nthis is not a variable\n");
    for command in ["plan", "validate"] {
        common::foundryctl(project.path())
            .args([command, "-f"])
            .arg(&file)
            .assert()
            .code(1)
            .stderr(contains(
                ".env is not a valid .env file\n  caused by: line 2: ",
            ));
    }
}

/// `apply PATH` takes a saved plan; manifests given there by mistake (a forgotten `-f`) get a
/// hint instead of only "not a plan".
#[test]
fn apply_given_manifests_without_f_hints_at_f() {
    let project = Project::new();
    let file = project.write("manifests/m.yaml", SEED);
    let dir = file.parent().unwrap().to_owned();
    for path in [&file, &dir] {
        project
            .cmd()
            .arg("apply")
            .arg(path)
            .assert()
            .code(1)
            .stderr(contains(format!(
                "hint: to apply manifests, pass them with -f: `foundryctl apply -f {}`",
                path.display()
            )));
    }
}

#[test]
fn a_saved_plan_for_a_relative_local_project_applies_from_its_absolute_spelling() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    common::foundryctl(project.path())
        .args([
            "--endpoint",
            "local:proj",
            "plan",
            "--out",
            "plan.json",
            "-f",
        ])
        .arg(&file)
        .assert()
        .code(0);
    let absolute = format!("local:{}", project.path().join("proj").display());
    common::foundryctl(project.path())
        .args(["--endpoint", &absolute, "apply", "plan.json"])
        .assert()
        .code(0)
        .stdout(contains("Apply complete: 2 done"));
}

/// Protection is decided from the live store: the apply that created `scratch` stamped it
/// disposable, so destroy deletes it without a flag and without the manifests. Declaring a
/// populated store disposable and changing a create-only option in the same edit is refused.
#[test]
fn a_store_is_disposable_once_an_apply_stamped_it_so() {
    let project = Project::new();
    // The chat model is create-only too, and both are deployed in the emulator.
    let store = |chat: &str, disposable: bool| {
        format!(
            "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {{name: scratch}}\nspec:\n  chat_model: {chat}\n  embedding_model: text-embedding-3-large\n{}",
            if disposable {
                "  lifecycle: {disposable: true}\n"
            } else {
                ""
            }
        )
    };
    let file = project.write("m.yaml", &store("gpt-4.1-mini", false));
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    // One edit: disposable, and a create-only change. Blocked, and it says what is lost.
    project.write("m.yaml", &store("gpt-4.1-nano", true));
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(4)
        .stdout(contains(
            "would lose: all memories in memory_store/scratch, for every scope",
        ));
    // Declared disposable alone: stamped in place; then the change goes through, and says what
    // it cost.
    project.write("m.yaml", &store("gpt-4.1-mini", true));
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(contains("memory_store/scratch: updated in place"));
    project.write("m.yaml", &store("gpt-4.1-nano", true));
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(contains(
            "would lose: all memories in memory_store/scratch, for every scope",
        ))
        .stdout(contains("allowed by: the live store is stamped disposable"));
    project
        .cmd()
        .args(["destroy", "--auto-approve"])
        .assert()
        .code(0)
        .stdout(contains("memory_store/scratch: deleted"));
}

/// Manifest diagnostics follow `--color`: `always` colours them even off a terminal, `never`
/// and `NO_COLOR` (under `auto`) keep escapes out.
#[test]
fn manifest_diagnostics_follow_the_color_flag() {
    let project = Project::new();
    let file = project.write(
        "m.yaml",
        "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: a}\nspec: {modle: x}\n",
    );
    let run = |color: &str, no_color: bool| {
        let mut cmd = project.cmd();
        cmd.env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd
            .args(["--color", color, "plan", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let coloured = run("always", false);
    assert!(coloured.contains("\u{1b}["), "{coloured}");
    assert!(coloured.contains("modle"), "{coloured}");
    for (color, no_color) in [("never", false), ("auto", true)] {
        let plain = run(color, no_color);
        assert!(
            !plain.contains('\u{1b}'),
            "--color {color}, NO_COLOR {no_color}: {plain}"
        );
        assert!(plain.contains("modle"), "{plain}");
    }
}

/// A credential interpolated into a pass-through tool would land in the saved plan: `plan -o`
/// refuses to write it, names the field (never the value), and offers the ways out.
#[test]
fn plan_out_refuses_to_write_a_credential_of_a_pass_through_tool() {
    let project = Project::new();
    let file = project.write(
        "m.yaml",
        r#"apiVersion: foundryctl/v1
kind: Agent
metadata: {name: coder}
spec:
  model: gpt-4.1-mini
  tools:
    - type: mcp
      server_label: github
      server_url: https://example.test/mcp
      headers: {Authorization: "Bearer ${MCP_TOKEN}"}
"#,
    );
    project
        .cmd()
        .env("MCP_TOKEN", "s3cret-value")
        .args(["plan", "--out", "plan.json", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(contains(
            "refusing to save the plan to plan.json: it would hold credential-like values of \
             pass-through tools (agent/coder tools[0].headers.Authorization)",
        ))
        .stderr(contains(
            "hint: keep the credential in a project connection",
        ))
        .stderr(contains("s3cret-value").not())
        .stdout(contains("s3cret-value").not());
    assert!(!project.path().join("plan.json").exists());
}

/// `--out` is the plan file, `-o`/`--output` the format: `plan --out json` would silently write
/// a file named `json`. It is refused before anything is read, and `--out ./json` is taken as
/// meant.
#[test]
fn plan_out_with_a_format_name_is_refused_as_a_mistyped_output() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    project
        .cmd()
        .args(["plan", "--out", "json", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(
            "hint: did you mean --output json? --out names the plan file",
        ));
    assert!(!project.path().join("json").exists());
    project
        .cmd()
        .args(["plan", "--out", "./json", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    assert!(project.path().join("json").exists());
}

/// `-o` is the output format in every command; `plan -o plan.json` (the old spelling of the
/// plan file) is refused with an error that names `--out`, and writes nothing.
#[test]
fn plan_o_with_a_file_name_names_out() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    project
        .cmd()
        .args(["plan", "-o", "plan.json", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("to save the plan to a file, use --out plan.json"));
    assert!(!project.path().join("plan.json").exists());
    project
        .cmd()
        .args(["plan", "-o", "json", "-f"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(contains("\"format_version\": 1"));
    for command in [
        &["apply", "--help"][..],
        &["destroy", "--help"],
        &["import", "--help"],
        &["memory", "search", "--help"],
        &["agent", "invoke", "--help"],
        &["validate", "--help"],
        &["get", "--help"],
    ] {
        project
            .cmd()
            .args(command)
            .assert()
            .code(0)
            .stdout(contains("-o, --output <"));
    }
}

/// A misspelled `--allow-*` name used to be silently ignored; it is warned about (the exit
/// code stays what the plan says: a pipeline may always pass the flag), and so is an agent,
/// which is not protected.
#[test]
fn allow_flags_that_unblock_nothing_are_warned_about() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    project
        .cmd()
        .args(["plan", "-f"])
        .arg(&file)
        .args(["--allow-replace", "memory_store/prfs"])
        .args(["--allow-delete", "agent/buddy"])
        .assert()
        .code(0)
        .stderr(contains(
            "warning: --allow-replace memory_store/prfs has no effect: this plan replaces no such store",
        ))
        .stderr(contains(
            "warning: --allow-delete agent/buddy has no effect: agents are not protected",
        ));
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0)
        .stderr(contains("warning").not());
    // destroy: the typo is named, and the store stays protected (exit 4).
    project
        .cmd()
        .args(["destroy", "--auto-approve", "--allow-delete", "memory_store/prfs"])
        .assert()
        .code(4)
        .stderr(contains(
            "warning: --allow-delete memory_store/prfs has no effect: this plan deletes no such store",
        ));
    project
        .cmd()
        .args([
            "destroy",
            "--auto-approve",
            "--allow-delete",
            "memory_store/prefs",
        ])
        .assert()
        .code(0)
        .stderr(contains("warning").not());
}

#[test]
fn a_reference_to_a_store_the_plan_deletes_is_shown_at_the_memory_tool() {
    let project = Project::new();
    let both = r#"apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  instructions: Be brief.
"#;
    let file = project.write("m.yaml", both);
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    // The store leaves the manifests while a declared agent starts using it: `--prune` would
    // delete it under the agent.
    let agent_only = r#"apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: gpt-4.1-mini
  instructions: Be brief.
  tools:
    - type: memory_search
      memory_store_name: prefs
      scope: "{{$userId}}"
"#;
    let file = project.write("m.yaml", agent_only);
    project
        .cmd()
        .args(["plan", "--prune", "-f"])
        .arg(&file)
        .assert()
        .code(3)
        .stdout(contains(
            "agent/buddy references memory store `prefs`, which this plan deletes",
        ))
        .stderr(contains(
            "error: agent/buddy references memory store `prefs`, which this plan deletes\n --> ",
        ))
        .stderr(contains("m.yaml:9:7"));
}

/// A loopback "project" (or a proxy in front of one) that answers every request with `status`
/// and a body quoting the request's `Authorization` header back, as some gateways do. Returns
/// its endpoint.
fn reflecting_server(status: u16, json: bool) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let endpoint = format!(
        "http://{}/api/projects/p",
        listener.local_addr().expect("a local address")
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone the socket"));
            let (mut authorization, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((&line, ""));
                match name.to_ascii_lowercase().as_str() {
                    "authorization" => authorization = value.trim().to_owned(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            let _ = reader.read_exact(&mut vec![0; length]);
            let token = authorization.trim_start_matches("Bearer ");
            let message =
                format!("The header 'Authorization: {authorization}' was refused; token={token}");
            let body = if json {
                serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": message}})
                    .to_string()
            } else {
                format!("<html><body>{message}</body></html>")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: {}\r\ncontent-length: {}\r\n\
                 x-echo-authorization: {authorization}\r\nconnection: close\r\n\r\n{body}",
                if json {
                    "application/json"
                } else {
                    "text/html"
                },
                body.len()
            );
        }
    });
    endpoint
}

/// Issue 15: a 401/403 body or a proxy that reflects the `Authorization` header must not
/// bring the token into the error message or the `-v`/`-vv` log, whatever the token looks
/// like (opaque, or a JWT).
#[test]
fn a_token_reflected_by_the_service_is_never_printed() {
    let project = Project::new();
    let file = project.write("m.yaml", SEED);
    let tokens = [
        "opaque-S3CRET-token/+x=",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzM2NyZXQifQ.c2lnbmF0dXJl",
    ];
    for token in tokens {
        for (status, json) in [(401, true), (403, true), (400, true), (401, false)] {
            let endpoint = reflecting_server(status, json);
            for verbosity in ["-v", "-vv"] {
                let out = common::foundryctl(project.path())
                    .args(["--endpoint", &endpoint, verbosity])
                    .args(["--auth", "token", "plan", "-f"])
                    .arg(&file)
                    .env("FOUNDRY_TOKEN", token)
                    .output()
                    .expect("run foundryctl");
                let stderr = String::from_utf8_lossy(&out.stderr);
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert_eq!(out.status.code(), Some(1), "{stderr}");
                assert!(
                    stderr.contains(&format!("({status}"))
                        || stderr.contains(&format!(" {status} ")),
                    "{stderr}"
                );
                for text in [&stderr, &stdout] {
                    assert!(
                        !text.contains(token)
                            && !text.contains("S3CRET")
                            && !text.contains("eyJzdWIi"),
                        "{status} {json} {verbosity}: the token leaked:\n{text}"
                    );
                }
                if json {
                    assert!(stderr.contains("was refused"), "{stderr}");
                    assert!(stderr.contains("token=<redacted>"), "{stderr}");
                }
            }
        }
    }
}

/// Help lists only what a command uses: the target options where a project is talked to,
/// `--set` where resources are owned, neither on `schema` or `emulator`; `validate` takes the
/// target options for `--against-project` only. Given before
/// a command that would ignore them, they are refused rather than dropped.
#[test]
fn help_lists_only_the_options_a_command_uses() {
    let project = Project::new();
    let help = |args: &[&str]| -> String {
        let out = common::foundryctl(project.path())
            .args(args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let validate = help(&["validate"]);
    assert!(validate.contains("--against-project"), "{validate}");
    assert!(validate.contains("--endpoint"), "{validate}");
    assert!(!validate.contains("--set"), "{validate}");
    for command in [&["schema"][..], &["emulator"]] {
        let text = help(command);
        for flag in ["--endpoint", "--auth", "--api-version", "--set"] {
            assert!(!text.contains(flag), "{command:?} lists {flag}:\n{text}");
        }
        assert!(text.contains("--color"), "{command:?}");
    }
    // `get` takes `--set` as a filter (issue 10).
    for command in [
        &["plan"][..],
        &["apply"],
        &["destroy"],
        &["import"],
        &["get"],
    ] {
        let text = help(command);
        for flag in ["--endpoint", "--auth", "--api-version", "--set"] {
            assert!(text.contains(flag), "{command:?} lacks {flag}:\n{text}");
        }
    }
    for command in [&["memory", "search"][..], &["agent", "invoke"]] {
        let text = help(command);
        assert!(text.contains("--endpoint"), "{command:?}");
        assert!(!text.contains("--set"), "{command:?} lists --set:\n{text}");
    }
    assert!(help(&["plan"]).contains("Usage: foundryctl plan -f <FILE|DIR>..."));
    assert!(help(&["apply"]).contains("docs/apply-json.md"));

    common::foundryctl(project.path())
        .args(["--endpoint", "local:proj", "validate", "-f", "m.yaml"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: --endpoint has no effect on `validate` without --against-project",
        ))
        .stderr(contains("hint: add --against-project"));
    common::foundryctl(project.path())
        .args(["validate", "-f", "m.yaml", "--endpoint", "local:proj"])
        .assert()
        .code(1)
        .stderr(contains(
            "error: --endpoint has no effect on `validate` without --against-project",
        ));
    common::foundryctl(project.path())
        .args(["--set", "blue", "agent", "invoke", "buddy", "hi"])
        .assert()
        .code(1)
        .stderr(contains(
            "--set has no effect on `agent`, which owns no resources",
        ));
    // After the command, where its help lists them, and before it: the same.
    let file = project.write("m.yaml", SEED);
    for args in [
        vec!["plan", "--set", "blue", "--endpoint", "local:proj", "-f"],
        vec!["--set", "blue", "--endpoint", "local:proj", "plan", "-f"],
    ] {
        common::foundryctl(project.path())
            .args(&args)
            .arg(&file)
            .assert()
            .code(0)
            .stderr(contains(
                "target: local emulator (proj, not created yet: empty)",
            ));
    }
    // `memory` takes them before or after its subcommand.
    common::foundryctl(project.path())
        .args(["memory", "list", "--endpoint", "local:proj", "--store", "x"])
        .args(["--scope", "s"])
        .assert()
        .stderr(contains(
            "target: local emulator (proj, not created yet: empty)",
        ));
}

/// No document in the repository cites one that is not in it.
#[test]
fn no_doc_cites_a_document_outside_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.to_path_buf()];
    let mut cited = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else if name.ends_with(".md") || name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let design = ["DESIGN", ".md"].concat();
                let section = ['D', 'E', 'S', 'I', 'G', 'N', ' ', '§']
                    .iter()
                    .collect::<String>();
                if text.contains(&design) || text.contains(&section) {
                    cited.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        cited.is_empty(),
        "cite a document not in the repository: {cited:?}"
    );
}

/// Hints are printed once, after the whole error chain, in one style.
#[test]
fn hints_follow_the_error_chain_once() {
    let project = Project::new();
    let out = project
        .cmd()
        .args(["apply", "missing.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    let error = lines
        .iter()
        .position(|l| l.starts_with("error: failed to read the plan file"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(lines[error + 1].starts_with("  caused by: "), "{stderr}");
    assert_eq!(
        lines.last().copied(),
        Some("hint: to apply manifests, pass them with -f: `foundryctl apply -f missing.yaml`"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("hint:").count(), 1, "{stderr}");
}

/// Runs foundryctl in `project` (against its project, for the commands that read one) with
/// stdout a pipe whose reader has already gone, as `foundryctl plan | head -1` leaves it once
/// `head` has its line. Returns the exit code and stderr.
fn with_reader_gone(project: &Project, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("create a pipe");
    drop(reader);
    let endpoint = project.endpoint();
    let offline = ["validate", "schema"].contains(&args[0]);
    let target: &[&str] = if offline {
        &[]
    } else {
        &["--endpoint", &endpoint]
    };
    let output = common::foundryctl_std(project.path())
        .args(target)
        .args(args)
        .stdout(writer)
        .output()
        .expect("run foundryctl");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

#[test]
fn a_reader_that_stops_reading_is_no_error_but_apply_stops_before_changing_anything() {
    let project = Project::new();
    project.write("m/seed.yaml", SEED);
    for (args, code) in [
        (&["plan", "--detailed-exitcode", "-f", "m"][..], 2),
        (
            &["plan", "--detailed-exitcode", "-f", "m", "-o", "json"][..],
            2,
        ),
        (&["validate", "-f", "m"][..], 0),
        (&["validate", "-f", "m", "-o", "json"][..], 0),
        (&["schema", "--path", "-"][..], 0),
    ] {
        let (status, stderr) = with_reader_gone(&project, args);
        assert_eq!(status, Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // The plan cannot be written, so nothing is changed: a reader that has gone must not turn
    // into an apply nobody saw. (A plan small enough for the pipe's buffer is written, read or
    // not: there is no telling.)
    let (status, stderr) = with_reader_gone(&project, &["apply", "--auto-approve", "-f", "m"]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("failed to write the plan"), "{stderr}");
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "-f", "m"])
        .assert()
        .code(2)
        .stdout(contains("Plan: 2 to add"));
    // Once applied, what reports on it may lose its reader: the change was made. And a plan
    // that changes nothing ends as it would have: there is nothing to see before.
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f", "m"])
        .assert()
        .success();
    for args in [
        &["get"][..],
        &["get", "-o", "yaml"][..],
        &["get", "agent/buddy", "-o", "json"][..],
        &["apply", "--auto-approve", "-f", "m", "-o", "json"][..],
        &["apply", "--auto-approve", "-f", "m"][..],
    ] {
        let (status, stderr) = with_reader_gone(&project, args);
        assert_eq!(status, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
    // A refused plan keeps its own code (the store is protected: 4).
    let (status, stderr) = with_reader_gone(&project, &["destroy", "--auto-approve"]);
    assert_eq!(status, Some(4), "{stderr}");
    assert!(
        stderr.contains("blocked by data-loss protection"),
        "{stderr}"
    );
}

#[test]
fn another_sets_manifests_are_named_by_get_and_destroy_deletes_nothing() {
    let project = Project::new();
    let seed = project.write("seed.yaml", SEED);
    let team = project.write(
        "team.yaml",
        "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: team-bot}\n\
         spec: {model: gpt-4.1-mini}\n",
    );
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f"])
        .arg(&seed)
        .assert()
        .success();
    project
        .cmd()
        .args(["apply", "--set", "team", "--auto-approve", "-f"])
        .arg(&team)
        .assert()
        .success();
    // A misspelt set shows nothing, and says which sets there are; a set that has resources,
    // only none that match, says nothing of the kind.
    project
        .cmd()
        .args(["get", "--set", "teem"])
        .assert()
        .success()
        .stdout(contains("team-bot").not())
        .stderr(contains(
            "note: the project has no resource of set `teem`; it has sets `default`, `team`",
        ));
    project
        .cmd()
        .args(["get", "--set", "team", "-l", "tier=gold"])
        .assert()
        .success()
        .stderr(contains("note:").not());
    // `--set team` forgotten: set `default` is what destroy would have deleted.
    project
        .cmd()
        .args([
            "destroy",
            "--auto-approve",
            "--allow-delete",
            "memory_store/prefs",
            "-f",
        ])
        .arg(&team)
        .assert()
        .code(1)
        .stderr(contains(
            "the manifests declare resources of set `team` and none of set `default`",
        ))
        .stderr(contains("hint: to destroy that set, pass --set team"));
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&seed)
        .assert()
        .code(0);
    // With the set named, it goes ahead.
    project
        .cmd()
        .args(["destroy", "--set", "team", "--auto-approve", "-f"])
        .arg(&team)
        .assert()
        .success();
    project
        .cmd()
        .args(["get", "--set", "team"])
        .assert()
        .success()
        .stdout(contains("team-bot").not());
}

#[test]
fn a_manifest_path_without_f_is_a_usage_error_with_the_fix() {
    let project = Project::new();
    project.write("m/seed.yaml", SEED);
    for command in ["validate", "plan"] {
        common::foundryctl(project.path())
            .args([command, "m"])
            .assert()
            .code(1)
            .stderr(contains("unexpected argument 'm' found"))
            .stderr(contains("tip: manifests are passed with -f: `-f m`"));
    }
    // Not for a command without -f, nor for a word that names no file.
    for args in [&["memory", "list", "m"][..], &["plan", "missing"][..]] {
        common::foundryctl(project.path())
            .args(args)
            .assert()
            .code(1)
            .stderr(contains("tip: manifests are passed").not());
    }
}

#[test]
fn a_stderr_that_cannot_be_written_does_not_change_the_exit_code() {
    // A full disk behind `2>`: every write to stderr fails (ENOSPC).
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // Not Linux: nothing to test with.
    };
    let project = Project::new();
    project.write("m/seed.yaml", SEED);
    for (args, code) in [
        (&["plan", "--detailed-exitcode", "-f", "m"][..], 2),
        (&["plan", "-f", "missing"][..], 1),
        (&["validate", "-f", "m", "--no-such-flag"][..], 1),
    ] {
        let status = common::foundryctl_std(project.path())
            .args(["--endpoint", &project.endpoint()])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(full.try_clone().expect("clone /dev/full"))
            .status()
            .expect("run foundryctl");
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
    // Under --output json the plan's text on stderr is for people; the report on stdout holds
    // the plan, so the run goes on without the text.
    let output = common::foundryctl_std(project.path())
        .args(["--endpoint", &project.endpoint()])
        .args(["apply", "--auto-approve", "-o", "json", "-f", "m"])
        .stderr(full)
        .output()
        .expect("run foundryctl");
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["result"], "complete", "{report}");
    project
        .cmd()
        .args(["plan", "--detailed-exitcode", "-f", "m"])
        .assert()
        .code(0);
}

#[test]
fn a_mistyped_manifest_path_creates_no_project() {
    let project = Project::new();
    for args in [
        &["apply", "--auto-approve", "-f", "manifsts"][..],
        &["import", "agent/buddy", "--auto-approve", "-f", "manifsts"][..],
    ] {
        project
            .cmd()
            .args(args)
            .assert()
            .code(1)
            .stderr(contains("error: failed to read the manifests"))
            .stderr(contains("caused by: read manifsts"));
        assert!(
            !project.path().join("project").exists(),
            "{args:?} created the project"
        );
    }
}
