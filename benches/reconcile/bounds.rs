//! The lower bounds the measurements are compared with. Latency is the only cost counted:
//! CPU, loopback and SQLite time are taken as zero, so a ratio of 1.0 is unreachable and the
//! distance from it is what foundryctl adds.

use std::time::Duration;

/// The largest page the service serves (`limit=100`), which is what the client asks for.
pub const PAGE_SIZE: usize = 100;

/// Requests to list `count` resources of one kind: an empty list still costs one request.
pub fn pages(count: usize) -> usize {
    count.div_ceil(PAGE_SIZE).max(1)
}

/// Reading the live state: the two kinds are listed concurrently, but the pages of one kind
/// are sequential (each needs the previous page's cursor), so the critical path is the longer
/// list. (Summing the pages would give a weaker bound; we use the stricter one.)
pub fn read(stores: usize, agents: usize, latency: Duration) -> Duration {
    latency * u32_of(pages(stores).max(pages(agents)))
}

/// Writing: actions on one dependency level are independent, so at best `parallelism` of them
/// share one round trip; a level cannot start before the previous one has finished.
/// `writes_per_level[l]` counts write requests (a replace counts two).
pub fn write(writes_per_level: &[usize], parallelism: usize, latency: Duration) -> Duration {
    let rounds: usize = writes_per_level
        .iter()
        .map(|w| w.div_ceil(parallelism.max(1)))
        .sum();
    latency * u32_of(rounds)
}

/// Writing when an action may send several requests at once (a seed writes its memories
/// concurrently, then reads its scopes again): on each level at most `parallelism` actions and
/// at most `in_flight` requests are under way, and an action holds its slot for as many round
/// trips as it needs in a row, so a level takes at least as many round trips as the largest of
/// ⌈action rounds ÷ parallelism⌉, ⌈requests ÷ in_flight⌉ and the longest action.
/// `levels[l]` is (action rounds, requests, longest action).
pub fn write_concurrent(
    levels: &[(usize, usize, usize)],
    parallelism: usize,
    in_flight: usize,
    latency: Duration,
) -> Duration {
    let rounds: usize = levels
        .iter()
        .map(|&(action_rounds, requests, longest)| {
            action_rounds
                .div_ceil(parallelism.max(1))
                .max(requests.div_ceil(in_flight.max(1)))
                .max(longest)
        })
        .sum();
    latency * u32_of(rounds)
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Checks the arithmetic once at start-up (a bench target has no test harness).
pub fn self_check() {
    let l = Duration::from_millis(25);
    assert_eq!(pages(0), 1);
    assert_eq!(pages(100), 1);
    assert_eq!(pages(101), 2);
    assert_eq!(read(100, 1000, l), Duration::from_millis(250));
    assert_eq!(read(0, 0, l), l);
    assert_eq!(
        write(&[100, 1000], 8, l),
        Duration::from_millis((13 + 125) * 25)
    );
    assert_eq!(write(&[], 8, l), Duration::ZERO);
    // 22 single writes, then 21 agents (a round each) and 40 seeds (two rounds each: writing
    // 60 memories, then re-reading 40 scopes), 8 actions and 16 requests at once.
    assert_eq!(
        write_concurrent(&[(22, 22, 1), (21 + 80, 121, 2)], 8, 16, l),
        Duration::from_millis((3 + 13) * 25)
    );
    assert_eq!(write_concurrent(&[(1, 2, 2)], 8, 16, l), l * 2);
}
