//! Loopback throughput of simple GETs with several concurrent clients; prints requests/second.
//! Run: `cargo bench -p foundry-emulator --bench throughput`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use foundry_emulator::{Config, Emulator};

const CLIENTS: usize = 8;
const RUN: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let emulator = Emulator::start(Config::default()).await?;
    let base = emulator.endpoint();
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/agents/bench/versions?api-version=v1"))
        .json(&serde_json::json!({"definition": {"kind": "prompt", "model": "m"}}))
        .send()
        .await?;
    anyhow::ensure!(
        created.status() == 200,
        "setup failed: {}",
        created.status()
    );
    let url = format!("{base}/agents/bench?api-version=v1");
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url, done) = (http.clone(), url.clone(), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < RUN {
                if let Ok(r) = http.get(&url).send().await
                    && r.status() == 200
                    && r.bytes().await.is_ok()
                {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let n = done.load(Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "emulator throughput: {n} GET /agents/{{name}} in {secs:.2} s with {CLIENTS} clients = {:.0} requests/s",
        n as f64 / secs
    );
    emulator.shutdown().await;
    Ok(())
}
