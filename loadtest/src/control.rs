//! The controller of a load test: splits the load over `--procs` worker processes (each
//! under the per-process file limit) or runs it in this one, merges their intervals,
//! shows progress on stderr, applies the stop rules, watches the servers, and writes
//! the results when the run ends: by itself, by a stop rule, or on Ctrl-C.
//!
//! A worker is this binary run again with `--worker-of J/P`: it runs its share and
//! prints one JSON interval per line on stdout. With `--shard I/N` a whole controller
//! (a pod of a distributed run) takes share `I` of `N`; `--start-at` makes every pod and
//! worker start on the same second, so that their intervals line up for `merge`.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{mpsc, watch};

use crate::publish::Publish;
use crate::report::{During, Outputs, Run};
use crate::run::{Plan, Step, ensure_files};
use crate::session::Push;
use crate::sources::Sources;
use crate::stats::Interval;
use crate::watch::Watched;

/// The options every load scenario shares.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct Load {
    /// The page every session loads and joins (`http://gateway:port/path`); repeat it
    /// to spread sessions over several gateways.
    #[arg(long = "url", required = true)]
    pub(crate) urls: Vec<String>,
    /// Sessions to hold; a comma list makes steps (`10000,50000,100000`).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub(crate) sessions: Vec<u64>,
    /// How long each step holds its sessions (and pushes its events) before the next.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub(crate) hold: Duration,
    /// Sessions opened per second, over all processes.
    #[arg(long, default_value_t = 1000.0)]
    pub(crate) connect_rate: f64,
    /// Distinct pages (view ids) the sessions spread over, so that placement spreads
    /// them over the view-nodes.
    #[arg(long, default_value_t = 64)]
    pub(crate) pages: usize,
    /// Source addresses to connect from: `127.0.0.2-127.0.0.254` or `A,B,…`.
    #[arg(long)]
    pub(crate) sources: Option<String>,
    /// Worker processes to spread the sessions over (each may hold about 19,000).
    #[arg(long, default_value_t = 1)]
    pub(crate) procs: usize,
    /// This controller's share of a distributed run: `I/N`.
    #[arg(long)]
    pub(crate) shard: Option<String>,
    /// Start at this Unix time (seconds), so that many pods start together.
    #[arg(long)]
    pub(crate) start_at: Option<f64>,
    /// How often intervals are taken, shown and written.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    pub(crate) interval: Duration,
    /// A server process to watch on the load's clock: `NAME=PID`, or
    /// `NAME=http://HOST:PORT/metrics` to scrape its Prometheus page (repeatable).
    #[arg(long = "watch")]
    pub(crate) watch: Vec<String>,
    /// Stop once an interval's event p99 is over this (`50ms`).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub(crate) max_p99: Option<Duration>,
    /// Stop once more than this many errors have been seen.
    #[arg(long)]
    pub(crate) max_errors: Option<u64>,
    /// No progress line on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) outputs: Outputs,
    /// Internal: run as worker `J/P` of a controller, printing intervals as JSON lines.
    #[arg(long, hide = true)]
    pub(crate) worker_of: Option<String>,
}

/// What a scenario adds to [`Load`]: events or churn per step.
#[derive(Clone, Debug)]
pub(crate) struct Events {
    /// Events (or publishes) per second over all processes, per step (0: none).
    pub(crate) rates: Vec<f64>,
    /// Sessions replaced per second over all processes, per step (0: none).
    pub(crate) churn: Vec<f64>,
    /// What an event is.
    pub(crate) push: Push,
    /// Where `fanout` publishes (from the first process only).
    pub(crate) publish: Option<Publish>,
    /// A command the controller runs once every session of the last step is joined
    /// (`rollout`: the rolling restart), its outcome reported with the run.
    pub(crate) during: Option<String>,
}

impl Events {
    /// No events: sessions are held.
    pub(crate) fn hold() -> Events {
        Events {
            rates: Vec::new(),
            churn: Vec::new(),
            push: Push::Click(String::new()),
            publish: None,
            during: None,
        }
    }
}

/// `I/N`, checked.
fn share_spec(spec: &str, flag: &str) -> anyhow::Result<(usize, usize)> {
    let (i, n) = spec
        .split_once('/')
        .with_context(|| format!("{flag} {spec}: expected I/N"))?;
    let (i, n): (usize, usize) = (i.parse()?, n.parse()?);
    if n == 0 || i >= n {
        bail!("{flag} {spec}: I must be below N");
    }
    Ok((i, n))
}

/// Part `i` of `n` of `total`, the remainder going to the first parts.
fn part(total: u64, i: usize, n: usize) -> u64 {
    let (i, n) = (i as u64, n as u64);
    total / n + u64::from(i < total % n)
}

impl Load {
    /// This process's (or worker's) share: `(index, of)` over every process of the run.
    fn share(&self) -> anyhow::Result<(usize, usize)> {
        let (pod, pods) = match &self.shard {
            Some(spec) => share_spec(spec, "--shard")?,
            None => (0, 1),
        };
        let (worker, workers) = match &self.worker_of {
            Some(spec) => share_spec(spec, "--worker-of")?,
            None => (0, self.procs.max(1)),
        };
        Ok((pod * workers + worker, pods * workers))
    }

    /// The plan of share `(i, n)`.
    fn plan(&self, events: &Events, (i, n): (usize, usize)) -> anyhow::Result<Plan> {
        let sources = match &self.sources {
            Some(spec) => Sources::parse(spec)?.share(i, n),
            None => Sources::default(),
        };
        let count = self
            .sessions
            .len()
            .max(events.rates.len())
            .max(events.churn.len());
        // The shorter lists repeat their last value.
        let at = |list: &[f64], s: usize| {
            list.get(s.min(list.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        let steps = (0..count)
            .map(|s| Step {
                sessions: part(self.sessions[s.min(self.sessions.len() - 1)], i, n),
                // One process publishes; the sessions' events spread over them all.
                rate: match (&events.publish, i) {
                    (None, _) => at(&events.rates, s) / n as f64,
                    (Some(_), 0) => at(&events.rates, s),
                    (Some(_), _) => 0.0,
                },
                churn: at(&events.churn, s) / n as f64,
                hold: self.hold,
            })
            .collect();
        let pages = usize::try_from(part(self.pages as u64, i, n))?.max(1);
        Ok(Plan {
            urls: self.urls.clone(),
            steps,
            connect_rate: self.connect_rate / n as f64,
            pages,
            sources,
            push: events.push.clone(),
            publish: events.publish.clone().filter(|_| i == 0),
            interval: self.interval,
            start_at: self
                .start_at
                .map(|at| UNIX_EPOCH + Duration::from_secs_f64(at)),
        })
    }
}

/// Runs a load scenario: as a worker, or as the controller of the run.
pub(crate) async fn run(load: Load, events: Events) -> anyhow::Result<()> {
    if load.worker_of.is_some() {
        return worker(&load, &events).await;
    }
    let mut watched = Vec::new();
    for spec in &load.watch {
        watched.push(Watched::parse(spec).await?);
    }
    if let Some(publish) = &events.publish
        && load.share()?.0 == 0
    {
        crate::publish::check(publish).await?;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop, stopping) = watch::channel(false);
    let procs = load.procs.max(1);
    let mut children = Vec::new();
    let mut running = Vec::new();
    if procs == 1 {
        let plan = load.plan(&events, load.share()?)?;
        ensure_files(plan.steps.iter().map(|s| s.sessions).max().unwrap_or(0))?;
        running.push(tokio::spawn(crate::run::run(plan, tx, stopping)));
    } else {
        let start_at = load.start_at.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64().ceil() + 2.0)
        });
        for j in 0..procs {
            let (pid, worker) = spawn_worker(j, procs, start_at, tx.clone())?;
            children.push(pid);
            running.push(worker);
        }
        drop(tx);
    }

    let started = Instant::now();
    let mut run = Run {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        scenario: std::env::args().nth(1).unwrap_or_default(),
        ..Run::default()
    };
    let sample = async |run: &mut Run, at: f64| {
        for watched in &watched {
            run.servers.extend(watched.sample(at).await);
        }
    };
    sample(&mut run, 0.0).await;
    let mut partial: BTreeMap<u64, Interval> = BTreeMap::new();
    let mut progress = Progress::new(load.quiet);
    let mut stopped = false;
    let mut errors = 0;
    let last_step = load
        .sessions
        .len()
        .max(events.rates.len())
        .max(events.churn.len())
        .saturating_sub(1);
    let mut during: Option<tokio::process::Child> = None;
    let stop_all = |reason: &str, children: &[u32]| {
        eprintln!("\ncinder-loadtest: stopping: {reason}");
        stop.send_replace(true);
        for pid in children {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(*pid).unwrap_or(0)),
                nix::sys::signal::Signal::SIGINT,
            );
        }
    };
    loop {
        tokio::select! {
            interval = rx.recv() => {
                let Some(interval) = interval else { break };
                match partial.entry(interval.index) {
                    Entry::Vacant(entry) => {
                        entry.insert(interval);
                    }
                    Entry::Occupied(mut entry) => entry.get_mut().merge(&interval),
                }
                // An interval is whole once every process sent it; the last ones of a
                // run are flushed when the processes end.
                while let Some(entry) = partial.first_entry() {
                    if entry.get().procs < procs as u64 {
                        break;
                    }
                    let interval = entry.remove();
                    sample(&mut run, started.elapsed().as_secs_f64()).await;
                    // A running count, not a merge of every interval so far: with the
                    // sessions in this process that merge, once a second, stalled
                    // them for milliseconds, and the stall grew with the run.
                    errors += interval.error_count();
                    progress.show(&interval, errors);
                    if !stopped && let Some(reason) = broken_rule(&load, &interval, errors) {
                        stopped = true;
                        stop_all(&reason, &children);
                    }
                    if let Some(command) = &events.during
                        && run.during.is_none()
                        && interval.step == last_step
                        && interval.target > 0
                        && interval.live >= interval.target
                    {
                        eprintln!("\ncinder-loadtest: every session is joined; running: {command}");
                        during = Some(start_during(command)?);
                        run.during = Some(During {
                            command: command.clone(),
                            started: interval.at,
                            ended: None,
                            outcome: None,
                        });
                    }
                    run.intervals.push(interval);
                }
            }
            status = ended(during.as_mut()), if during.is_some() => {
                during = None;
                if let Some(ran) = &mut run.during {
                    ran.ended = Some(started.elapsed().as_secs_f64());
                    ran.outcome = Some(match status {
                        Ok(status) => status.to_string(),
                        Err(error) => error.to_string(),
                    });
                    eprintln!("\ncinder-loadtest: the command ended ({})", ran.outcome.as_deref().unwrap_or(""));
                }
            }
            _ = tokio::signal::ctrl_c(), if !stopped => {
                stopped = true;
                stop_all("interrupted", &children);
            }
        }
    }
    finish(&mut run.intervals, partial);
    progress.done();
    if let (Some(mut child), Some(ran)) = (during, &mut run.during) {
        let _ = child.kill().await;
        ran.outcome = Some("stopped at the run's end: it outlived the run (raise --hold)".into());
    }
    if let Some(command) = &events.during
        && run.during.is_none()
    {
        eprintln!(
            "cinder-loadtest: `{command}` never ran: the last step's sessions were never all joined"
        );
    }
    for outcome in running {
        outcome.await??;
    }
    crate::report::print_summary(&run, &load.outputs);
    run.write(&load.outputs)
}

/// The exit of `child`; never, without one.
async fn ended(
    child: Option<&mut tokio::process::Child>,
) -> std::io::Result<std::process::ExitStatus> {
    match child {
        Some(child) => child.wait().await,
        None => std::future::pending().await,
    }
}

/// Starts `command` with `sh -c`, its output on stderr (stdout is the report's).
fn start_during(command: &str) -> anyhow::Result<tokio::process::Child> {
    use std::os::fd::AsFd as _;
    let stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
    tokio::process::Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot run {command}"))
}

/// Adds the intervals still `partial` at the run's end to `intervals`, in order.
///
/// Normally they are the last one or two of the processes whose ticker fired once more
/// than another's before they ended: kept as they are, they would end the run with only
/// their senders' sessions live, so their counts go into the last whole interval. Any
/// other partial interval (a process that died mid-run leaves every later one partial)
/// stays an interval of its own, the run's time series intact.
fn finish(intervals: &mut Vec<Interval>, partial: BTreeMap<u64, Interval>) {
    match intervals.last_mut() {
        Some(last) if last.index > 0 && partial.keys().all(|&i| i <= last.index + 2) => {
            partial.values().for_each(|rest| last.absorb(rest));
        }
        _ => intervals.extend(partial.into_values()),
    }
    intervals.sort_by_key(|i| i.index);
}

/// Which stop rule `interval` breaks, if any; `errors` counts every error so far,
/// `interval`'s included.
fn broken_rule(load: &Load, interval: &Interval, errors: u64) -> Option<String> {
    if let Some(max) = load.max_p99
        && interval.latency.count() > 0
    {
        let p99 = interval.latency.ms(0.99);
        if p99 > max.as_secs_f64() * 1000.0 {
            return Some(format!("p99 {p99:.3} ms is over --max-p99 {max:?}"));
        }
    }
    if let Some(max) = load.max_errors
        && errors > max
    {
        return Some(format!("{errors} errors, over --max-errors {max}"));
    }
    None
}

/// Starts worker `j` of `procs`; its intervals go to `tx`. Returns its process id, and
/// the task that ends with it (an error if it failed).
fn spawn_worker(
    j: usize,
    procs: usize,
    start_at: f64,
    tx: mpsc::UnboundedSender<Interval>,
) -> anyhow::Result<(u32, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // The controller's own flags are not the workers'.
    for flag in [
        "--procs",
        "--start-at",
        "--json",
        "--html",
        "--hdr-log",
        "--watch",
    ] {
        while let Some(i) = args.iter().position(|a| a == flag) {
            args.drain(i..(i + 2).min(args.len()));
        }
        args.retain(|a| !a.starts_with(&format!("{flag}=")));
    }
    args.retain(|a| a != "--quiet");
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(&args)
        .args(["--worker-of", &format!("{j}/{procs}")])
        .args(["--start-at", &start_at.to_string()])
        .arg("--quiet")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start a worker process")?;
    let pid = child.id().unwrap_or(0);
    let stdout = child.stdout.take().context("a worker's stdout")?;
    let worker = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match serde_json::from_str::<Interval>(&line) {
                Ok(interval) => {
                    let _ = tx.send(interval);
                }
                Err(error) => eprintln!("cinder-loadtest: worker {j}: {error}: {line}"),
            }
        }
        let status = child.wait().await?;
        if !status.success() {
            bail!("worker {j} of {procs} failed ({status}); its error is above");
        }
        Ok(())
    });
    Ok((pid, worker))
}

/// Worker mode: runs this share and prints its intervals as JSON lines.
async fn worker(load: &Load, events: &Events) -> anyhow::Result<()> {
    let plan = load.plan(events, load.share()?)?;
    ensure_files(plan.steps.iter().map(|s| s.sessions).max().unwrap_or(0))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop, stopping) = watch::channel(false);
    let running = tokio::spawn(crate::run::run(plan, tx, stopping));
    let mut interrupted = false;
    loop {
        tokio::select! {
            interval = rx.recv() => {
                let Some(interval) = interval else { break };
                let line = serde_json::to_string(&interval)?;
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{line}")?;
                stdout.flush()?;
            }
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                stop.send_replace(true);
            }
        }
    }
    running.await?
}

/// The progress line on stderr, rewritten every interval: where the run is, the rates
/// of the last interval, the errors so far and the last interval's latency.
struct Progress {
    quiet: bool,
    /// The previous interval's end, in seconds into the run.
    last: f64,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress { quiet, last: 0.0 }
    }

    #[expect(clippy::cast_precision_loss, reason = "display rates")]
    fn show(&mut self, interval: &Interval, errors: u64) {
        let width = (interval.at - self.last).max(1e-3);
        self.last = interval.at;
        if self.quiet {
            return;
        }
        let rate = |n: u64| n as f64 / width;
        let mut line = format!(
            "\r[{:>6.1}s] step {} live {}/{}",
            interval.at,
            interval.step + 1,
            interval.live,
            interval.target,
        );
        if interval.down > 0 {
            line.push_str(&format!(" (down {})", interval.down));
        }
        line.push_str(&format!(
            " joins {:.0}/s events {:.0}/s",
            rate(interval.joined + interval.rejoined),
            rate(interval.events)
        ));
        if interval.deliveries > 0 {
            line.push_str(&format!(" deliveries {:.0}/s", rate(interval.deliveries)));
        }
        line.push_str(&format!(
            " errors {} p50 {:.3} ms p99 {:.3} ms   ",
            errors,
            interval.latency.ms(0.5),
            interval.latency.ms(0.99),
        ));
        eprint!("{line}");
    }

    fn done(&self) {
        if !self.quiet {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_ends_on_its_last_whole_interval_unless_a_process_died() {
        let interval = |index, live, procs| Interval {
            index,
            live,
            events: 1,
            procs,
            ..Interval::default()
        };
        let whole = || vec![interval(0, 0, 2), interval(1, 100, 2), interval(2, 100, 2)];
        // One process ticked once more before its last interval.
        let mut ended = whole();
        finish(
            &mut ended,
            BTreeMap::from([(3, interval(3, 50, 1)), (4, interval(4, 50, 1))]),
        );
        let last = ended.last().map(|i| (i.index, i.live, i.events));
        assert_eq!((ended.len(), last), (3, Some((2, 100, 3))));
        // One process died after interval 2: the rest stays a time series.
        let mut died = whole();
        let rest = (3..=9).map(|i| (i, interval(i, 50, 1)));
        finish(&mut died, rest.collect());
        let indexes: Vec<u64> = died.iter().map(|i| i.index).collect();
        assert_eq!(indexes, (0..=9).collect::<Vec<_>>());
    }

    #[test]
    fn shares_add_up_and_nest() -> anyhow::Result<()> {
        let parts: u64 = (0..3).map(|i| part(10, i, 3)).sum();
        assert_eq!(parts, 10);
        assert_eq!((part(10, 0, 3), part(10, 2, 3)), (4, 3));
        assert!(share_spec("3/3", "--shard").is_err());
        assert_eq!(share_spec("1/4", "--shard")?, (1, 4));
        Ok(())
    }
}
