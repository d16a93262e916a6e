//! The servers under test, watched on the load's clock: the resident memory and CPU
//! time of each process named with `--watch`, every interval. `NAME=PID` reads a local
//! process's `/proc`; `NAME=http://HOST:PORT/metrics` scrapes a Cinder process's
//! Prometheus page (`process_resident_memory_bytes`, `process_cpu_seconds_total`), which
//! works across machines and pods.

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long a scrape may take before the sample is skipped.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);
/// The largest `/metrics` page read.
const MAX_PAGE: u64 = 4 << 20;

/// A process to watch.
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    pub(crate) name: String,
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    Pid(u32),
    /// `host:port` and path of a `/metrics` page.
    Metrics(String, String),
}

impl Watched {
    /// Parses `NAME=PID` or `NAME=http://HOST:PORT/PATH`, and takes a first sample.
    pub(crate) async fn parse(spec: &str) -> anyhow::Result<Watched> {
        let (name, what) = spec
            .split_once('=')
            .with_context(|| format!("--watch {spec}: expected NAME=PID or NAME=URL"))?;
        let source = if let Some(rest) = what.strip_prefix("http://") {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, "metrics"));
            Source::Metrics(authority.to_owned(), format!("/{path}"))
        } else {
            let pid = what.parse().with_context(|| {
                format!("--watch {spec}: {what} is neither a process id nor http://…")
            })?;
            Source::Pid(pid)
        };
        let watched = Watched {
            name: name.to_owned(),
            source,
        };
        if watched.sample(0.0).await.is_none() {
            bail!(
                "--watch {spec}: nothing to watch there (no such process, or no process metrics at that URL)"
            );
        }
        Ok(watched)
    }

    /// A sample now, taken at `at` seconds into the run; `None` once the process is
    /// gone (or its page does not answer).
    pub(crate) async fn sample(&self, at: f64) -> Option<Sample> {
        let (rss, cpu) = match &self.source {
            Source::Pid(pid) => {
                let usage = cinder_telemetry::process::usage(*pid)?;
                (usage.resident_bytes, usage.cpu.as_secs_f64())
            }
            Source::Metrics(authority, path) => {
                let page = tokio::time::timeout(SCRAPE_TIMEOUT, scrape(authority, path))
                    .await
                    .ok()?
                    .ok()?;
                process_usage(&page)?
            }
        };
        Some(Sample {
            name: self.name.clone(),
            at,
            rss,
            cpu,
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

/// A process's resident bytes, for the load tester's own figure.
pub(crate) fn resident_bytes(pid: u32) -> Option<u64> {
    cinder_telemetry::process::usage(pid).map(|u| u.resident_bytes)
}

/// `GET` of a page over HTTP/1.1: its body.
async fn scrape(authority: &str, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut page = String::new();
    stream.take(MAX_PAGE).read_to_string(&mut page).await?;
    Ok(page)
}

/// Resident bytes and CPU seconds from a Prometheus page.
fn process_usage(page: &str) -> Option<(u64, f64)> {
    let value = |name: &str| {
        page.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a byte count, rendered as a float"
    )]
    let rss = value("process_resident_memory_bytes")? as u64;
    Some((rss, value("process_cpu_seconds_total")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_is_watched_by_pid() -> anyhow::Result<()> {
        let me = Watched::parse(&format!("me={}", std::process::id())).await?;
        let sample = me.sample(0.0).await.context("a sample")?;
        assert!(sample.rss > 0);
        assert!(Watched::parse("x=notapid").await.is_err());
        assert!(Watched::parse("nopid").await.is_err());
        Ok(())
    }

    #[test]
    fn a_metrics_page_gives_memory_and_cpu() {
        let page = "# TYPE process_resident_memory_bytes gauge\n\
                    process_resident_memory_bytes 12345678\n\
                    process_cpu_seconds_total 1.5\n";
        assert_eq!(process_usage(page), Some((12_345_678, 1.5)));
        assert_eq!(process_usage("cinder_sessions 3\n"), None);
    }
}
