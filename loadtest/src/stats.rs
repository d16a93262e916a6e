//! What a load test measures, per interval: HDR histograms of latency and counts of
//! what happened, mergeable exactly across processes and machines.
//!
//! Each process records into one [`Recorder`]; every interval it takes an [`Interval`]
//! (the recorder starts the next one empty). Intervals travel between processes as JSON
//! lines, their histograms in HdrHistogram's V2 encoding (base64), so a controller, or
//! `merge` over the files of many pods, adds them up without losing precision:
//! histograms add bucket by bucket, counts add, and the merged percentiles are those
//! of all samples together.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use serde::{Deserialize, Serialize};

/// The largest latency recorded, in microseconds (an hour): anything slower is clamped.
const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds, three significant digits.
#[derive(Clone, Debug)]
pub(crate) struct Hist(pub(crate) Histogram<u64>);

impl Default for Hist {
    fn default() -> Self {
        // Bounds that are valid constants: construction cannot fail.
        Hist(Histogram::new_with_bounds(1, MAX_MICROS, 3).unwrap_or_else(|_| unreachable!()))
    }
}

impl Hist {
    /// Records one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(MAX_MICROS);
        self.0.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    /// Adds every sample of `other`.
    pub(crate) fn add(&mut self, other: &Hist) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// The latency at quantile `q` (0.5 for the median), in milliseconds; 0 when empty.
    pub(crate) fn ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        micros_to_ms(self.0.value_at_quantile(q))
    }

    /// The largest latency, in milliseconds.
    pub(crate) fn max_ms(&self) -> f64 {
        micros_to_ms(self.0.max())
    }

    /// Samples recorded.
    pub(crate) fn count(&self) -> u64 {
        self.0.len()
    }

    /// Samples over `latency`.
    pub(crate) fn count_over(&self, latency: Duration) -> u64 {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(MAX_MICROS);
        self.0.count_between(micros.saturating_add(1), MAX_MICROS)
    }
}

#[expect(clippy::cast_precision_loss, reason = "display figures")]
fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

impl Serialize for Hist {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut bytes)
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&STANDARD.encode(bytes))
    }
}

impl<'de> Deserialize<'de> for Hist {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        let histogram: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| serde::de::Error::custom(format!("{e:?}")))?;
        let mut hist = Hist::default();
        hist.0
            .add(&histogram)
            .map_err(|e| serde::de::Error::custom(format!("{e:?}")))?;
        Ok(hist)
    }
}

/// One interval of one process, or the merge of many processes' same interval.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Interval {
    /// Its number, from 0; the same interval of every process has the same number.
    pub(crate) index: u64,
    /// Seconds since the run started, at the interval's end.
    pub(crate) at: f64,
    /// The step running (from 0).
    pub(crate) step: usize,
    /// Sessions the step asks for.
    pub(crate) target: u64,
    /// Sessions joined and held at the interval's end.
    pub(crate) live: u64,
    /// Sessions that joined in the interval.
    pub(crate) joined: u64,
    /// Events sent in the interval.
    pub(crate) events: u64,
    /// Replies received in the interval.
    pub(crate) replies: u64,
    /// Stamped messages delivered (`chat`, `fanout`): one per session that received one.
    #[serde(default)]
    pub(crate) deliveries: u64,
    /// Sessions that joined again after losing their view or socket.
    #[serde(default)]
    pub(crate) rejoined: u64,
    /// Sessions waiting to join again at the interval's end.
    #[serde(default)]
    pub(crate) down: u64,
    /// Errors, by kind.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Event latency from the event's *scheduled* send (what a user waits, stalls
    /// included).
    pub(crate) latency: Hist,
    /// Event latency from the actual send (the service time alone).
    pub(crate) service: Hist,
    /// Connect + join time of the sessions that joined.
    pub(crate) join: Hist,
    /// One-way delivery time of stamped messages: from the stamp (the scheduled send or
    /// publish, on the wall clock) to a receiving session reading it.
    #[serde(default)]
    pub(crate) delivery: Hist,
    /// How long each session that joined again was without its view: from the loss
    /// (`phx_error`, a closed socket) to the join reply.
    #[serde(default)]
    pub(crate) outage: Hist,
    /// How late the stall meter's 5 ms sleeps woke (`stalls.rs`): the machine's own
    /// pauses, in every latency above whatever the servers do.
    #[serde(default)]
    pub(crate) stalls: Hist,
    /// The load tester's own resident bytes (summed over its processes).
    pub(crate) client_rss: u64,
    /// The processes that reported it (1 until merged).
    pub(crate) procs: u64,
}

impl Interval {
    /// Adds `other`, the same interval of another process.
    pub(crate) fn merge(&mut self, other: &Interval) {
        self.at = self.at.max(other.at);
        self.step = self.step.max(other.step);
        self.target += other.target;
        self.live += other.live;
        self.joined += other.joined;
        self.events += other.events;
        self.replies += other.replies;
        self.deliveries += other.deliveries;
        self.rejoined += other.rejoined;
        self.down += other.down;
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += count;
        }
        self.latency.add(&other.latency);
        self.service.add(&other.service);
        self.join.add(&other.join);
        self.delivery.add(&other.delivery);
        self.outage.add(&other.outage);
        self.stalls.add(&other.stalls);
        self.client_rss += other.client_rss;
        self.procs += other.procs;
    }

    /// Adds the counts and histograms of `other`, a later interval some processes sent
    /// and others did not, keeping this interval's levels (sessions live and resident
    /// bytes, as every process reported them here) and its index.
    pub(crate) fn absorb(&mut self, other: &Interval) {
        let (index, levels) = (self.index, self.levels());
        self.merge(other);
        self.index = index;
        self.set_levels(levels);
    }

    /// What is a level, not a flow: sessions asked for, live and down, the load
    /// tester's resident bytes, the processes that reported.
    fn levels(&self) -> [u64; 5] {
        [
            self.target,
            self.live,
            self.down,
            self.client_rss,
            self.procs,
        ]
    }

    fn set_levels(&mut self, [target, live, down, rss, procs]: [u64; 5]) {
        (
            self.target,
            self.live,
            self.down,
            self.client_rss,
            self.procs,
        ) = (target, live, down, rss, procs);
    }

    /// Errors of every kind.
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// What one process records as it runs; taken whole every interval.
#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<Counts>);

/// What a [`Recorder`] holds between two takes. An empty one is seven zeroed histograms,
/// about 1.3 MB.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    joined: u64,
    events: u64,
    replies: u64,
    deliveries: u64,
    rejoined: u64,
    errors: BTreeMap<String, u64>,
    latency: Hist,
    service: Hist,
    join: Hist,
    delivery: Hist,
    outage: Hist,
    stalls: Hist,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A session joined after `took` (connect and join).
    pub(crate) fn joined(&self, took: Duration) {
        let mut counts = self.lock();
        counts.joined += 1;
        counts.join.record(took);
    }

    /// An event went out.
    pub(crate) fn sent(&self) {
        self.lock().events += 1;
    }

    /// An event's reply came back: `latency` from its scheduled send, `service` from
    /// its actual send.
    pub(crate) fn replied(&self, latency: Duration, service: Duration) {
        let mut counts = self.lock();
        counts.replies += 1;
        counts.latency.record(latency);
        counts.service.record(service);
    }

    /// A stamped message reached a session `latency` after its stamp.
    pub(crate) fn delivered(&self, latency: Duration) {
        let mut counts = self.lock();
        counts.deliveries += 1;
        counts.delivery.record(latency);
    }

    /// A session joined again after `outage` without its view.
    pub(crate) fn rejoined(&self, outage: Duration) {
        let mut counts = self.lock();
        counts.rejoined += 1;
        counts.outage.record(outage);
    }

    /// The stall meter woke `late`.
    pub(crate) fn stalled(&self, late: Duration) {
        self.lock().stalls.record(late);
    }

    /// Something went wrong, of `kind` (see `session::io_kind` and `ws_kind`).
    pub(crate) fn error(&self, kind: impl Into<String>) {
        *self.lock().errors.entry(kind.into()).or_default() += 1;
    }

    /// Takes what was recorded since the last call, as interval `index`.
    pub(crate) fn take(&self, index: u64, at: Duration) -> Interval {
        self.take_replacing(index, at, Counts::default())
    }

    /// [`take`](Self::take), leaving `fresh` in the recorder: a caller on the sessions'
    /// thread makes it elsewhere.
    pub(crate) fn take_replacing(&self, index: u64, at: Duration, fresh: Counts) -> Interval {
        let counts = std::mem::replace(&mut *self.lock(), fresh);
        Interval {
            index,
            at: at.as_secs_f64(),
            joined: counts.joined,
            events: counts.events,
            replies: counts.replies,
            deliveries: counts.deliveries,
            rejoined: counts.rejoined,
            errors: counts.errors,
            latency: counts.latency,
            service: counts.service,
            join: counts.join,
            delivery: counts.delivery,
            outage: counts.outage,
            stalls: counts.stalls,
            procs: 1,
            ..Interval::default()
        }
    }
}

/// Every interval of a run merged into one: the figures of a whole step or run.
pub(crate) fn total<'a>(intervals: impl IntoIterator<Item = &'a Interval>) -> Interval {
    let mut total = Interval::default();
    for interval in intervals {
        total.merge(interval);
        // Levels, not flows: the last interval's, not their sum.
        total.set_levels(interval.levels());
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_wire_and_merge_exactly() {
        let (mut a, mut b) = (Interval::default(), Interval::default());
        for ms in 1..=100 {
            a.latency.record(Duration::from_millis(ms));
        }
        for ms in 101..=200 {
            b.latency.record(Duration::from_millis(ms));
        }
        *b.errors.entry("refused".into()).or_default() += 2;
        let wire = serde_json::to_string(&b).unwrap_or_default();
        let b: Interval = serde_json::from_str(&wire).unwrap_or_default();
        a.merge(&b);
        assert_eq!(a.latency.count(), 200);
        let median = a.latency.ms(0.5);
        assert!((99.5..=100.5).contains(&median), "{median}");
        assert_eq!(a.error_count(), 2);
    }

    #[test]
    fn a_total_sums_flows_and_keeps_the_last_levels() {
        let step = |index, live, joined| Interval {
            index,
            live,
            joined,
            procs: 1,
            ..Interval::default()
        };
        let total = total(&[step(0, 10, 10), step(1, 25, 15)]);
        assert_eq!((total.live, total.joined), (25, 25));
    }

    #[test]
    fn a_partial_last_interval_adds_its_counts_not_its_levels() {
        let interval = |index, at, live, procs, ms| {
            let mut interval = Interval {
                index,
                at,
                live,
                target: live,
                events: ms,
                procs,
                ..Interval::default()
            };
            interval.latency.record(Duration::from_millis(ms));
            interval
        };
        // Two processes reported interval 5; only one of them also sent interval 6.
        let mut whole = interval(5, 10.0, 100, 2, 10);
        whole.absorb(&interval(6, 10.4, 50, 1, 3));
        let levels = (whole.index, whole.live, whole.target, whole.procs);
        assert_eq!(levels, (5, 100, 100, 2));
        assert_eq!((whole.events, whole.latency.count()), (13, 2));
        assert!((whole.at - 10.4).abs() < f64::EPSILON);
    }
}
