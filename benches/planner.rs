//! The planner's CPU cost alone, without a network: `plan::plan` for N agents and N/10 memory
//! stores against an empty project (every resource a create) and against a project that already
//! matches (every resource reviewed, nothing to do), plus rendering the human plan. This is the
//! part of `plan` that grows with N beyond the round trips (see BENCHMARKS.md).
//!
//! It also prints a sha256 of the JSON and human renderings of both plans, so a change meant to
//! make the planner cheaper can be checked to leave its output byte for byte the same.
//!
//! Run: `cargo bench --bench planner [-- --n 1000 --runs 30]`.

use std::time::Instant;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use foundryctl::manifest::{self, Variables};
use foundryctl::model::{LiveAgent, LiveAgentVersion, LiveMemoryStore, LiveState};
use foundryctl::plan::{self, Op, Plan, PlanOptions};
use foundryctl::render;

#[path = "reconcile/manifests.rs"]
mod manifests;

fn main() -> anyhow::Result<()> {
    let mut n = 1000;
    let mut runs = 30;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--n" => n = args.next().context("--n needs a value")?.parse()?,
            "--runs" => runs = args.next().context("--runs needs a value")?.parse()?,
            // `cargo bench` passes `--bench`; anything else is ignored the same way.
            _ => {}
        }
    }
    let dir = tempfile::tempdir()?;
    manifests::write(dir.path(), n, false)?;
    let files = manifest::read_inputs(&[dir.path().to_path_buf()])?;
    let validated = manifest::validate(&files, &Variables::from_pairs::<&str, &str>([]))
        .map_err(|d| anyhow::anyhow!("invalid manifests: {d}"))?;
    let desired = &validated.desired;
    let options = PlanOptions::default();

    let empty = LiveState::default();
    let creates = plan::plan(desired, &empty, &options);
    let applied = applied(&creates);
    let unchanged = plan::plan(desired, &applied, &options);
    anyhow::ensure!(
        unchanged.actions.is_empty(),
        "planning against the applied project is not empty"
    );

    println!(
        "N = {n} agents + {} stores, {runs} runs, release build\n",
        desired.stores.len()
    );
    println!("| what | median | best |\n|---|---|---|");
    for (what, live) in [
        ("plan (empty project)", &empty),
        ("plan (no change)", &applied),
    ] {
        let (median, best) = time(runs, || plan::plan(desired, live, &options));
        println!("| {what} | {median:.2} ms | {best:.2} ms |");
    }
    // The CLI runs `prepare` while the live lists are in flight, so only `plan_prepared` (and
    // rendering) follow the read; these two rows split `plan (empty project)` accordingly.
    let (median, best) = time(runs, || plan::prepare(desired));
    println!("| of which prepare (overlaps the read) | {median:.2} ms | {best:.2} ms |");
    let mut prepared: Vec<_> = (0..runs.max(1)).map(|_| plan::prepare(desired)).collect();
    let (median, best) = time(runs, || {
        let p = prepared.pop().unwrap_or_default();
        plan::plan_prepared(desired, p, &empty, &options)
    });
    println!("| of which plan_prepared (after the read) | {median:.2} ms | {best:.2} ms |");
    let (median, best) = time(runs, || {
        let mut out = Vec::new();
        let _ = render::human::render(&creates, &mut out, &render::HumanOptions::default());
        out
    });
    println!("| render human (empty project) | {median:.2} ms | {best:.2} ms |");

    println!("\noutput digests (must not change when only speed does):");
    for (what, plan) in [("empty project", &creates), ("no change", &unchanged)] {
        println!("  {what}: {}", digest(plan)?);
    }
    Ok(())
}

/// The project after applying `plan` from empty: every create as the service would report it.
fn applied(plan: &Plan) -> LiveState {
    let mut live = LiveState::default();
    for action in &plan.actions {
        match &action.op {
            Op::CreateStore {
                name,
                spec,
                metadata,
            } => {
                live.stores.insert(
                    name.clone(),
                    LiveMemoryStore {
                        name: name.clone(),
                        id: format!("memstore_{name}"),
                        created_at: 1,
                        updated_at: 1,
                        metadata: metadata.clone(),
                        spec: spec.clone(),
                    },
                );
            }
            Op::CreateAgentVersion {
                name,
                spec,
                metadata,
            } => {
                live.agents.insert(
                    name.clone(),
                    LiveAgent {
                        name: name.clone(),
                        latest: LiveAgentVersion {
                            version: "1".to_owned(),
                            created_at: 1,
                            metadata: metadata.clone(),
                            spec: Some(spec.clone()),
                        },
                        history: None,
                    },
                );
            }
            _ => {}
        }
    }
    live
}

/// Median and best wall time of `runs` calls, in milliseconds.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0])
}

/// sha256 of the JSON and the human rendering, as hex.
fn digest(plan: &Plan) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut out = Vec::new();
    render::json::render(plan, &mut out)?;
    render::human::render(plan, &mut out, &render::HumanOptions::default())?;
    hasher.update(&out);
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
