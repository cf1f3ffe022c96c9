//! What plan and apply cost, beside their lower bound and a naive client (BENCHMARKS.md).
//!
//! Run: `cargo bench --bench reconcile [-- --n 10,100,1000 --latency-ms 25 --parallelism 8
//! --runs K --naive-runs K]` (or the `RECONCILE_N`, `RECONCILE_LATENCY_MS`,
//! `RECONCILE_PARALLELISM`, `RECONCILE_RUNS`, `RECONCILE_NAIVE_RUNS` variables). Prints a
//! Markdown table on stdout, progress on stderr; exits 1 when a result is wrong (a re-plan that
//! is not empty, an apply that did not complete), not when a target is missed.
//!
//! # Method
//! The emulator runs in this process with an injected latency per request, and its request
//! counters give the requests of each phase. Each measured phase runs in a child process
//! (this binary with `--child`), so its peak memory (`VmHWM`) is foundryctl's alone and not
//! inherited from earlier phases. Every run starts from a fresh, empty emulator and goes
//! validate → plan (empty project) → apply (from empty) → plan (no change) → apply (10% of the
//! agents' instructions edited). The naive baseline runs the same four network phases in this
//! process (see `naive.rs`). Lower bounds are in `bounds.rs`.
//!
//! Then the same project is planned and applied by the foundryctl binary itself, a fresh
//! process per command (`whole.rs`): validate → plan (empty project) → apply (from empty) →
//! plan (no change) → plan (10% edited) → apply (10% edited), on another fresh emulator, timed
//! from spawn to exit. `--skip-library` or `--skip-process` leaves one half out.

#[path = "reconcile/bounds.rs"]
mod bounds;
#[path = "reconcile/child.rs"]
mod child;
#[path = "reconcile/manifests.rs"]
mod manifests;
#[path = "reconcile/memory.rs"]
mod memory;
#[path = "reconcile/naive.rs"]
mod naive;
#[path = "common/process.rs"]
mod process;
#[path = "reconcile/table.rs"]
mod table;
#[path = "reconcile/targets.rs"]
mod targets;
#[path = "reconcile/whole.rs"]
mod whole;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;

use child::{Phase, PhaseResult};
use foundry_emulator::{Config, Emulator, FaultConfig};
use foundryctl::foundry::{ApiVersion, Auth, Client, TransportConfig};
use foundryctl::manifest::{self, Variables};
use table::Row;

/// The measured network phases, in run order; `validate` precedes them.
const PHASES: [&str; 4] = [
    "plan (empty project)",
    "apply (from empty)",
    "plan (no change)",
    "apply (10% edited)",
];

struct Settings {
    ns: Vec<usize>,
    latency: Duration,
    parallelism: usize,
    runs: Option<usize>,
    naive_runs: Option<usize>,
    /// Leave out the in-process phases (and the naive client), or the whole-process ones.
    skip_library: bool,
    skip_process: bool,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let spec = args.get(i + 1).context("--child needs a phase")?;
        let phase: Phase = serde_json::from_str(spec).context("failed to read the phase")?;
        let result = child::run(&phase)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    bounds::self_check();
    let settings = settings(&args)?;
    let load_before = load_average();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (rows, process_rows, wrong) = runtime.block_on(run_all(&settings))?;
    println!(
        "Machine: {} cores, {}; load average (1, 5, 15 min) {load_before} before, {} after.",
        std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model(),
        load_average()
    );
    println!(
        "Latency {} ms per request, --parallelism {}, api-version v1.\n",
        settings.latency.as_millis(),
        settings.parallelism
    );
    if !settings.skip_library {
        println!("In process (manifests loaded before the clock starts):\n");
        println!("{}", table::render(&rows));
        println!("{}", table::render_targets(&targets::judge(&rows)));
    }
    if !settings.skip_process {
        println!(
            "Whole process (the foundryctl binary, a fresh process per command; peak RSS {}):\n",
            if process::measures_memory() {
                format!(
                    "from GNU time, whose start-up ({:.2} ms, measured) is taken off each wall",
                    process::time_overhead_ms()
                )
            } else {
                "not measurable here".to_owned()
            }
        );
        println!("{}", table::render(&process_rows));
        println!("{}", table::render_targets(&whole::judge(&process_rows)));
    }
    if !wrong.is_empty() {
        for w in &wrong {
            eprintln!("error: {w}");
        }
        std::process::exit(1);
    }
    Ok(())
}

/// `/proc/loadavg`'s first three fields: the bench shares the machine, so say how busy it was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// Flags win over variables; `--bench` (added by `cargo bench`) is ignored.
fn settings(args: &[String]) -> anyhow::Result<Settings> {
    let flag = |name: &str, var: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .or_else(|| std::env::var(var).ok())
    };
    let number = |name: &str, var: &str| -> anyhow::Result<Option<usize>> {
        flag(name, var)
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .with_context(|| format!("{name}: expected a whole number, got {v:?}"))
            })
            .transpose()
    };
    let ns = match flag("--n", "RECONCILE_N") {
        Some(list) => list
            .split(',')
            .map(|n| n.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("--n: expected numbers such as 10,100, got {list:?}"))?,
        None => vec![10, 100, 1000],
    };
    anyhow::ensure!(ns.iter().all(|&n| n > 0), "--n: counts must be positive");
    let switch = |name: &str, var: &str| {
        args.iter().any(|a| a == name) || std::env::var(var).is_ok_and(|v| v == "1")
    };
    Ok(Settings {
        ns,
        latency: Duration::from_millis(
            number("--latency-ms", "RECONCILE_LATENCY_MS")?.unwrap_or(25) as u64,
        ),
        parallelism: number("--parallelism", "RECONCILE_PARALLELISM")?
            .unwrap_or(8)
            .max(1),
        runs: number("--runs", "RECONCILE_RUNS")?,
        naive_runs: number("--naive-runs", "RECONCILE_NAIVE_RUNS")?,
        skip_library: switch("--skip-library", "RECONCILE_SKIP_LIBRARY"),
        skip_process: switch("--skip-process", "RECONCILE_SKIP_PROCESS"),
    })
}

/// Measurements of one phase over several runs.
#[derive(Default)]
struct Samples {
    results: Vec<PhaseResult>,
    requests: Vec<BTreeMap<String, u64>>,
    routes: Vec<BTreeMap<String, u64>>,
    naive: Vec<f64>,
}

async fn run_all(settings: &Settings) -> anyhow::Result<(Vec<Row>, Vec<Row>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut process_rows = Vec::new();
    let mut wrong = Vec::new();
    for &n in &settings.ns {
        let stores = manifests::store_count(n);
        let dir = tempfile::tempdir()?;
        let (base, edited) = (dir.path().join("base"), dir.path().join("edited"));
        manifests::write(&base, n, false)?;
        manifests::write(&edited, n, true)?;
        let edits = (0..n).filter(|&i| manifests::is_edited(i)).count();

        let runs = settings
            .runs
            .unwrap_or(if n >= 1000 { 3 } else { 5 })
            .max(1);
        let mut validate = Samples::default();
        let mut phases: Vec<Samples> = PHASES.iter().map(|_| Samples::default()).collect();
        let mut process_runs = Vec::new();
        for run in 1..=runs {
            if !settings.skip_process {
                eprintln!("N={n}: whole-process run {run}/{runs}");
                process_runs.push(
                    whole::run_once(
                        settings,
                        dir.path(),
                        &base,
                        &edited,
                        (n, stores, edits),
                        &mut wrong,
                    )
                    .await?,
                );
            }
            if settings.skip_library {
                continue;
            }
            eprintln!("N={n}: run {run}/{runs}");
            let (result, _, _) = measure_child(None, Phase::Validate { dir: base.clone() }).await?;
            if result.resources != n + stores {
                wrong.push(format!(
                    "N={n} run {run}: validated {} resources, expected {}",
                    result.resources,
                    n + stores
                ));
            }
            validate.results.push(result);
            let emulator = start_emulator(settings.latency).await?;
            let endpoint = emulator.endpoint();
            let plan = |dir: &Path| Phase::Plan {
                dir: dir.to_path_buf(),
                endpoint: endpoint.clone(),
            };
            let apply = |dir: &Path| Phase::Apply {
                dir: dir.to_path_buf(),
                endpoint: endpoint.clone(),
                parallelism: settings.parallelism,
            };
            let specs = [plan(&base), apply(&base), plan(&base), apply(&edited)];
            for (samples, spec) in phases.iter_mut().zip(specs) {
                let (result, requests, routes) = measure_child(Some(&emulator), spec).await?;
                samples.results.push(result);
                samples.requests.push(requests);
                samples.routes.push(routes);
            }
            emulator.shutdown().await;
            check_run(n, stores, edits, run, &phases, &mut wrong);
        }

        if !settings.skip_process {
            process_rows.extend(whole::rows(settings, &process_runs, (n, stores, edits)));
        }
        if settings.skip_library {
            continue;
        }
        let naive_runs = settings.naive_runs.unwrap_or(if n >= 1000 { 1 } else { 3 });
        let vars = Variables::from_pairs::<&str, &str>([]);
        let load = |d: &Path| -> anyhow::Result<manifest::Validated> {
            let files = manifest::read_inputs(&[d.to_path_buf()])?;
            manifest::validate(&files, &vars).map_err(|e| anyhow::anyhow!("{e}"))
        };
        let (base_m, edited_m) = (load(&base)?, load(&edited)?);
        for run in 1..=naive_runs {
            eprintln!("N={n}: naive run {run}/{naive_runs}");
            let emulator = start_emulator(settings.latency).await?;
            let client = Client::new(
                emulator.endpoint().parse()?,
                ApiVersion::V1,
                Auth::None,
                TransportConfig::default(),
            )?;
            phases[0].naive.push(naive::plan(&client, &base_m).await?);
            phases[1]
                .naive
                .push(naive::apply(&client, &base_m).await?.0);
            phases[2].naive.push(naive::plan(&client, &base_m).await?);
            let (ms, writes) = naive::apply(&client, &edited_m).await?;
            phases[3].naive.push(ms);
            if writes != edits {
                wrong.push(format!(
                    "N={n}: the naive edit made {writes} writes, expected {edits}"
                ));
            }
            emulator.shutdown().await;
        }

        rows.push(row(n, stores, "validate", &validate, settings, false));
        for (name, samples) in PHASES.iter().zip(&phases) {
            rows.push(row(
                n,
                stores,
                name,
                samples,
                settings,
                name.starts_with("apply"),
            ));
        }
        print_routes(n, &phases);
    }
    Ok((rows, process_rows, wrong))
}

async fn start_emulator(latency: Duration) -> anyhow::Result<Emulator> {
    Emulator::start(Config {
        faults: FaultConfig {
            latency,
            ..FaultConfig::default()
        },
        ..Config::default()
    })
    .await
}

/// Runs one phase in a child process; returns its result and the requests it made (by method
/// and by route), from the emulator's counters before and after.
async fn measure_child(
    emulator: Option<&Emulator>,
    phase: Phase,
) -> anyhow::Result<(PhaseResult, BTreeMap<String, u64>, BTreeMap<String, u64>)> {
    let before = emulator.map(Emulator::stats).unwrap_or_default();
    let spec = serde_json::to_string(&phase)?;
    let exe = std::env::current_exe()?;
    let output = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .arg("--child")
            .arg(spec)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
    })
    .await??;
    anyhow::ensure!(
        output.status.success(),
        "the child for {phase:?} failed ({})",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("the child printed nothing")?;
    let result: PhaseResult =
        serde_json::from_str(line).context("failed to read the child's result")?;
    let after = emulator.map(Emulator::stats).unwrap_or_default();
    Ok((
        result,
        process::difference(&before.by_method, &after.by_method),
        process::difference(&before.by_route, &after.by_route),
    ))
}

/// The results must be right before their speed means anything.
fn check_run(
    n: usize,
    stores: usize,
    edits: usize,
    run: usize,
    phases: &[Samples],
    wrong: &mut Vec<String>,
) {
    let last = |i: usize| phases[i].results.last();
    let mut expect = |what: &str, got: usize, want: usize| {
        if got != want {
            wrong.push(format!("N={n} run {run}: {what}: {got}, expected {want}"));
        }
    };
    if let (Some(p), Some(a), Some(r), Some(e)) = (last(0), last(1), last(2), last(3)) {
        expect(
            "actions planned against an empty project",
            p.actions,
            n + stores,
        );
        expect("actions applied from empty", a.actions, n + stores);
        expect("incomplete actions (apply from empty)", a.incomplete, 0);
        expect("actions in the no-change plan", r.actions, 0);
        expect("actions after editing 10%", e.actions, edits);
        expect("incomplete actions (edit)", e.incomplete, 0);
    }
}

fn row(
    n: usize,
    stores: usize,
    phase: &'static str,
    s: &Samples,
    settings: &Settings,
    writes: bool,
) -> Row {
    let mut walls: Vec<f64> = s.results.iter().map(|r| r.wall_ms).collect();
    let wall = median(&mut walls);
    let first = s.results.first().cloned().unwrap_or_default();
    let bound = (!s.requests.is_empty()).then(|| {
        let read = bounds::read(first.live_stores, first.live_agents, settings.latency);
        if writes {
            read + bounds::write(
                &first.writes_per_level,
                settings.parallelism,
                settings.latency,
            )
        } else {
            read
        }
    });
    let mut naive = s.naive.clone();
    let split = first
        .split_ms
        .iter()
        .map(|(part, _)| {
            let mut times: Vec<f64> = s
                .results
                .iter()
                .filter_map(|r| r.split_ms.iter().find(|(p, _)| p == part).map(|(_, t)| *t))
                .collect();
            (
                part.clone(),
                Duration::from_secs_f64(median(&mut times) / 1e3),
            )
        })
        .collect();
    Row {
        split,
        n,
        stores,
        phase,
        runs: s.results.len(),
        wall: Duration::from_secs_f64(wall / 1e3),
        bound,
        requests: s.requests.first().cloned().unwrap_or_default(),
        consistent: s.requests.windows(2).all(|w| w[0] == w[1]),
        peak_kib: s.results.iter().map(|r| r.peak_kib).max().unwrap_or(0),
        naive: (!naive.is_empty()).then(|| {
            (
                Duration::from_secs_f64(median(&mut naive) / 1e3),
                naive.len(),
            )
        }),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

/// Requests by route of the first run, on stderr, to see where requests went.
fn print_routes(n: usize, phases: &[Samples]) {
    for (name, s) in PHASES.iter().zip(phases) {
        if let Some(routes) = s.routes.first() {
            eprintln!("N={n} {name}: {routes:?}");
        }
    }
}
