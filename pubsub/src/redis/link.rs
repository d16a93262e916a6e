//! The subscriber connection: keeps Redis subscribed to exactly the topics this node has
//! subscribers for, moves what arrives to the dispatch queue, and comes back after a loss.
//!
//! One task owns the connection. It works from the registry (the desired set) and the
//! changes recorded since it last looked (see `Changes`), so a burst of subscribes becomes
//! a few batched `SUBSCRIBE` commands and it never holds a command per subscriber. After a
//! loss it reconnects with backoff, subscribes the node's direct channel and then every
//! topic in batches (sent together), and only then raises a [`GapCause::Reconnected`] gap
//! on each of those topics: a subscriber that refetches on the gap cannot miss a message
//! published after its refetch.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::StreamExt as _;
use redis::Msg;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::channel::Route;
use super::{LinkError, LinkState, Shared, Stop, within};
use crate::GapCause;
use crate::backoff::Backoff;

/// Keeps the subscriber connection up until the backend stops.
pub(super) async fn run(
    shared: Arc<Shared>,
    client: redis::Client,
    inbound: mpsc::Sender<Msg>,
    stop: Stop,
) {
    let open = || Session::open(&shared, &client, &inbound);
    supervise(&shared, stop, "Redis subscriber connection", open).await;
}

/// An established subscriber session: a single Redis's connection, or a cluster's.
pub(super) trait Subscriber {
    /// The topics it subscribed when it opened; each gets a gap after a loss.
    fn subscribed(&self) -> &HashSet<Arc<str>>;

    /// Runs until it fails.
    fn serve(&mut self, shared: &Shared) -> impl Future<Output = LinkError>;
}

/// Opens subscriber sessions with `open` until the backend stops: health up while one
/// serves, a `reconnected` gap on every topic of each session after the first, and
/// backoff between attempts. `what` names the subscriber in the logs.
pub(super) async fn supervise<S: Subscriber, F: Future<Output = Result<S, LinkError>>>(
    shared: &Shared,
    mut stop: Stop,
    what: &'static str,
    mut open: impl FnMut() -> F,
) {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut was_up = false;
    let mut failures = 0u64;
    loop {
        let attempt = tokio::select! {
            biased;
            () = stop.wait() => return,
            attempt = open() => attempt,
        };
        match attempt {
            Ok(mut session) => {
                let since = Instant::now();
                shared.set_health(|h| h.subscriber = LinkState::Up);
                if was_up {
                    reconnected(shared, session.subscribed(), what);
                } else {
                    tracing::info!(node = %config.node, "{what} up");
                }
                was_up = true;
                failures = 0;
                let error = tokio::select! {
                    biased;
                    () = stop.wait() => return,
                    error = session.serve(shared) => error,
                };
                tracing::warn!(%error, "lost the {what}");
                if since.elapsed() >= backoff.max() {
                    backoff.reset();
                }
            }
            Err(error) if failures == 0 => {
                tracing::warn!(%error, "cannot open the {what}; retrying");
            }
            Err(error) => {
                tracing::debug!(%error, failures, "{what} still down");
            }
        }
        failures += 1;
        shared.set_health(|h| h.subscriber = LinkState::Down);
        shared.check_publisher.notify_one();
        tokio::select! {
            biased;
            () = stop.wait() => return,
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// Raises the gap for every topic subscribed again after a loss.
fn reconnected(shared: &Shared, topics: &HashSet<Arc<str>>, what: &str) {
    shared.counters.reconnects.fetch_add(1, Ordering::Relaxed);
    for topic in topics {
        shared.gap(topic, GapCause::Reconnected);
    }
    tracing::info!(
        topics = topics.len(),
        "{what} back; raised a gap on every topic"
    );
}

/// One established connection and what Redis has confirmed on it.
struct Session {
    sink: PubSubSink,
    stream: PubSubStream,
    /// Where received messages go: the dispatch queue.
    inbound: mpsc::Sender<Msg>,
    /// Topics Redis has confirmed as subscribed on this connection.
    subscribed: HashSet<Arc<str>>,
}

impl Session {
    /// Connects, then subscribes the direct channel and every topic with a subscriber.
    async fn open(
        shared: &Shared,
        client: &redis::Client,
        inbound: &mpsc::Sender<Msg>,
    ) -> Result<Self, LinkError> {
        let config = &shared.config;
        let pubsub = within(config.connect_timeout, "connect", client.get_async_pubsub()).await?;
        let (mut sink, stream) = pubsub.split();
        within(
            config.response_timeout,
            "SUBSCRIBE (direct channel)",
            sink.subscribe(shared.channels.own()),
        )
        .await?;

        let requested = shared.changes.requested.load(Ordering::SeqCst);
        // Everything recorded so far is in the snapshot below; later changes are marked
        // again and picked up by `sync`.
        shared.changes.take();
        let topics = shared.registry.topics();
        let started = Instant::now();
        let batches = topics.chunks(config.subscribe_batch.max(1)).map(|batch| {
            let mut sink = sink.clone();
            let channels: Vec<String> = batch.iter().map(|t| shared.channels.topic(t)).collect();
            async move { sink.subscribe(channels).await }
        });
        // All batches are in flight at once: resubscribing costs about one round trip,
        // not one per batch.
        within(
            config.response_timeout,
            "SUBSCRIBE (topics)",
            futures_util::future::try_join_all(batches),
        )
        .await?;
        shared.changes.applied(requested);
        if !topics.is_empty() {
            tracing::debug!(
                topics = topics.len(),
                elapsed_ms = started.elapsed().as_millis(),
                "subscribed every topic"
            );
        }
        Ok(Session {
            sink,
            stream,
            inbound: inbound.clone(),
            subscribed: topics.into_iter().collect(),
        })
    }

    /// Runs the connection until it fails.
    async fn run(&mut self, shared: &Shared) -> LinkError {
        let interval = shared.config.probe_interval;
        let mut probe = tokio::time::interval_at(Instant::now() + interval, interval);
        probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                message = self.stream.next() => match message {
                    Some(message) => {
                        forward(shared, &self.inbound, message);
                        Ok(())
                    }
                    None => Err(LinkError::Closed),
                },
                () = shared.changes.wake.notified() => self.sync(shared).await,
                _ = probe.tick() => within(
                    shared.config.response_timeout,
                    "PING",
                    self.sink.ping::<redis::Value>(),
                )
                .await
                .map(drop),
            };
            if let Err(error) = step {
                return error;
            }
        }
    }

    /// Subscribes topics that gained a first subscriber and unsubscribes those that lost
    /// their last, in batches.
    async fn sync(&mut self, shared: &Shared) -> Result<(), LinkError> {
        let config = &shared.config;
        let requested = shared.changes.requested.load(Ordering::SeqCst);
        let mut add = Vec::new();
        let mut remove = Vec::new();
        for topic in shared.changes.take() {
            match (
                shared.registry.contains(&topic),
                self.subscribed.contains(&topic),
            ) {
                (true, false) => add.push(topic),
                (false, true) => remove.push(topic),
                _ => {}
            }
        }
        for batch in add.chunks(config.subscribe_batch.max(1)) {
            let channels: Vec<String> = batch.iter().map(|t| shared.channels.topic(t)).collect();
            within(
                config.response_timeout,
                "SUBSCRIBE",
                self.sink.subscribe(channels),
            )
            .await?;
            self.subscribed.extend(batch.iter().cloned());
        }
        for batch in remove.chunks(config.subscribe_batch.max(1)) {
            let channels: Vec<String> = batch.iter().map(|t| shared.channels.topic(t)).collect();
            within(
                config.response_timeout,
                "UNSUBSCRIBE",
                self.sink.unsubscribe(channels),
            )
            .await?;
            for topic in batch {
                self.subscribed.remove(topic);
            }
        }
        if !add.is_empty() || !remove.is_empty() {
            tracing::debug!(
                subscribed = add.len(),
                unsubscribed = remove.len(),
                "synced subscriptions"
            );
        }
        shared.changes.applied(requested);
        Ok(())
    }
}

impl Subscriber for Session {
    fn subscribed(&self) -> &HashSet<Arc<str>> {
        &self.subscribed
    }

    fn serve(&mut self, shared: &Shared) -> impl Future<Output = LinkError> {
        self.run(shared)
    }
}

/// Moves a received message to the dispatch queue; when it is full, drops the message and
/// remembers its topic for an overflow gap.
pub(super) fn forward(shared: &Shared, inbound: &mpsc::Sender<Msg>, message: Msg) {
    match inbound.try_send(message) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(message)) => {
            shared
                .counters
                .inbound_dropped
                .fetch_add(1, Ordering::Relaxed);
            if let Some(Route::Topic(topic)) = shared.channels.route(message.get_channel_name()) {
                shared.overflowed(topic);
            }
        }
        // The dispatcher only stops with the backend.
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}
