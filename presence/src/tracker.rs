//! [`Tracker`]: one node's presence tracker, its shards replicated over any
//! [`PubSub`].
//!
//! **Shape.** A tracker is `pool_size` [`Shard`]s, each behind its own mutex, and one
//! task. Session actors call [`Tracker::track`] and friends synchronously: they lock
//! the one shard that owns the topic, and the local join or leave reaches this node's
//! subscribers at once (within [`DELIVERY_BATCH`]), queued before the lock is released, so that each
//! topic's diffs are delivered in the order the shard made them. Peers hear of the change on the next
//! tick. The task does everything else: it ticks every shard every
//! `broadcast_period_ms` (the first tick after a random quarter period, as in Phoenix),
//! hands each received message to its shard, follows the link state, and publishes
//! what the shards want sent.
//!
//! **Topics on the cluster pubsub.** Shard `i` of every node listens on `presence:<i>`
//! (broadcasts; a node ignores its own) and on `presence:<i>:<node>` (messages to that
//! node only). Messages are [`crate::codec`] JSON. The pool size must be the same on
//! every node, since it decides which shard, and so which topics, own a presence topic.
//!
//! **Receiving.** Pubsub sinks are synchronous callbacks run inside the pubsub's fan-out,
//! where taking a shard lock or publishing could deadlock; they only queue the message
//! (bounded) for the task. A full queue drops the message, which the pubsub reports as a
//! gap; every gap on a presence topic, like a reconnect to Redis, makes the shard ask
//! every peer for a transfer ([`Shard::resync`]). Malformed messages are logged and
//! dropped.
//!
//! **Link.** While [`TrackerOptions::link`] says the link to the cluster is down, every
//! shard is told ([`Shard::link_down`]): it stops broadcasting and stops judging peers,
//! so a Redis outage causes no leave storm. When the link is back, [`Shard::link_up`]
//! sends transfer requests.
//!
//! **Stopping.** [`Tracker::leave`] stops the task, then broadcasts a graceful
//! permdown from every shard, so peers drop this node's presences at once. Dropping the
//! last handle stops the task without a word: peers see this node's presences leave
//! after the down period, as after a crash.
//!
//! Local subscribers get `{"event": "presence_diff", "payload": {"joins", "leaves"}}` on
//! the presence topic itself: the shards' diffs gather for [`DELIVERY_BATCH`] (50 ms)
//! and go out coalesced, one message per topic, in the order the shards made them.
//!
//! **Joining subscribers.** [`Tracker::subscribe_with_state`] hands a new subscriber the
//! topic's `presence_state` *as of the last delivery*: the list with the diffs still
//! gathering undone. The gathering diff then brings it up to date. A snapshot of the
//! current list would be wrong here: a join in the gathering window is in the
//! snapshot, and a leave of that ref in the same window cancels the join in the
//! coalesced diff, so the subscriber would never hear of the leave.
//!
//! **Metrics.** The gauge `cinder_presence_entries` is the entries the shards hold
//! (own and remote, those of peers marked down included), counted at each tick.

mod run;
mod wire;

pub use wire::TOPIC_PREFIX;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cinder_pubsub::{Local, Message, PubSub, Sink, SubscriptionId};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::warn;

use crate::config::Config;
use crate::diff::Diffs;
use crate::entry::SessionId;
use crate::error::Error;
use crate::message::Outbound;
use crate::presence_state::PresenceState;
use crate::replica::ReplicaRef;
use crate::shard::{Effects, Shard, shard_for};

/// How long this node's diffs gather before its subscribers get them: a burst of joins
/// on a topic (a room filling up, a node's sessions rejoining after a deploy) reaches
/// each subscriber as one coalesced diff, not one per join.
pub const DELIVERY_BATCH: Duration = Duration::from_millis(50);

/// Received messages waiting for the task, for all shards together. Past this the
/// pubsub drops them and reports a gap, which ends in a transfer.
const INBOUND_QUEUE: usize = 4096;

/// How to start a [`Tracker`]. Start from [`TrackerOptions::new`] and change fields as
/// needed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrackerOptions {
    /// This node's name: unique in the cluster, stable across restarts (a pod name).
    pub node: String,
    /// Timing and size settings; Phoenix's defaults.
    pub config: Config,
    /// Shards per node; must be the same on every node. Default
    /// [`TrackerOptions::DEFAULT_POOL_SIZE`].
    pub pool_size: NonZeroUsize,
    /// Whether this node's link to the cluster is up (`true`), e.g. the Redis
    /// backend's health. `None`: always up, as for an in-process pubsub.
    pub link: Option<watch::Receiver<bool>>,
}

impl TrackerOptions {
    /// Four shards: session actors on different topics rarely wait for one another's
    /// shard lock, at the cost of four idle heartbeats per `max_silent_periods` instead
    /// of one (Phoenix defaults to one shard, whose contention phoenix_pubsub#71 shows).
    pub const DEFAULT_POOL_SIZE: NonZeroUsize = match NonZeroUsize::new(4) {
        Some(size) => size,
        None => NonZeroUsize::MIN,
    };

    /// The defaults for the node named `node`.
    pub fn new(node: impl Into<String>) -> Self {
        TrackerOptions {
            node: node.into(),
            config: Config::default(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            link: None,
        }
    }
}

/// A handle to this node's running presence tracker; cheap to clone.
///
/// Dropping the last handle stops the tracker's task (see the module doc).
#[derive(Clone)]
pub struct Tracker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("replica", &self.inner.core.me)
            .finish_non_exhaustive()
    }
}

/// What the handles share; the task holds only the [`Core`].
struct Inner {
    core: Arc<Core>,
    /// Dropped with the last handle, or set by [`Tracker::leave`]: the task stops.
    stop: watch::Sender<bool>,
    /// The task, for [`Tracker::leave`] to wait on.
    task: Mutex<Option<JoinHandle<()>>>,
    /// [`Tracker::leave`] ran.
    left: AtomicBool,
}

/// What the handles and the task share.
struct Core {
    /// This node's replica (name and this life's vsn).
    me: ReplicaRef,
    /// One per shard index, in index order.
    slots: Vec<Slot>,
    /// The cluster pubsub the shards talk over.
    pubsub: Arc<dyn PubSub>,
    /// This node's presence diff subscribers.
    local: Local,
    /// The zero of the shards' millisecond clock.
    started: Instant,
    /// How often the task ticks.
    period: Duration,
    /// Diffs not yet handed to subscribers, coalesced per topic in the order the shards
    /// made them.
    pending: Mutex<Diffs>,
    /// Wakes the task when `pending` stops being empty.
    flush: Notify,
}

/// One shard and its index.
struct Slot {
    index: usize,
    shard: Mutex<Shard>,
}

// === impl Tracker ===

impl Tracker {
    /// Starts the tracker: subscribes every shard's topics on `pubsub` and spawns the
    /// task. This life's `vsn` is the unix time in microseconds. Call it inside a tokio
    /// runtime.
    pub fn start(pubsub: Arc<dyn PubSub>, options: TrackerOptions) -> Result<Tracker, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        if options.node.is_empty() {
            return Err(Error::InvalidConfig("the node name is empty"));
        }
        let period = Duration::from_millis(options.config.broadcast_period_ms);
        let me = ReplicaRef::new(options.node, unix_micros());
        let slots = (0..options.pool_size.get())
            .map(|index| {
                let shard = Shard::new(me.clone(), options.config.clone())?;
                Ok(Slot {
                    index,
                    shard: Mutex::new(shard),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
        let subscriptions = (0..slots.len())
            .flat_map(|index| wire::subscribe(&*pubsub, index, me.name(), &inbound))
            .collect();
        let core = Arc::new(Core {
            me,
            slots,
            pubsub,
            local: Local::new(),
            started: Instant::now(),
            period,
            pending: Mutex::new(Diffs::new()),
            flush: Notify::new(),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = runtime.spawn(run::run(
            Arc::clone(&core),
            inbound_rx,
            options.link,
            stop_rx,
            subscriptions,
        ));
        Ok(Tracker {
            inner: Arc::new(Inner {
                core,
                stop,
                task: Mutex::new(Some(task)),
                left: AtomicBool::new(false),
            }),
        })
    }

    /// This node's replica: its name and this life's vsn.
    pub fn replica(&self) -> &ReplicaRef {
        &self.inner.core.me
    }

    /// Tracks `key` for `session` on `topic`; this node's subscribers see the join at
    /// once, peers on the next tick. Fails with [`Error::AlreadyTracked`] if the session
    /// tracks that key on that topic already.
    pub fn track(
        &self,
        session: SessionId,
        topic: &str,
        key: &str,
        meta: Map<String, Value>,
    ) -> Result<(), Error> {
        let core = &self.inner.core;
        core.with_shard(core.slot(topic), |shard| {
            core.deliver(shard.track(topic, session, key, meta)?);
            Ok(())
        })
    }

    /// Stops tracking `key` for `session` on `topic`, if it was tracked.
    pub fn untrack(&self, session: SessionId, topic: &str, key: &str) {
        let core = &self.inner.core;
        core.with_shard(core.slot(topic), |shard| {
            core.deliver(shard.untrack(topic, session, key));
        });
    }

    /// Stops tracking every presence of `session`, on every topic.
    pub fn untrack_session(&self, session: SessionId) {
        let core = &self.inner.core;
        for slot in &core.slots {
            core.with_shard(slot, |shard| core.deliver(shard.untrack_session(session)));
        }
    }

    /// Replaces the meta of `session`'s `key` on `topic` (a leave of the old `phx_ref`
    /// and a join of a new one, in one diff). Fails with [`Error::NotTracked`] if there
    /// is no such presence.
    pub fn update(
        &self,
        session: SessionId,
        topic: &str,
        key: &str,
        meta: Map<String, Value>,
    ) -> Result<(), Error> {
        let core = &self.inner.core;
        core.with_shard(core.slot(topic), |shard| {
            core.deliver(shard.update(topic, session, key, meta)?);
            Ok(())
        })
    }

    /// The visible presences of `topic`, as this node sees them.
    pub fn list(&self, topic: &str) -> PresenceState {
        let core = &self.inner.core;
        core.with_shard(core.slot(topic), |shard| shard.list(topic))
    }

    /// Delivers this node's presence diffs for `topic` to `sink`, as
    /// `{"event": "presence_diff", "payload": …}` messages on `topic`.
    pub fn subscribe(&self, topic: &str, sink: Sink) -> SubscriptionId {
        self.inner.core.local.subscribe(topic, sink)
    }

    /// Subscribes `sink` to `topic` and hands it the topic's
    /// `{"event": "presence_state", "payload": …}` first, then every diff: what a
    /// session shows its client. A message the sink cannot take (a full mailbox) is
    /// its to make good: it starts over from [`Tracker::delivered_state`], as the
    /// view-node's sessions do.
    ///
    /// The state is the one diffs were last delivered against (see the module doc),
    /// taken with the shard and the gathering diffs locked, so nothing between the
    /// state and the first diff is missed or counted twice.
    pub fn subscribe_with_state(&self, topic: &str, sink: Sink) -> SubscriptionId {
        let core = &self.inner.core;
        core.with_shard(core.slot(topic), |shard| {
            let pending = lock(&core.pending);
            sink(&core.state_message(topic, shard, &pending));
            core.local.subscribe(topic, sink)
        })
    }

    /// `topic`'s `{"event": "presence_state", "payload": …}` as of the last delivery to
    /// subscribers: for a subscriber that lost diffs to start over from. The diffs it
    /// receives from now on bring it up to date; those it already holds change nothing
    /// when applied again.
    pub fn delivered_state(&self, topic: &str) -> Message {
        let core = &self.inner.core;
        core.with_shard(core.slot(topic), |shard| {
            core.state_message(topic, shard, &lock(&core.pending))
        })
    }

    /// The `limit` topics with the most visible presences, as this node sees them, most
    /// first (ties by name). A topic's name is copied only while it ranks, so a node
    /// with many topics pays a count per entry, not a copy per topic.
    pub fn busiest_topics(&self, limit: usize) -> Vec<(String, usize)> {
        let core = &self.inner.core;
        // The smallest of the best so far on top, to be pushed out.
        let mut best: BinaryHeap<Reverse<(usize, Reverse<String>)>> = BinaryHeap::new();
        for slot in &core.slots {
            core.with_shard(slot, |shard| {
                let state = shard.state();
                for topic in state.topics() {
                    let count = state.visible(topic);
                    let ranks = best.len() < limit
                        || best
                            .peek()
                            .is_some_and(|Reverse((least, _))| count > *least);
                    if count > 0 && ranks {
                        best.push(Reverse((count, Reverse(topic.to_owned()))));
                        if best.len() > limit {
                            best.pop();
                        }
                    }
                }
            });
        }
        let mut topics: Vec<(String, usize)> = best
            .into_iter()
            .map(|Reverse((count, Reverse(topic)))| (topic, count))
            .collect();
        topics.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        topics
    }

    /// How many topics have a presence subscriber on this node (a session's
    /// `subscribe_presence`, a topics API caller).
    pub fn subscribed_topics(&self) -> usize {
        self.inner.core.local.topic_count()
    }

    /// Stops a subscription made with [`Tracker::subscribe`].
    pub fn unsubscribe(&self, topic: &str, id: SubscriptionId) {
        self.inner.core.local.unsubscribe(topic, id);
    }

    /// Leaves the cluster for good: stops ticking and receiving, then tells every peer
    /// to drop this node's presences now (a graceful permdown from every shard). Call it
    /// once the sessions have drained; later calls do nothing.
    pub async fn leave(&self) {
        let inner = &self.inner;
        if inner.left.swap(true, Ordering::AcqRel) {
            return;
        }
        inner.stop.send_replace(true);
        // Waiting for the task means no heartbeat of this life follows its permdown.
        let task = lock(&inner.task).take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            warn!(%error, "the presence task ended abnormally");
        }
        let core = &inner.core;
        for slot in &core.slots {
            core.step(slot, |shard| shard.leave_cluster());
        }
    }
}

// === impl Core ===

impl Core {
    /// The slot of the shard that owns `topic`.
    fn slot(&self, topic: &str) -> &Slot {
        // `shard_for` is below the pool size, which is the number of slots.
        &self.slots[shard_for(topic, self.pool_size())]
    }

    fn pool_size(&self) -> NonZeroUsize {
        NonZeroUsize::new(self.slots.len()).unwrap_or(NonZeroUsize::MIN)
    }

    /// Milliseconds since the tracker started, on a monotonic clock.
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn with_shard<T>(&self, slot: &Slot, op: impl FnOnce(&mut Shard) -> T) -> T {
        op(&mut lock(&slot.shard))
    }

    /// Runs `op` on the slot's shard, delivers its diffs under the lock, then sends its
    /// messages to peers.
    fn step(&self, slot: &Slot, op: impl FnOnce(&mut Shard) -> Effects) {
        let outbound: Vec<Outbound> = self.with_shard(slot, |shard| {
            let effects = op(shard);
            self.deliver(effects.diffs);
            effects.outbound
        });
        wire::send(&*self.pubsub, slot.index, outbound);
    }

    /// Queues diffs for this node's subscribers: called under the shard's lock, so each
    /// topic's diffs queue in the order its shard made them.
    fn deliver(&self, diffs: Diffs) {
        if diffs.is_empty() {
            return;
        }
        let mut pending = lock(&self.pending);
        let wake = pending.is_empty();
        pending.append(diffs);
        if wake {
            self.flush.notify_one();
        }
    }

    /// `topic`'s presence_state as of the last delivery: the shard's list with the
    /// gathering diff undone. Called with the shard and `pending` locked.
    fn state_message(&self, topic: &str, shard: &Shard, pending: &Diffs) -> Message {
        let mut state = shard.list(topic);
        if let Some(gathering) = pending.get(topic) {
            state.undo(gathering);
        }
        Message {
            topic: topic.into(),
            payload: Arc::new(json!({"event": "presence_state", "payload": state.to_json()})),
        }
    }

    /// Hands each topic's coalesced diff to this node's subscribers of that topic.
    fn flush(&self) {
        let diffs = std::mem::take(&mut *lock(&self.pending));
        for (topic, diff) in diffs {
            if diff.is_empty() {
                continue;
            }
            let message = json!({"event": "presence_diff", "payload": diff.to_json()});
            self.local.publish(&topic, message);
        }
    }
}

/// A lock that survives a panic elsewhere: the shard's state is updated in steps that
/// leave it consistent, and a tracker that stops answering would be worse.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// This life's vsn. A clock before 1970 gives 0; the vsn then no longer grows across
/// restarts, and peers may take the new life for a stale one until the old is forgotten.
fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
        })
}
