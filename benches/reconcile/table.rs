//! The Markdown tables: one row per (N, phase), then the targets with pass/fail marks.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// One row of the results table, already reduced over runs.
pub struct Row {
    pub n: usize,
    pub stores: usize,
    pub phase: &'static str,
    pub runs: usize,
    pub wall: Duration,
    pub bound: Option<Duration>,
    /// Requests by method; `consistent` is false when runs disagreed (the first run is shown).
    pub requests: BTreeMap<String, u64>,
    pub consistent: bool,
    pub peak_kib: u64,
    pub naive: Option<(Duration, usize)>,
    /// Median time of each part of the phase (read, plan, render or execute).
    pub split: Vec<(String, Duration)>,
}

impl Row {
    pub fn ratio(&self) -> Option<f64> {
        let bound = self.bound.filter(|b| !b.is_zero())?;
        Some(self.wall.as_secs_f64() / bound.as_secs_f64())
    }

    pub fn speedup(&self) -> Option<f64> {
        let (naive, _) = self.naive?;
        (!self.wall.is_zero()).then(|| naive.as_secs_f64() / self.wall.as_secs_f64())
    }
}

/// A target and whether it was met (`None`: not judged in this run).
pub struct Target {
    pub what: String,
    pub measured: String,
    pub pass: Option<bool>,
}

pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| N agents (+stores) | phase | runs | wall (median) | lower bound | ratio | requests | peak RSS | naive (runs) | speed-up | of which (median) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let requests = if r.requests.is_empty() {
            "0".to_owned()
        } else {
            let parts: Vec<String> = r.requests.iter().map(|(m, c)| format!("{m} {c}")).collect();
            let mut s = parts.join(", ");
            if !r.consistent {
                s.push_str(" (varied)");
            }
            s
        };
        let _ = writeln!(
            out,
            "| {} (+{}) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.n,
            r.stores,
            r.phase,
            r.runs,
            duration(r.wall),
            r.bound.map_or("—".to_owned(), duration),
            r.ratio().map_or("—".to_owned(), |x| format!("{x:.2}×")),
            requests,
            mib(r.peak_kib),
            r.naive.map_or("—".to_owned(), |(d, runs)| format!(
                "{} ({runs})",
                duration(d)
            )),
            r.speedup().map_or("—".to_owned(), |x| format!("{x:.1}×")),
            if r.split.is_empty() {
                "—".to_owned()
            } else {
                r.split
                    .iter()
                    .map(|(part, d)| format!("{part} {}", duration(*d)))
                    .collect::<Vec<_>>()
                    .join(" · ")
            },
        );
    }
    out
}

pub fn render_targets(targets: &[Target]) -> String {
    let mut out = String::from("| target | measured | result |\n|---|---|---|\n");
    for t in targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            t.what,
            t.measured,
            match t.pass {
                Some(true) => "✅ pass",
                Some(false) => "❌ FAIL",
                None => "not judged",
            }
        );
    }
    out
}

pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

pub fn mib(kib: u64) -> String {
    if kib == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    }
}
