//! The servers under test, watched on the load's clock: resident memory and CPU time of
//! each process named with `--watch NAME=PID`, read from `/proc` every interval.

use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// A process to watch.
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    pub(crate) name: String,
    pub(crate) pid: u32,
}

impl Watched {
    /// Parses `NAME=PID`.
    pub(crate) fn parse(spec: &str) -> anyhow::Result<Watched> {
        let (name, pid) = spec
            .split_once('=')
            .with_context(|| format!("--watch {spec}: expected NAME=PID"))?;
        let pid = pid
            .parse()
            .with_context(|| format!("--watch {spec}: {pid} is not a process id"))?;
        resident_bytes(pid).with_context(|| format!("--watch {spec}: no process {pid} here"))?;
        Ok(Watched {
            name: name.to_owned(),
            pid,
        })
    }

    /// A sample now, taken at `at` seconds into the run; `None` once the process is gone.
    pub(crate) fn sample(&self, at: f64) -> Option<Sample> {
        Some(Sample {
            name: self.name.clone(),
            at,
            rss: resident_bytes(self.pid).ok()?,
            cpu: cpu_time(self.pid).ok()?.as_secs_f64(),
        })
    }
}

/// One process at one instant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Sample {
    pub(crate) name: String,
    /// Seconds since the run started.
    pub(crate) at: f64,
    /// Resident bytes.
    pub(crate) rss: u64,
    /// CPU seconds used since the process started (user + system).
    pub(crate) cpu: f64,
}

/// A process's resident bytes (`VmRSS`).
pub(crate) fn resident_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .context("no VmRSS")?
        .parse()?;
    Ok(kib * 1024)
}

/// A process's CPU time, user + system (`/proc/PID/stat` fields 14 and 15, in clock
/// ticks of 1/100 s on Linux).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: fields are counted after its closing ')'.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks =
        |i: usize| -> anyhow::Result<u64> { Ok(fields.get(i).context("short stat")?.parse()?) };
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_can_be_watched() -> anyhow::Result<()> {
        let me = Watched::parse(&format!("me={}", std::process::id()))?;
        let sample = me.sample(0.0).context("a sample")?;
        assert!(sample.rss > 0);
        assert!(Watched::parse("x=notapid").is_err());
        assert!(Watched::parse("nopid").is_err());
        Ok(())
    }
}
