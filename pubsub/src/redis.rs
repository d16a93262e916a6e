#![doc = include_str!("../docs/redis.md")]
//!
//! ## Layout
//!
//! - `channel` — topic and node names ↔ Redis channel names.
//! - `envelope` — the versioned wire envelope: encode, decode, reject.
//! - `link` — the subscriber connection: reference-counted `SUBSCRIBE`, batched
//!   resubscribe, gaps, `PING`.
//! - `dispatch` — decodes each received envelope once and fans it out locally.
//! - `publisher` — the publishing connection: a bounded queue drained in pipelines.
//! - `cluster` — the subscriber on a Redis Cluster (sharded pubsub), used instead of
//!   `link` when the URL names a cluster.

mod channel;
pub(crate) mod cluster;
mod dispatch;
mod envelope;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod link;
mod publisher;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};

use self::channel::Channels;
use self::envelope::Outgoing;
use crate::registry::Registry;
use crate::{Error, GapCause, GapSink, PubSub, Sink, SubscriptionId, Value};

pub use self::envelope::VERSION as ENVELOPE_VERSION;

/// The default [`RedisConfig::max_message_bytes`]: 1 MiB.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// How to reach Redis and how much to buffer. Start from [`RedisConfig::new`] and
/// change fields as needed. Its `Debug` leaves out the URL, which may hold a password.
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// This node's name: unique in the cluster and stable across restarts. It names the
    /// node's direct channel and marks its envelopes (`from`), so that the node drops its
    /// own echo.
    pub node: String,
    /// Prefix of every channel name: topics are `<prefix>:topic:<topic>`, direct channels
    /// `<prefix>:node:<node>`. Default `cinder`.
    pub prefix: String,
    /// Messages waiting for the publishing connection; past this, publishes fail with
    /// [`Error::QueueFull`]. Default 8192.
    pub publish_queue: usize,
    /// Messages received but not yet fanned out; past this, messages are dropped and their
    /// topics get a [`GapCause::Overflow`] gap. Default 8192.
    pub inbound_queue: usize,
    /// Channels per `SUBSCRIBE`/`UNSUBSCRIBE` command. Default 512.
    pub subscribe_batch: usize,
    /// Largest envelope, in bytes: a larger one is refused on publish
    /// ([`Error::TooLarge`], delivered nowhere) and dropped on receipt (from a service
    /// outside Cinder or a node configured otherwise). Default [`MAX_MESSAGE_BYTES`].
    pub max_message_bytes: usize,
    /// How often each connection is probed with `PING`. Default 10 s.
    pub probe_interval: Duration,
    /// A probe, or any command, unanswered for this long counts as a lost connection.
    /// Default 3 s.
    pub response_timeout: Duration,
    /// Longest wait for a connection to be established. Default 2 s.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubled on each failure up to `backoff_max`, with jitter.
    /// Default 100 ms.
    pub backoff_min: Duration,
    /// Longest reconnect delay. Default 5 s.
    pub backoff_max: Duration,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("node", &self.node)
            .field("prefix", &self.prefix)
            .field("max_message_bytes", &self.max_message_bytes)
            .finish_non_exhaustive()
    }
}

impl RedisConfig {
    /// The defaults for Redis at `url`, for the node named `node`.
    pub fn new(url: impl Into<String>, node: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            node: node.into(),
            prefix: "cinder".to_owned(),
            publish_queue: 8192,
            inbound_queue: 8192,
            subscribe_batch: 512,
            max_message_bytes: MAX_MESSAGE_BYTES,
            probe_interval: Duration::from_secs(10),
            response_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(2),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// The state of one of the node's two Redis connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// The first connection attempt has not finished. Publishes are queued.
    Starting,
    /// Connected (and, for the subscriber, every topic subscribed).
    Up,
    /// Lost or never established; reconnecting with backoff. Publishes fail at once.
    Down,
}

/// Both connections' states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// The connection that receives: topics and this node's direct channel.
    pub subscriber: LinkState,
    /// The connection that publishes.
    pub publisher: LinkState,
}

impl Health {
    /// Both connections are up.
    pub fn is_up(&self) -> bool {
        self.subscriber == LinkState::Up && self.publisher == LinkState::Up
    }
}

/// Counters since the backend started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Envelopes Redis accepted from this node.
    pub published: u64,
    /// Publishes that did not reach Redis: down, queue full, over `max_message_bytes`,
    /// or the command failed.
    pub publish_failed: u64,
    /// Envelopes received from Redis (own echoes included).
    pub received: u64,
    /// Received messages handed to local subscribers (one per subscriber).
    pub delivered: u64,
    /// Envelopes dropped as malformed, too large or of an unknown version.
    pub malformed: u64,
    /// Messages dropped because the inbound queue was full.
    pub inbound_dropped: u64,
    /// Gaps raised, one per topic per event.
    pub gaps: u64,
    /// Times the subscriber connection came back after a loss.
    pub reconnects: u64,
}

/// The Redis backend: topics across every node connected to the same Redis.
///
/// Dropping it closes both connections. Start it inside a tokio runtime.
pub struct Redis {
    shared: Arc<Shared>,
    /// Dropped with the backend; its tasks see the channel close and stop.
    _stop: watch::Sender<()>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("node", &self.shared.config.node)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

// === impl Redis ===

/// Checks that `url` is a Redis URL this backend can use (`redis://`, `rediss://`,
/// `redis+unix://`), without connecting.
///
/// # Errors
/// [`Error::InvalidConfig`] saying what is wrong with it.
pub fn check_url(url: &str) -> Result<(), Error> {
    let invalid = |e: redis::RedisError| Error::InvalidConfig(e.to_string());
    match cluster::seeds(url) {
        Some(seeds) => redis::cluster::ClusterClient::new(seeds)
            .map(drop)
            .map_err(invalid),
        None => redis::Client::open(url).map(drop).map_err(invalid),
    }
}

impl Redis {
    /// Starts the backend: spawns the connections' tasks and returns at once, without
    /// waiting for Redis (see [`Redis::ready`]).
    pub fn start(config: RedisConfig) -> Result<Self, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        if config.node.is_empty() {
            return Err(Error::InvalidConfig("the node name is empty".to_owned()));
        }
        check_url(&config.url)?;
        let seeds = cluster::seeds(&config.url);
        let (outbound, outbound_rx) = mpsc::channel(config.publish_queue.max(1));
        let (inbound, inbound_rx) = mpsc::channel(config.inbound_queue.max(1));
        let (stop, stop_rx) = watch::channel(());
        let shared = Arc::new(Shared {
            channels: Channels::new(&config.prefix, &config.node),
            registry: Registry::default(),
            changes: Changes::default(),
            outbound,
            health: watch::Sender::new(Health {
                subscriber: LinkState::Starting,
                publisher: LinkState::Starting,
            }),
            check_publisher: Notify::new(),
            counters: Counters::default(),
            next_id: AtomicU64::new(1),
            overflowed: Mutex::default(),
            overflow: AtomicBool::new(false),
            config,
        });
        // Down until both connections are: a scrape before the first connect says so.
        metrics::gauge!("cinder_redis_up").set(0.0);
        let target = match seeds {
            Some(seeds) => {
                runtime.spawn(cluster::run(
                    shared.clone(),
                    seeds.clone(),
                    inbound,
                    Stop(stop_rx.clone()),
                ));
                publisher::Target::Cluster(seeds)
            }
            None => {
                let client = redis::Client::open(shared.config.url.as_str())
                    .map_err(|e| Error::InvalidConfig(e.to_string()))?;
                runtime.spawn(link::run(
                    shared.clone(),
                    client.clone(),
                    inbound,
                    Stop(stop_rx.clone()),
                ));
                publisher::Target::Single(client)
            }
        };
        runtime.spawn(dispatch::run(
            shared.clone(),
            inbound_rx,
            Stop(stop_rx.clone()),
        ));
        runtime.spawn(publisher::run(
            shared.clone(),
            target,
            outbound_rx,
            Stop(stop_rx),
        ));
        Ok(Redis {
            shared,
            _stop: stop,
        })
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.shared.config.node
    }

    /// The Redis channel `topic` travels on: where an outside service publishes.
    pub fn topic_channel(&self, topic: &str) -> String {
        self.shared.channels.topic(topic)
    }

    /// The Redis channel of `node`'s direct messages.
    pub fn node_channel(&self, node: &str) -> String {
        self.shared.channels.node(node)
    }

    /// Both connections' current states. The gauge `cinder_redis_up` follows it: 1
    /// while both are up, else 0.
    pub fn health(&self) -> Health {
        *self.shared.health.borrow()
    }

    /// Follows [`Redis::health`] as it changes.
    pub fn watch_health(&self) -> watch::Receiver<Health> {
        self.shared.health.subscribe()
    }

    /// Counters since the start.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// How many local subscribers `topic` has.
    pub fn subscribers(&self, topic: &str) -> usize {
        self.shared.registry.subscribers(topic)
    }

    /// How many topics have a subscriber on this node (each one a Redis `SUBSCRIBE`
    /// once the subscriber connection has caught up).
    pub fn topic_count(&self) -> usize {
        self.shared.registry.len()
    }

    /// Waits until both connections are up. Waits for ever if Redis never answers: put a
    /// timeout around it.
    pub async fn ready(&self) {
        let mut health = self.shared.health.subscribe();
        // The sender lives in `shared`, which outlives this borrow.
        let _ = health.wait_for(Health::is_up).await;
    }

    /// Waits until Redis has confirmed every subscribe and unsubscribe made so far, so that
    /// messages published from now on reach the topics subscribed so far.
    ///
    /// Fails with [`Error::Unavailable`] if the subscriber connection is down or goes down
    /// meanwhile.
    pub async fn flush(&self) -> Result<(), Error> {
        let target = self.shared.changes.requested.load(Ordering::SeqCst);
        let mut applied = self.shared.changes.applied.subscribe();
        let mut health = self.shared.health.subscribe();
        loop {
            if *applied.borrow_and_update() >= target {
                return Ok(());
            }
            if health.borrow_and_update().subscriber == LinkState::Down {
                return Err(Error::Unavailable);
            }
            tokio::select! {
                changed = applied.changed() => changed.map_err(|_| Error::Closed)?,
                changed = health.changed() => changed.map_err(|_| Error::Closed)?,
            }
        }
    }

    /// Sends `payload` to the subscribers of `topic` on `node` only, through that node's
    /// direct channel. Never blocks; `Ok` means queued for Redis (or, for this node,
    /// delivered).
    pub fn send_to(&self, node: &str, topic: &str, payload: Value) -> Result<(), Error> {
        if node == self.shared.config.node {
            self.shared.deliver(topic, payload);
            return Ok(());
        }
        let result =
            self.shared
                .forward(self.shared.channels.node(node), Some(topic), &payload, None);
        self.shared.count_failure(topic, &result);
        result
    }

    /// Publishes like [`PubSub::try_publish`], then waits for Redis to accept the message.
    /// Returns how many Redis subscriber connections received it (a node subscribed to
    /// the topic counts once).
    pub async fn publish_confirmed(&self, topic: &str, payload: Value) -> Result<usize, Error> {
        crate::count_publish();
        let (ack, confirmed) = oneshot::channel();
        let result =
            self.shared
                .forward(self.shared.channels.topic(topic), None, &payload, Some(ack));
        self.shared.count_failure(topic, &result);
        if !matches!(result, Err(Error::TooLarge { .. })) {
            self.shared.deliver(topic, payload);
        }
        result?;
        confirmed.await.map_err(|_| Error::Closed)?
    }
    /// Waits until every message published so far has reached Redis or failed. The
    /// publisher sends in order, so a marker queued now is confirmed after all of them;
    /// the marker goes to a channel no node subscribes to. A draining node calls this
    /// before it exits, so that its last messages (presence's graceful leave) are not
    /// lost with the process.
    pub async fn settled(&self) -> Result<(), Error> {
        let (ack, confirmed) = oneshot::channel();
        self.shared
            .forward(self.shared.channels.node(""), None, &Value::Null, Some(ack))?;
        confirmed.await.map_err(|_| Error::Closed)?.map(|_| ())
    }
}

impl PubSub for Redis {
    fn topic_count(&self) -> usize {
        Redis::topic_count(self)
    }

    fn subscribe(&self, topic: &str, sink: Sink) -> SubscriptionId {
        self.shared.subscribe(topic, sink, None)
    }

    fn subscribe_with_gaps(&self, topic: &str, sink: Sink, gaps: GapSink) -> SubscriptionId {
        self.shared.subscribe(topic, sink, Some(gaps))
    }

    fn unsubscribe(&self, topic: &str, id: SubscriptionId) {
        if self.shared.registry.unsubscribe(topic, id) {
            self.shared.changes.mark(Arc::from(topic));
        }
    }

    fn publish(&self, topic: &str, payload: Value) -> usize {
        self.publish_counted(topic, payload)
            .unwrap_or_else(|(delivered, _)| delivered)
    }

    fn try_publish(&self, topic: &str, payload: Value) -> Result<usize, Error> {
        self.publish_counted(topic, payload)
            .map_err(|(_, error)| error)
    }
}

impl Redis {
    /// Forwards to Redis, then delivers locally; on failure, also says how many local
    /// subscribers took the message.
    fn publish_counted(&self, topic: &str, payload: Value) -> Result<usize, (usize, Error)> {
        crate::count_publish();
        let result = self
            .shared
            .forward(self.shared.channels.topic(topic), None, &payload, None);
        self.shared.count_failure(topic, &result);
        // Every other node drops an envelope this large: so does this one, so that a
        // topic reads the same everywhere.
        if let Err(error @ Error::TooLarge { .. }) = result {
            return Err((0, error));
        }
        let delivered = self.shared.deliver(topic, payload);
        match result {
            Ok(()) => Ok(delivered),
            Err(error) => Err((delivered, error)),
        }
    }
}

/// State shared by the handle and its three tasks.
struct Shared {
    config: RedisConfig,
    channels: Channels,
    registry: Registry,
    changes: Changes,
    /// Towards the publisher task; bounded by `config.publish_queue`.
    outbound: mpsc::Sender<Outbound>,
    health: watch::Sender<Health>,
    /// Asks the publisher to probe its connection now: the subscriber connection was
    /// lost, and the publisher's idle connection has probably gone with it.
    check_publisher: Notify,
    counters: Counters,
    /// The `id` of this node's next envelope.
    next_id: AtomicU64,
    /// Topics that lost messages to a full inbound queue, not yet told; `overflow` says
    /// the set is non-empty without taking the lock on every message.
    overflowed: Mutex<HashSet<Arc<str>>>,
    overflow: AtomicBool,
}

/// A message on its way to the publisher task.
struct Outbound {
    channel: String,
    envelope: Vec<u8>,
    /// Told how many Redis subscribers received it, for [`Redis::publish_confirmed`].
    ack: Option<oneshot::Sender<Result<usize, Error>>>,
}

/// Topics whose subscriber set became empty or non-empty, for the subscriber task to turn
/// into `SUBSCRIBE`/`UNSUBSCRIBE`.
///
/// A change is recorded in this order: registry updated, topic added to `dirty`,
/// `requested` incremented. The subscriber task reads `requested`, then takes `dirty`,
/// then reads the registry; so once it has applied what it took, every change counted in
/// the `requested` it read is in Redis, and it publishes that number as `applied`.
struct Changes {
    dirty: Mutex<HashSet<Arc<str>>>,
    requested: AtomicU64,
    applied: watch::Sender<u64>,
    wake: Notify,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    publish_failed: AtomicU64,
    received: AtomicU64,
    delivered: AtomicU64,
    malformed: AtomicU64,
    inbound_dropped: AtomicU64,
    gaps: AtomicU64,
    reconnects: AtomicU64,
}

/// Resolves when the [`Redis`] handle is dropped.
#[derive(Clone)]
struct Stop(watch::Receiver<()>);

// === impl Shared ===

impl Shared {
    fn subscribe(&self, topic: &str, sink: Sink, gaps: Option<GapSink>) -> SubscriptionId {
        let (id, first) = self.registry.subscribe(topic, sink, gaps);
        if first {
            self.changes.mark(Arc::from(topic));
        }
        id
    }

    /// Hands a message to this node's subscribers of `topic`.
    fn deliver(&self, topic: &str, payload: Value) -> usize {
        let fanout = self.registry.deliver(topic, payload);
        if fanout.emptied {
            self.changes.mark(Arc::from(topic));
        }
        fanout.delivered
    }

    /// Tells this node's subscribers of `topic` about a gap.
    fn gap(&self, topic: &Arc<str>, cause: GapCause) {
        let fanout = self.registry.gap(topic, cause);
        self.counters.gaps.fetch_add(1, Ordering::Relaxed);
        if fanout.emptied {
            self.changes.mark(topic.clone());
        }
    }

    /// Queues an envelope for Redis without waiting.
    fn forward(
        &self,
        channel: String,
        topic: Option<&str>,
        payload: &Value,
        ack: Option<oneshot::Sender<Result<usize, Error>>>,
    ) -> Result<(), Error> {
        let envelope = Outgoing {
            from: &self.config.node,
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            topic,
            payload,
        }
        .encode();
        let limit = self.config.max_message_bytes;
        if envelope.len() > limit {
            return Err(Error::TooLarge {
                bytes: envelope.len(),
                limit,
            });
        }
        if self.health.borrow().publisher == LinkState::Down {
            return Err(Error::Unavailable);
        }
        let outbound = Outbound {
            channel,
            envelope,
            ack,
        };
        self.outbound.try_send(outbound).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::QueueFull,
            mpsc::error::TrySendError::Closed(_) => Error::Closed,
        })
    }

    /// Counts a forward that did not reach the publisher task (`Stats::publish_failed`,
    /// `cinder_pubsub_publish_failures_total`).
    fn count_failure(&self, topic: &str, result: &Result<(), Error>) {
        let Err(error) = result else {
            return;
        };
        self.counters.publish_failed.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cinder_pubsub_publish_failures_total").increment(1);
        if let Error::TooLarge { .. } = error {
            tracing::warn!(topic, %error, "publish refused");
        } else {
            tracing::debug!(topic, %error, "publish not forwarded to Redis");
        }
    }

    /// Changes the health, and `cinder_redis_up` with it (1 while both connections are
    /// up: a process holds one backend, so the gauge is unlabeled).
    fn set_health(&self, change: impl FnOnce(&mut Health)) {
        self.health.send_if_modified(|health| {
            let before = *health;
            change(health);
            // Set before the watchers wake, so that one who saw the change reads it.
            metrics::gauge!("cinder_redis_up").set(if health.is_up() { 1.0 } else { 0.0 });
            *health != before
        });
    }

    /// Remembers that a message for `topic` was dropped on receipt.
    fn overflowed(&self, topic: &str) {
        let mut overflowed = self
            .overflowed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !overflowed.contains(topic) {
            overflowed.insert(Arc::from(topic));
        }
        self.overflow.store(true, Ordering::Release);
    }

    /// Raises the gaps [`Shared::overflowed`] recorded.
    fn report_overflow(&self) {
        if !self.overflow.swap(false, Ordering::Acquire) {
            return;
        }
        let topics = std::mem::take(
            &mut *self
                .overflowed
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        tracing::warn!(
            topics = topics.len(),
            "the inbound queue was full: dropped messages, raising gaps"
        );
        for topic in &topics {
            self.gap(topic, GapCause::Overflow);
        }
    }
}

// === impl Changes ===

impl Default for Changes {
    fn default() -> Self {
        Changes {
            dirty: Mutex::default(),
            requested: AtomicU64::new(0),
            applied: watch::Sender::new(0),
            wake: Notify::new(),
        }
    }
}

impl Changes {
    /// Records that `topic` gained its first or lost its last subscriber.
    fn mark(&self, topic: Arc<str>) {
        self.dirty
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(topic);
        self.requested.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// The changes recorded since the last call.
    fn take(&self) -> HashSet<Arc<str>> {
        std::mem::take(&mut *self.dirty.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Says that every change counted up to `requested` is in Redis.
    fn applied(&self, requested: u64) {
        self.applied.send_if_modified(|applied| {
            let advanced = requested > *applied;
            if advanced {
                *applied = requested;
            }
            advanced
        });
    }
}

// === impl Counters ===

impl Counters {
    fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            published: get(&self.published),
            publish_failed: get(&self.publish_failed),
            received: get(&self.received),
            delivered: get(&self.delivered),
            malformed: get(&self.malformed),
            inbound_dropped: get(&self.inbound_dropped),
            gaps: get(&self.gaps),
            reconnects: get(&self.reconnects),
        }
    }
}

// === impl Stop ===

impl Stop {
    /// Resolves once the handle is dropped.
    async fn wait(&mut self) {
        // Nothing is ever sent: the only change is the sender going away.
        while self.0.changed().await.is_ok() {}
    }
}

/// Runs `future` for at most `limit`.
async fn within<T>(
    limit: Duration,
    what: &'static str,
    future: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, LinkError> {
    match tokio::time::timeout(limit, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(LinkError::Redis(what, error)),
        Err(_) => Err(LinkError::Timeout(what)),
    }
}

/// Why a connection was given up.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error("{0}: {1}")]
    Redis(&'static str, redis::RedisError),
    #[error("{0}: no answer in time")]
    Timeout(&'static str),
    #[error("the connection closed")]
    Closed,
    #[error("a Redis Cluster master's connection dropped")]
    NodeLost,
}

impl LinkError {
    /// The error a caller waiting on the failed command is given.
    fn to_error(&self) -> Error {
        match self {
            // A server error reply (`READONLY`, `NOAUTH`, …) has a code; I/O errors do not.
            LinkError::Redis(_, error) if error.code().is_some() => {
                Error::Rejected(error.to_string())
            }
            LinkError::Timeout(_) => Error::Timeout,
            LinkError::Redis(..) | LinkError::Closed | LinkError::NodeLost => Error::Unavailable,
        }
    }
}
