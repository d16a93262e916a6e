//! The cluster as one dashboard session hears it: the last beats of every process, the
//! rates between two beats, and a minute of history per figure for the sparklines.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use cinder_telemetry::SECONDS_BUCKETS;
use cinder_telemetry::beat::{Beat, Count, NodeBeat, State, Tier, largest};

/// Samples kept per figure: a minute at one beat a second.
pub(crate) const HISTORY: usize = 60;
/// A process not heard from for this long is down.
pub(crate) const DOWN_AFTER: Duration = Duration::from_secs(3);
/// A process not heard from for this long is forgotten.
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(60);
/// Processes kept at most; beyond it, new ones are not listed.
pub(crate) const MAX_PROCESSES: usize = 256;

/// A minute of one figure.
#[derive(Debug, Clone, Default)]
pub(crate) struct Series(VecDeque<f64>);

impl Series {
    fn push(&mut self, value: f64) {
        if self.0.len() == HISTORY {
            self.0.pop_front();
        }
        self.0.push_back(value);
    }

    /// The samples, oldest first.
    pub(crate) fn values(&self) -> std::iter::Copied<std::collections::vec_deque::Iter<'_, f64>> {
        self.0.iter().copied()
    }
}

/// What two beats of one process say per second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Rates {
    /// CPU used, in % of one core.
    pub(crate) cpu: f64,
    /// A gateway's client messages, or a node's events and messages handled.
    pub(crate) events: f64,
    /// Handle + render time of those events: median and 99th percentile, seconds.
    pub(crate) p50: Option<f64>,
    pub(crate) p99: Option<f64>,
    /// Bytes of diffs sent (a node), of frames relayed (a gateway: frames).
    pub(crate) diff_bytes: f64,
    /// Messages delivered to the node's subscribers.
    pub(crate) messages: f64,
}

/// One process as last heard.
#[derive(Debug, Clone)]
pub(crate) struct Process {
    pub(crate) beat: Beat,
    pub(crate) heard: Instant,
    pub(crate) rates: Rates,
    pub(crate) rss: Series,
    pub(crate) cpu: Series,
    pub(crate) events: Series,
    pub(crate) p99: Series,
}

impl Process {
    /// `ready`, `draining` or `down`.
    pub(crate) fn state(&self, now: Instant) -> &'static str {
        if self.beat.state == State::Stopped || now.duration_since(self.heard) > DOWN_AFTER {
            "down"
        } else if self.beat.state == State::Draining {
            "draining"
        } else {
            "ready"
        }
    }

    pub(crate) fn is_up(&self, now: Instant) -> bool {
        self.state(now) != "down"
    }
}

/// Every process heard, by tier and name, and the cluster's totals over time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cluster {
    processes: BTreeMap<(Tier, String), Process>,
    /// Cluster totals, one sample per tick.
    pub(crate) sockets: Series,
    pub(crate) sessions: Series,
    pub(crate) events: Series,
    pub(crate) p99: Series,
    pub(crate) diff_bytes: Series,
    pub(crate) messages: Series,
}

impl Cluster {
    /// Takes a beat heard `now`.
    pub(crate) fn hear(&mut self, beat: Beat, now: Instant) {
        let key = (beat.tier, beat.name.clone());
        if !self.processes.contains_key(&key) && self.processes.len() >= MAX_PROCESSES {
            return;
        }
        match self.processes.get_mut(&key) {
            Some(process) => {
                // A restarted process's totals start again: no rate across the restart.
                let rates = if process.beat.started_ms == beat.started_ms {
                    rates(&process.beat, &beat)
                } else {
                    None
                };
                if let Some(rates) = rates {
                    process.rates = rates;
                    process.cpu.push(rates.cpu);
                    process.events.push(rates.events);
                    process.p99.push(rates.p99.unwrap_or(0.0));
                }
                #[expect(clippy::cast_precision_loss, reason = "a byte count as a chart value")]
                process.rss.push(beat.resident_bytes as f64);
                process.beat = beat;
                process.heard = now;
            }
            None => {
                let mut rss = Series::default();
                #[expect(clippy::cast_precision_loss, reason = "a byte count as a chart value")]
                rss.push(beat.resident_bytes as f64);
                self.processes.insert(
                    key,
                    Process {
                        beat,
                        heard: now,
                        rates: Rates::default(),
                        rss,
                        cpu: Series::default(),
                        events: Series::default(),
                        p99: Series::default(),
                    },
                );
            }
        }
    }

    /// Forgets processes long silent and adds the totals of now, which it returns, to
    /// the history.
    pub(crate) fn tick(&mut self, now: Instant) -> Totals {
        self.processes
            .retain(|_, process| now.duration_since(process.heard) <= FORGET_AFTER);
        let totals = self.totals(now);
        self.sockets.push(totals.sockets as f64);
        self.sessions.push(totals.sessions as f64);
        self.events.push(totals.events);
        self.p99.push(totals.p99.unwrap_or(0.0));
        self.diff_bytes.push(totals.diff_bytes);
        self.messages.push(totals.messages);
        totals
    }

    /// The processes of `tier`, by name.
    pub(crate) fn tier(&self, tier: Tier) -> impl Iterator<Item = &Process> {
        self.processes
            .iter()
            .filter(move |((t, _), _)| *t == tier)
            .map(|(_, process)| process)
    }

    fn live(&self, tier: Tier, now: Instant) -> impl Iterator<Item = &Process> {
        self.tier(tier).filter(move |p| p.is_up(now))
    }

    /// The live cluster's figures now.
    pub(crate) fn totals(&self, now: Instant) -> Totals {
        let gateways = self.live(Tier::Gateway, now);
        let sockets = gateways
            .filter_map(|p| p.beat.gateway.as_ref())
            .map(|g| g.sockets)
            .sum();
        let mut totals = Totals {
            sockets,
            ..Totals::default()
        };
        for process in self.live(Tier::ViewNode, now) {
            let Some(node) = &process.beat.node else {
                continue;
            };
            totals.sessions += connected(node);
            totals.events += process.rates.events;
            totals.diff_bytes += process.rates.diff_bytes;
            totals.messages += process.rates.messages;
            // The worst node's: what the slowest users see.
            totals.p99 = match (totals.p99, process.rates.p99) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        totals
    }

    /// Sessions per view over the live nodes (parked ones included), largest first.
    pub(crate) fn views(&self, now: Instant) -> Vec<Count> {
        let mut views: BTreeMap<&str, u64> = BTreeMap::new();
        for node in self
            .live(Tier::ViewNode, now)
            .filter_map(|p| p.beat.node.as_ref())
        {
            for view in &node.sessions {
                *views.entry(&view.name).or_default() += view.count;
            }
        }
        largest(views.into_iter().map(|(name, count)| Count {
            name: name.to_owned(),
            count,
        }))
    }

    /// Presences per topic. Every node replicates the whole cluster's presences, so a
    /// topic counts what the node that sees most of it sees.
    pub(crate) fn presence(&self, now: Instant) -> Vec<Count> {
        let mut topics: BTreeMap<&str, u64> = BTreeMap::new();
        for node in self
            .live(Tier::ViewNode, now)
            .filter_map(|p| p.beat.node.as_ref())
        {
            for topic in &node.presence {
                let seen = topics.entry(&topic.name).or_default();
                *seen = (*seen).max(topic.count);
            }
        }
        largest(topics.into_iter().map(|(name, count)| Count {
            name: name.to_owned(),
            count,
        }))
    }
}

/// A node's sessions with a client: those parked wait for one.
pub(crate) fn connected(node: &NodeBeat) -> u64 {
    node.sessions
        .iter()
        .map(|c| c.count)
        .sum::<u64>()
        .saturating_sub(node.parked)
}

/// The live cluster's figures at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Totals {
    pub(crate) sockets: u64,
    pub(crate) sessions: u64,
    pub(crate) events: f64,
    /// The slowest node's 99th percentile.
    pub(crate) p99: Option<f64>,
    pub(crate) diff_bytes: f64,
    pub(crate) messages: f64,
}

/// The rates between two beats of one run of a process; `None` if no time passed.
fn rates(before: &Beat, after: &Beat) -> Option<Rates> {
    let seconds = after.at_ms.checked_sub(before.at_ms)? as f64 / 1000.0;
    if seconds <= 0.0 {
        return None;
    }
    let per_second = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
    let mut rates = Rates {
        cpu: (after.cpu_seconds - before.cpu_seconds).max(0.0) / seconds * 100.0,
        ..Rates::default()
    };
    if let (Some(a), Some(b)) = (&before.gateway, &after.gateway) {
        rates.events = per_second(a.frames_up, b.frames_up);
        rates.diff_bytes = per_second(a.frames_down, b.frames_down);
    }
    if let (Some(a), Some(b)) = (&before.node, &after.node) {
        rates.events = per_second(a.events, b.events);
        rates.diff_bytes = per_second(a.diff_bytes, b.diff_bytes);
        rates.messages = per_second(a.delivered, b.delivered);
        let delta: Vec<u64> = b
            .event_buckets
            .iter()
            .zip(a.event_buckets.iter().chain(std::iter::repeat(&0)))
            .map(|(b, a)| b.saturating_sub(*a))
            .collect();
        let count = b.events.saturating_sub(a.events);
        rates.p50 = quantile(&delta, count, 0.5);
        rates.p99 = quantile(&delta, count, 0.99);
    }
    Some(rates)
}

/// The `q` quantile of `count` samples whose cumulative counts at [`SECONDS_BUCKETS`]
/// are `cumulative`, interpolated within its bucket as Prometheus's
/// `histogram_quantile` does; past the last bound, the last bound.
pub(crate) fn quantile(cumulative: &[u64], count: u64, q: f64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let rank = q * count as f64;
    let mut below = 0.0;
    let mut lower = 0.0;
    for (&bound, &at) in SECONDS_BUCKETS.iter().zip(cumulative) {
        let at = at as f64;
        if at >= rank && at > below {
            return Some(lower + (bound - lower) * (rank - below) / (at - below));
        }
        below = at;
        lower = bound;
    }
    SECONDS_BUCKETS.last().copied()
}

#[cfg(test)]
mod tests {
    use cinder_telemetry::beat::GatewayBeat;

    use super::*;

    fn node_beat(at_ms: u64, events: u64, fast: u64, sessions: u64) -> Beat {
        let mut beat = Beat::now(Tier::ViewNode, "a", "127.0.0.1:1", 1, State::Ready);
        beat.at_ms = at_ms;
        beat.cpu_seconds = at_ms as f64 / 2000.0;
        let mut buckets = vec![0; SECONDS_BUCKETS.len()];
        // `fast` events under 100 µs, the rest under 1 ms.
        for (i, b) in buckets.iter_mut().enumerate() {
            *b = if SECONDS_BUCKETS[i] >= 0.001 {
                events
            } else if SECONDS_BUCKETS[i] >= 0.000_1 {
                fast
            } else {
                0
            };
        }
        beat.node = Some(NodeBeat {
            sessions: vec![Count {
                name: "Counter".into(),
                count: sessions,
            }],
            events,
            event_buckets: buckets,
            diff_bytes: events * 100,
            ..NodeBeat::default()
        });
        beat
    }

    #[test]
    fn rates_come_from_two_beats() {
        let mut cluster = Cluster::default();
        let t0 = Instant::now();
        cluster.hear(node_beat(1_000, 0, 0, 3), t0);
        cluster.hear(node_beat(2_000, 100, 90, 5), t0 + Duration::from_secs(1));
        let process = cluster.tier(Tier::ViewNode).next().unwrap();
        assert!((process.rates.events - 100.0).abs() < 1e-9);
        assert!((process.rates.diff_bytes - 10_000.0).abs() < 1e-9);
        assert!((process.rates.cpu - 50.0).abs() < 1e-9);
        let p50 = process.rates.p50.unwrap();
        assert!(p50 > 0.000_05 && p50 <= 0.000_1, "{p50}");
        let p99 = process.rates.p99.unwrap();
        assert!(p99 > 0.000_5 && p99 <= 0.001, "{p99}");
        let now = t0 + Duration::from_secs(1);
        assert_eq!(cluster.totals(now).sessions, 5);
        assert_eq!(cluster.views(now)[0].count, 5);
    }

    #[test]
    fn silent_processes_go_down_then_away() {
        let mut cluster = Cluster::default();
        let t0 = Instant::now();
        let mut gateway = Beat::now(Tier::Gateway, "g", "127.0.0.1:2", 1, State::Ready);
        gateway.gateway = Some(GatewayBeat {
            sockets: 7,
            ..GatewayBeat::default()
        });
        cluster.hear(gateway, t0);
        let state = |cluster: &Cluster, at| cluster.tier(Tier::Gateway).next().map(|p| p.state(at));
        assert_eq!(state(&cluster, t0 + Duration::from_secs(1)), Some("ready"));
        assert_eq!(cluster.totals(t0).sockets, 7);
        let later = t0 + DOWN_AFTER + Duration::from_millis(1);
        assert_eq!(state(&cluster, later), Some("down"));
        assert_eq!(cluster.totals(later).sockets, 0);
        cluster.tick(t0 + FORGET_AFTER + Duration::from_secs(1));
        assert_eq!(state(&cluster, later), None);
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let mut cumulative = vec![0; SECONDS_BUCKETS.len()];
        cumulative.iter_mut().skip(1).for_each(|c| *c = 10);
        // All 10 samples in (50 µs, 100 µs]: the median is halfway.
        let p50 = quantile(&cumulative, 10, 0.5).unwrap();
        assert!((p50 - 0.000_075).abs() < 1e-12, "{p50}");
        assert_eq!(quantile(&cumulative, 0, 0.5), None);
    }
}
