//! Peak resident memory from `/proc/self/status` (Linux). Elsewhere it reads as 0 and the
//! table says "n/a".

/// `VmHWM`, the process's resident-set high-water mark, in KiB.
pub fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
