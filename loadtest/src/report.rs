//! What a run leaves: a summary on stdout, and on request a JSON result (which `merge`
//! reads back), an HDR interval log, and one self-contained HTML page with charts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use hdrhistogram::serialization::V2Serializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use serde::{Deserialize, Serialize};

use crate::stats::{Interval, total};
use crate::watch::Sample;

/// Where the results go, besides stdout.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct Outputs {
    /// Write the result as JSON (intervals with their histograms; `merge` reads it);
    /// `-` prints it as stdout's last line, the summary going to stderr.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Write one self-contained HTML report with charts.
    #[arg(long)]
    pub(crate) html: Option<PathBuf>,
    /// Write the event latency histograms as an HdrHistogram interval log.
    #[arg(long)]
    pub(crate) hdr_log: Option<PathBuf>,
}

/// A whole run: every interval merged over its processes, and the watched servers.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Run {
    /// What was run (the command line).
    pub(crate) command: String,
    /// The scenario (`click`, `fanout`, …).
    #[serde(default)]
    pub(crate) scenario: String,
    pub(crate) intervals: Vec<Interval>,
    pub(crate) servers: Vec<Sample>,
    /// The command run under load (`rollout --during`).
    #[serde(default)]
    pub(crate) during: Option<During>,
}

/// A command run under load, on the run's clock.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct During {
    pub(crate) command: String,
    /// Seconds into the run when it started (every session of the last step joined).
    pub(crate) started: f64,
    /// When it ended; `None` if it outlived the run.
    pub(crate) ended: Option<f64>,
    /// Its exit status, or why it has none.
    pub(crate) outcome: Option<String>,
}

/// The figures of one step.
#[derive(Debug, Serialize)]
pub(crate) struct StepFigures {
    pub(crate) step: usize,
    pub(crate) target: u64,
    pub(crate) live: u64,
    pub(crate) seconds: f64,
    pub(crate) joined: u64,
    pub(crate) joins_per_second: f64,
    pub(crate) join_p50_ms: f64,
    pub(crate) join_p99_ms: f64,
    pub(crate) events: u64,
    pub(crate) events_per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) service_p50_ms: f64,
    pub(crate) service_p99_ms: f64,
    pub(crate) service_p999_ms: f64,
    /// Stamped messages read by sessions (`chat`, `fanout`), and their one-way time.
    pub(crate) deliveries: u64,
    pub(crate) delivery_p50_ms: f64,
    pub(crate) delivery_p99_ms: f64,
    pub(crate) delivery_p999_ms: f64,
    pub(crate) delivery_max_ms: f64,
    /// Sessions that joined again after losing their view or socket, how long each was
    /// without it, and how many were still without it at the step's end.
    pub(crate) rejoined: u64,
    pub(crate) outage_p50_ms: f64,
    pub(crate) outage_p99_ms: f64,
    pub(crate) outage_max_ms: f64,
    pub(crate) down: u64,
    /// The machine's own stalls over the step (`stalls.rs`): how late a 5 ms sleep woke,
    /// and how many times it woke more than 1 ms late.
    pub(crate) stall_p999_ms: f64,
    pub(crate) stall_max_ms: f64,
    pub(crate) stalls_over_1ms: u64,
    pub(crate) errors: u64,
    /// Resident bytes per live session at the step's end, by process (the load tester
    /// as `load tester`), over the run's first sample.
    pub(crate) bytes_per_session: Vec<(String, f64)>,
}

impl Run {
    /// The figures of each step.
    #[expect(clippy::cast_precision_loss, reason = "figures")]
    pub(crate) fn steps(&self) -> Vec<StepFigures> {
        let Some(last) = self.intervals.iter().map(|i| i.step).max() else {
            return Vec::new();
        };
        let baseline = self.intervals.first();
        (0..=last)
            .filter_map(|step| {
                let of_step: Vec<&Interval> = self
                    .intervals
                    .iter()
                    .filter(|i| i.step == step && i.index > 0)
                    .collect();
                let end = of_step.last()?;
                let start = self
                    .intervals
                    .iter()
                    .rfind(|i| i.at < of_step[0].at)
                    .map_or(0.0, |i| i.at);
                let seconds = (end.at - start).max(f64::EPSILON);
                let sum = total(of_step.iter().copied());
                let joining = of_step.iter().filter(|i| i.joined > 0).count();
                // Events flow from the step's first interval with one to its end (a
                // slow rate, such as fanout's, leaves intervals without any between).
                let pushing = of_step
                    .iter()
                    .position(|i| i.events > 0)
                    .map_or(0.0, |first| {
                        let from = first
                            .checked_sub(1)
                            .map_or(start, |before| of_step[before].at);
                        end.at - from
                    });
                let per_second = |n: u64, over: f64| n as f64 / over.max(f64::EPSILON);
                let live = end.live.max(1);
                let mut bytes = self.server_bytes(end.at, live);
                if let Some(base) = baseline {
                    let client =
                        end.client_rss.saturating_sub(base.client_rss) as f64 / live as f64;
                    bytes.push(("load tester".to_owned(), client));
                }
                Some(StepFigures {
                    step,
                    target: end.target,
                    live: end.live,
                    seconds,
                    joined: sum.joined,
                    joins_per_second: per_second(sum.joined, joining as f64),
                    join_p50_ms: sum.join.ms(0.5),
                    join_p99_ms: sum.join.ms(0.99),
                    events: sum.events,
                    events_per_second: per_second(sum.events, pushing),
                    p50_ms: sum.latency.ms(0.5),
                    p99_ms: sum.latency.ms(0.99),
                    p999_ms: sum.latency.ms(0.999),
                    max_ms: sum.latency.max_ms(),
                    service_p50_ms: sum.service.ms(0.5),
                    service_p99_ms: sum.service.ms(0.99),
                    service_p999_ms: sum.service.ms(0.999),
                    deliveries: sum.deliveries,
                    delivery_p50_ms: sum.delivery.ms(0.5),
                    delivery_p99_ms: sum.delivery.ms(0.99),
                    delivery_p999_ms: sum.delivery.ms(0.999),
                    delivery_max_ms: sum.delivery.max_ms(),
                    rejoined: sum.rejoined,
                    outage_p50_ms: sum.outage.ms(0.5),
                    outage_p99_ms: sum.outage.ms(0.99),
                    outage_max_ms: sum.outage.max_ms(),
                    down: end.down,
                    stall_p999_ms: sum.stalls.ms(0.999),
                    stall_max_ms: sum.stalls.max_ms(),
                    stalls_over_1ms: sum.stalls.count_over(Duration::from_millis(1)),
                    errors: sum.error_count(),
                    bytes_per_session: bytes,
                })
            })
            .collect()
    }

    /// Resident bytes per session of each watched process at `at`, over its first
    /// sample; processes named `TIER-N` also add up into `TIER (all)`: the tier's bytes
    /// per session of the whole run.
    #[expect(clippy::cast_precision_loss, reason = "figures")]
    fn server_bytes(&self, at: f64, live: u64) -> Vec<(String, f64)> {
        let mut names: Vec<&str> = self.servers.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut figures: Vec<(String, f64)> = names
            .into_iter()
            .filter_map(|name| {
                let mut of = self.servers.iter().filter(|s| s.name == name);
                let first = of.next()?;
                let at_end = self
                    .servers
                    .iter()
                    .rfind(|s| s.name == name && s.at <= at + 0.5)?;
                let per = at_end.rss.saturating_sub(first.rss) as f64 / live as f64;
                Some((name.to_owned(), per))
            })
            .collect();
        let mut tiers: Vec<(String, f64, usize)> = Vec::new();
        for (name, per) in &figures {
            let Some((tier, _)) = name.rsplit_once('-') else {
                continue;
            };
            match tiers.iter_mut().find(|(t, _, _)| t == tier) {
                Some((_, sum, count)) => (*sum, *count) = (*sum + per, *count + 1),
                None => tiers.push((tier.to_owned(), *per, 1)),
            }
        }
        figures.extend(
            tiers
                .into_iter()
                .filter(|(_, _, count)| *count > 1)
                .map(|(tier, sum, _)| (format!("{tier} (all)"), sum)),
        );
        figures
    }

    /// Every error over the run, by kind.
    pub(crate) fn errors(&self) -> std::collections::BTreeMap<String, u64> {
        total(&self.intervals).errors
    }

    /// Writes the requested outputs.
    pub(crate) fn write(&self, outputs: &Outputs) -> anyhow::Result<()> {
        if let Some(path) = &outputs.json {
            let json = serde_json::json!({
                "command": self.command,
                "scenario": self.scenario,
                "steps": self.steps(),
                "errors": self.errors(),
                "during": self.during,
                "intervals": self.intervals,
                "servers": self.servers,
            });
            if path.as_os_str() == "-" {
                say(&format!("{json}\n"));
            } else {
                write(path, &serde_json::to_string_pretty(&json)?)?;
            }
        }
        if let Some(path) = &outputs.hdr_log {
            write(path, &String::from_utf8(self.hdr_log()?)?)?;
        }
        if let Some(path) = &outputs.html {
            write(path, &crate::html::page(self))?;
        }
        Ok(())
    }

    fn hdr_log(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut serializer = V2Serializer::new();
        let mut log = IntervalLogWriterBuilder::new().begin_log_with(&mut out, &mut serializer)?;
        let mut previous = 0.0;
        for interval in &self.intervals {
            let start = Duration::from_secs_f64(previous);
            let length = Duration::from_secs_f64((interval.at - previous).max(0.0));
            previous = interval.at;
            log.write_histogram(&interval.latency.0, start, length, Tag::new("latency"))
                .map_err(|e| anyhow::anyhow!("interval log: {e:?}"))?;
        }
        drop(log);
        Ok(out)
    }

    /// The summary printed at the end.
    pub(crate) fn summary(&self) -> String {
        let mut out = String::new();
        let events = if self.scenario == "fanout" {
            "publishes"
        } else {
            "events"
        };
        for step in self.steps() {
            let _ = write!(
                out,
                "step {}: {} of {} sessions live after {:.1} s",
                step.step + 1,
                step.live,
                step.target,
                step.seconds,
            );
            let _ = if step.joined > 0 {
                writeln!(
                    out,
                    "; {} joined ({:.0}/s, join p50 {:.2} ms, p99 {:.2} ms)",
                    step.joined, step.joins_per_second, step.join_p50_ms, step.join_p99_ms,
                )
            } else {
                writeln!(out)
            };
            if step.events > 0 {
                let _ = writeln!(
                    out,
                    "  {} {events} ({:.1}/s): latency from schedule p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms; from send p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms",
                    step.events,
                    step.events_per_second,
                    step.p50_ms,
                    step.p99_ms,
                    step.p999_ms,
                    step.max_ms,
                    step.service_p50_ms,
                    step.service_p99_ms,
                    step.service_p999_ms,
                );
            }
            if step.deliveries > 0 {
                let expected = if self.scenario == "fanout" {
                    format!(" of {} (publishes × sessions)", step.events * step.live)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "  {}{expected} deliveries, one-way from the stamp: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, last {:.3} ms",
                    step.deliveries,
                    step.delivery_p50_ms,
                    step.delivery_p99_ms,
                    step.delivery_p999_ms,
                    step.delivery_max_ms,
                );
            }
            if step.events > 0 || step.deliveries > 0 {
                let _ = writeln!(
                    out,
                    "  the machine's stalls (a 5 ms sleep woke late): p99.9 {:.3} ms, max {:.3} ms, {} over 1 ms",
                    step.stall_p999_ms, step.stall_max_ms, step.stalls_over_1ms,
                );
            }
            if step.rejoined > 0 || step.down > 0 {
                let _ = writeln!(
                    out,
                    "  {} sessions joined again after a loss (without their view p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms); {} still down",
                    step.rejoined,
                    step.outage_p50_ms,
                    step.outage_p99_ms,
                    step.outage_max_ms,
                    step.down,
                );
            }
            if !step.bytes_per_session.is_empty() {
                let bytes: Vec<String> = step
                    .bytes_per_session
                    .iter()
                    .map(|(name, bytes)| format!("{name} {bytes:.0}"))
                    .collect();
                let _ = writeln!(out, "  resident bytes per session: {}", bytes.join(", "));
            }
            if step.errors > 0 {
                let _ = writeln!(out, "  errors: {}", step.errors);
            }
        }
        if let Some(during) = &self.during {
            let _ = write!(
                out,
                "`{}` started at {:.1} s, when every session was joined",
                during.command, during.started
            );
            if let Some(ended) = during.ended {
                let _ = write!(out, ", ended at {ended:.1} s");
            }
            let _ = writeln!(out, " ({})", during.outcome.as_deref().unwrap_or("running"));
            let last = self.intervals.iter().rfind(|i| i.rejoined > 0);
            let down = self.intervals.last().map_or(0, |i| i.down);
            if let Some(last) = last {
                let _ = writeln!(
                    out,
                    "  the last session joined again by {:.1} s ({:.1} s after the command started); {down} still down at the end",
                    last.at,
                    last.at - during.started
                );
            }
        }
        let errors = self.errors();
        if errors.is_empty() {
            out.push_str("errors: none\n");
        } else {
            let _ = writeln!(out, "errors: {errors:?}");
        }
        out
    }
}

/// Reads result files written with `--json` (by many pods, say) and merges them: the
/// same interval of every file adds up.
pub(crate) fn merge(files: &[PathBuf]) -> anyhow::Result<Run> {
    let mut run = Run::default();
    for path in files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let part: Run = serde_json::from_str(&text).with_context(|| {
            format!("{} is not a cinder-loadtest --json result", path.display())
        })?;
        if run.command.is_empty() {
            run.command = part.command;
            run.scenario = part.scenario;
            run.during = part.during;
        }
        for interval in part.intervals {
            match run.intervals.iter_mut().find(|i| i.index == interval.index) {
                Some(mine) => mine.merge(&interval),
                None => run.intervals.push(interval),
            }
        }
        run.servers.extend(part.servers);
    }
    run.intervals.sort_by_key(|i| i.index);
    Ok(run)
}

#[expect(clippy::print_stdout, reason = "the tool's output is its figures")]
fn say(text: &str) {
    print!("{text}");
}

/// Prints the run's summary: on stdout, or on stderr when stdout carries the JSON.
pub(crate) fn print_summary(run: &Run, outputs: &Outputs) {
    if outputs
        .json
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-")
    {
        eprint!("{}", run.summary());
    } else {
        say(&run.summary());
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(index: u64, at: f64, step: usize, live: u64, joined: u64) -> Interval {
        Interval {
            index,
            at,
            step,
            target: 10,
            live,
            joined,
            procs: 1,
            ..Interval::default()
        }
    }

    #[test]
    fn steps_sum_their_intervals_and_results_merge_by_index() -> anyhow::Result<()> {
        let mut run = Run {
            command: "idle".into(),
            intervals: vec![
                interval(0, 0.0, 0, 0, 0),
                interval(1, 1.0, 0, 5, 5),
                interval(2, 2.0, 0, 10, 5),
            ],
            ..Run::default()
        };
        run.intervals[2].latency.record(Duration::from_millis(3));
        let steps = run.steps();
        assert_eq!((steps.len(), steps[0].joined, steps[0].live), (1, 10, 10));

        let dir = std::env::temp_dir().join(format!("loadtest-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("a.json");
        run.write(&Outputs {
            json: Some(file.clone()),
            ..Outputs::default()
        })?;
        let merged = merge(&[file.clone(), file])?;
        assert_eq!(merged.intervals.len(), 3);
        assert_eq!(merged.intervals[2].live, 20);
        assert_eq!(merged.intervals[2].latency.count(), 2);
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }
}
