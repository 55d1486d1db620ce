//! End-to-end benchmarks of Atlas, run as programs that print a table of figures.
//!
//! Each program states the machine and data its figures come from; none of them decides
//! a test. Criterion benchmarks of hot functions live in the crates they measure.
//! [`scale`] generates a seeded corpus in real source formats and measures the whole
//! system on it; [`follow`] measures the change feed's delay.

pub mod follow;
pub mod scale;

use std::path::PathBuf;

/// Returns the real sample data directory: `ATLAS_SAMPLES_DIR`, else `../shared/data` seen
/// from the workspace root.
pub fn samples_dir() -> PathBuf {
    std::env::var_os("ATLAS_SAMPLES_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

/// Returns one line naming the machine: cores, memory and CPU model.
pub fn machine_description() -> String {
    let num_cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown cpu".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    format!(
        "{num_cores} cores, {:.0} GiB, {model}",
        memory_kib as f64 / 1024.0 / 1024.0
    )
}
