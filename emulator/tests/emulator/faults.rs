use std::time::{Duration, Instant};

use foundry_emulator::{Config, FaultConfig, TlsConfig};

use crate::common::Env;

#[tokio::test]
async fn injected_429_carries_retry_after_and_the_envelope() {
    let env = Env::start().await;
    env.emulator.set_faults(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: 7,
        seed: Some(1),
        ..FaultConfig::default()
    });
    let r = env.get("/agents?api-version=v1").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(r.body["error"]["code"], "too_many_requests");
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    env.emulator.set_faults(FaultConfig::default());
    assert_eq!(env.get("/agents?api-version=v1").await.status, 200);
    assert_eq!(env.emulator.stats().injected_errors, 1);
}

#[tokio::test]
async fn same_seed_gives_the_same_fault_sequence() {
    let faults = FaultConfig {
        rate_500: 0.3,
        rate_503: 0.3,
        seed: Some(42),
        ..FaultConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let env = Env::start().await;
        env.emulator.set_faults(faults.clone());
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(env.get("/agents?api-version=v1").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|s| *s >= 500),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn dropped_connection_gets_no_response() {
    let env = Env::start().await;
    env.emulator.set_faults(FaultConfig {
        drop_rate: 1.0,
        ..FaultConfig::default()
    });
    let err = env
        .http
        .get(format!("{}/agents?api-version=v1", env.base))
        .send()
        .await
        .expect_err("no response on a dropped connection");
    assert!(!err.is_status());
    assert_eq!(env.emulator.stats().dropped, 1);
}

/// A lost answer: the write is carried out, then the connection closes without the response.
#[tokio::test]
async fn a_lost_answer_writes_and_then_says_nothing() {
    let env = Env::start().await;
    env.emulator.set_faults(FaultConfig {
        lost_answer_rate: 1.0,
        ..FaultConfig::default()
    });
    let err = env
        .http
        .post(format!("{}/agents/lost/versions?api-version=v1", env.base))
        .json(&serde_json::json!({
            "definition": {"kind": "prompt", "model": "gpt-4.1", "instructions": "Hi."}
        }))
        .send()
        .await
        .expect_err("no response after the write");
    assert!(!err.is_status());
    env.emulator.set_faults(FaultConfig::default());
    assert_eq!(env.get("/agents/lost?api-version=v1").await.status, 200);
}

#[tokio::test]
async fn latency_delays_every_response() {
    let env = Env::start().await;
    env.emulator.set_faults(FaultConfig {
        latency: Duration::from_millis(60),
        ..FaultConfig::default()
    });
    let start = Instant::now();
    assert_eq!(env.get("/agents?api-version=v1").await.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(60));
}

/// The latency is a round trip: a write lands halfway through it, while its answer is still on
/// the way, and the answer comes at its end, the emulator's work inside it rather than after it.
#[tokio::test]
async fn latency_is_a_round_trip_with_the_work_halfway() {
    const TRIP: Duration = Duration::from_secs(2);
    let env = Env::start().await;
    env.emulator.set_faults(FaultConfig {
        latency: TRIP,
        ..FaultConfig::default()
    });
    let start = Instant::now();
    let write = tokio::spawn({
        let (http, base) = (env.http.clone(), env.base.clone());
        async move {
            let sent = http
                .post(format!("{base}/agents/halfway/versions?api-version=v1"))
                .json(&serde_json::json!({
                    "definition": {"kind": "prompt", "model": "gpt-4.1", "instructions": "Hi."}
                }))
                .send()
                .await;
            (sent.map(|r| r.status().as_u16()), start.elapsed())
        }
    });
    // The write's latency was rolled when it arrived; the reads below have none.
    while env.emulator.stats().total < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    env.emulator.set_faults(FaultConfig::default());
    while env.get("/agents/halfway?api-version=v1").await.status == 404 {
        assert!(
            start.elapsed() < TRIP,
            "the write had not landed by the end of its trip"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let landed = start.elapsed();
    assert!(
        !write.is_finished(),
        "the answer came before the write was seen"
    );
    assert!(
        landed >= TRIP / 2,
        "landed after {landed:?}, before halfway"
    );
    let (status, answered) = write.await.unwrap();
    assert_eq!(status.unwrap(), 200);
    assert!(answered >= TRIP, "answered after {answered:?}");
}

#[tokio::test]
async fn require_token_rejects_requests_without_bearer() {
    let env = Env::with(Config {
        require_token: true,
        ..Config::default()
    })
    .await;
    let r = env.get("/agents?api-version=v1").await;
    assert_eq!(r.status, 401);
    let ok = env
        .http
        .get(format!("{}/agents?api-version=v1", env.base))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    // A refusal takes the whole round trip too, like any other answer.
    const TRIP: Duration = Duration::from_millis(300);
    env.emulator.set_faults(FaultConfig {
        latency: TRIP,
        ..FaultConfig::default()
    });
    let start = Instant::now();
    assert_eq!(env.get("/agents?api-version=v1").await.status, 401);
    assert!(
        start.elapsed() >= TRIP,
        "refused after {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn tls_serves_https_with_the_generated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let env = Env::with(Config {
        tls: Some(TlsConfig {
            dir: dir.path().to_owned(),
        }),
        ..Config::default()
    })
    .await;
    assert!(env.base.starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(env.emulator.certificate_path().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/agents?api-version=v1", env.base))
        .bearer_auth("token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn file_storage_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        storage: foundry_emulator::Storage::File(dir.path().join("e.db")),
        ..Config::default()
    };
    let env = Env::with(config.clone()).await;
    crate::common::create_store(&env, "kept").await;
    env.emulator.shutdown().await;
    let env = Env::with(config).await;
    assert_eq!(
        env.get("/memory_stores/kept?api-version=v1").await.status,
        200
    );
}
