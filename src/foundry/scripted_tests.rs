//! Transport and client behaviour against the scripted server: exact retry counts, measured
//! `Retry-After` waits, dropped connections, the in-flight limit, the bearer rules, and the
//! read-back that keeps a lost create from leaving a duplicate.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use serde_json::json;

use super::test_server::{Action, Server, ok, status};
use super::*;
use crate::env::Env;
use crate::model::{AgentName, AgentSpec, MemoryStoreName, MemoryStoreSpec};

fn fast() -> TransportConfig {
    TransportConfig {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_attempts: 5,
        max_elapsed: Duration::from_secs(20),
        request_timeout: Duration::from_secs(5),
        ..TransportConfig::default()
    }
}

fn client(server: &Server, auth: Auth, config: TransportConfig) -> Client {
    Client::new(
        Url::parse(&server.url).unwrap(),
        ApiVersion::V1,
        auth,
        config,
    )
    .unwrap()
}

const STORE: &str = r#"{"object":"memory_store","id":"memstore_1","created_at":1,"updated_at":1,"name":"prefs","description":"d","metadata":{"foundryctl-hash":"h"},"definition":{"kind":"default","chat_model":"c","embedding_model":"e","options":{"user_profile_enabled":true,"chat_summary_enabled":true}}}"#;

fn store_spec() -> MemoryStoreSpec {
    MemoryStoreSpec {
        description: "d".into(),
        chat_model: "c".into(),
        embedding_model: "e".into(),
        ..Default::default()
    }
}

fn stamp() -> BTreeMap<String, String> {
    BTreeMap::from([("foundryctl-hash".to_owned(), "h".to_owned())])
}

fn name() -> MemoryStoreName {
    MemoryStoreName::new("prefs").unwrap()
}

#[tokio::test]
async fn retry_after_is_waited_out_before_the_next_attempt() {
    let server = Server::start(
        vec![Action::Reply(
            429,
            vec![("retry-after", "1".into())],
            "{}".into(),
        )],
        ok(STORE),
    )
    .await;
    let c = client(&server, Auth::None, fast());
    let started = Instant::now();
    c.get_store(&name()).await.unwrap().unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(950), "waited only {gap:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn transient_errors_are_retried_until_success_and_counted() {
    let server = Server::start(
        vec![status(503), status(500), status(502), status(504)],
        ok(STORE),
    )
    .await;
    let c = client(&server, Auth::None, fast());
    assert!(c.get_store(&name()).await.unwrap().is_some());
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit_with_a_clear_error() {
    let server = Server::start(Vec::new(), status(503)).await;
    let c = client(
        &server,
        Auth::None,
        TransportConfig {
            max_attempts: 3,
            ..fast()
        },
    );
    let e = c.list_stores().await.unwrap_err();
    assert!(
        matches!(e, ClientError::RetriesExhausted { attempts: 3, .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("list memory stores: gave up after 3 attempts"),
        "{e}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_dropped_connection_on_a_read_is_survived() {
    let server = Server::start(vec![Action::Drop, Action::Drop], ok(STORE)).await;
    let c = client(&server, Auth::None, fast());
    assert!(c.get_store(&name()).await.unwrap().is_some());
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_read_back_not_repeated() {
    // The POST is processed but its answer never arrives; the read-back finds our store.
    let server = Server::start(vec![Action::Drop, ok(STORE)], status(500)).await;
    let c = client(&server, Auth::None, fast());
    let live = c
        .create_store(&name(), &store_spec(), &stamp())
        .await
        .unwrap();
    assert_eq!(live.id, "memstore_1");
    let methods: Vec<String> = server
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        methods,
        [
            "POST /api/projects/p/memory_stores",
            "GET /api/projects/p/memory_stores/prefs"
        ]
    );
}

#[tokio::test]
async fn a_create_that_did_not_happen_is_sent_again_after_reading_back() {
    let not_found = Action::Reply(
        404,
        Vec::new(),
        r#"{"error":{"code":"not_found","message":"MemoryStore 'prefs' not found"}}"#.into(),
    );
    let server = Server::start(vec![status(502), not_found, ok(STORE)], status(500)).await;
    let c = client(&server, Auth::None, fast());
    c.create_store(&name(), &store_spec(), &stamp())
        .await
        .unwrap();
    let methods: Vec<String> = server.seen().iter().map(|s| s.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET", "POST"]);
}

#[tokio::test]
async fn a_lost_agent_version_is_recognised_by_its_stamp() {
    let spec = AgentSpec {
        model: "m".into(),
        instructions: Some("hi".into()),
        ..Default::default()
    };
    let agent = json!({"object":"agent","id":"bot","name":"bot","versions":{"latest":{
        "metadata":{"foundryctl-hash":"h"},"object":"agent.version","id":"bot:1","name":"bot","version":"1","description":"","created_at":1,
        "definition":{"kind":"prompt","model":"m","instructions":"hi"}}}});
    let server = Server::start(vec![Action::Drop, ok(&agent.to_string())], status(500)).await;
    let c = client(&server, Auth::None, fast());
    let v = c
        .create_agent_version(&AgentName::new("bot").unwrap(), &spec, &stamp())
        .await
        .unwrap();
    assert_eq!(v.version, "1");
    assert_eq!(
        server.seen().iter().filter(|s| s.method == "POST").count(),
        1,
        "no second version was created"
    );
}

#[tokio::test]
async fn not_found_means_absent_where_the_caller_expects_it() {
    let server = Server::start(
        Vec::new(),
        Action::Reply(
            404,
            Vec::new(),
            r#"{"error":{"code":"not_found","message":"Agent x doesn't exist"}}"#.into(),
        ),
    )
    .await;
    let c = client(&server, Auth::None, fast());
    let agent = AgentName::new("x").unwrap();
    assert!(c.get_agent(&agent).await.unwrap().is_none());
    assert!(!c.delete_agent(&agent).await.unwrap());
    assert!(c.get_agent_version(&agent, "1").await.unwrap().is_none());
    assert!(c.list_agent_versions(&agent).await.unwrap().is_empty());
    // Where presence is required, 404 is an error naming the operation.
    let e = c
        .update_store(&name(), "d", &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(
        e.is_not_found()
            && e.to_string()
                .starts_with("update memory store: the project answered 404"),
        "{e}"
    );
}

#[tokio::test]
async fn paging_follows_last_id_until_has_more_is_false() {
    let page = |ids: &[&str], more: bool| {
        let data: Vec<_> = ids.iter().map(|n| json!({"object":"agent","id":n,"name":n,"versions":{"latest":{"metadata":{},"object":"agent.version","id":format!("{n}:1"),"name":n,"version":"1","created_at":1,"definition":{"kind":"prompt","model":"m"}}}})).collect();
        ok(&json!({"data": data, "first_id": ids.first(), "last_id": ids.last(), "has_more": more, "object": "list"}).to_string())
    };
    let server = Server::start(
        vec![
            page(&["a", "b"], true),
            page(&["c"], true),
            page(&[], false),
        ],
        status(500),
    )
    .await;
    let c = client(&server, Auth::None, fast());
    let agents = c.list_agents().await.unwrap();
    assert_eq!(
        agents.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    let paths: Vec<String> = server.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/api/projects/p/agents?limit=100&api-version=v1",
            "/api/projects/p/agents?limit=100&after=b&api-version=v1",
            "/api/projects/p/agents?limit=100&after=c&api-version=v1"
        ]
    );
}

/// Issue 15: a page that says `has_more` but gives nothing to continue from (no items, or no
/// `last_id`) is malformed; taking it as the last page would plan from half the project (and
/// a prune would then "recreate" what it did not see).
#[tokio::test]
async fn a_page_with_more_but_nothing_to_follow_is_an_error_not_the_end() {
    let agent = |n: &str| json!({"object":"agent","id":n,"name":n,"versions":{"latest":{"metadata":{},"object":"agent.version","id":format!("{n}:1"),"name":n,"version":"1","created_at":1,"definition":{"kind":"prompt","model":"m"}}}});
    let cases = [
        (
            "no items",
            json!({"data": [], "has_more": true, "last_id": "a"}),
        ),
        ("null items", json!({"data": null, "has_more": true})),
        ("no cursor", json!({"data": [agent("a")], "has_more": true})),
        (
            "empty cursor",
            json!({"data": [agent("a")], "has_more": true, "last_id": ""}),
        ),
    ];
    for (case, body) in cases {
        let server = Server::start(vec![ok(&body.to_string())], status(500)).await;
        let c = client(&server, Auth::None, fast());
        let e = c.list_agents().await.expect_err(case);
        let text = e.to_string();
        assert!(
            text.starts_with("list agents: the project sent a malformed page: `has_more` is true"),
            "{case}: {text}"
        );
        assert_eq!(server.seen().len(), 1, "{case}: not retried");
    }
}

/// Issue 15: an answer larger than the limit is a clear error, found from `content-length`
/// before reading, or while streaming one without; the body is never read past the limit.
#[tokio::test]
async fn an_answer_past_the_size_limit_is_an_error_and_is_not_read_to_the_end() {
    let small = || TransportConfig {
        max_body_bytes: 1 << 20,
        ..fast()
    };
    // Declared too large.
    let big = format!("{{\"data\":[],\"pad\":\"{}\"}}", "x".repeat(2 << 20));
    let server = Server::start(vec![ok(&big)], status(500)).await;
    let e = client(&server, Auth::None, small())
        .list_agents()
        .await
        .expect_err("too large");
    assert_eq!(
        e.to_string(),
        "list agents: the project's answer is larger than the 1 MiB limit; stopped reading it"
    );
    assert_eq!(server.seen().len(), 1, "not retried");

    // Streamed without a length, 64 MiB if the client read it all.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/projects/p", listener.local_addr().unwrap());
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"data\":[],\"pad\":\"";
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 << 10];
        for _ in 0..1024 {
            if sock.write_all(&chunk).await.is_err() {
                return;
            }
            counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
        }
        let _ = sock.write_all(b"\"}").await;
    });
    let c = Client::new(
        Url::parse(&url).unwrap(),
        ApiVersion::V1,
        Auth::None,
        small(),
    )
    .unwrap();
    let e = c.list_agents().await.expect_err("too large");
    assert_eq!(
        e.to_string(),
        "list agents: the project's answer is larger than the 1 MiB limit; stopped reading it"
    );
    // The server could push a little more into socket buffers, never the whole stream.
    let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 32 << 20, "the server wrote {sent} bytes");
}

#[tokio::test]
async fn read_live_state_lists_each_kind_once_and_fetches_history_only_for_unstamped_declared_agents()
 {
    let stores = json!({"data":[serde_json::from_str::<serde_json::Value>(STORE).unwrap()],"first_id":"memstore_1","last_id":"memstore_1","has_more":false}).to_string();
    let agent = |n: &str, managed: bool| {
        let md = if managed {
            json!({"managed-by":"foundryctl"})
        } else {
            json!({})
        };
        json!({"object":"agent","id":n,"name":n,"versions":{"latest":{"metadata":md,"object":"agent.version","id":format!("{n}:2"),"name":n,"version":"2","created_at":1,"definition":{"kind":"prompt","model":"m"}}}})
    };
    let agents = json!({"data":[agent("ours", true), agent("edited", false), agent("foreign", false)],"has_more":false}).to_string();
    let versions = json!({"data":[{"metadata":{},"object":"agent.version","id":"edited:2","name":"edited","version":"2","created_at":2,"definition":{"kind":"prompt","model":"m"}},
        {"metadata":{"managed-by":"foundryctl"},"object":"agent.version","id":"edited:1","name":"edited","version":"1","created_at":1,"definition":{"kind":"prompt","model":"m"}}],"has_more":false}).to_string();
    // Routed by path: the two lists run concurrently and may arrive in either order.
    let routed = Router::spawn(vec![
        ("/memory_stores?".to_owned(), stores),
        ("/agents?".to_owned(), agents),
        ("/agents/edited/versions".to_owned(), versions),
    ])
    .await;
    let c2 = Client::new(
        Url::parse(&routed.url).unwrap(),
        ApiVersion::V1,
        Auth::None,
        fast(),
    )
    .unwrap();
    let history_for: BTreeSet<AgentName> = ["ours", "edited", "missing"]
        .iter()
        .map(|n| AgentName::new(*n).unwrap())
        .collect();
    let state = c2.read_live_state(&history_for).await.unwrap();
    assert_eq!(state.stores.len(), 1);
    assert_eq!(state.agents.len(), 3);
    assert!(
        state.agents[&AgentName::new("ours").unwrap()]
            .history
            .is_none()
    );
    assert!(
        state.agents[&AgentName::new("foreign").unwrap()]
            .history
            .is_none(),
        "not declared: no extra call"
    );
    let history = state.agents[&AgentName::new("edited").unwrap()]
        .history
        .as_ref()
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["2", "1"]
    );
    let mut paths = routed.paths();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/projects/p/agents/edited/versions?limit=100&order=desc&api-version=v1",
            "/api/projects/p/agents?limit=100&api-version=v1",
            "/api/projects/p/memory_stores?limit=100&api-version=v1",
        ]
    );
}

#[tokio::test]
async fn histories_are_read_concurrently_within_the_limit_and_returned_in_the_order_asked() {
    // Six agents, each with a one-version history whose version number is its own index.
    let names: Vec<AgentName> = (1..=6)
        .rev()
        .map(|i| AgentName::new(format!("a{i}")).unwrap())
        .collect();
    let routes = (1..=6)
        .map(|i| {
            let page = json!({"data":[{"metadata":{},"object":"agent.version","id":format!("a{i}:{i}"),"name":format!("a{i}"),"version":i.to_string(),"created_at":1,"definition":{"kind":"prompt","model":"m"}}],"has_more":false});
            (format!("/agents/a{i}/versions"), page.to_string())
        })
        .collect();
    let delay = Duration::from_millis(300);
    let routed = Router::spawn_slow(routes, delay).await;
    let limit = 4;
    let c = Client::new(
        Url::parse(&routed.url).unwrap(),
        ApiVersion::V1,
        Auth::None,
        TransportConfig {
            max_in_flight: limit,
            ..fast()
        },
    )
    .unwrap();
    let started = Instant::now();
    let histories = c.list_versions_of_agents(names.clone()).await.unwrap();
    let elapsed = started.elapsed();

    let got: Vec<(String, Vec<String>)> = histories
        .iter()
        .map(|(n, h)| {
            (
                n.as_str().to_owned(),
                h.iter().map(|v| v.version.clone()).collect(),
            )
        })
        .collect();
    let expected: Vec<(String, Vec<String>)> = (1..=6)
        .rev()
        .map(|i| (format!("a{i}"), vec![i.to_string()]))
        .collect();
    assert_eq!(
        got, expected,
        "in the order asked, each with its own history"
    );
    assert_eq!(routed.paths().len(), 6, "one list per agent");
    assert!(
        routed.max_in_flight() > 1 && routed.max_in_flight() <= limit,
        "{} in flight at once (limit {limit})",
        routed.max_in_flight()
    );
    assert!(
        elapsed < delay * 5,
        "six reads of {delay:?} took {elapsed:?}: not concurrent"
    );
}

#[tokio::test]
async fn a_failed_history_read_names_its_agent() {
    let server = Server::start(Vec::new(), status(400)).await;
    let c = client(&server, Auth::None, fast());
    let e = c
        .list_versions_of_agents(vec![AgentName::new("broken").unwrap()])
        .await
        .unwrap_err();
    assert_eq!(e.name.as_str(), "broken");
    assert_eq!(e.error.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_limit() {
    let server = Server::start(
        Vec::new(),
        Action::Slow(Duration::from_millis(100), STORE.into()),
    )
    .await;
    let c = client(
        &server,
        Auth::None,
        TransportConfig {
            max_in_flight: 2,
            ..fast()
        },
    );
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get_store(&name()).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.seen().len(), 6);
    assert!(
        server.max_in_flight() <= 2,
        "{} in flight",
        server.max_in_flight()
    );
}

#[tokio::test]
async fn a_client_built_for_a_parallelism_above_the_default_limit_runs_that_many_at_once() {
    let server = Server::start(
        Vec::new(),
        Action::Slow(Duration::from_millis(400), STORE.into()),
    )
    .await;
    let default_limit = TransportConfig::default().max_in_flight;
    let wanted = default_limit * 2;
    let c = client(
        &server,
        Auth::None,
        TransportConfig {
            max_in_flight: TransportConfig::for_parallelism(wanted).max_in_flight,
            ..fast()
        },
    );
    let calls: Vec<_> = (0..wanted)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get_store(&name()).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.seen().len(), wanted);
    assert!(
        server.max_in_flight() > default_limit,
        "only {} in flight at once; the default limit is {default_limit}",
        server.max_in_flight()
    );
}

#[tokio::test]
async fn the_bearer_token_goes_to_loopback_http_but_never_to_remote_http() {
    let server = Server::start(Vec::new(), ok(STORE)).await;
    let auth = Auth::from_mode(
        crate::foundry::AuthMode::Token,
        &Env::from_pairs([("FOUNDRY_TOKEN", "tok-123")]),
    )
    .unwrap();
    let c = client(&server, auth, fast());
    c.get_store(&name()).await.unwrap();
    let seen = server.seen();
    let header = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(header, Some("Bearer tok-123"));
    assert!(
        seen[0]
            .headers
            .iter()
            .any(|(k, v)| k == "foundry-features" && v == "MemoryStores=V1Preview")
    );

    let auth = Auth::from_mode(
        crate::foundry::AuthMode::Token,
        &Env::from_pairs([("FOUNDRY_TOKEN", "tok-123")]),
    )
    .unwrap();
    let remote = Client::new(
        Url::parse("http://192.0.2.1/api/projects/p").unwrap(),
        ApiVersion::V1,
        auth,
        fast(),
    )
    .unwrap();
    let e = remote.list_stores().await.unwrap_err();
    assert!(matches!(e, ClientError::InsecureEndpoint { .. }), "{e}");
}

#[tokio::test]
async fn a_401_explains_the_audience() {
    let server = Server::start(Vec::new(), Action::Reply(401, Vec::new(), r#"{"error":{"code":"PermissionDenied","message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://ai.azure.com), or have expired."}}"#.into())).await;
    let c = client(&server, Auth::None, fast());
    let error = c.list_agents().await.unwrap_err();
    let e = error.to_string();
    assert!(
        e.contains("401 Unauthorized")
            && error
                .hint()
                .unwrap()
                .contains("audience https://ai.azure.com"),
        "{e}"
    );
    assert_eq!(server.seen().len(), 1, "a 401 is not retried");
}

/// An Entra-like credential handing out `token-0`, `token-1`, … (an hour each).
#[derive(Debug, Default)]
struct Counting(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for Counting {
    async fn get_token(
        &self,
        _: &[&str],
        _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(azure_core::credentials::AccessToken::new(
            format!("token-{n}"),
            azure_core::time::OffsetDateTime::now_utc() + Duration::from_secs(3600),
        ))
    }
}

fn entra() -> Auth {
    Auth::Entra(super::auth::Chain::new(vec![super::auth::Link::Ready(
        "counting",
        Arc::new(Counting::default()),
    )]))
}

fn authorizations(server: &Server) -> Vec<String> {
    server
        .seen()
        .iter()
        .filter_map(|s| {
            s.headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone())
        })
        .collect()
}

#[tokio::test]
async fn a_401_to_an_entra_token_is_retried_once_with_a_new_token() {
    let refused = Action::Reply(
        401,
        Vec::new(),
        r#"{"error":{"code":"PermissionDenied","message":"token expired"}}"#.into(),
    );
    let server = Server::start(vec![refused.clone()], ok(STORE)).await;
    let c = client(&server, entra(), fast());
    c.get_store(&name()).await.unwrap();
    assert_eq!(
        authorizations(&server),
        ["Bearer token-0", "Bearer token-1"]
    );

    // Refused again with the new token: that is the answer, not a loop.
    let server = Server::start(Vec::new(), refused).await;
    let c = client(&server, entra(), fast());
    let e = c.get_store(&name()).await.unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized { .. }), "{e}");
    assert_eq!(
        authorizations(&server),
        ["Bearer token-0", "Bearer token-1"]
    );
}

#[tokio::test]
async fn update_memories_polls_until_a_terminal_status() {
    let loc = |server_url: &str| {
        format!("{server_url}/memory_stores/prefs/updates/u1?api-version=2025-11-15-preview")
    };
    let server = Server::start(Vec::new(), status(500)).await;
    server.push(Action::Reply(
        202,
        vec![("operation-location", loc(&server.url))],
        r#"{"update_id":"u1","status":"queued"}"#.into(),
    ));
    server.push(ok(r#"{"update_id":"u1","status":"in_progress"}"#));
    server.push(ok(r#"{"update_id":"u1","status":"completed","result":{"memory_operations":[{"kind":"created","memory_item":{"memory_id":"m","updated_at":1,"scope":"u","content":"likes tea","kind":"USER_PROFILE"}}],"usage":{}}}"#));
    let c = client(&server, Auth::None, fast()).with_lro(LroConfig {
        first_interval: Duration::from_millis(10),
        ..LroConfig::default()
    });
    let done = c
        .update_memories_and_wait(&name(), "u", &[Message::user("I like tea")], Some(0))
        .await
        .unwrap();
    assert_eq!(
        done.result.unwrap().memory_operations[0]
            .memory_item
            .content,
        "likes tea"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[1].path,
        "/api/projects/p/memory_stores/prefs/updates/u1?api-version=2025-11-15-preview"
    );
    assert!(
        !seen[1].headers.iter().any(|(k, _)| k == "foundry-features"),
        "the poll follows the api-version the URL names"
    );
    assert!(seen[0].body.contains(r#""update_delay":0"#));
}

#[tokio::test]
async fn an_update_that_never_finishes_times_out_with_its_id() {
    let server = Server::start(
        vec![Action::Reply(
            202,
            Vec::new(),
            r#"{"update_id":"u9","status":"queued"}"#.into(),
        )],
        ok(r#"{"update_id":"u9","status":"in_progress"}"#),
    )
    .await;
    let c = client(&server, Auth::None, fast()).with_lro(LroConfig {
        timeout: Duration::from_millis(300),
        first_interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(50),
    });
    let e = c
        .update_memories_and_wait(&name(), "u", &[], Some(0))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("update u9 was still `in_progress`"), "{e}");
}

/// A second scripted server that answers by path prefix, for calls whose order is not fixed.
struct Router {
    url: String,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    /// Requests being answered now, and the most at once.
    in_flight: Arc<std::sync::Mutex<(usize, usize)>>,
}

impl Router {
    async fn spawn(routes: Vec<(String, String)>) -> Router {
        Self::spawn_slow(routes, Duration::ZERO).await
    }

    /// Like [`Router::spawn`], answering each request after `delay`.
    async fn spawn_slow(routes: Vec<(String, String)>, delay: Duration) -> Router {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/projects/p", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let in_flight = Arc::new(std::sync::Mutex::new((0, 0)));
        let (s, f) = (seen.clone(), in_flight.clone());
        let routes = Arc::new(routes);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (s, f, routes) = (s.clone(), f.clone(), routes.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]).to_string();
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    s.lock().unwrap().push(path.clone());
                    {
                        let mut g = f.lock().unwrap();
                        g.0 += 1;
                        g.1 = g.1.max(g.0);
                    }
                    tokio::time::sleep(delay).await;
                    f.lock().unwrap().0 -= 1;
                    let body = routes
                        .iter()
                        .find(|(p, _)| path.contains(p.as_str()))
                        .map(|(_, b)| b.clone())
                        .unwrap_or_else(|| "{}".into());
                    let text = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(text.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Router {
            url,
            seen,
            in_flight,
        }
    }

    fn paths(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }
}

#[tokio::test]
async fn github_oidc_fetches_the_id_token_for_the_token_exchange_audience() {
    use azure_identity::ClientAssertion as _;
    let server = Server::start(Vec::new(), ok(r#"{"count":1,"value":"gh-id-token"}"#)).await;
    // GitHub's request URL already carries a query (`?api-version=2.0`); the audience is added.
    let assertion = auth::GithubOidc::new(
        &format!("{}/token?api-version=2.0", server.url),
        "runtime-token",
    );
    assert_eq!(assertion.secret(None).await.unwrap(), "gh-id-token");
    let seen = server.seen();
    assert_eq!(
        seen[0].path,
        "/api/projects/p/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"
    );
    assert!(
        seen[0]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer runtime-token")
    );

    let failing = Server::start(Vec::new(), status(403)).await;
    let e = auth::GithubOidc::new(&failing.url, "t")
        .secret(None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("GitHub OIDC token request failed"), "{e}");
}

#[tokio::test]
async fn deployments_follow_next_link_and_a_403_means_not_allowed() {
    let page1 = r#"{"value":[{"name":"gpt-4.1-mini","type":"ModelDeployment","modelName":"gpt-4.1-mini"}],"nextLink":"https://elsewhere.example/deployments?api-version=v1&skip=1"}"#;
    let page2 = r#"{"value":[{"name":"embed","type":"ModelDeployment","modelName":"text-embedding-3-large"}]}"#;
    let server = Server::start(vec![ok(page1)], ok(page2)).await;
    let c = client(&server, Auth::None, fast());
    let listed = c.list_deployments().await.unwrap();
    assert_eq!(
        listed,
        Deployments::Listed(BTreeSet::from([
            "gpt-4.1-mini".to_owned(),
            "embed".to_owned()
        ]))
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "one request per page");

    let forbidden = Server::start(Vec::new(), status(403)).await;
    let c = client(&forbidden, Auth::None, fast());
    assert_eq!(c.list_deployments().await.unwrap(), Deployments::NotAllowed);

    let failing = Server::start(Vec::new(), status(400)).await;
    let c = client(&failing, Auth::None, fast());
    assert!(c.list_deployments().await.is_err());
}
