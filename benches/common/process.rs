//! Running the foundryctl binary as a user runs it: a fresh process per command, against an
//! endpoint, timed from spawn to exit by the bench, with its peak memory.
//!
//! Peak memory comes from GNU time (`/usr/bin/time -f %M`, the kernel's `ru_maxrss` of the
//! process, in KiB) when it is installed; then the timed process is `time` running foundryctl.
//! Time's own start-up (0.8–1.4 ms on the benchmark machine, 3–6% of a 25 ms plan) is not
//! foundryctl's: it is measured once per bench, as the median difference between
//! `time … /bin/true` and `/bin/true` spawned the same way, and taken off every wall (as
//! hyperfine takes off its shell's). Without GNU time the binary is spawned directly and the
//! peak reads as 0 ("n/a").

#![allow(dead_code, reason = "each bench uses a different part of this")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;

/// The binary cargo built beside this bench (the same profile: release under `cargo bench`).
pub const BIN: &str = env!("CARGO_BIN_EXE_foundryctl");

const GNU_TIME: &str = "/usr/bin/time";

/// What one process run gave.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub wall_ms: f64,
    /// `ru_maxrss` in KiB, or 0 when GNU time is not installed.
    pub peak_kib: u64,
    pub code: i32,
    pub stderr: String,
}

/// Whether peaks can be measured here.
pub fn measures_memory() -> bool {
    Path::new(GNU_TIME).exists()
}

/// What GNU time adds to a wall, in milliseconds (0 without it): see the module docs.
pub fn time_overhead_ms() -> f64 {
    static OVERHEAD: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *OVERHEAD.get_or_init(|| {
        const TRUE: &str = "/bin/true";
        if !measures_memory() || !Path::new(TRUE).exists() {
            return 0.0;
        }
        let wall = |program: &str, args: &[&str]| {
            let mut walls: Vec<f64> = (0..25)
                .filter_map(|_| {
                    let started = Instant::now();
                    let status = Command::new(program)
                        .args(args)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .ok()?;
                    status
                        .success()
                        .then(|| started.elapsed().as_secs_f64() * 1e3)
                })
                .collect();
            median(&mut walls)
        };
        // Written to a file, as the timed runs write theirs.
        let out =
            std::env::temp_dir().join(format!("foundryctl-bench-{}.peak", std::process::id()));
        let with_time = wall(GNU_TIME, &["-f", "%M", "-o", &out.to_string_lossy(), TRUE]);
        let _ = std::fs::remove_file(&out);
        (with_time - wall(TRUE, &[])).max(0.0)
    })
}

/// Runs `foundryctl [--endpoint ENDPOINT --auth token] ARGS…` in `cwd` with an environment of its
/// own (no `PROJECT_ENDPOINT`, `RUST_LOG`, colour), stdout discarded (a user's terminal, at the
/// cost of a write), blocking: call it from `spawn_blocking` when a runtime serves the
/// emulator. The wall is from spawn to exit as this process sees it, less GNU time's start-up.
pub fn run(cwd: &Path, endpoint: Option<&str>, args: &[&str]) -> anyhow::Result<Measured> {
    run_with_stdout(cwd, endpoint, args, false).map(|(m, _)| m)
}

/// [`run`], keeping stdout (for a JSON plan read to compute a bound; not a timed run).
pub fn run_with_stdout(
    cwd: &Path,
    endpoint: Option<&str>,
    args: &[&str],
    keep_stdout: bool,
) -> anyhow::Result<(Measured, Vec<u8>)> {
    let rss_file: Option<PathBuf> = measures_memory().then(|| cwd.join(".peak-kib"));
    let mut cmd = match &rss_file {
        Some(file) => {
            let mut c = Command::new(GNU_TIME);
            c.arg("-f").arg("%M").arg("-o").arg(file).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    if let Some(endpoint) = endpoint {
        cmd.args(["--endpoint", endpoint, "--auth", "token"]);
    }
    cmd.current_dir(cwd)
        .args(args)
        .env("FOUNDRY_TOKEN", "bench-token")
        .env("NO_COLOR", "1")
        .env_remove("PROJECT_ENDPOINT")
        .env_remove("RUST_LOG")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .stdin(Stdio::null())
        .stdout(if keep_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = cmd
        .output()
        .with_context(|| format!("failed to run {BIN}"))?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    // Measured on first use, after this run's clock has stopped.
    let overhead_ms = if rss_file.is_some() {
        time_overhead_ms()
    } else {
        0.0
    };
    let wall_ms = (elapsed_ms - overhead_ms).max(0.0);
    // GNU time writes "Command exited with non-zero status N" before the figure on failure.
    let peak_kib = rss_file
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    Ok((
        Measured {
            wall_ms,
            peak_kib,
            code: output.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        },
        output.stdout,
    ))
}

/// The writes of one dependency level of a plan: how many write requests its actions send
/// (a replace two, one after the other; a seed one per memory it writes or deletes,
/// all at once; anything else one), the reads a seed makes after its writes (one `items:list`
/// per scope it wrote, to find a memory someone else wrote too), and the most round trips one
/// action needs in a row (a replace or a seed two, anything else one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelWrites {
    pub requests: usize,
    pub rereads: usize,
    pub in_a_row: usize,
    /// The round trips of all its actions, each counted as many times as it needs in a row.
    pub action_rounds: usize,
}

/// [`LevelWrites`] per dependency level of a `plan -o json` document.
pub fn writes_per_level(plan_json: &[u8]) -> anyhow::Result<Vec<LevelWrites>> {
    let plan: serde_json::Value =
        serde_json::from_slice(plan_json).context("failed to read the JSON plan")?;
    let mut levels: Vec<LevelWrites> = Vec::new();
    for action in plan["actions"]
        .as_array()
        .context("the plan has no actions")?
    {
        let level = action["level"].as_u64().context("an action has no level")? as usize;
        if levels.len() <= level {
            levels.resize(level + 1, LevelWrites::default());
        }
        let (requests, rereads, in_a_row) = if action["kind"] == "memory_seed" {
            let changes = action["changes"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let written: std::collections::BTreeSet<&str> = changes
                .iter()
                .filter(|c| !c["after"].is_null())
                .filter_map(|c| c["path"].as_str()?.rsplit_once('.').map(|(scope, _)| scope))
                .collect();
            (changes.len(), written.len(), 2)
        } else if action["action"] == "replace" {
            (2, 0, 2)
        } else {
            (1, 0, 1)
        };
        let at = &mut levels[level];
        at.requests += requests;
        at.rereads += rereads;
        at.in_a_row = at.in_a_row.max(in_a_row);
        at.action_rounds += in_a_row;
    }
    Ok(levels)
}

/// The scopes a `plan -o json` document's seeds write to, as (store, scope): what a later plan
/// reads with one `items:list` each.
pub fn seeded_scopes(
    plan_json: &[u8],
) -> anyhow::Result<std::collections::BTreeSet<(String, String)>> {
    let plan: serde_json::Value =
        serde_json::from_slice(plan_json).context("failed to read the JSON plan")?;
    let mut scopes = std::collections::BTreeSet::new();
    for action in plan["actions"].as_array().into_iter().flatten() {
        if action["kind"] != "memory_seed" {
            continue;
        }
        let store = action["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str()?.strip_prefix("memory_store/"))
            .next()
            .context("a seed action depends on no store")?;
        for change in action["changes"].as_array().into_iter().flatten() {
            // `SCOPE.KIND`; kinds have no dot, scopes may.
            let path = change["path"].as_str().context("a change has no path")?;
            let (scope, _kind) = path
                .rsplit_once('.')
                .context("a seed change path is SCOPE.KIND")?;
            scopes.insert((store.to_owned(), scope.to_owned()));
        }
    }
    Ok(scopes)
}

/// The median of `values` (0 when empty).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

/// The requests an emulator counted between two readings of its stats (by method or by
/// route): what one run sent, with the keys it did not touch left out.
pub fn difference(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, v)| {
            let d = v - before.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}
