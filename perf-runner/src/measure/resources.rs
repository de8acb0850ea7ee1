//! Memory and CPU of node processes, read from /proc.
//!
//! Resolution: RSS is exact to the KiB at the instant read; CPU time comes in clock ticks
//! (usually 10 ms), so a CPU share over a window of `w` seconds resolves to 1 / (100 w) of a core.

use std::path::Path;

use crate::stats::descriptive::mean;

/// Memory of one process, KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size now (VmRSS).
    pub rss_kib: u64,
    /// High-water resident set size (VmHWM).
    pub hwm_kib: u64,
}

/// Reads VmRSS and VmHWM of `pid`; `None` when the process is gone.
pub fn memory(pid: u32) -> Option<Memory> {
    let status =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    parse_memory(&status)
}

fn parse_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

/// Unique set size of `pid` in KiB: its private pages (`Private_Clean + Private_Dirty` of
/// /proc/<pid>/smaps_rollup), i.e. what the process costs beyond pages shared with other
/// processes, such as the text of a binary that every node of a cluster maps once.
pub fn unique_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(
        Path::new("/proc")
            .join(pid.to_string())
            .join("smaps_rollup"),
    )
    .ok()?;
    parse_unique_kib(&rollup)
}

fn parse_unique_kib(rollup: &str) -> Option<u64> {
    let field = |name: &str| -> Option<u64> {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    Some(field("Private_Clean:")? + field("Private_Dirty:")?)
}

/// User + system CPU time of `pid` in seconds; `None` when the process is gone.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).ok()?;
    let ticks = parse_cpu_ticks(&stat)?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(ticks as f64 / per_second.max(1) as f64)
}

/// utime + stime (fields 14 and 15 of /proc/<pid>/stat). The command name in field 2 may
/// contain spaces and parentheses, so fields are counted after the last ')'.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (state) is index 0, so field 14 is index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Cores this process may run on (1 when the system will not say).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The machine's 1-minute load average (`/proc/loadavg`): runnable and uninterruptible
/// processes, averaged; above the core count, processes wait for a CPU.
pub fn load_average_1m() -> Option<f64> {
    parse_load_average(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

fn parse_load_average(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// CPU seconds of each of `pids`, in order; `None` for a process that is gone.
pub fn cpu_of(pids: &[u32]) -> Vec<Option<f64>> {
    pids.iter().map(|&p| cpu_seconds(p)).collect()
}

/// Mean over nodes of CPU seconds used / wall seconds, in percent of one core, between two
/// `cpu_of` readings; a process missing from either reading is skipped, and with none left
/// the share is not measured (`None`), not 0.
pub fn cpu_share_pct(before: &[Option<f64>], after: &[Option<f64>], seconds: f64) -> Option<f64> {
    let shares: Vec<f64> = before
        .iter()
        .zip(after)
        .filter_map(|(b, a)| Some((a.as_ref()? - b.as_ref()?) / seconds.max(1e-9) * 100.0))
        .collect();
    mean(&shares)
}

/// Resident set size now of each of `pids` that is still there, MiB.
pub fn rss_mb(pids: &[u32]) -> Vec<f64> {
    pids.iter()
        .filter_map(|&p| memory(p))
        .map(|m| m.rss_kib as f64 / 1024.0)
        .collect()
}

/// Unique set size of each of `pids` that is still there, MiB.
pub fn uss_mb(pids: &[u32]) -> Vec<f64> {
    pids.iter()
        .filter_map(|&p| unique_kib(p))
        .map(|kib| kib as f64 / 1024.0)
        .collect()
}

/// The largest high-water resident set size among `pids`, MiB; `None` when none is left.
pub fn peak_rss_mb(pids: &[u32]) -> Option<f64> {
    pids.iter()
        .filter_map(|&p| memory(p))
        .map(|m| m.hwm_kib as f64 / 1024.0)
        .max_by(f64::total_cmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_average_is_the_first_field() {
        assert_eq!(
            parse_load_average("23.20 13.20 4.34 3/812 20931\n"),
            Some(23.2)
        );
        assert_eq!(parse_load_average(""), None);
        assert!(load_average_1m().is_some_and(|l| l >= 0.0));
    }

    #[test]
    fn parses_status_memory_fields() {
        let status = "Name:\tswarm-node\nVmHWM:\t   9000 kB\nVmRSS:\t   8192 kB\n";
        assert_eq!(
            parse_memory(status),
            Some(Memory {
                rss_kib: 8192,
                hwm_kib: 9000
            })
        );
        assert_eq!(parse_memory("Name: x\n"), None);
    }

    #[test]
    fn parses_cpu_ticks_after_a_name_with_spaces() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_cpu_ticks(stat), Some(42));
    }

    #[test]
    fn unique_set_is_private_clean_plus_dirty() {
        let rollup = "Rss:  10904 kB\nShared_Clean:  8204 kB\nPrivate_Clean:  216 kB\nPrivate_Dirty:  2484 kB\n";
        assert_eq!(parse_unique_kib(rollup), Some(2700));
        assert_eq!(parse_unique_kib("Rss: 1 kB\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let mem = memory(me).unwrap();
        assert!(mem.rss_kib > 0 && mem.hwm_kib >= mem.rss_kib);
        assert!(cpu_seconds(me).is_some());
        let unique = unique_kib(me).unwrap();
        assert!(unique > 0 && unique <= mem.rss_kib);
        assert!(peak_rss_mb(&[me]).is_some_and(|mb| mb > 0.0));
    }

    #[test]
    fn memory_of_processes_that_are_gone_is_not_measured() {
        // Above the kernel's pid_max (at most 2^22), so never a running process.
        let gone = 1 << 23;
        assert_eq!(peak_rss_mb(&[gone]), None);
        assert_eq!(peak_rss_mb(&[]), None);
    }

    #[test]
    fn cpu_share_is_a_mean_over_nodes_that_skips_vanished_ones() {
        let before = [Some(1.0), Some(2.0), None];
        let after = [Some(1.5), Some(2.1), Some(9.0)];
        // (0.5 + 0.1) / 2 nodes over 1 s = 30 % of a core.
        assert!((cpu_share_pct(&before, &after, 1.0).unwrap() - 30.0).abs() < 1e-9);
        assert_eq!(cpu_share_pct(&[], &[], 1.0), None);
        assert_eq!(cpu_share_pct(&[None], &[Some(1.0)], 1.0), None);
    }
}
