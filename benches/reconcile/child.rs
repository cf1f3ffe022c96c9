//! One phase, run in a child process of the bench so that its peak memory (`VmHWM`) is
//! foundryctl's alone: the emulator lives in the parent, and the kernel cannot reset a
//! process's high-water mark between phases, so each phase gets a fresh process.
//!
//! Timed: validate = `read_inputs` + `validate`; plan = read the live state (one paged list
//! per kind) + `plan::plan` + rendering the human plan into a buffer; apply = the same read and
//! plan, then the engine's `apply::execute` with `--parallelism`. Manifests are loaded before
//! the timer starts for plan and apply (the validate phase measures that cost).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use foundryctl::apply::{self, ExecuteOptions, Progress};
use foundryctl::foundry::{ApiVersion, Auth, Client, TransportConfig};
use foundryctl::manifest::{self, Validated, Variables};
use foundryctl::model::LiveState;
use foundryctl::plan::{self, Op, Plan, PlanOptions};
use foundryctl::render;

/// What the parent asks a child to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Phase {
    Validate {
        dir: PathBuf,
    },
    Plan {
        dir: PathBuf,
        endpoint: String,
    },
    Apply {
        dir: PathBuf,
        endpoint: String,
        parallelism: usize,
    },
}

/// What a child reports back, as one JSON line on stdout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseResult {
    pub wall_ms: f64,
    /// `VmHWM` when the phase ended: the child's peak resident memory, in KiB.
    pub peak_kib: u64,
    /// `VmHWM` before any work (binary, allocator and runtime), for reference.
    pub start_kib: u64,
    /// Resources the manifests declare (validate only).
    pub resources: usize,
    /// Actions in the plan (plan and apply).
    pub actions: usize,
    /// Live counts the plan was made from, for the paging bound.
    pub live_stores: usize,
    pub live_agents: usize,
    /// Write requests per dependency level of the plan, for the write bound.
    pub writes_per_level: Vec<usize>,
    /// Actions that did not end `Done` (apply only); must be zero.
    pub incomplete: usize,
    /// Where the wall time went (plan and apply): reading the live state, planning, rendering
    /// (plan) or executing (apply), in milliseconds.
    pub split_ms: Vec<(String, f64)>,
}

/// Runs `phase` on a fresh runtime and returns its result.
pub fn run(phase: &Phase) -> anyhow::Result<PhaseResult> {
    let start_kib = crate::memory::peak_kib();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the tokio runtime")?;
    let mut result = runtime.block_on(run_phase(phase))?;
    result.start_kib = start_kib;
    result.peak_kib = crate::memory::peak_kib();
    Ok(result)
}

async fn run_phase(phase: &Phase) -> anyhow::Result<PhaseResult> {
    let vars = Variables::from_pairs::<&str, &str>([]);
    match phase {
        Phase::Validate { dir } => {
            let started = Instant::now();
            let validated = load(dir, &vars)?;
            Ok(PhaseResult {
                wall_ms: ms(started),
                resources: validated.resource_count(),
                ..PhaseResult::default()
            })
        }
        Phase::Plan { dir, endpoint } => {
            let validated = load(dir, &vars)?;
            let client = client(endpoint, TransportConfig::default())?;
            let started = Instant::now();
            let (live, plan, mut split) = read_and_plan(&client, &validated).await?;
            let rendering = Instant::now();
            let mut rendered = Vec::new();
            render::human::render(&plan, &mut rendered, &render::HumanOptions::default())?;
            split.push(("render".to_owned(), ms(rendering)));
            let wall_ms = ms(started);
            std::hint::black_box(&rendered);
            let mut result = described(wall_ms, &live, &plan);
            result.split_ms = split;
            Ok(result)
        }
        Phase::Apply {
            dir,
            endpoint,
            parallelism,
        } => {
            let validated = load(dir, &vars)?;
            let client = client(endpoint, TransportConfig::for_parallelism(*parallelism))?;
            let started = Instant::now();
            let (live, plan, mut split) = read_and_plan(&client, &validated).await?;
            let executing = Instant::now();
            anyhow::ensure!(!plan.is_blocked(), "the benchmark plan is blocked");
            let options = ExecuteOptions {
                parallelism: *parallelism,
                check_preconditions: false,
            };
            let report = apply::execute(
                &client,
                &plan,
                options,
                std::future::pending(),
                &mut Progress::silent(),
            )
            .await?;
            split.push(("execute".to_owned(), ms(executing)));
            let wall_ms = ms(started);
            let counts = report.counts();
            let mut result = described(wall_ms, &live, &plan);
            result.split_ms = split;
            result.incomplete =
                counts.failed + counts.refused + counts.skipped + counts.not_started;
            if result.incomplete > 0 {
                let mut text = Vec::new();
                report.render(&mut text, None)?;
                eprintln!("{}", String::from_utf8_lossy(&text));
            }
            Ok(result)
        }
    }
}

fn load(dir: &std::path::Path, vars: &Variables) -> anyhow::Result<Validated> {
    let files = manifest::read_inputs(&[dir.to_path_buf()]).context("failed to read manifests")?;
    manifest::validate(&files, vars).map_err(|d| anyhow::anyhow!("invalid manifests: {d}"))
}

/// The client as the CLI builds it: `plan` with the default transport, `apply` with room for
/// `--parallelism` requests in flight.
fn client(endpoint: &str, transport: TransportConfig) -> anyhow::Result<Client> {
    let url = endpoint.parse().context("failed to parse the endpoint")?;
    Ok(Client::new(url, ApiVersion::V1, Auth::None, transport)?)
}

/// What `plan` and `apply` do before writing (the command layer's `read_and_prepare`, then
/// `plan::plan_prepared`). Also returns how long the read (with the manifests' half of
/// planning overlapping it) and the rest of the planning took.
async fn read_and_plan(
    client: &Client,
    validated: &Validated,
) -> anyhow::Result<(LiveState, Plan, Vec<(String, f64)>)> {
    let reading = Instant::now();
    // As the commands do: the manifests' half of planning overlaps the lists.
    let (live, prepared) =
        foundryctl::ops::live::read_and_prepare(client, &validated.desired).await?;
    let read_ms = ms(reading);
    let planning = Instant::now();
    let plan = plan::plan_prepared(&validated.desired, prepared, &live, &PlanOptions::default());
    let split = vec![
        ("read".to_owned(), read_ms),
        ("plan".to_owned(), ms(planning)),
    ];
    anyhow::ensure!(
        !plan.has_errors(),
        "the benchmark plan has errors: {:?}",
        plan.diagnostics
    );
    Ok((live, plan, split))
}

fn described(wall_ms: f64, live: &LiveState, plan: &Plan) -> PhaseResult {
    let levels = plan
        .actions
        .iter()
        .map(|a| a.level as usize + 1)
        .max()
        .unwrap_or(0);
    let mut writes_per_level = vec![0; levels];
    for action in &plan.actions {
        writes_per_level[action.level as usize] += write_requests(&action.op);
    }
    PhaseResult {
        wall_ms,
        actions: plan.actions.len(),
        live_stores: live.stores.len(),
        live_agents: live.agents.len(),
        writes_per_level,
        ..PhaseResult::default()
    }
}

/// Write requests an op sends when nothing fails: a replace deletes, then creates.
fn write_requests(op: &Op) -> usize {
    match op {
        Op::ReplaceStore { .. } => 2,
        _ => 1,
    }
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}
