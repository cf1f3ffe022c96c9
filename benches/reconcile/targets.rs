//! The targets, judged from the result rows at N = 1,000.

use crate::table::{self, Row, Target};
use crate::{PHASES, bounds};

/// The peak-memory target (issue 7).
const MEMORY_BUDGET_KIB: u64 = 64 * 1024;
/// Plan and apply must stay within this factor of their lower bound.
const RATIO_BUDGET: f64 = 1.5;
/// The naive client must be at least this much slower.
const SPEEDUP_TARGET: f64 = 10.0;
/// The N at which the targets are judged.
const TARGET_N: usize = 1000;

/// The targets, judged at N = 1,000 when it was measured.
pub fn judge(rows: &[Row]) -> Vec<Target> {
    let at = |phase: &str| rows.iter().find(|r| r.n == TARGET_N && r.phase == phase);
    if at("validate").is_none() {
        return vec![Target {
            what: format!("targets are judged at N = {TARGET_N}"),
            measured: "N = 1000 was not measured in this run".to_owned(),
            pass: None,
        }];
    }
    let mut targets = Vec::new();
    for phase in PHASES {
        if let Some(r) = at(phase) {
            let ratio = r.ratio().unwrap_or(f64::INFINITY);
            targets.push(Target {
                what: format!("{phase} within {RATIO_BUDGET}× of its lower bound"),
                measured: format!("{ratio:.2}×"),
                pass: Some(ratio <= RATIO_BUDGET),
            });
        }
    }
    if let Some(r) = at("plan (no change)") {
        let pages = expected_pages(r);
        let gets = r.requests.get("GET").copied().unwrap_or(0);
        let others: u64 = r
            .requests
            .iter()
            .filter(|(m, _)| *m != "GET")
            .map(|(_, c)| c)
            .sum();
        targets.push(Target {
            what: "a no-change plan makes one request per list page and no writes".to_owned(),
            measured: format!("{gets} GETs for {pages} pages, {others} other requests"),
            pass: Some(gets == pages as u64 && others == 0 && r.consistent),
        });
    }
    for phase in PHASES {
        if let Some(r) = at(phase)
            && let Some(x) = r.speedup()
        {
            targets.push(Target {
                what: format!("{phase}: at least {SPEEDUP_TARGET}× faster than the naive client"),
                measured: format!("{x:.1}×"),
                pass: Some(x >= SPEEDUP_TARGET),
            });
        }
    }
    let peak = rows
        .iter()
        .filter(|r| r.n == TARGET_N)
        .map(|r| r.peak_kib)
        .max()
        .unwrap_or(0);
    targets.push(Target {
        what: "peak memory under 64 MiB (any phase)".to_owned(),
        measured: table::mib(peak),
        pass: Some(peak > 0 && peak < MEMORY_BUDGET_KIB),
    });
    targets
}

/// List pages of a project holding the N agents and their stores.
fn expected_pages(r: &Row) -> usize {
    bounds::pages(r.stores) + bounds::pages(r.n)
}
