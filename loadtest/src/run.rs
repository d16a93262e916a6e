//! One process's share of a load test: open sessions step by step at a connect rate,
//! hold them, push events on a fixed clock, and hand an [`Interval`] to the caller
//! every interval.
//!
//! Events are open-loop: event `k` of a step is *scheduled* at `start + (k + ½) / rate` on a
//! dedicated thread (a tokio timer ticks by the millisecond; `thread::sleep` by tens of
//! microseconds) and goes to session `k mod n`. Its latency counts from that scheduled
//! instant, so a server stall delays the replies of every event scheduled during it and
//! shows in the percentiles, instead of quietly delaying the next sends (coordinated
//! omission). The time from the actual send is kept beside it as `service`.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use cinder_protocol_client::Page;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::publish::Publish;
use crate::session::{self, Handle, Levels, Push, Shared, Target};
use crate::sources::Sources;
use crate::stats::{Counts, Interval, Recorder};

/// Connects and joins in flight at once per process.
const OPENING: usize = 512;

/// One step: hold `sessions`, then for `hold` push `rate` events per second, or replace
/// `churn` sessions per second (close one, open another).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    pub(crate) sessions: u64,
    pub(crate) rate: f64,
    pub(crate) churn: f64,
    pub(crate) hold: Duration,
}

/// What this process runs: its share of the sessions, rates and sources.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Page URLs (`http://gateway:port/path`), one per target gateway; sessions and
    /// pages go round-robin over them.
    pub(crate) urls: Vec<String>,
    pub(crate) steps: Vec<Step>,
    /// Sessions opened per second.
    pub(crate) connect_rate: f64,
    /// Distinct pages (dead renders, hence view ids) the sessions spread over, so that
    /// placement spreads them over the view-nodes.
    pub(crate) pages: usize,
    pub(crate) sources: Sources,
    /// What each scheduled event is.
    pub(crate) push: Push,
    /// Where and how `fanout` publishes; `None` in the other scenarios.
    pub(crate) publish: Option<Publish>,
    pub(crate) interval: Duration,
    /// When to start, so that many processes start together.
    pub(crate) start_at: Option<SystemTime>,
}

/// Runs `plan`, sending an interval to `intervals` every `plan.interval` and a last one
/// at the end; ends early when `stop` turns true.
pub(crate) async fn run(
    plan: Plan,
    intervals: mpsc::UnboundedSender<Interval>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if let Some(at) = plan.start_at
        && let Ok(wait) = at.duration_since(SystemTime::now())
    {
        tokio::time::sleep(wait).await;
    }
    let targets = pages(&plan).await?;
    let recorder = Arc::new(Recorder::default());
    crate::stalls::watch(&recorder);
    let (closing, closed) = watch::channel(false);
    let levels = Arc::new(Levels::default());
    let shared = Shared {
        sources: plan.sources.clone(),
        recorder: recorder.clone(),
        push: Arc::new(plan.push.clone()),
        stamps: matches!(plan.push, Push::Stamped { .. } | Push::Publish),
        levels: levels.clone(),
        stop: closed,
    };
    let state = Arc::new(State {
        levels,
        ..State::default()
    });
    let started = Instant::now();
    // Interval 0 is the baseline, before any session: the client's own memory.
    state.interval.store(1, Ordering::Relaxed);
    let _ = intervals.send(state.fill(recorder.take(0, Duration::ZERO)));
    let ticker = tokio::spawn(tick(
        plan.interval,
        started,
        recorder.clone(),
        state.clone(),
        intervals.clone(),
    ));
    let mut opened = 0usize;
    let mut handles: Vec<Handle> = Vec::new();
    for (index, step) in plan.steps.iter().enumerate() {
        if *stop.borrow() {
            break;
        }
        state.step.store(index, Ordering::Relaxed);
        state.target.store(step.sessions, Ordering::Relaxed);
        let live = state.levels.live.load(Ordering::Relaxed);
        let need = usize::try_from(step.sessions.saturating_sub(live))?;
        let new = open(&plan, &targets, &shared, opened, need, stop.clone()).await;
        opened += need;
        handles.extend(new);
        handles.retain(|h| !h.is_closed());
        if step.churn > 0.0 {
            let churned = churn(
                step,
                &plan,
                &targets,
                &shared,
                opened,
                &mut handles,
                stop.clone(),
            )
            .await;
            opened += churned;
        } else if step.rate > 0.0 && (!handles.is_empty() || plan.publish.is_some()) {
            let (handles, recorder, stop) = (handles.clone(), recorder.clone(), stop.clone());
            let (step, publish) = (*step, plan.publish.clone());
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                let send = |k: u64, due: Instant| match &publish {
                    Some(publish) => {
                        runtime.spawn(publish.clone().send(due, recorder.clone()));
                    }
                    None => push(&handles, k, due, &recorder),
                };
                schedule(&step, send, &stop);
            })
            .await?;
        } else {
            let mut stop = stop.clone();
            tokio::select! {
                () = tokio::time::sleep(step.hold) => {}
                () = session::stopped(&mut stop) => {}
            }
        }
    }
    // The last interval, with the sessions still held; then every session closes
    // (given a moment to say goodbye).
    ticker.abort();
    let index = state.interval.fetch_add(1, Ordering::Relaxed);
    let _ = intervals.send(state.fill(recorder.take(index, started.elapsed())));
    closing.send_replace(true);
    drop(handles);
    let deadline = Instant::now() + Duration::from_secs(2);
    while state.levels.live.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// What the interval ticker reads of the run.
#[derive(Debug, Default)]
struct State {
    step: AtomicUsize,
    target: AtomicU64,
    levels: Arc<Levels>,
    interval: AtomicU64,
}

impl State {
    fn fill(&self, mut interval: Interval) -> Interval {
        interval.step = self.step.load(Ordering::Relaxed);
        interval.target = self.target.load(Ordering::Relaxed);
        interval.live = self.levels.live.load(Ordering::Relaxed);
        interval.down = self.levels.down.load(Ordering::Relaxed);
        interval.client_rss = crate::watch::resident_bytes(std::process::id()).unwrap_or(0);
        interval
    }
}

async fn tick(
    every: Duration,
    started: Instant,
    recorder: Arc<Recorder>,
    state: Arc<State>,
    intervals: mpsc::UnboundedSender<Interval>,
) {
    let mut ticker = tokio::time::interval_at((started + every).into(), every);
    loop {
        ticker.tick().await;
        // The next interval's empty histograms are made on a blocking thread: made on
        // this one, they held up every session for 0.4-1 ms once an interval.
        let fresh = tokio::task::spawn_blocking(Counts::default)
            .await
            .unwrap_or_default();
        let index = state.interval.fetch_add(1, Ordering::Relaxed);
        let interval = state.fill(recorder.take_replacing(index, started.elapsed(), fresh));
        if intervals.send(interval).is_err() {
            return;
        }
    }
}

/// Loads the pages the sessions join: `plan.pages` dead renders, round-robin over the
/// target URLs. A `{page}` in a URL becomes the page's number (`/chat/room-{page}`
/// spreads the sessions over as many rooms).
async fn pages(plan: &Plan) -> anyhow::Result<Vec<Arc<Target>>> {
    let mut targets = Vec::new();
    for i in 0..plan.pages.max(1) {
        let url = plan.urls[i % plan.urls.len()].replace("{page}", &i.to_string());
        let url = &url;
        let addr = socket_addr(url)?;
        let page = Page::fetch(url)
            .await
            .with_context(|| format!("cannot load {url}: is a gateway serving it?"))?;
        targets.push(Arc::new(Target { addr, page }));
    }
    Ok(targets)
}

/// The `host:port` of `http://host:port/…`, resolved.
pub(crate) fn socket_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: expected http://host:port/path"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    authority
        .to_socket_addrs()
        .with_context(|| format!("{url}: cannot resolve {authority}"))?
        .next()
        .with_context(|| format!("{url}: {authority} has no address"))
}

/// Opens `count` sessions (numbered from `first`) at the plan's connect rate; returns
/// the handles of those that joined.
async fn open(
    plan: &Plan,
    targets: &[Arc<Target>],
    shared: &Shared,
    first: usize,
    count: usize,
    stop: watch::Receiver<bool>,
) -> Vec<Handle> {
    let joined = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let opening = Arc::new(Semaphore::new(OPENING));
    let period = Duration::from_secs_f64(1.0 / plan.connect_rate.max(0.001));
    let begun = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        if *stop.borrow() {
            break;
        }
        tokio::time::sleep_until(begun + period.mul_f64(i as f64)).await;
        let Ok(permit) = opening.clone().acquire_owned().await else {
            break;
        };
        let n = first + i;
        let target = targets[n % targets.len()].clone();
        let (shared, joined) = (shared.clone(), joined.clone());
        tasks.spawn(async move {
            if let Some(handle) = session::open(n, target, &shared).await {
                joined
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(handle);
            }
            drop(permit);
        });
        // Finished tasks are reaped as we go, so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    std::mem::take(&mut *joined.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Replaces `step.churn` sessions per second for `step.hold`: closes the oldest, opens
/// a new one (numbered from `first`). Returns how many were opened.
async fn churn(
    step: &Step,
    plan: &Plan,
    targets: &[Arc<Target>],
    shared: &Shared,
    first: usize,
    handles: &mut Vec<Handle>,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let period = Duration::from_secs_f64(1.0 / step.churn);
    let begun = tokio::time::Instant::now();
    let end = begun + step.hold;
    let mut opened = 0;
    loop {
        let due = begun + period.mul_f64(opened as f64);
        if due >= end || *stop.borrow() {
            return opened;
        }
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            () = session::stopped(&mut stop) => return opened,
        }
        // Dropping its handle closes a session (with 1000), as a tab closing.
        if !handles.is_empty() {
            handles.remove(0);
        }
        let one = open(plan, targets, shared, first + opened, 1, stop.clone()).await;
        handles.extend(one);
        opened += 1;
    }
}

/// Calls `send(k, due)` for `step.rate` events per second for `step.hold`, on a fixed
/// clock (this runs on its own thread).
fn schedule(step: &Step, send: impl Fn(u64, Instant), stop: &watch::Receiver<bool>) {
    // The kernel wakes a sleeping thread up to 50 µs late by default; the clock is
    // tighter with 1 µs (errors here only make the clock coarser).
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let period = Duration::from_secs_f64(1.0 / step.rate);
    let start = Instant::now();
    let end = start + step.hold;
    for k in 0u64.. {
        // Half a period in, so that the first publish of `fanout` does not race the
        // last joins of the other processes.
        let due = start + period.mul_f64(k as f64 + 0.5);
        if due >= end || *stop.borrow() {
            break;
        }
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        send(k, due);
    }
    // The step lasts its whole hold, so that the last events' replies and deliveries
    // count in it.
    while !*stop.borrow() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Hands event `k`, due at `due`, to session `k mod n`.
fn push(handles: &[Handle], k: u64, due: Instant, recorder: &Recorder) {
    if handles.is_empty() {
        return;
    }
    let handle = &handles[usize::try_from(k).unwrap_or(0) % handles.len()];
    match handle.try_send(due) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => recorder.error("client backlog (session too slow)"),
        Err(TrySendError::Closed(_)) => recorder.error("event for an ended session"),
    }
}

/// Checks that this process may open `sessions` sockets, raising its soft file limit
/// to the hard one if needed; the error says what to change.
pub(crate) fn ensure_files(sessions: u64) -> anyhow::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let need = sessions + 256;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= need {
        return Ok(());
    }
    if hard < need {
        bail!(
            "one process needs about {need} open files for {sessions} sessions, and may hold {hard}: \
             spread them with --procs {} (or raise the hard limit)",
            sessions.div_ceil(hard.saturating_sub(256).max(1))
        );
    }
    setrlimit(Resource::RLIMIT_NOFILE, need.max(soft), hard)?;
    Ok(())
}
