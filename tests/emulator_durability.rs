//! Storage guarantees of the emulator (issue 2, item 7), shown on the shipped command
//! `foundryctl emulator --data DIR` run as real processes:
//!
//! - after `kill -9` nothing that was acknowledged is lost, and the file is consistent;
//! - two processes serving one file are safe: no lost writes, no duplicate version numbers, no
//!   "database is locked" surfacing as a 500, and each sees the other's writes at once.
//!
//! These live in the root package rather than in `emulator/tests/` because only here does Cargo
//! build the real binary for the tests (`CARGO_BIN_EXE_foundryctl`); testing the command users
//! run (its flags, its data-file layout, its endpoint line) beats a test-only binary that would
//! duplicate it. The file is then inspected with SQLite directly, an oracle independent of the
//! emulator's own code.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_foundryctl");
const FF: &str = "MemoryStores=V1Preview";
const V1: &str = "api-version=v1";

/// One `foundryctl emulator` process. Dropping it kills it (SIGKILL) and reaps it.
struct Served {
    child: Child,
    endpoint: String,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `foundryctl emulator --port 0 --data DIR` and reads the endpoint line it prints on
    /// stdout (within 30 s).
    fn start(dir: &Path) -> Served {
        let mut cmd = Command::new(BIN);
        // Updates complete as soon as they are due, so reading one after a restart finishes it
        // (the durability of `in_progress` timing is not what these tests are about).
        cmd.args([
            "emulator",
            "--port",
            "0",
            "--update-processing-ms",
            "0",
            "--data",
        ])
        .arg(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        // Injected faults from the developer's environment would make every assertion moot.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FOUNDRY_EMULATOR_") {
                cmd.env_remove(key);
            }
        }
        let mut child = cmd.spawn().expect("foundryctl emulator starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the process never writes into a closed pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("foundryctl emulator printed no endpoint within 30 s");
            }
        };
        let endpoint = line.trim().to_owned();
        if endpoint.is_empty() {
            let status = child.wait();
            std::thread::sleep(Duration::from_millis(100)); // let the stderr reader finish
            panic!(
                "foundryctl emulator exited ({status:?}) without an endpoint:\n{}",
                stderr.lock().unwrap()
            );
        }
        assert!(
            endpoint.starts_with("http://127.0.0.1:") && endpoint.ends_with("/api/projects/local"),
            "unexpected endpoint line {line:?}"
        );
        Served {
            child,
            endpoint,
            stderr,
        }
    }

    /// Sends SIGKILL (what `Child::kill` does on Unix) and checks that is how the process died:
    /// no shutdown code of the emulator ran.
    fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        let status = self.child.wait().expect("the killed process is reaped");
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client")
}

/// `METHOD endpoint+path` (v1 memory feature header always set); the status and JSON body, or
/// the transport error (the server is gone).
async fn send(
    http: &reqwest::Client,
    endpoint: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut req = http
        .request(method, format!("{endpoint}{path}"))
        .header("Foundry-Features", FF);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, body))
}

async fn get(http: &reqwest::Client, endpoint: &str, path: &str) -> (u16, Value) {
    send(http, endpoint, reqwest::Method::GET, path, None)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

async fn post(http: &reqwest::Client, endpoint: &str, path: &str, body: Value) -> (u16, Value) {
    send(http, endpoint, reqwest::Method::POST, path, Some(body))
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

fn store_body(name: &str) -> Value {
    json!({"name": name, "definition": {"kind": "default", "chat_model": "gpt-4.1-mini",
        "embedding_model": "text-embedding-3-large"}})
}

fn version_body(instructions: &str) -> Value {
    json!({"definition": {"kind": "prompt", "model": "gpt-4.1-mini", "instructions": instructions}})
}

fn turn(text: &str) -> Value {
    json!([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}])
}

/// SQLite's own check of the file (pages, indexes, constraints), run beside a live emulator.
fn integrity(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the emulator database");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check runs");
    assert_eq!(verdict, "ok");
}

/// Every page of a list, following `after` cursors (bounded).
async fn list_all(http: &reqwest::Client, endpoint: &str, path: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..100 {
        let cursor = after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let (status, body) = get(http, endpoint, &format!("{path}&limit=100{cursor}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        let data = body["data"].as_array().expect("a list envelope").clone();
        all.extend(data);
        if body["has_more"] != json!(true) {
            return all;
        }
        after = body["last_id"].as_str().map(str::to_owned);
    }
    panic!("{path} did not end within 100 pages");
}

/// The version numbers of `agent`, ascending.
async fn version_numbers(http: &reqwest::Client, endpoint: &str, agent: &str) -> Vec<u64> {
    let mut numbers: Vec<u64> = list_all(http, endpoint, &format!("/agents/{agent}/versions?{V1}"))
        .await
        .iter()
        .map(|v| v["version"].as_str().unwrap().parse().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers
}

/// A write the server acknowledged (200/202) before it was killed.
#[derive(Debug, Clone)]
enum Ack {
    Store {
        name: String,
        id: String,
    },
    Version {
        agent: String,
        body: Value,
    },
    Item {
        scope: String,
        id: String,
        content: String,
    },
    Update {
        id: String,
    },
}

/// The shared store that items and updates of the kill test go to.
const BASE: &str = "base";

/// Why a write was not acknowledged.
enum NotAcked {
    /// No answer: the server is gone (expected once it is killed).
    Gone,
    /// A real answer that is wrong: always a failure.
    Unexpected(String),
}

/// Writer `w`'s `i`-th write, cycling through the four kinds of resource.
async fn one_write(
    http: &reqwest::Client,
    endpoint: &str,
    w: usize,
    i: usize,
) -> Result<Ack, NotAcked> {
    let (path, body) = match (w + i) % 4 {
        0 => (
            format!("/memory_stores?{V1}"),
            store_body(&format!("s-{w}-{i}")),
        ),
        1 => (
            format!("/agents/agent-{w}/versions?{V1}"),
            version_body(&format!("write {i}")),
        ),
        2 => (
            format!("/memory_stores/{BASE}/items?{V1}"),
            json!({"scope": format!("items-{w}"), "kind": "user_profile",
                "content": format!("fact {w} {i}")}),
        ),
        _ => (
            format!("/memory_stores/{BASE}:update_memories?{V1}"),
            json!({"scope": format!("updates-{w}-{i}"), "update_delay": 0,
                "items": turn(&format!("I like number {w} {i}"))}),
        ),
    };
    let (status, body) = send(http, endpoint, reqwest::Method::POST, &path, Some(body))
        .await
        .map_err(|_| NotAcked::Gone)?;
    if status != 200 && status != 202 {
        return Err(NotAcked::Unexpected(format!("{status} for {path}: {body}")));
    }
    let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
    Ok(match (w + i) % 4 {
        0 => Ack::Store {
            name: format!("s-{w}-{i}"),
            id: text("id"),
        },
        1 => Ack::Version {
            agent: format!("agent-{w}"),
            body,
        },
        2 => Ack::Item {
            scope: format!("items-{w}"),
            id: text("memory_id"),
            content: format!("fact {w} {i}"),
        },
        _ => Ack::Update {
            id: text("update_id"),
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_and_the_file_stays_consistent() {
    const WRITERS: usize = 4;
    const MAX_PER_WRITER: usize = 400;
    const KILL_AFTER: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = http();

    let mut first = Served::start(&data);
    let (status, body) = post(
        &http,
        &first.endpoint,
        &format!("/memory_stores?{V1}"),
        store_body(BASE),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let wrong: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (http, endpoint) = (http.clone(), first.endpoint.clone());
        let (acks, wrong) = (Arc::clone(&acks), Arc::clone(&wrong));
        writers.push(tokio::spawn(async move {
            for i in 0..MAX_PER_WRITER {
                match one_write(&http, &endpoint, w, i).await {
                    Ok(ack) => acks.lock().unwrap().push(ack),
                    Err(NotAcked::Unexpected(e)) => wrong.lock().unwrap().push(e),
                    // The server is gone: nothing more can be acknowledged.
                    Err(NotAcked::Gone) => return,
                }
            }
        }));
    }
    // Kill while the writers are mid-stream (bounded wait for enough acknowledged writes).
    let deadline = Instant::now() + Duration::from_secs(30);
    while acks.lock().unwrap().len() < KILL_AFTER && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill_9();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(*wrong.lock().unwrap(), Vec::<String>::new());
    let acks = acks.lock().unwrap().clone();
    eprintln!("{} writes acknowledged before kill -9", acks.len());
    assert!(
        acks.len() >= KILL_AFTER,
        "only {} writes acknowledged before the deadline",
        acks.len()
    );
    assert!(
        acks.len() < WRITERS * MAX_PER_WRITER,
        "the kill came after every write finished; it proves nothing"
    );

    let second = Served::start(&data);
    let ep = second.endpoint.as_str();
    // The restarted process says where the data it serves lives.
    let db_line = format!("emulator: data in {}", data.join("emulator.db").display());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !second.stderr().contains(&db_line) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(second.stderr().contains(&db_line), "{}", second.stderr());
    integrity(&data.join("emulator.db"));
    let mut versions_by_agent: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for ack in &acks {
        match ack {
            Ack::Store { name, id } => {
                let (status, body) = get(&http, ep, &format!("/memory_stores/{name}?{V1}")).await;
                assert_eq!(
                    (status, body["id"].as_str()),
                    (200, Some(id.as_str())),
                    "{body}"
                );
            }
            Ack::Version { agent, body } => {
                let v = body["version"].as_str().unwrap();
                let (status, got) =
                    get(&http, ep, &format!("/agents/{agent}/versions/{v}?{V1}")).await;
                assert_eq!(status, 200, "{agent} v{v} lost: {got}");
                assert_eq!(&got, body);
                versions_by_agent
                    .entry(agent.clone())
                    .or_default()
                    .push(body.clone());
            }
            Ack::Item { scope, id, content } => {
                let (status, got) =
                    get(&http, ep, &format!("/memory_stores/{BASE}/items/{id}?{V1}")).await;
                assert_eq!(status, 200, "item {id} lost: {got}");
                assert_eq!(
                    (&got["scope"], &got["content"]),
                    (&json!(scope), &json!(content))
                );
            }
            Ack::Update { id } => {
                // The update was queued with no delay: reading it after the restart finishes it,
                // and its memories land in the same transaction as the status.
                let (status, got) = get(
                    &http,
                    ep,
                    &format!("/memory_stores/{BASE}/updates/{id}?{V1}"),
                )
                .await;
                assert_eq!(status, 200, "update {id} lost: {got}");
                assert_eq!(got["status"], "completed", "{got}");
                let created = got["result"]["memory_operations"].as_array().unwrap();
                assert!(
                    !created.is_empty(),
                    "completed update without memories: {got}"
                );
                for op in created {
                    let id = op["memory_item"]["memory_id"].as_str().unwrap();
                    let (status, item) =
                        get(&http, ep, &format!("/memory_stores/{BASE}/items/{id}?{V1}")).await;
                    assert_eq!(status, 200, "update result names a missing memory: {item}");
                }
            }
        }
    }
    // Lists work after the restart, and every agent's versions are exactly 1..=n: a version
    // counter bumped without its row (a torn write) would leave a gap or hand a number out twice.
    let stores = list_all(&http, ep, &format!("/memory_stores?{V1}")).await;
    let acked_stores = acks
        .iter()
        .filter(|a| matches!(a, Ack::Store { .. }))
        .count();
    assert!(
        stores.len() > acked_stores,
        "{} stores listed",
        stores.len()
    );
    for (agent, acked) in &versions_by_agent {
        let numbers = version_numbers(&http, ep, agent).await;
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(numbers, expected, "{agent}");
        assert!(numbers.len() >= acked.len());
        let (status, next) = post(
            &http,
            ep,
            &format!("/agents/{agent}/versions?{V1}"),
            version_body("after the restart"),
        )
        .await;
        assert_eq!(status, 200, "{next}");
        assert_eq!(next["version"], json!((numbers.len() + 1).to_string()));
    }
    assert!(!second.stderr().contains("panicked"), "{}", second.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_file_lose_nothing_and_see_each_other() {
    const TASKS_PER_PROCESS: usize = 3;
    const VERSIONS_PER_TASK: usize = 12;
    const SCOPES: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = http();

    // Started together on a fresh directory: schema creation and WAL setup race too.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Served::start(&data));
        let b = s.spawn(|| Served::start(&data));
        (a.join().unwrap(), b.join().unwrap())
    });
    let endpoints = [a.endpoint.clone(), b.endpoint.clone()];

    // One agent and one contested store name, written through both processes at once; plus a
    // store per task.
    let mut tasks = Vec::new();
    for (p, endpoint) in endpoints.iter().enumerate() {
        for t in 0..TASKS_PER_PROCESS {
            let (http, endpoint) = (http.clone(), endpoint.clone());
            tasks.push(tokio::spawn(async move {
                let mut replies = Vec::new();
                let path = format!("/memory_stores?{V1}");
                replies
                    .push(post(&http, &endpoint, &path, store_body(&format!("own-{p}-{t}"))).await);
                replies.push(post(&http, &endpoint, &path, store_body("contested")).await);
                for i in 0..VERSIONS_PER_TASK {
                    let body = version_body(&format!("process {p} task {t} write {i}"));
                    let path = format!("/agents/shared/versions?{V1}");
                    replies.push(post(&http, &endpoint, &path, body).await);
                }
                replies
            }));
        }
    }
    let mut versions = Vec::new();
    let mut contested = Vec::new();
    for task in tasks {
        let replies = task.await.unwrap();
        for (status, body) in &replies {
            assert!(
                *status == 200 || (*status == 409 && body["error"]["code"].is_string()),
                "{status}: {body}"
            );
        }
        assert_eq!(replies[0].0, 200, "{}", replies[0].1);
        contested.push(replies[1].0);
        versions.extend(replies[2..].iter().map(|(_, v)| v.clone()));
    }
    contested.sort_unstable();
    let mut expected = vec![409; 2 * TASKS_PER_PROCESS - 1];
    expected.insert(0, 200);
    assert_eq!(
        contested, expected,
        "exactly one create of a taken name wins"
    );

    // No lost write, no number handed out twice: the numbers are exactly 1..=n.
    let total = 2 * TASKS_PER_PROCESS * VERSIONS_PER_TASK;
    let mut numbers: Vec<u64> = versions
        .iter()
        .map(|v| v["version"].as_str().unwrap().parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=total as u64).collect::<Vec<_>>());

    // Each process sees everything, including the other's writes, at once.
    for endpoint in &endpoints {
        assert_eq!(
            version_numbers(&http, endpoint, "shared").await,
            (1..=total as u64).collect::<Vec<_>>()
        );
        for v in &versions {
            let path = format!(
                "/agents/shared/versions/{}?{V1}",
                v["version"].as_str().unwrap()
            );
            assert_eq!(get(&http, endpoint, &path).await, (200, v.clone()));
        }
        let stores = list_all(&http, endpoint, &format!("/memory_stores?{V1}")).await;
        assert_eq!(stores.len(), 2 * TASKS_PER_PROCESS + 1);
    }

    // Memory updates queued through A are processed exactly once although both processes'
    // background workers race for them; B reads the result.
    let (status, body) = post(
        &http,
        &a.endpoint,
        &format!("/memory_stores?{V1}"),
        store_body("mem"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut updates = Vec::new();
    for s in 0..SCOPES {
        let (status, body) = post(
            &http,
            &a.endpoint,
            &format!("/memory_stores/mem:update_memories?{V1}"),
            json!({"scope": format!("user-{s}"), "update_delay": 0,
                "items": turn(&format!("I collect stamps from country {s}"))}),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        updates.push((s, body["update_id"].as_str().unwrap().to_owned()));
    }
    for (s, id) in &updates {
        let mut done = None;
        for _ in 0..200 {
            let (status, got) = get(
                &http,
                &b.endpoint,
                &format!("/memory_stores/mem/updates/{id}?{V1}"),
            )
            .await;
            assert_eq!(status, 200, "{got}");
            if got["status"] == "completed" {
                done = Some(got);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let done = done.unwrap_or_else(|| panic!("update {id} never completed"));
        let created = done["result"]["memory_operations"]
            .as_array()
            .unwrap()
            .len();
        assert!(created > 0, "{done}");
        let (status, listed) = post(
            &http,
            &a.endpoint,
            &format!("/memory_stores/mem/items:list?{V1}"),
            json!({"scope": format!("user-{s}")}),
        )
        .await;
        assert_eq!(status, 200, "{listed}");
        assert_eq!(
            listed["data"].as_array().unwrap().len(),
            created,
            "memories of user-{s} written more than once: {listed}"
        );
    }
    integrity(&data.join("emulator.db"));
    for served in [&a, &b] {
        assert!(!served.stderr().contains("panicked"), "{}", served.stderr());
    }
}

/// Switching a new file to WAL takes a lock SQLite's busy timeout does not cover, so processes
/// opening a fresh directory at the same moment could fail to start with "database is locked"
/// (4 starts in 120). The deterministic regression test is in the emulator's `db` module; this
/// shows the claim on processes: many simultaneous starts, every one comes up and serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_on_a_fresh_directory_all_come_up() {
    const DIRS: usize = 8;
    const PER_DIR: usize = 3;
    let root = tempfile::tempdir().unwrap();
    let http = http();
    let served: Vec<Served> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..DIRS * PER_DIR)
            .map(|n| {
                let dir = root.path().join(format!("d{}", n % DIRS));
                s.spawn(move || Served::start(&dir))
            })
            .collect();
        starts.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (n, one) in served.iter().enumerate() {
        let (status, body) = post(
            &http,
            &one.endpoint,
            &format!("/memory_stores?{V1}"),
            store_body(&format!("from-{n}")),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    for d in 0..DIRS {
        integrity(&root.path().join(format!("d{d}")).join("emulator.db"));
    }
}
