//! The workshop of issue 12 (`manifests/workshop`: a memory store and a tutor agent per
//! attendee, by `for_each` over `attendees.txt`, plus the support and quiz agents) as an
//! instructor runs it: `apply` from an empty project, then the `plan` that must show no
//! changes, each by the foundryctl binary in a fresh process, against the emulator with an
//! injected latency per request, beside their round-trip bounds (BENCHMARKS.md).
//!
//! Run: `cargo bench --bench workshop [-- --runs K --latency-ms 25 --parallelism 8]`. Prints a
//! Markdown table on stdout; exits 1 when a result is wrong (an apply that failed or wrote
//! other than the plan's actions, a re-plan with changes), not when it is slow.
//!
//! Whatever kinds the workshop declares are measured: the bound's writes come from the plan
//! itself (`plan -o json`, per dependency level: one write per action, a replace two, a seed
//! one per memory, sent at once up to the client's in-flight limit), and the no-change plan's
//! bound adds the seeded scopes' reads after the store list.

#[path = "reconcile/bounds.rs"]
mod bounds;
#[path = "common/process.rs"]
mod process;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use foundry_emulator::{Config, Emulator, FaultConfig};

const WORKSHOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/workshop");

struct Settings {
    runs: usize,
    latency: Duration,
    parallelism: usize,
}

fn main() -> anyhow::Result<()> {
    bounds::self_check();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |name: &str, default: usize| -> anyhow::Result<usize> {
        match args.iter().position(|a| a == name) {
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("{name}: expected a whole number")),
            None => Ok(default),
        }
    };
    let settings = Settings {
        runs: number("--runs", 5)?.max(1),
        latency: Duration::from_millis(number("--latency-ms", 25)? as u64),
        parallelism: number("--parallelism", 8)?.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (table, wrong) = runtime.block_on(run(&settings))?;
    println!(
        "Workshop (manifests/workshop), latency {} ms, --parallelism {}, whole process, {} runs; \
         load average {}.\n",
        settings.latency.as_millis(),
        settings.parallelism,
        settings.runs,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("{table}");
    if !wrong.is_empty() {
        for w in &wrong {
            eprintln!("error: {w}");
        }
        std::process::exit(1);
    }
    Ok(())
}

/// What one run measured.
struct RunResult {
    apply: process::Measured,
    apply_requests: BTreeMap<String, u64>,
    replan: process::Measured,
    replan_requests: BTreeMap<String, u64>,
    /// Actions of the plan from empty, by kind, and its writes per level.
    kinds: BTreeMap<String, usize>,
    writes_per_level: Vec<process::LevelWrites>,
    /// The (store, scope) pairs the seeds write: one `items:list` each in a later plan.
    seeded_scopes: usize,
}

async fn run(settings: &Settings) -> anyhow::Result<(String, Vec<String>)> {
    let cwd = tempfile::tempdir()?;
    let mut wrong = Vec::new();
    let mut results = Vec::new();
    for run in 1..=settings.runs {
        eprintln!("workshop: run {run}/{}", settings.runs);
        results.push(run_once(settings, cwd.path(), &mut wrong).await?);
    }
    let first = &results[0];
    let l = settings.latency;
    // Both kinds list concurrently, each in ⌈count ÷ 100⌉ pages. A plan reads a seed's scope
    // only in a store that exists, so the scope reads (one page each, as many at once as the
    // client sends) follow the store list; from empty there are none.
    let in_flight =
        foundryctl::foundry::TransportConfig::for_parallelism(settings.parallelism).max_in_flight;
    let stores = first.kinds.get("memory_store").copied().unwrap_or(0);
    let agents = first.kinds.get("agent").copied().unwrap_or(0);
    let read_empty = bounds::read(0, 0, l);
    let read_full = bounds::read(stores, agents, l)
        + l * u32::try_from(first.seeded_scopes.div_ceil(in_flight)).unwrap_or(u32::MAX);
    let levels: Vec<(usize, usize, usize)> = first
        .writes_per_level
        .iter()
        .map(|w| (w.action_rounds, w.requests + w.rereads, w.in_a_row))
        .collect();
    let apply_bound =
        read_empty + bounds::write_concurrent(&levels, settings.parallelism, in_flight, l);
    let median = |f: &dyn Fn(&RunResult) -> f64| {
        let mut v: Vec<f64> = results.iter().map(f).collect();
        Duration::from_secs_f64(process::median(&mut v) / 1e3)
    };
    let apply_wall = median(&|r| r.apply.wall_ms);
    let replan_wall = median(&|r| r.replan.wall_ms);
    let peak = |f: &dyn Fn(&RunResult) -> u64| results.iter().map(f).max().unwrap_or(0);
    let what: Vec<String> = first
        .kinds
        .iter()
        .map(|(k, c)| format!("{c} {k}"))
        .collect();
    let requests = |r: &BTreeMap<String, u64>| {
        r.iter()
            .map(|(m, c)| format!("{m} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut table = String::from(
        "| workshop | command | wall (median) | bound | ratio | requests | writes per level | peak RSS |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let rows = [
        (
            "apply (from empty)",
            apply_wall,
            apply_bound,
            requests(&first.apply_requests),
            format!(
                "{:?}",
                first
                    .writes_per_level
                    .iter()
                    .map(|w| w.requests)
                    .collect::<Vec<_>>()
            ),
            peak(&|r| r.apply.peak_kib),
        ),
        (
            "plan (no change)",
            replan_wall,
            read_full,
            requests(&first.replan_requests),
            "—".to_owned(),
            peak(&|r| r.replan.peak_kib),
        ),
    ];
    for (command, wall, bound, reqs, levels, peak) in rows {
        table.push_str(&format!(
            "| {} | {command} | {} | {} | {:.2}× | {reqs} | {levels} | {} |\n",
            what.join(" + "),
            ms(wall),
            ms(bound),
            wall.as_secs_f64() / bound.as_secs_f64(),
            if peak == 0 {
                "n/a".to_owned()
            } else {
                format!("{:.1} MiB", peak as f64 / 1024.0)
            }
        ));
    }
    Ok((table, wrong))
}

async fn run_once(
    settings: &Settings,
    cwd: &Path,
    wrong: &mut Vec<String>,
) -> anyhow::Result<RunResult> {
    let emulator = Emulator::start(Config {
        faults: FaultConfig {
            latency: settings.latency,
            ..FaultConfig::default()
        },
        ..Config::default()
    })
    .await?;
    let endpoint = emulator.endpoint();
    let parallelism = settings.parallelism.to_string();
    // Not timed: the plan from empty, for the bound's writes per level.
    let (planned, json) = blocking(
        cwd,
        &endpoint,
        &["plan", "-f", WORKSHOP, "-o", "json"],
        true,
    )
    .await?;
    anyhow::ensure!(
        planned.code == 0,
        "the workshop's plan failed:\n{}",
        planned.stderr
    );
    let writes_per_level = process::writes_per_level(&json)?;
    let seeded_scopes = process::seeded_scopes(&json)?.len();
    let plan: serde_json::Value = serde_json::from_slice(&json)?;
    let mut kinds = BTreeMap::new();
    for action in plan["actions"].as_array().into_iter().flatten() {
        *kinds
            .entry(action["kind"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    let before = emulator.stats();
    let (apply, _) = blocking(
        cwd,
        &endpoint,
        &[
            "apply",
            "-f",
            WORKSHOP,
            "--auto-approve",
            "--parallelism",
            parallelism.as_str(),
        ],
        false,
    )
    .await?;
    let middle = emulator.stats();
    let (replan, _) = blocking(
        cwd,
        &endpoint,
        &["plan", "-f", WORKSHOP, "--detailed-exitcode"],
        false,
    )
    .await?;
    let after = emulator.stats();
    emulator.shutdown().await;
    let apply_requests = process::difference(&before.by_method, &middle.by_method);
    // Writes are the requests that change something: not the GETs, nor the `items:list`
    // reads (a POST) a seed makes after its writes.
    let writes: u64 = process::difference(&before.by_route, &middle.by_route)
        .iter()
        .filter(|(route, _)| !route.starts_with("GET ") && !route.ends_with("/items:list"))
        .map(|(_, c)| c)
        .sum();
    let planned_writes: usize = writes_per_level.iter().map(|w| w.requests).sum();
    if apply.code != 0 || writes != planned_writes as u64 {
        wrong.push(format!(
            "apply: exit {}, {writes} writes for {planned_writes} planned\n{}",
            apply.code, apply.stderr
        ));
    }
    if replan.code != 0 {
        wrong.push(format!(
            "the plan after apply: exit {} (2 = changes)\n{}",
            replan.code, replan.stderr
        ));
    }
    Ok(RunResult {
        apply,
        apply_requests,
        replan,
        replan_requests: process::difference(&middle.by_method, &after.by_method),
        kinds,
        writes_per_level,
        seeded_scopes,
    })
}

async fn blocking(
    cwd: &Path,
    endpoint: &str,
    args: &[&str],
    keep_stdout: bool,
) -> anyhow::Result<(process::Measured, Vec<u8>)> {
    let (cwd, endpoint) = (cwd.to_path_buf(), endpoint.to_owned());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        process::run_with_stdout(&cwd, Some(&endpoint), &args, keep_stdout)
    })
    .await?
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}
