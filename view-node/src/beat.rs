//! The node's beat ([`cinder_telemetry::beat`]): its figures, published on the beats
//! topic every second through its own pubsub, so every dashboard of the cluster hears
//! it. A drain says `draining`; the node's last beat says `stopped`.

use std::sync::Arc;

use cinder_presence::Tracker;
use cinder_pubsub::PubSub;
use cinder_telemetry::beat::{self, Beat, Count, NodeBeat, State, Tier};
use cinder_telemetry::scrape::Scrape;
use tokio::sync::watch;

/// What a node's beat is made of.
pub(crate) struct Beats {
    name: String,
    addr: String,
    started_ms: u64,
    pubsub: Arc<dyn PubSub>,
    tracker: Tracker,
    state: watch::Sender<State>,
}

impl Beats {
    /// The beats of node `name`, advertised at `addr`, started now.
    pub(crate) fn new(name: &str, addr: &str, pubsub: Arc<dyn PubSub>, tracker: Tracker) -> Self {
        Beats {
            name: name.to_owned(),
            addr: addr.to_owned(),
            started_ms: beat::unix_ms(),
            pubsub,
            tracker,
            state: watch::Sender::new(State::Ready),
        }
    }

    /// Beats every [`beat::PERIOD`] until dropped (the task holds no part of the node
    /// but what a beat reads).
    pub(crate) fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let beats = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(beat::PERIOD);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // Off the workers: reading the metrics page takes long enough to delay
                // the events queued behind it.
                let beats = beats.clone();
                let state = *beats.state.borrow();
                let _ = tokio::task::spawn_blocking(move || beats.send(state)).await;
            }
        })
    }

    /// Says `state` now and in every later beat.
    pub(crate) fn set(&self, state: State) {
        self.state.send_replace(state);
        self.send(state);
    }

    fn send(&self, state: State) {
        let page = cinder_telemetry::render();
        let scrape = Scrape::parse(&page);
        let mut node = NodeBeat::read(&scrape);
        node.topics = self.pubsub.topic_count() as u64;
        node.presence = self
            .tracker
            .busiest_topics(beat::MAX_LISTED)
            .into_iter()
            .map(|(name, count)| Count {
                name,
                count: count as u64,
            })
            .collect();
        let mut beat = Beat::now(
            Tier::ViewNode,
            &self.name,
            &self.addr,
            self.started_ms,
            state,
        );
        beat.node = Some(node);
        match serde_json::to_value(&beat) {
            Ok(payload) => {
                self.pubsub.publish(beat::TOPIC, payload);
            }
            Err(error) => tracing::warn!(%error, "beat not encoded"),
        }
    }
}
