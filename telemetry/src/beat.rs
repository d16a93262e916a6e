//! A process's beat: what the cluster dashboard shows of it, sent every [`PERIOD`].
//!
//! Every view-node publishes its own beat on [`TOPIC`] through its pubsub, so it reaches
//! every node of the cluster; a gateway, which holds no pubsub, hands its beat to one
//! view-node over the link (`cinder.v1.ViewNode/Beat`), which publishes it. A
//! dashboard subscribes to the topic: a process whose beats stop is down.
//!
//! The figures come from the process's own Prometheus page ([`crate::render`]), read
//! with [`Scrape`]: counters are sent as totals and the reader takes the rates between
//! two beats. Processes that share one recorder (the embedded mode's gateway and
//! view-node) each read their own tier's metrics from it. Lists are bounded (at most
//! [`MAX_LISTED`] entries, largest first) and a beat is at most [`MAX_BEAT_BYTES`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::scrape::{Scrape, whole};

/// The topic beats are published on. Internal: the topics API refuses it.
pub const TOPIC: &str = "cinder:beats";
/// How often a process beats.
pub const PERIOD: Duration = Duration::from_secs(1);
/// The largest beat a view-node takes from a gateway.
pub const MAX_BEAT_BYTES: usize = 64 * 1024;
/// Most entries of each list (views, links, presence topics) a beat carries.
pub const MAX_LISTED: usize = 32;

/// Which tier a process serves.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Terminates WebSockets.
    Gateway,
    /// Holds sessions.
    ViewNode,
}

/// What a process says it is doing.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Serving.
    Ready,
    /// Stopping: no new sessions; those it holds move or close.
    Draining,
    /// Stopped: its last beat.
    Stopped,
}

/// A name and a count (a view's sessions, a topic's presences).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// The view, topic…
    pub name: String,
    /// How many.
    pub count: u64,
}

/// A gateway's link to one view-node.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LinkBeat {
    /// The view-node's address.
    pub node: String,
    /// `up`, `draining` or `down`.
    pub state: String,
    /// Bytes waiting to go down the link.
    pub queue_bytes: u64,
}

/// A gateway's figures.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayBeat {
    /// Open WebSockets.
    pub sockets: u64,
    /// Client messages received, in all.
    pub frames_up: u64,
    /// Frames relayed to clients, in all.
    pub frames_down: u64,
    /// The links to view-nodes.
    pub links: Vec<LinkBeat>,
}

/// A view-node's figures.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeBeat {
    /// Sessions per view, largest first.
    pub sessions: Vec<Count>,
    /// Sessions parked, waiting for their client's reconnect.
    pub parked: u64,
    /// Events and messages handled, in all.
    pub events: u64,
    /// Events handled within each bound of [`crate::SECONDS_BUCKETS`] (handle and
    /// render), cumulative, in all.
    pub event_buckets: Vec<u64>,
    /// Bytes of renders and diffs sent, in all.
    pub diff_bytes: u64,
    /// Whether the node's Redis link is up; `None` without Redis.
    pub redis_up: Option<bool>,
    /// Topics with a subscriber on this node.
    pub topics: u64,
    /// Messages published from this node, in all.
    pub published: u64,
    /// Messages delivered to this node's subscribers, in all.
    pub delivered: u64,
    /// Presence entries per topic, largest first.
    pub presence: Vec<Count>,
}

/// One beat of one process.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Beat {
    /// Its tier.
    pub tier: Tier,
    /// Its name, unique in the cluster within its tier.
    pub name: String,
    /// Where it listens.
    pub addr: String,
    /// When it started, in ms since the Unix epoch.
    pub started_ms: u64,
    /// When this beat was made, in ms since the Unix epoch.
    pub at_ms: u64,
    /// What it says it is doing.
    pub state: State,
    /// Resident bytes of the process.
    pub resident_bytes: u64,
    /// CPU time of the process, in all (user + system).
    pub cpu_seconds: f64,
    /// A gateway's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayBeat>,
    /// A view-node's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeBeat>,
}

impl Beat {
    /// A beat of this process, now, without its tier's figures.
    pub fn now(tier: Tier, name: &str, addr: &str, started_ms: u64, state: State) -> Self {
        let usage = crate::process::usage(std::process::id());
        Beat {
            tier,
            name: name.to_owned(),
            addr: addr.to_owned(),
            started_ms,
            at_ms: unix_ms(),
            state,
            resident_bytes: usage.map_or(0, |u| u.resident_bytes),
            cpu_seconds: usage.map_or(0.0, |u| u.cpu.as_secs_f64()),
            gateway: None,
            node: None,
        }
    }
}

impl GatewayBeat {
    /// A gateway's figures as its metrics page shows them; `links` are its links'
    /// states by node address, which the queue depths are joined to.
    pub fn read(scrape: &Scrape<'_>, links: impl IntoIterator<Item = (String, String)>) -> Self {
        let queues = scrape.by_label("cinder_gateway_link_queue_bytes", "node");
        let mut links: Vec<LinkBeat> = links
            .into_iter()
            .map(|(node, state)| LinkBeat {
                queue_bytes: queues.get(&node).copied().map_or(0, whole),
                node,
                state,
            })
            .collect();
        links.truncate(MAX_LISTED);
        GatewayBeat {
            sockets: whole(scrape.sum("cinder_gateway_sockets")),
            frames_up: whole(scrape.sum("cinder_gateway_frames_up_total")),
            frames_down: whole(scrape.sum("cinder_gateway_frames_down_total")),
            links,
        }
    }
}

impl NodeBeat {
    /// A view-node's figures as its metrics page shows them. Topics and presences are
    /// not metrics: the node adds them.
    pub fn read(scrape: &Scrape<'_>) -> Self {
        let sessions =
            scrape
                .by_label("cinder_sessions", "view")
                .into_iter()
                .map(|(name, count)| Count {
                    name,
                    count: whole(count),
                });
        NodeBeat {
            sessions: largest(sessions),
            parked: whole(scrape.sum("cinder_parked_sessions")),
            events: whole(scrape.sum("cinder_event_duration_seconds_count")),
            event_buckets: scrape.buckets("cinder_event_duration_seconds", crate::SECONDS_BUCKETS),
            diff_bytes: whole(scrape.sum("cinder_diff_bytes_total")),
            redis_up: scrape.get("cinder_redis_up").map(|up| up > 0.0),
            topics: 0,
            published: whole(scrape.sum("cinder_pubsub_publishes_total")),
            delivered: whole(scrape.sum("cinder_pubsub_deliveries_total")),
            presence: Vec::new(),
        }
    }
}

/// The [`MAX_LISTED`] largest counts, largest first (zeros dropped; ties by name).
pub fn largest(counts: impl IntoIterator<Item = Count>) -> Vec<Count> {
    let mut counts: Vec<Count> = counts.into_iter().filter(|c| c.count > 0).collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    counts.truncate(MAX_LISTED);
    counts
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_beat_reads_its_metrics_and_round_trips() {
        let page = "cinder_sessions{view=\"Counter\"} 3\ncinder_sessions{view=\"Idle\"} 0\n\
                    cinder_sessions{view=\"Chat\"} 5\ncinder_event_duration_seconds_count{view=\"Chat\",kind=\"event\"} 7\n\
                    cinder_redis_up 1\n";
        let scrape = Scrape::parse(page);
        let mut beat = Beat::now(Tier::ViewNode, "a", "127.0.0.1:1", 1, State::Ready);
        beat.node = Some(NodeBeat::read(&scrape));
        let node = beat.node.as_ref().unwrap();
        assert_eq!(
            node.sessions,
            vec![
                Count {
                    name: "Chat".into(),
                    count: 5
                },
                Count {
                    name: "Counter".into(),
                    count: 3
                }
            ]
        );
        assert_eq!((node.events, node.redis_up), (7, Some(true)));
        assert!(beat.resident_bytes > 0);
        let json = serde_json::to_vec(&beat).unwrap();
        assert!(json.len() < MAX_BEAT_BYTES);
        assert_eq!(serde_json::from_slice::<Beat>(&json).unwrap(), beat);
    }

    #[test]
    fn lists_are_bounded() {
        let counts = (0..100).map(|i| Count {
            name: format!("t{i}"),
            count: i,
        });
        let top = largest(counts);
        assert_eq!(top.len(), MAX_LISTED);
        assert_eq!(top[0].count, 99);
    }
}
