//! The memory workflow end to end through the built binary, against the embedded emulator:
//! the README tutorial run exactly as written (so the README cannot drift from the tool), the
//! `--output json` shape of every memory and agent command (insta snapshots, with ids and
//! timestamps redacted), and the behaviours around them: superseded updates, helpful 404s,
//! the preview api-version, confirmation off a terminal.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use foundryctl::env::Env;
use foundryctl::foundry::AuthMode;
use foundryctl::foundry::target::{Origin, Target};
use foundryctl::foundry::{ApiVersion, TransportConfig};
use foundryctl::model::{
    AgentName, AgentSpec, MemorySearchTool, MemoryStoreName, MemoryStoreSpec, Tool,
};
use foundryctl::ops::session::Connection;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_foundryctl");
const STORE: &str = "dev-prefs-memory";
const AGENT: &str = "dev-buddy";

mod common;

use common::copy_dir;
use common::readme::{self, shell_words};

/// [`common::foundryctl`]'s isolated environment, for a process the test must talk to while
/// it runs (which `assert_cmd` cannot spawn).
fn spawnable(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("PROJECT_ENDPOINT")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .env_remove("CHAT_MODEL")
        .env_remove("EMBEDDING_MODEL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// Runs the binary in `dir` (isolated environment, stdin closed, a timeout).
fn run(dir: &Path, args: &[&str]) -> Output {
    common::foundryctl(dir)
        .args(args)
        .output()
        .expect("foundryctl runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> &Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    o
}

// --- the README tutorial ----------------------------------------------------------------------

/// The heading of the tutorial section; its `sh` blocks, up to the next `## ` heading, are run.
const TUTORIAL: &str = "## Tutorial: an assistant that remembers";

/// The tutorial's command lines, in order, as words.
fn tutorial_commands(readme: &str) -> Vec<Vec<String>> {
    readme::section_commands(readme, TUTORIAL)
        .iter()
        .map(|line| shell_words(line))
        .filter(|words| !words.is_empty())
        .collect()
}

#[test]
fn shell_words_follow_sh_quoting() {
    assert_eq!(
        shell_words(r#"foundryctl x "a b" 'c "d"' e\ f # comment"#),
        ["foundryctl", "x", "a b", "c \"d\"", "e f"]
    );
    assert!(shell_words("# only a comment").is_empty());
}

/// What each tutorial step must show, in README order. The README may reword prose freely,
/// but a changed command list fails here until this table is updated with it.
type Check = fn(&Output);

fn tutorial_checks() -> Vec<(&'static str, Check)> {
    vec![
        ("foundryctl apply -f manifests/seed", |o| {
            let all = format!("{}{}", stdout(o), stderr(o));
            assert!(all.contains(STORE) && all.contains(AGENT), "{all}");
        }),
        (
            "foundryctl memory add --store dev-prefs-memory --scope user_dana",
            |o| {
                assert!(
                stdout(o).contains(
                    "+ user_profile  The user said: I write Rust on Linux and prefer terse answers."
                ),
                "{}",
                stdout(o)
            );
            },
        ),
        (
            "foundryctl memory search --store dev-prefs-memory --scope user_dana",
            |o| {
                assert!(stdout(o).contains("I write Rust on Linux"), "{}", stdout(o));
            },
        ),
        (
            "foundryctl agent invoke dev-buddy \"My favourite editor",
            |o| {
                assert!(stdout(o).contains("dev-buddy (version 1)"), "{}", stdout(o));
            },
        ),
        ("sleep", |_| {}),
        ("foundryctl agent invoke dev-buddy \"Which IDE", |o| {
            // The second call has no history: the answer comes from memory.
            assert!(
                stdout(o).contains("Your favourite editor is Helix."),
                "{}",
                stdout(o)
            );
        }),
        (
            "foundryctl agent invoke dev-buddy \"I want answers as bullet points",
            |_| {},
        ),
        ("sleep", |_| {}),
        (
            "foundryctl agent invoke dev-buddy \"How should replies be formatted",
            |o| {
                assert!(stdout(o).contains("bullet points"), "{}", stdout(o));
            },
        ),
        (
            "foundryctl agent invoke dev-buddy \"Which IDE should I open?\" --user-id user_sam",
            |o| {
                let out = stdout(o);
                assert!(
                    !out.contains("Helix"),
                    "Sam must not see Dana's memories: {out}"
                );
                assert!(out.contains("memory search found nothing"), "{out}");
            },
        ),
        (
            "foundryctl memory search --store dev-prefs-memory --scope user_sam",
            |o| {
                assert_eq!(stdout(o), "", "Sam's scope must be empty");
                assert!(stderr(o).contains("no memories found in scope user_sam"));
            },
        ),
        (
            "foundryctl agent invoke dev-buddy \"I am learning Go",
            |_| {},
        ),
        ("sleep", |_| {}),
        (
            "foundryctl agent invoke dev-buddy \"What programming topic comes next",
            |o| {
                let out = stdout(o);
                assert!(
                    out.contains("dev-buddy (version 1)") && out.contains("learning Go"),
                    "{out}"
                );
                assert!(
                    !out.contains("Rust"),
                    "Sam must not see Dana's memories: {out}"
                );
            },
        ),
        (
            "foundryctl agent invoke dev-buddy \"What coding language fits",
            |o| {
                let out = stdout(o);
                assert!(
                    out.contains("dev-buddy (version 1)") && out.contains("Rust"),
                    "{out}"
                );
                assert!(
                    !out.contains("Go."),
                    "Dana must not see Sam's memories: {out}"
                );
            },
        ),
        (
            "foundryctl memory list --store dev-prefs-memory --scope user_sam",
            |o| {
                let out = stdout(o);
                assert!(out.contains("The user said: I am learning Go."), "{out}");
                assert!(!out.contains("Rust") && !out.contains("Helix"), "{out}");
            },
        ),
        (
            "foundryctl memory forget --store dev-prefs-memory --scope user_sam --yes",
            |o| {
                assert!(stdout(o).contains("forgot scope user_sam"), "{}", stdout(o));
            },
        ),
        (
            "foundryctl memory search --store dev-prefs-memory --scope user_sam",
            |o| {
                assert_eq!(stdout(o), "", "a forgotten scope has no memories");
            },
        ),
    ]
}

/// What the tutorial teaches and the questions that must recall it: natural questions sharing
/// no word with the taught sentence, as a user would ask them (issue 11). The memory search
/// ranks by similarity, not by shared words, so these must still find their memory.
const TAUGHT_AND_ASKED: &[(&str, &str)] = &[
    (
        "I write Rust on Linux and prefer terse answers.",
        "What coding language fits this developer?",
    ),
    ("My favourite editor is Helix.", "Which IDE should I open?"),
    (
        "I want answers as bullet points.",
        "How should replies be formatted?",
    ),
    (
        "I am learning Go.",
        "What programming topic comes next for this student?",
    ),
];

#[test]
fn the_tutorial_asks_questions_sharing_no_word_with_what_it_taught() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    for (taught, asked) in TAUGHT_AND_ASKED {
        assert!(
            readme.contains(taught),
            "the README no longer teaches {taught:?}"
        );
        assert!(
            readme.contains(asked),
            "the README no longer asks {asked:?}"
        );
        let shared: Vec<String> = words(asked)
            .into_iter()
            .filter(|w| words(taught).contains(w))
            .collect();
        assert!(
            shared.is_empty(),
            "{asked:?} repeats {shared:?} of {taught:?}"
        );
    }
}

#[test]
fn the_readme_tutorial_lists_exactly_the_checked_steps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = tutorial_commands(&readme);
    let checks = tutorial_checks();
    let listed: Vec<String> = commands.iter().map(|c| shell_join(c)).collect();
    assert_eq!(
        commands.len(),
        checks.len(),
        "the tutorial's commands and this test's checks differ:\n{listed:#?}"
    );
    for (line, (expected, _)) in listed.iter().zip(&checks) {
        assert!(
            line.starts_with(expected),
            "README step `{line}` is not the expected `{expected}…`"
        );
    }
}

#[test]
fn the_readme_tutorial_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = tutorial_commands(&readme);
    let checks = tutorial_checks();
    let listed: Vec<String> = commands.iter().map(|c| c.join(" ")).collect();
    assert_eq!(
        commands.len(),
        checks.len(),
        "the tutorial's commands and this test's checks differ:\n{listed:#?}"
    );
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root.join("manifests"), &dir.path().join("manifests"));

    for (words, (expected, check)) in commands.iter().zip(&checks) {
        let line = shell_join(words);
        assert!(
            line.starts_with(expected),
            "README step `{line}` is not the expected `{expected}…`"
        );
        match words[0].as_str() {
            "sleep" => {
                let secs: u64 = words[1].parse().expect("sleep takes whole seconds");
                assert!(secs <= 5, "keep the tutorial's waits short");
                std::thread::sleep(Duration::from_secs(secs));
            }
            "foundryctl" => {
                let words: Vec<&str> = words[1..].iter().map(String::as_str).collect();
                let out = run(dir.path(), &words);
                ok(&out);
                let first = stderr(&out).lines().next().unwrap_or_default().to_owned();
                assert!(
                    [
                        "target: local emulator (.foundryctl/local)",
                        "target: local emulator (.foundryctl/local, created now: empty)",
                    ]
                    .contains(&first.as_str()),
                    "`{line}` must announce the local target first:\n{}",
                    stderr(&out)
                );
                check(&out);
            }
            other => panic!("the tutorial runs `{other}`, which this test cannot run"),
        }
    }
}

/// The words as the README writes them (quoted when they hold spaces), for prefix matching.
fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if w.contains(' ') {
                format!("\"{w}\"")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// --- JSON shapes and behaviours on a seeded project --------------------------------------------

/// A temp dir whose `local/` project holds the seed's store and agent, created through the
/// library so these tests do not depend on `apply`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("local");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let target = Target::Local {
                dir: local,
                origin: Origin::Flag,
            };
            let connection = Connection::open(
                target,
                ApiVersion::V1,
                AuthMode::Auto,
                &Env::default(),
                TransportConfig::default(),
            )
            .await
            .unwrap();
            let client = &connection.client;
            let store = MemoryStoreName::new(STORE).unwrap();
            let spec = MemoryStoreSpec {
                description: "Developer preferences.".into(),
                chat_model: "gpt-4.1-mini".into(),
                embedding_model: "text-embedding-3-large".into(),
                ..Default::default()
            };
            client
                .create_store(&store, &spec, &Default::default())
                .await
                .unwrap();
            let agent = AgentSpec {
                model: "gpt-4.1-mini".into(),
                instructions: Some("Always call the memory tool.".into()),
                tools: vec![Tool::MemorySearch(MemorySearchTool {
                    memory_store_name: store,
                    scope: "{{$userId}}".into(),
                    max_memories: None,
                    update_delay: Some(0),
                })],
                ..Default::default()
            };
            client
                .create_agent_version(&AgentName::new(AGENT).unwrap(), &agent, &Default::default())
                .await
                .unwrap();
            connection.close().await;
        });
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `foundryctl --endpoint local:local ARGS`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--endpoint", "local:local"];
        all.extend_from_slice(args);
        run(self.path(), &all)
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        ok(&out);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(&out)))
    }
}

/// Ids and timestamps differ per run; everything else in a report is deterministic.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "memory_id" | "update_id" | "response_id" | "conversation" if v.is_string() => {
                        *v = Value::String(format!("[{key}]"));
                    }
                    "updated_at" if v.is_number() => *v = Value::String("[timestamp]".into()),
                    "superseded" => {
                        if let Value::Array(ids) = v {
                            for id in ids {
                                *id = Value::String("[update_id]".into());
                            }
                        }
                    }
                    _ => redact(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn redacted(mut value: Value) -> Value {
    redact(&mut value);
    value
}

#[test]
fn every_memory_and_agent_command_has_a_stable_json_shape() {
    let p = Project::new();
    let add = p.json(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--user",
        "I write Rust on Linux.",
        "--assistant",
        "Noted.",
        "--output",
        "json",
    ]);
    insta::assert_json_snapshot!("memory_add", redacted(add));

    let search = p.json(&[
        "memory",
        "search",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "What coding language fits this developer?",
        "--max",
        "1",
        "--output",
        "json",
    ]);
    insta::assert_json_snapshot!("memory_search", redacted(search));

    let list = p.json(&[
        "memory",
        "list",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--kind",
        "user_profile",
        "--output",
        "json",
    ]);
    let id = list["memories"][0]["memory_id"]
        .as_str()
        .unwrap()
        .to_owned();
    insta::assert_json_snapshot!("memory_list", redacted(list));

    let invoke = p.json(&[
        "agent",
        "invoke",
        AGENT,
        "What coding language fits this developer?",
        "--user-id",
        "user_dana",
        "--show-memories",
        "--output",
        "json",
    ]);
    insta::assert_json_snapshot!("agent_invoke", redacted(invoke));

    let delete = p.json(&[
        "memory", "delete", "--store", STORE, &id, "--output", "json",
    ]);
    insta::assert_json_snapshot!("memory_delete", redacted(delete));

    let forget = p.json(&[
        "memory",
        "forget",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--yes",
        "--output",
        "json",
    ]);
    insta::assert_json_snapshot!("memory_forget", redacted(forget));
}

/// Issue 11, as reported: a question sharing no word with what was taught answered "no memories
/// found", and the agent said it had none. Now the search answers with the nearest memory and
/// the agent tells it back; a user with no memories still hears that it has none.
#[test]
fn issue_11_a_question_in_other_words_recalls_the_memory() {
    let p = Project::new();
    ok(&p.run(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--user",
        "I work mostly in Python and I like short, code-first answers.",
    ]));
    let question = "What are this developer's coding preferences?";
    let search = p.run(&[
        "memory",
        "search",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        question,
    ]);
    ok(&search);
    assert!(
        stdout(&search).contains("I work mostly in Python"),
        "{}{}",
        stdout(&search),
        stderr(&search)
    );
    let invoke = p.run(&["agent", "invoke", AGENT, question, "--user-id", "user_dana"]);
    ok(&invoke);
    assert!(
        stdout(&invoke)
            .contains("You work mostly in Python and you like short, code-first answers."),
        "{}",
        stdout(&invoke)
    );
    let stranger = p.run(&["agent", "invoke", AGENT, question, "--user-id", "user_kim"]);
    ok(&stranger);
    let out = stdout(&stranger);
    assert!(out.contains("I have no memories of you yet"), "{out}");
    assert!(
        !out.contains("Python"),
        "Kim must not see Dana's memories: {out}"
    );
}

#[test]
fn a_conversation_file_teaches_several_scopes_in_one_run() {
    let p = Project::new();
    std::fs::write(
        p.path().join("conversation.yaml"),
        "user_dana:\n  - {role: user, text: I deploy on Fridays.}\n  - {role: assistant, text: Brave.}\n\
         user_sam:\n  - {role: user, text: I never deploy on Fridays.}\n",
    )
    .unwrap();
    let add = p.json(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--file",
        "conversation.yaml",
        "--output",
        "json",
    ]);
    insta::assert_json_snapshot!("memory_add_file", redacted(add));
    let sam = p.json(&[
        "memory",
        "search",
        "--store",
        STORE,
        "--scope",
        "user_sam",
        "When do I deploy?",
        "--output",
        "json",
    ]);
    let contents: Vec<&str> = sam["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(contents.iter().all(|c| c.contains("never")), "{contents:?}");
}

#[test]
fn a_conversation_comes_from_stdin_with_dash_and_empty_text_is_refused() {
    let p = Project::new();
    let out = common::foundryctl(p.path())
        .args([
            "--endpoint",
            "local:local",
            "memory",
            "add",
            "--store",
            STORE,
        ])
        .args(["--scope", "user_dana", "--file", "-", "--output", "json"])
        .write_stdin("- {role: user, text: I review code in the morning.}\n")
        .output()
        .unwrap();
    ok(&out);
    let add: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(add["updates"][0]["status"], "completed", "{add}");

    let out = p.run(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--user",
        " ",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the text is empty; there is nothing to remember"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_superseded_update_is_followed_to_the_one_that_took_its_turns() {
    let p = Project::new();
    // A slow update (due in 5 s), then a fast one for the same scope while it is queued.
    let mut slow = spawnable(p.path())
        .args([
            "--endpoint",
            "local:local",
            "-v",
            "memory",
            "add",
            "--store",
            STORE,
            "--scope",
            "user_dana",
            "--user",
            "I drink green tea.",
            "--update-delay",
            "5",
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the slow update is queued: its -v log says so. The reader drains stderr to
    // the end (a closed pipe would break the child), and ends when the child does.
    let log = BufReader::new(slow.stderr.take().unwrap());
    let (queued_tx, queued_rx) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            if line.contains(":update_memories 202") {
                let _ = queued_tx.send(());
            }
        }
    });
    queued_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the slow update was accepted");
    let fast = p.json(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--user",
        "I write Rust.",
        "--output",
        "json",
    ]);
    let slow = slow.wait_with_output().unwrap();
    drain.join().unwrap();
    ok(&slow);
    let slow: Value = serde_json::from_slice(&slow.stdout).unwrap();
    let update = &slow["updates"][0];
    assert_eq!(update["status"], "completed");
    assert_eq!(update["superseded"].as_array().unwrap().len(), 1);
    assert_eq!(update["update_id"], fast["updates"][0]["update_id"]);
    let contents = update["operations"].to_string();
    assert!(
        contents.contains("green tea") && contents.contains("Rust"),
        "{contents}"
    );
}

#[test]
fn unknown_stores_and_agents_are_named_with_what_exists() {
    let p = Project::new();
    let out = p.run(&[
        "memory",
        "search",
        "--store",
        "dev-prefs",
        "--scope",
        "u",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("memory store `dev-prefs` does not exist"),
        "{err}"
    );
    assert!(
        err.contains("hint: the memory stores in this project are: dev-prefs-memory"),
        "{err}"
    );

    for args in [
        &[
            "memory",
            "add",
            "--store",
            "nope",
            "--scope",
            "u",
            "--user",
            "I am here.",
        ][..],
        &["memory", "list", "--store", "nope", "--scope", "u"],
        &[
            "memory", "forget", "--store", "nope", "--scope", "u", "--yes",
        ],
        &["memory", "delete", "--store", "nope", "some-id"],
    ] {
        let err = stderr(&p.run(args));
        assert!(
            err.contains("memory store `nope` does not exist"),
            "{args:?}: {err}"
        );
    }

    let out = p.run(&["agent", "invoke", "dev-bud", "hi"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("agent `dev-bud` does not exist"), "{err}");
    assert!(
        err.contains("the agents in this project are: dev-buddy"),
        "{err}"
    );

    let err = stderr(&p.run(&["agent", "invoke", AGENT, "hi", "--version", "9"]));
    assert!(
        err.contains("has no version \"9\"") && err.contains("versions are: 1"),
        "{err}"
    );

    let err = stderr(&p.run(&["memory", "delete", "--store", STORE, "no-such-id"]));
    assert!(
        err.contains("memory no-such-id is not in store dev-prefs-memory"),
        "{err}"
    );
}

#[test]
fn invoke_starts_and_continues_a_conversation_and_names_an_unknown_one() {
    let p = Project::new();
    let first = p.json(&[
        "agent",
        "invoke",
        AGENT,
        "My favourite editor is Helix.",
        "--user-id",
        "user_conv",
        "--new-conversation",
        "--output",
        "json",
    ]);
    let id = first["conversation"].as_str().unwrap().to_owned();
    assert!(id.starts_with("conv_"), "{first}");
    insta::assert_json_snapshot!("agent_invoke_new_conversation", redacted(first));

    // The second turn sees the first, which the conversation holds.
    let out = p.run(&[
        "agent",
        "invoke",
        AGENT,
        "Which editor do I use?",
        "--user-id",
        "user_conv",
        "--conversation",
        &id,
    ]);
    let text = stdout(ok(&out));
    assert!(
        text.contains("Earlier in this conversation you said: My favourite editor is Helix."),
        "{text}"
    );
    assert!(!text.contains("started;"), "{text}");

    // A new conversation starts empty, and its id is printed to continue it.
    let out = p.run(&["agent", "invoke", AGENT, "Hello.", "--new-conversation"]);
    let text = stdout(ok(&out));
    assert!(!text.contains("Earlier in this conversation"), "{text}");
    let line = text.lines().last().unwrap();
    assert!(
        line.starts_with("conversation conv_")
            && line.contains("continue it with --conversation conv_"),
        "{text}"
    );

    let out = p.run(&[
        "agent",
        "invoke",
        AGENT,
        "hi",
        "--conversation",
        "conv_doesnotexist",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("conversation `conv_doesnotexist` does not exist in this project")
            && err.contains("--new-conversation"),
        "{err}"
    );

    let out = p.run(&[
        "agent",
        "invoke",
        AGENT,
        "hi",
        "--conversation",
        &id,
        "--new-conversation",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("'--conversation <ID>' cannot be used with '--new-conversation'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn item_commands_explain_that_the_preview_api_version_has_no_items() {
    let p = Project::new();
    for args in [
        &["memory", "list", "--store", STORE, "--scope", "u"][..],
        &["memory", "delete", "--store", STORE, "id"],
    ] {
        let mut all = vec!["--api-version", "2025-11-15-preview"];
        all.extend_from_slice(args);
        let out = p.run(&all);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("exist only on api-version v1, not 2025-11-15-preview"),
            "{err}"
        );
        assert!(err.contains("hint: drop --api-version"), "{err}");
    }
    // Search and Responses work on the preview version.
    let search = p.run(&[
        "--api-version",
        "2025-11-15-preview",
        "memory",
        "search",
        "--store",
        STORE,
        "--scope",
        "u",
        "x",
    ]);
    ok(&search);
    let invoke = p.run(&[
        "--api-version",
        "2025-11-15-preview",
        "agent",
        "invoke",
        AGENT,
        "hi",
    ]);
    assert!(stdout(ok(&invoke)).contains("dev-buddy (version 1)"));
}

#[test]
fn forget_off_a_terminal_needs_yes_and_never_reads_stdin() {
    let p = Project::new();
    ok(&p.run(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--user",
        "I write Rust.",
    ]));
    // A "y" on a pipe is not consent: nothing is read and nothing deleted.
    let mut child = spawnable(p.path())
        .args([
            "--endpoint",
            "local:local",
            "memory",
            "forget",
            "--store",
            STORE,
            "--scope",
            "user_dana",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"y\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("hint: pass --yes"),
        "{}",
        stderr(&out)
    );
    let left = p.json(&[
        "memory",
        "list",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--output",
        "json",
    ]);
    assert!(!left["memories"].as_array().unwrap().is_empty());
}

#[test]
fn without_an_endpoint_the_commands_use_the_local_project_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["memory", "search", "--store", STORE, "--scope", "u", "x"],
    );
    assert!(
        stderr(&out)
            .starts_with("target: local emulator (.foundryctl/local, not created yet: empty)\n"),
        "{}",
        stderr(&out)
    );
    // A read finds no project and creates none (issue 10).
    assert!(!dir.path().join(".foundryctl").exists());
    assert!(
        stderr(&out).contains("no memory stores yet"),
        "{}",
        stderr(&out)
    );
    let ci = common::foundryctl(dir.path())
        .env("CI", "true")
        .args(["agent", "invoke", AGENT, "hi"])
        .output()
        .unwrap();
    assert_eq!(ci.status.code(), Some(1));
    assert!(
        stderr(&ci).contains("not used implicitly in a pipeline"),
        "{}",
        stderr(&ci)
    );
}

#[test]
fn list_reads_every_page_of_a_large_scope() {
    let p = Project::new();
    // One turn of 120 statements: 120 profile memories and one summary, past one page (100).
    let statements: String = (0..120).map(|i| format!("I like topic{i}. ")).collect();
    ok(&p.run(&[
        "memory",
        "add",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--user",
        &statements,
    ]));
    let all = p.json(&[
        "memory",
        "list",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--output",
        "json",
    ]);
    assert_eq!(all["memories"].as_array().unwrap().len(), 121);
    let summaries = p.json(&[
        "memory",
        "list",
        "--store",
        STORE,
        "--scope",
        "user_dana",
        "--kind",
        "chat_summary",
        "--output",
        "json",
    ]);
    assert_eq!(summaries["memories"].as_array().unwrap().len(), 1);
}

/// Issue 14: `memory add` waited a fixed 500 ms before its first poll, so it never took less,
/// even against an emulator that finishes updates at once. Now the first wait is short and
/// doubles; `-vv` logs each wait the client asks for, so this counts them rather than timing
/// the process (which a busy machine would make flaky).
#[test]
fn memory_add_against_an_instant_emulator_waits_only_a_few_milliseconds() {
    // `Config::default()`: no processing time, so an update with no delay is done at the first
    // poll.
    let live = common::live::Live::start(foundry_emulator::FaultConfig::default());
    let spec = MemoryStoreSpec {
        description: "Developer preferences.".into(),
        chat_model: "gpt-4.1-mini".into(),
        embedding_model: "text-embedding-3-large".into(),
        ..Default::default()
    };
    live.block_on(live.client.create_store(
        &MemoryStoreName::new(STORE).unwrap(),
        &spec,
        &Default::default(),
    ))
    .unwrap();
    let add = live
        .cmd()
        .args([
            "-vv",
            "memory",
            "add",
            "--store",
            STORE,
            "--scope",
            "user_dana",
            "--user",
            "I write Rust.",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    ok(&add);
    let added: Value = serde_json::from_slice(&add.stdout).unwrap();
    assert_eq!(added["updates"][0]["status"], "completed");
    let waits: Vec<u64> = stderr(&add)
        .lines()
        .filter_map(|l| l.split_once("polling again in ")?.1.strip_suffix(" ms"))
        .map(|ms| ms.parse().unwrap())
        .collect();
    assert!(!waits.is_empty(), "the update was polled: {}", stderr(&add));
    assert!(
        waits.iter().sum::<u64>() < 50,
        "waited {waits:?} ms before the polls"
    );
}
