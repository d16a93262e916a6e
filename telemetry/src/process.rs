//! A process's cost as Linux reports it in `/proc`: resident memory and CPU time. The
//! `/metrics` page shows the serving process's own; the load tester watches the
//! servers' by process id.

use std::time::Duration;

/// What a process costs, at one instant.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// Resident bytes (`VmRSS`).
    pub resident_bytes: u64,
    /// CPU time used since it started, user + system.
    pub cpu: Duration,
}

/// The usage of process `pid`; `None` if it is gone or there is no `/proc`.
pub fn usage(pid: u32) -> Option<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing ')'. After
    // it, state is the first; utime and stime (fields 14 and 15 of the whole line) are
    // the 12th and 13th, in clock ticks of 1/100 s.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some(Usage {
        resident_bytes: kib * 1024,
        cpu: Duration::from_millis((ticks(11)? + ticks(12)?) * 10),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_cost_and_a_missing_one_none() {
        let me = usage(std::process::id());
        assert!(me.is_some_and(|u| u.resident_bytes > 0));
        assert!(usage(u32::MAX).is_none());
    }
}
