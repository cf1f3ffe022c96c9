//! The Foundry client against the embedded emulator, with its fault injection: every call
//! succeeds under 30% injected 429/503, `Retry-After` is respected (measured), dropped
//! connections are survived without duplicates, a create whose answer is lost leaves no
//! duplicate, 404 reads as absent, token mode works end to end, and both api-versions round-trip
//! the memory tool.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use foundry_emulator::{Config, Emulator, FaultConfig};
use foundryctl::env::Env;
use foundryctl::foundry::AuthMode;
use foundryctl::foundry::target::Target;
use foundryctl::foundry::wire::UpdateStatus;
use foundryctl::foundry::{
    ApiVersion, Auth, Client, ClientError, LroConfig, Message, TransportConfig,
};
use foundryctl::model::{
    AgentName, AgentSpec, MemorySearchTool, MemoryStoreName, MemoryStoreSpec, SetName, Tool,
    stamped_metadata,
};
use foundryctl::ops::session::Connection;
use reqwest::Url;

fn transport() -> TransportConfig {
    TransportConfig {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        max_attempts: 10,
        max_elapsed: Duration::from_secs(60),
        request_timeout: Duration::from_secs(10),
        ..TransportConfig::default()
    }
}

async fn emulator(config: Config) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

fn client(emulator: &Emulator, api: ApiVersion, auth: Auth) -> Client {
    Client::new(
        Url::parse(&emulator.endpoint()).unwrap(),
        api,
        auth,
        transport(),
    )
    .unwrap()
    .with_lro(LroConfig {
        first_interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    })
}

fn store(name: &str) -> MemoryStoreName {
    MemoryStoreName::new(name).unwrap()
}

fn agent(name: &str) -> AgentName {
    AgentName::new(name).unwrap()
}

fn store_spec(description: &str) -> MemoryStoreSpec {
    MemoryStoreSpec {
        description: description.into(),
        chat_model: "gpt-4.1-mini".into(),
        embedding_model: "text-embedding-3-large".into(),
        ..Default::default()
    }
}

fn agent_spec(store: &str, instructions: &str) -> AgentSpec {
    AgentSpec {
        model: "gpt-4.1-mini".into(),
        instructions: Some(instructions.into()),
        tools: vec![Tool::MemorySearch(MemorySearchTool {
            memory_store_name: MemoryStoreName::new(store).unwrap(),
            scope: "{{$userId}}".into(),
            max_memories: Some(5),
            update_delay: Some(0),
        })],
        ..Default::default()
    }
}

fn stamp(hash: &str) -> BTreeMap<String, String> {
    stamped_metadata(&BTreeMap::new(), &SetName::default(), hash)
}

/// A whole workflow: stores, agents, items, updates, search, live state, deletes.
async fn workflow(c: &Client, tag: &str) -> Result<(), ClientError> {
    for i in 0..3 {
        let s = store(&format!("{tag}-store-{i}"));
        c.create_store(&s, &store_spec("d"), &stamp(&format!("s{i}")))
            .await?;
        c.update_store(&s, "changed", &stamp(&format!("s{i}b")))
            .await?;
        assert_eq!(c.get_store(&s).await?.unwrap().spec.description, "changed");
    }
    for i in 0..3 {
        c.create_agent_version(
            &agent(&format!("{tag}-agent-{i}")),
            &agent_spec(&format!("{tag}-store-0"), "Be brief."),
            &stamp(&format!("a{i}")),
        )
        .await?;
    }
    let s0 = store(&format!("{tag}-store-0"));
    c.update_memories_and_wait(
        &s0,
        "u1",
        &[Message::user("I use Rust and Neovim.")],
        Some(0),
    )
    .await?;
    // Memory item routes exist on v1 only.
    if c.api_version() == ApiVersion::V1 {
        let item = c
            .create_item(
                &s0,
                "u1",
                "Prefers tea.",
                &foundryctl::foundry::wire::MemoryKind::UserProfile,
            )
            .await?;
        c.update_item(&s0, &item.memory_id, "Prefers green tea.")
            .await?;
        assert_eq!(
            c.get_item(&s0, &item.memory_id).await?.unwrap().content,
            "Prefers green tea."
        );
        assert!(c.list_items(&s0, "u1").await?.len() >= 2);
        assert!(c.delete_item(&s0, &item.memory_id).await?);
    }
    c.search_memories(&s0, "u1", &[Message::user("editor")], Some(3))
        .await?;
    let history_for = BTreeSet::from([agent(&format!("{tag}-agent-0"))]);
    let state = c.read_live_state(&history_for).await?;
    assert_eq!(
        state
            .stores
            .keys()
            .filter(|n| n.as_str().starts_with(tag))
            .count(),
        3
    );
    assert_eq!(
        state
            .agents
            .keys()
            .filter(|n| n.as_str().starts_with(tag))
            .count(),
        3
    );
    c.delete_scope(&s0, "u1").await?;
    for i in 0..3 {
        assert!(c.delete_agent(&agent(&format!("{tag}-agent-{i}"))).await?);
        assert!(c.delete_store(&store(&format!("{tag}-store-{i}"))).await?);
    }
    Ok(())
}

#[tokio::test]
async fn every_call_succeeds_under_thirty_percent_429_and_503() {
    let faults = FaultConfig {
        rate_429: 0.15,
        rate_503: 0.15,
        retry_after_secs: 0,
        seed: Some(7),
        ..FaultConfig::default()
    };
    let e = emulator(Config {
        faults,
        ..Config::default()
    })
    .await;
    let started = Instant::now();
    for (api, tag) in [
        (ApiVersion::V1, "faulty-a"),
        (ApiVersion::Preview20251115, "faulty-b"),
        (ApiVersion::V1, "faulty-c"),
    ] {
        workflow(&client(&e, api, Auth::None), tag).await.unwrap();
    }
    let stats = e.stats();
    eprintln!(
        "30% faults: {} requests, {} injected errors, {:?}",
        stats.total,
        stats.injected_errors,
        started.elapsed()
    );
    assert!(
        stats.injected_errors >= 5,
        "faults were injected: {stats:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    e.shutdown().await;
}

#[tokio::test]
async fn retry_after_is_respected_measured() {
    let faults = FaultConfig {
        rate_429: 0.5,
        retry_after_secs: 1,
        seed: Some(3),
        ..FaultConfig::default()
    };
    let e = emulator(Config {
        faults,
        ..Config::default()
    })
    .await;
    let c = client(&e, ApiVersion::V1, Auth::None);
    let started = Instant::now();
    for _ in 0..4 {
        c.list_stores().await.unwrap();
    }
    let elapsed = started.elapsed();
    let injected = e.stats().injected_errors;
    eprintln!("Retry-After: {injected} injected 429s (Retry-After: 1), 4 calls took {elapsed:?}");
    assert!(injected >= 1, "the seed must inject at least one 429");
    assert!(
        elapsed >= Duration::from_secs(injected),
        "{injected} × Retry-After: 1 s, but only {elapsed:?} passed"
    );
    e.shutdown().await;
}

#[tokio::test]
async fn dropped_connections_are_survived_without_duplicates() {
    let faults = FaultConfig {
        drop_rate: 0.3,
        seed: Some(11),
        ..FaultConfig::default()
    };
    let e = emulator(Config {
        faults,
        ..Config::default()
    })
    .await;
    let c = client(&e, ApiVersion::V1, Auth::None);
    for i in 0..8 {
        c.create_store(&store(&format!("drop-{i}")), &store_spec("d"), &stamp("h"))
            .await
            .unwrap();
        c.create_agent_version(
            &agent(&format!("drop-{i}")),
            &agent_spec("drop-0", "x"),
            &stamp("h"),
        )
        .await
        .unwrap();
    }
    let stats = e.stats();
    eprintln!("drops: {} requests, {} dropped", stats.total, stats.dropped);
    assert!(stats.dropped > 0, "connections were dropped");
    e.set_faults(FaultConfig::default());
    assert_eq!(c.list_stores().await.unwrap().len(), 8);
    for i in 0..8 {
        assert_eq!(
            c.list_agent_versions(&agent(&format!("drop-{i}")))
                .await
                .unwrap()
                .len(),
            1,
            "drop-{i} has one version"
        );
    }
    e.shutdown().await;
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_does_not_leave_a_duplicate() {
    let e = emulator(Config::default()).await;
    let proxy = lossy_proxy::start(e.local_addr(), "/versions").await;
    let endpoint = e
        .endpoint()
        .replace(&e.local_addr().to_string(), &proxy.addr.to_string());
    let c = Client::new(
        Url::parse(&endpoint).unwrap(),
        ApiVersion::V1,
        Auth::None,
        transport(),
    )
    .unwrap();
    c.create_store(&store("s"), &store_spec("d"), &stamp("h0"))
        .await
        .unwrap();
    let v = c
        .create_agent_version(&agent("lost"), &agent_spec("s", "hello"), &stamp("h1"))
        .await
        .unwrap();
    assert_eq!(v.version, "1");
    assert_eq!(
        proxy.lost(),
        1,
        "the first answer was swallowed after the emulator acted on it"
    );
    let versions = c.list_agent_versions(&agent("lost")).await.unwrap();
    assert_eq!(versions.len(), 1, "no duplicate version");
    // The emulator deduplicates identical definitions, which would hide a blind resend; the
    // route count shows the create was sent once and recognised on read-back instead.
    let posts = e
        .stats()
        .by_route
        .get("POST /agents/{name}/versions")
        .copied();
    assert_eq!(posts, Some(1), "{:?}", e.stats().by_route);
    e.shutdown().await;
}

#[tokio::test]
async fn not_found_reads_as_absent() {
    let e = emulator(Config::default()).await;
    let c = client(&e, ApiVersion::V1, Auth::None);
    assert!(c.get_store(&store("nope")).await.unwrap().is_none());
    assert!(c.get_agent(&agent("nope")).await.unwrap().is_none());
    assert!(
        c.get_agent_version(&agent("nope"), "1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!c.delete_store(&store("nope")).await.unwrap());
    assert!(!c.delete_agent(&agent("nope")).await.unwrap());
    let err = c
        .update_store(&store("nope"), "d", &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    e.shutdown().await;
}

#[tokio::test]
async fn token_mode_works_end_to_end_and_a_missing_token_explains_the_audience() {
    let e = emulator(Config {
        require_token: true,
        ..Config::default()
    })
    .await;
    let auth = Auth::from_mode(
        AuthMode::Token,
        &Env::from_pairs([("FOUNDRY_TOKEN", "test-token")]),
    )
    .unwrap();
    let c = client(&e, ApiVersion::V1, auth);
    c.create_store(&store("tok"), &store_spec("d"), &stamp("h"))
        .await
        .unwrap();
    assert_eq!(c.list_stores().await.unwrap().len(), 1);

    let anonymous = client(&e, ApiVersion::V1, Auth::None);
    let err = anonymous.list_stores().await.unwrap_err().to_string();
    assert!(
        err.contains("401 Unauthorized") && err.contains("https://ai.azure.com"),
        "{err}"
    );
    e.shutdown().await;
}

#[tokio::test]
async fn both_api_versions_round_trip_the_memory_tool() {
    let e = emulator(Config::default()).await;
    for (api, name) in [
        (ApiVersion::V1, "v1-agent"),
        (ApiVersion::Preview20251115, "preview-agent"),
    ] {
        let c = client(&e, api, Auth::None);
        c.create_store(&store(name), &store_spec("d"), &stamp("h"))
            .await
            .unwrap();
        let spec = agent_spec(name, "Use memory.");
        let created = c
            .create_agent_version(&agent(name), &spec, &stamp("h"))
            .await
            .unwrap();
        let read = c.get_agent(&agent(name)).await.unwrap().unwrap();
        assert_eq!(read.latest.spec, created.spec);
        assert_eq!(read.latest.spec.unwrap().tools, spec.tools, "{api:?}");
    }
    e.shutdown().await;
}

#[tokio::test]
async fn an_agent_with_memory_answers_through_responses() {
    let e = emulator(Config::default()).await;
    let c = client(&e, ApiVersion::V1, Auth::None);
    c.create_store(&store("mem"), &store_spec("d"), &stamp("h"))
        .await
        .unwrap();
    c.create_agent_version(
        &agent("buddy"),
        &agent_spec("mem", "Recall preferences."),
        &stamp("h"),
    )
    .await
    .unwrap();
    let answer = c
        .invoke_agent(
            &agent("buddy"),
            None,
            "I prefer dark roast coffee.",
            Some("alice"),
        )
        .await
        .unwrap();
    assert!(!answer.text.is_empty(), "{:?}", answer.raw);
    e.shutdown().await;
}

#[tokio::test]
async fn a_conversation_keeps_its_turns_on_both_api_versions() {
    let e = emulator(Config::default()).await;
    for api in [ApiVersion::V1, ApiVersion::Preview20251115] {
        let c = client(&e, api, Auth::None);
        let name = agent(&format!("talker-{}", api.as_str()));
        let spec = AgentSpec {
            model: "gpt-4.1-mini".into(),
            ..Default::default()
        };
        c.create_agent_version(&name, &spec, &stamp("h"))
            .await
            .unwrap();
        let conv = c
            .create_conversation(&[Message::user("My favourite editor is Helix.")])
            .await
            .unwrap();
        assert!(conv.id.starts_with("conv_"), "{conv:?}");
        assert!(conv.created_at > 0);
        let answer = c
            .invoke_agent_in_conversation(&name, None, "Which editor?", None, Some(&conv.id))
            .await
            .unwrap();
        assert!(
            answer
                .text
                .contains("Earlier in this conversation you said: My favourite editor is Helix."),
            "{api:?}: {}",
            answer.text
        );
        let items = c.list_conversation_items(&conv.id).await.unwrap();
        let turns: Vec<(Option<&str>, String)> = items
            .iter()
            .map(|i| (i.role.as_deref(), i.text()))
            .collect();
        assert_eq!(
            turns,
            [
                (Some("user"), "My favourite editor is Helix.".to_owned()),
                (Some("user"), "Which editor?".to_owned()),
                (Some("assistant"), answer.text.clone()),
            ],
            "{api:?}"
        );
        assert_eq!(
            c.get_conversation(&conv.id).await.unwrap().as_ref(),
            Some(&conv)
        );
        assert_eq!(c.get_conversation("conv_missing").await.unwrap(), None);
        let err = c
            .invoke_agent_in_conversation(&name, None, "hi", None, Some("conv_missing"))
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }
    e.shutdown().await;
}

#[tokio::test]
async fn the_local_target_persists_between_connections() {
    let dir = tempfile::tempdir().unwrap();
    let target = || {
        Target::resolve(
            Some(&format!("local:{}", dir.path().display())),
            &Env::default(),
        )
        .unwrap()
    };
    let conn = Connection::open(
        target(),
        ApiVersion::V1,
        AuthMode::Auto,
        &Env::default(),
        transport(),
    )
    .await
    .unwrap();
    assert_eq!(
        conn.describe(),
        format!("target: local emulator ({})", dir.path().display())
    );
    conn.client
        .create_store(&store("kept"), &store_spec("d"), &stamp("h"))
        .await
        .unwrap();
    conn.close().await;
    let conn = Connection::open(
        target(),
        ApiVersion::V1,
        AuthMode::Auto,
        &Env::default(),
        transport(),
    )
    .await
    .unwrap();
    assert!(
        conn.client
            .get_store(&store("kept"))
            .await
            .unwrap()
            .is_some()
    );
    conn.close().await;
}

/// The local project behaves like the service in what a client must handle: an update is
/// `in_progress` for a while before it completes, even with `update_delay` 0.
#[tokio::test]
async fn on_the_local_target_an_update_is_in_progress_before_it_completes() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::resolve(
        Some(&format!("local:{}", dir.path().display())),
        &Env::default(),
    )
    .unwrap();
    let conn = Connection::open(
        target,
        ApiVersion::V1,
        AuthMode::Auto,
        &Env::default(),
        transport(),
    )
    .await
    .unwrap();
    let s = store("busy");
    conn.client
        .create_store(&s, &store_spec("d"), &stamp("h"))
        .await
        .unwrap();
    let started = conn
        .client
        .update_memories(&s, "u1", &[Message::user("I use Rust.")], None, Some(0))
        .await
        .unwrap();
    let now = conn
        .client
        .get_update(&s, &started.update.update_id)
        .await
        .unwrap();
    assert_eq!(now.status, UpdateStatus::InProgress, "{now:?}");
    let done = conn
        .client
        .update_memories_and_wait(&s, "u1", &[Message::user("I use Helix.")], Some(0))
        .await
        .unwrap();
    assert_eq!(done.status, UpdateStatus::Completed, "{done:?}");
    conn.close().await;
}

/// A TCP proxy that forwards each request to the emulator and, for the first request whose
/// path contains a marker, throws the emulator's answer away and closes the connection: the
/// write happened, the client never learns it.
mod lossy_proxy {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub struct Proxy {
        pub addr: SocketAddr,
        lost: Arc<AtomicUsize>,
    }

    impl Proxy {
        pub fn lost(&self) -> usize {
            self.lost.load(Ordering::SeqCst)
        }
    }

    pub async fn start(upstream: SocketAddr, marker: &'static str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let lost = Arc::new(AtomicUsize::new(0));
        let l = lost.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let l = l.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut client).await else {
                        return;
                    };
                    let head = String::from_utf8_lossy(&request).to_string();
                    let first_line = head.lines().next().unwrap_or_default().to_owned();
                    let mut up = TcpStream::connect(upstream).await.unwrap();
                    up.write_all(&with_connection_close(&request))
                        .await
                        .unwrap();
                    let mut response = Vec::new();
                    let _ = up.read_to_end(&mut response).await;
                    let swallow = first_line.starts_with("POST")
                        && first_line.contains(marker)
                        && l.fetch_add(1, Ordering::SeqCst) == 0;
                    if !swallow {
                        let _ = client.write_all(&response).await;
                    }
                    let _ = client.shutdown().await;
                });
            }
        });
        Proxy { addr, lost }
    }

    /// One request: the head up to the blank line, then `content-length` bytes of body.
    async fn read_request(sock: &mut TcpStream) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = sock.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buf.len() < end + 4 + len {
                    let n = sock.read(&mut chunk).await.ok()?;
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                return Some(buf);
            }
        }
    }

    /// Asks the emulator to close after answering, so its answer ends at EOF.
    fn with_connection_close(request: &[u8]) -> Vec<u8> {
        let end = request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(request.len());
        let head = String::from_utf8_lossy(&request[..end]);
        let mut out: String = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect::<Vec<_>>()
            .join("\r\n");
        out.push_str("\r\nconnection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&request[(end + 4).min(request.len())..]);
        bytes
    }
}
