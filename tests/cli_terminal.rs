//! End to end, what only a running process shows: Ctrl-C in the middle of an apply (once:
//! in-flight writes finish and the report says what was done; twice: out at once; and still
//! after a stale saved plan has stopped the run), and the
//! questions `apply` and `memory forget` ask at a terminal, answered through a real
//! pseudo-terminal (`script`).
//!
//! Each test drives the binary as a child process and reads its output as it comes, so it can
//! act at the right moment (after the plan is shown, after the first write) instead of sleeping
//! and hoping.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write as _};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::Project;
use common::live::Live;
use foundry_emulator::FaultConfig;
use predicates::prelude::*;

/// Three independent agents: with `--parallelism 1` they are written one after another.
const AGENTS: &str = r#"apiVersion: foundryctl/v1
kind: Agent
metadata: {name: first}
spec: {model: gpt-4.1-mini, instructions: One.}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: second}
spec: {model: gpt-4.1-mini, instructions: Two.}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: third}
spec: {model: gpt-4.1-mini, instructions: Three.}
"#;

/// Everything a stream has printed so far, and a way to wait for a piece of it.
#[derive(Clone, Default)]
struct Captured(Arc<(Mutex<String>, Condvar)>);

impl Captured {
    /// Copies `from` into the capture on a thread of its own, byte chunks as they arrive (a
    /// prompt has no newline to wait for).
    fn drain(mut from: impl Read + Send + 'static) -> Captured {
        let captured = Captured::default();
        let sink = captured.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                let (text, changed) = &*sink.0;
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
                changed.notify_all();
            }
        });
        captured
    }

    fn text(&self) -> String {
        self.0.0.lock().unwrap().clone()
    }

    /// Waits until the stream contains `needle`; panics with what it did print after `limit`.
    fn wait_for(&self, needle: &str, limit: Duration) {
        let (text, changed) = &*self.0;
        let deadline = Instant::now() + limit;
        let mut guard = text.lock().unwrap();
        while !guard.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {needle:?} within {limit:?}; the stream so far:\n{guard}"
            );
            guard = changed.wait_timeout(guard, left).unwrap().0;
        }
    }
}

/// A child process with its output captured as it comes.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Captured,
    stderr: Captured,
}

impl Running {
    fn spawn(mut cmd: Command) -> Running {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the command starts");
        let stdin = child.stdin.take();
        let stdout = Captured::drain(child.stdout.take().expect("stdout is piped"));
        let stderr = Captured::drain(child.stderr.take().expect("stderr is piped"));
        Running {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// Sends SIGINT, what a terminal sends on Ctrl-C.
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGINT could not be delivered");
    }

    fn type_keys(&mut self, keys: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin.write_all(keys.as_bytes()).expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Stops the run a second time with `second` and expects what a second signal promises:
    /// exit 5 within `within` of it (without waiting for the write in flight), `says` on
    /// stderr. Returns stdout and stderr.
    fn stops_at_once(
        self,
        second: impl FnOnce(&Running),
        within: Duration,
        says: &str,
    ) -> (String, String) {
        let sent = Instant::now();
        second(&self);
        let (status, stdout, stderr) = self.finish(Duration::from_secs(60));
        assert_eq!(
            status.code(),
            Some(5),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(sent.elapsed() < within, "took {:?} to stop", sent.elapsed());
        assert!(stderr.contains(says), "{stderr}");
        (stdout, stderr)
    }

    /// Waits for the exit (killing the process after `limit`, and failing).
    fn finish(mut self, limit: Duration) -> (ExitStatus, String, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout.text(),
                    self.stderr.text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The drain threads end at EOF, right after the exit; give them a moment.
        std::thread::sleep(Duration::from_millis(100));
        (status, self.stdout.text(), self.stderr.text())
    }
}

/// `foundryctl ARGS` against `live`, as a plain process (the `assert_cmd` helpers run a
/// command to its end; these tests act while it runs).
fn against(live: &Live, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_foundryctl"));
    cmd.current_dir(live.project.path())
        .env_remove("PROJECT_ENDPOINT")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("FOUNDRY_TOKEN", "test-token")
        .args(["--endpoint", &live.emulator.endpoint(), "--auth", "token"])
        .args(args);
    cmd
}

/// `foundryctl apply --auto-approve --parallelism 1 -f FILE` against `live`.
fn apply_one_at_a_time(live: &Live, file: &str) -> Command {
    against(
        live,
        &["apply", "--auto-approve", "--parallelism", "1", "-f", file],
    )
}

fn latency(ms: u64) -> FaultConfig {
    FaultConfig {
        latency: Duration::from_millis(ms),
        ..FaultConfig::default()
    }
}

fn agent_names(live: &Live) -> BTreeSet<String> {
    live.block_on(live.client.list_agents())
        .unwrap()
        .into_iter()
        .map(|a| a.name.to_string())
        .collect()
}

fn names<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

/// Returns once the first write has finished and the second is in flight (parallelism 1):
/// the emulator has received a second POST, which it answers only after its latency. Off a
/// terminal no progress line says so (the report will), and listing the project would itself
/// take the latency, so this watches the emulator's request counts, which cost nothing.
fn wait_for_the_second_write(live: &Live) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let posts = || {
        live.emulator
            .stats()
            .by_method
            .get("POST")
            .copied()
            .unwrap_or(0)
    };
    while posts() < 2 {
        assert!(Instant::now() < deadline, "the second write never started");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ctrl_c_lets_the_write_in_flight_finish_reports_and_the_next_apply_converges() {
    let live = Live::start(latency(400));
    let file = live.project.write("agents.yaml", AGENTS);
    let file = file.to_str().unwrap();
    let run = Running::spawn(apply_one_at_a_time(&live, file));

    wait_for_the_second_write(&live);
    run.interrupt();
    let (status, stdout, stderr) = run.finish(Duration::from_secs(60));

    assert_eq!(
        status.code(),
        Some(5),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("stopping: 1 action(s) in flight will finish; nothing new starts"),
        "{stderr}"
    );
    assert!(
        stdout.contains("done        agent/second: created"),
        "{stdout}"
    );
    // Each action is reported once: in the report, not also as a progress line.
    assert!(!stderr.contains("agent/first: created"), "{stderr}");
    assert!(
        stdout.contains("not started agent/third: the run was interrupted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Apply interrupted: 2 done, 0 failed, 0 skipped, 1 not started.\nhint: run apply again to finish"),
        "{stdout}"
    );
    // What the report says was done is what the project holds.
    assert_eq!(agent_names(&live), names(["first", "second"]));

    live.emulator.set_faults(FaultConfig::default());
    let (status, stdout, stderr) =
        Running::spawn(apply_one_at_a_time(&live, file)).finish(Duration::from_secs(60));
    assert_eq!(
        status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("Plan: 1 to add, 0 to change"), "{stdout}");
    assert_eq!(agent_names(&live), names(["first", "second", "third"]));
}

#[test]
fn a_second_ctrl_c_stops_at_once_without_waiting_for_the_write_in_flight() {
    // Every request takes 3 s: the lists first, then the first write, during which both
    // interrupts arrive. Waiting for that write would take seconds; stopping at once does not.
    let live = Live::start(latency(3_000));
    let file = live.project.write("agents.yaml", AGENTS);
    let run = Running::spawn(apply_one_at_a_time(&live, file.to_str().unwrap()));

    // The plan is shown right before the first write starts.
    run.stdout
        .wait_for("Plan: 3 to add", Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    run.interrupt();
    run.stderr
        .wait_for("stopping: 1 action(s) in flight", Duration::from_secs(5));
    let (stdout, stderr) = run.stops_at_once(
        Running::interrupt,
        Duration::from_millis(2_500),
        "second Ctrl-C: stopping now",
    );
    assert!(
        stderr.contains("hint: run the command again: it plans from the live project"),
        "{stderr}"
    );
    // It did not wait for the report.
    assert!(!stdout.contains("Apply"), "{stdout}");
}

/// `script` runs the command on a pseudo-terminal: stdin, stdout and stderr are all that
/// terminal, so `apply` asks, as it does for a person.
fn at_a_terminal(project: &Project, args: &str) -> Command {
    let line = format!(
        "{} --endpoint {} {args}",
        env!("CARGO_BIN_EXE_foundryctl"),
        project.endpoint()
    );
    let mut cmd = Command::new("script");
    cmd.args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .current_dir(project.path())
        .env_remove("PROJECT_ENDPOINT")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    cmd
}

#[test]
fn at_a_terminal_apply_shows_the_plan_and_asks_and_no_changes_nothing() {
    let project = Project::new();
    project.write("agents.yaml", AGENTS);

    let mut run = Running::spawn(at_a_terminal(&project, "apply -f agents.yaml"));
    run.stdout
        .wait_for("Apply these changes to", Duration::from_secs(60));
    run.type_keys("n");
    let (status, out, _) = run.finish(Duration::from_secs(60));
    assert!(out.contains("Plan: 3 to add"), "{out}");
    assert!(out.contains("cancelled; nothing was changed"), "{out}");
    assert_eq!(status.code(), Some(1), "{out}");
    common::foundryctl(project.path())
        .args(["--endpoint", &project.endpoint(), "get"])
        .assert()
        .code(0)
        .stdout("KIND  NAME  OWNER  DETAIL\n");

    // --output json never asks, even at a terminal: without --auto-approve it is refused.
    let (status, out, _) = Running::spawn(at_a_terminal(
        &project,
        "apply --output json -f agents.yaml",
    ))
    .finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("--output json never asks"), "{out}");
    assert!(out.contains("\"result\": \"not_approved\""), "{out}");
    assert!(!out.contains("Apply these changes"), "{out}");

    let mut run = Running::spawn(at_a_terminal(&project, "apply -f agents.yaml"));
    run.stdout
        .wait_for("Apply these changes to", Duration::from_secs(60));
    run.type_keys("y");
    let (status, out, _) = run.finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("Apply complete: 3 done"), "{out}");

    // Nothing to do: no question at all.
    let (status, out, _) = Running::spawn(at_a_terminal(&project, "apply -f agents.yaml"))
        .finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("No changes"), "{out}");
    assert!(!out.contains("Apply these changes"), "{out}");
}

#[test]
fn at_a_terminal_memory_forget_asks_and_no_keeps_the_memories() {
    let project = Project::new();
    project.write(
        "store.yaml",
        "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: prefs}\n\
         spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}\n",
    );
    project
        .cmd()
        .args(["apply", "--auto-approve", "-f", "store.yaml"])
        .assert()
        .code(0);
    project
        .cmd()
        .args(["memory", "add", "--store", "prefs", "--scope", "user_dana"])
        .args(["--user", "I write Rust."])
        .assert()
        .code(0);
    let forget = "memory forget --store prefs --scope user_dana";
    let remembered = || {
        project
            .cmd()
            .args([
                "memory",
                "search",
                "--store",
                "prefs",
                "--scope",
                "user_dana",
            ])
            .arg("Which language do I write?")
            .assert()
    };

    let mut run = Running::spawn(at_a_terminal(&project, forget));
    run.stdout.wait_for(
        "Delete every memory of scope user_dana in prefs?",
        Duration::from_secs(60),
    );
    run.type_keys("n");
    let (status, out, _) = run.finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("cancelled; nothing was deleted"), "{out}");
    remembered()
        .code(0)
        .stdout(predicates::str::contains("I write Rust."));

    let mut run = Running::spawn(at_a_terminal(&project, forget));
    run.stdout.wait_for(
        "Delete every memory of scope user_dana in prefs?",
        Duration::from_secs(60),
    );
    run.type_keys("y");
    let (status, out, _) = run.finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(
        out.contains("forgot scope user_dana in prefs: its memories are deleted"),
        "{out}"
    );
    remembered()
        .code(0)
        .stdout(predicates::str::contains("I write Rust.").not());
}

/// A stale saved plan stops the run while another write is still in flight; Ctrl-C must still
/// work then (the listener once lived in the future the executor drops at that moment).
#[test]
fn ctrl_c_still_works_after_a_stale_saved_plan_stopped_the_run() {
    let live = Live::start(FaultConfig::default());
    let file = live.project.write("agents.yaml", AGENTS);
    live.cmd()
        .args(["plan", "--out", "plan.json", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    // `first` appears behind the plan's back: its precondition (absent) no longer holds.
    let spec = foundryctl::model::AgentSpec {
        model: "gpt-4.1-mini".into(),
        ..Default::default()
    };
    let first = foundryctl::model::AgentName::new("first").unwrap();
    live.block_on(
        live.client
            .create_agent_version(&first, &spec, &Default::default()),
    )
    .unwrap();
    live.emulator.set_faults(latency(2_000));

    // Two at once: `first` is refused after its read; `second` is mid-write by then.
    let run = Running::spawn(against(
        &live,
        &["apply", "plan.json", "--parallelism", "2"],
    ));
    run.stderr
        .wait_for("refusing the plan", Duration::from_secs(60));
    run.interrupt();
    std::thread::sleep(Duration::from_millis(200));
    run.stops_at_once(
        Running::interrupt,
        Duration::from_millis(1_500),
        "second Ctrl-C: stopping now",
    );
}

/// Like [`at_a_terminal`], with the colour setting left to the test.
fn at_a_terminal_coloured(project: &Project, args: &str, no_color: bool) -> Command {
    let mut cmd = at_a_terminal(project, args);
    if !no_color {
        cmd.env_remove("NO_COLOR");
    }
    cmd
}

/// Issue 10.6: Ctrl-C at a question leaves the terminal as it was, says nothing was changed
/// and exits 130, for apply, destroy and memory forget; under NO_COLOR or `--color never`
/// not one escape sequence is written, the cursor's included, whole runs through.
#[test]
fn ctrl_c_at_a_question_changes_nothing_and_no_color_means_no_escape_sequences() {
    let project = Project::new();
    project.write("agents.yaml", AGENTS);
    let store = "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: prefs}\n\
                 spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}\n";
    project.write("store.yaml", store);

    let ask_and_interrupt = |args: &str, question: &str, no_color: bool| {
        let mut run = Running::spawn(at_a_terminal_coloured(&project, args, no_color));
        run.stdout.wait_for(question, Duration::from_secs(60));
        // The key is read in raw mode, which starts just after the question is written; a
        // person cannot type within that window, but a test on a loaded machine can.
        std::thread::sleep(Duration::from_millis(300));
        run.type_keys("\u{3}");
        let (status, out, _) = run.finish(Duration::from_secs(60));
        assert_eq!(status.code(), Some(130), "{args}: {out}");
        assert!(
            out.contains("interrupted at the question; nothing was changed"),
            "{args}: {out}"
        );
        out
    };

    let out = ask_and_interrupt("apply -f agents.yaml", "Apply these changes to", true);
    assert!(!out.contains('\u{1b}'), "NO_COLOR: {out:?}");
    let out = ask_and_interrupt(
        "--color never apply -f agents.yaml",
        "Apply these changes to",
        false,
    );
    assert!(!out.contains('\u{1b}'), "--color never: {out:?}");
    // With colour on, the plan is coloured, and the cursor was never hidden.
    let out = ask_and_interrupt("apply -f agents.yaml", "Apply these changes to", false);
    assert!(out.contains("\u{1b}["), "{out:?}");
    assert!(!out.contains("\u{1b}[?25l"), "{out:?}");
    common::foundryctl(project.path())
        .args(["--endpoint", &project.endpoint(), "get"])
        .assert()
        .code(0)
        .stdout("KIND  NAME  OWNER  DETAIL\n");

    // A whole run under NO_COLOR at a terminal: still plain text, progress included.
    let mut run = Running::spawn(at_a_terminal(
        &project,
        "apply -f agents.yaml -f store.yaml",
    ));
    run.stdout
        .wait_for("Apply these changes to", Duration::from_secs(60));
    run.type_keys("y");
    let (status, out, _) = run.finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
    // On a terminal without escapes, progress is one plain line per action.
    assert!(out.contains("agent/first: created"), "{out}");

    ask_and_interrupt(
        "destroy --allow-delete memory_store/prefs",
        "Destroy these 4 resource(s)",
        true,
    );
    common::foundryctl(project.path())
        .args(["memory", "add", "--endpoint", &project.endpoint()])
        .args(["--store", "prefs", "--scope", "u", "--user", "I like tea."])
        .assert()
        .success();
    ask_and_interrupt(
        "memory forget --store prefs --scope u",
        "Delete every memory of scope u",
        true,
    );
    common::foundryctl(project.path())
        .args(["--endpoint", &project.endpoint(), "get"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("first").and(predicate::str::contains("prefs")));
    common::foundryctl(project.path())
        .args(["memory", "list", "--endpoint", &project.endpoint()])
        .args(["--store", "prefs", "--scope", "u"])
        .assert()
        .success()
        .stdout(predicate::str::contains("tea"));
}

/// Sends `signal` (a `kill` name: TERM, HUP) to the running command.
fn send(run: &Running, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &run.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "SIG{signal} could not be delivered");
}

/// SIGTERM (what CI runners and Kubernetes send) and SIGHUP (a closed terminal) stop an apply
/// the way Ctrl-C does: the write in flight finishes, nothing new starts, the report says what
/// was done, exit 5; and the project holds exactly what the report says.
#[test]
fn sigterm_and_sighup_stop_an_apply_gracefully_like_ctrl_c() {
    for signal in ["TERM", "HUP"] {
        let live = Live::start(latency(400));
        let file = live.project.write("agents.yaml", AGENTS);
        let run = Running::spawn(apply_one_at_a_time(&live, file.to_str().unwrap()));
        wait_for_the_second_write(&live);
        send(&run, signal);
        let (status, stdout, stderr) = run.finish(Duration::from_secs(60));
        assert_eq!(
            status.code(),
            Some(5),
            "SIG{signal}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            stderr.contains("stopping: 1 action(s) in flight will finish; nothing new starts"),
            "SIG{signal}: {stderr}"
        );
        assert!(
            stdout.contains("not started agent/third: the run was interrupted"),
            "SIG{signal}: {stdout}"
        );
        assert_eq!(agent_names(&live), names(["first", "second"]));
    }
}

/// A second stop signal, of any kind, ends the process at once.
#[test]
fn a_second_signal_of_another_kind_stops_at_once() {
    let live = Live::start(latency(3_000));
    let file = live.project.write("agents.yaml", AGENTS);
    let run = Running::spawn(apply_one_at_a_time(&live, file.to_str().unwrap()));
    run.stdout
        .wait_for("Plan: 3 to add", Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    send(&run, "TERM");
    run.stderr
        .wait_for("stopping: 1 action(s) in flight", Duration::from_secs(5));
    run.stops_at_once(
        |run| send(run, "HUP"),
        Duration::from_millis(2_500),
        "second SIGHUP: stopping now",
    );
}

/// The process ids whose command line contains `needle`.
fn pids_running(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// The loopback TCP ports `pid` listens on (Linux: its socket inodes matched against
/// `/proc/net/tcp`).
fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| {
                let link = std::fs::read_link(e.ok()?.path()).ok()?;
                let link = link.to_str()?;
                Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
            })
            .collect()
        })
        .unwrap_or_default();
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (fields[1], fields[3], fields[9]);
            (state == "0A" && inodes.contains(inode))
                .then(|| u16::from_str_radix(local.split(':').nth(1)?, 16).ok())
                .flatten()
        })
        .collect()
}

/// A raw `GET path` to 127.0.0.1:port; the status code.
fn get_status(port: u16, path: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nFoundry-Features: MemoryStores=V1Preview\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

/// While a command runs against `--endpoint local:DIR`, the embedded emulator's loopback port
/// is of no use to another local process: without the run's secret, reading the memory stores
/// answers 401.
#[test]
fn another_process_cannot_use_the_embedded_emulator_during_a_run() {
    let project = Project::new();
    project.write(
        "store.yaml",
        "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {name: prefs}\n\
         spec: {chat_model: gpt-4.1-mini, embedding_model: text-embedding-3-large}\n",
    );
    // The apply waits at its question with the emulator up.
    let mut run = Running::spawn(at_a_terminal(&project, "apply -f store.yaml"));
    run.stdout
        .wait_for("Apply these changes to", Duration::from_secs(60));
    let needle = project.endpoint();
    let ports: Vec<u16> = pids_running(&needle)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c).starts_with(env!("CARGO_BIN_EXE_foundryctl"))
            })
        })
        .flat_map(listening_ports)
        .collect();
    assert!(
        !ports.is_empty(),
        "the embedded emulator's port was not found"
    );
    for port in &ports {
        let path = format!(
            "{}/memory_stores?api-version=v1",
            foundry_emulator::api::PROJECT_PREFIX
        );
        assert_eq!(get_status(*port, &path), 401, "port {port}");
    }
    run.type_keys("n");
    let (status, out, _) = run.finish(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{out}");
}

/// A signal after the run ended (its report stuck behind a reader that stopped reading) finds
/// no write in flight: the process ends at once with the run's own status, not the 5 of a run
/// cut short, and not after a second signal.
#[test]
fn a_signal_after_the_run_ended_stops_with_the_runs_status() {
    let project = Project::new();
    // Enough agents that the JSON report outgrows the pipe's buffer.
    let agents: String = (0..300)
        .map(|i| {
            format!(
                "---\napiVersion: foundryctl/v1\nkind: Agent\nmetadata: {{name: agent-{i:03}}}\n\
                 spec: {{model: gpt-4.1-mini, instructions: Answer briefly; this is agent {i}.}}\n"
            )
        })
        .collect();
    project.write("m/agents.yaml", &agents);
    let (reader, writer) = std::io::pipe().expect("create a pipe");
    let mut child = common::foundryctl_std(project.path())
        .args(["--endpoint", &project.endpoint()])
        .args(["apply", "--auto-approve", "-o", "json", "-f", "m"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run foundryctl");
    // Under -o json the log has one line per action: wait for all 300, then give the report
    // time to fill the pipe nobody reads.
    let stderr = child.stderr.take().expect("piped stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let collected = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut stderr = stderr;
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            collected
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while log.lock().unwrap().matches(": created").count() < 300 {
        assert!(Instant::now() < deadline, "{}", log.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the report should be stuck"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM: {}", log.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(reader);
    std::thread::sleep(Duration::from_millis(100));
    let log = log.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("SIGTERM after the run ended: stopping without the rest of its report"),
        "{log}"
    );
}
