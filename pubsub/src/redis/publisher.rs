//! The publishing connection: drains the bounded publish queue into pipelined `PUBLISH`es
//! (on a Redis Cluster, `SPUBLISH`es sent together, each to the master of its channel's
//! slot; redis-rs follows `MOVED`).
//!
//! Publishers never wait on it: they push into the queue or fail at once (see
//! `Shared::forward`). This task takes whatever is queued, up to [`BATCH`], sends it as one
//! pipeline and waits for the replies before the next, so one node's messages reach Redis
//! in publish order. While the connection is down the task fails whatever is still queued,
//! so the queue holds no stale messages when Redis returns.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::AsyncConnectionConfig;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::{LinkError, LinkState, Outbound, Shared, Stop, within};
use crate::Error;
use crate::backoff::Backoff;

/// Most messages in one pipeline.
const BATCH: usize = 256;

/// Where the publisher connects.
pub(super) enum Target {
    Single(redis::Client),
    /// A Redis Cluster's seed URLs.
    Cluster(Vec<String>),
}

/// An open publishing connection.
enum Connection {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl Target {
    async fn connect(&self, shared: &Shared) -> Result<Connection, LinkError> {
        let config = &shared.config;
        match self {
            Target::Single(client) => {
                let settings = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(config.connect_timeout))
                    .set_response_timeout(Some(config.response_timeout));
                within(
                    config.connect_timeout,
                    "connect",
                    client.get_multiplexed_async_connection_with_config(&settings),
                )
                .await
                .map(Connection::Single)
            }
            Target::Cluster(seeds) => {
                let client = ClusterClientBuilder::new(seeds.clone())
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(config.response_timeout)
                    .build()
                    .map_err(|e| LinkError::Redis("cluster client", e))?;
                within(
                    config.connect_timeout,
                    "connect",
                    client.get_async_connection(),
                )
                .await
                .map(Connection::Cluster)
            }
        }
    }
}

/// Keeps the publishing connection up until the backend stops.
pub(super) async fn run(
    shared: Arc<Shared>,
    target: Target,
    mut outbound: mpsc::Receiver<Outbound>,
    mut stop: Stop,
) {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut failures = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let attempt = tokio::select! {
            biased;
            () = stop.wait() => return,
            attempt = target.connect(&shared) => attempt,
        };
        match attempt {
            Ok(connection) => {
                let since = Instant::now();
                shared.set_health(|h| h.publisher = LinkState::Up);
                if failures > 0 {
                    tracing::info!("Redis publisher connection back");
                }
                failures = 0;
                let error = tokio::select! {
                    biased;
                    () = stop.wait() => return,
                    error = serve(&shared, connection, &mut outbound, &mut batch) => error,
                };
                tracing::warn!(%error, "lost the Redis publisher connection");
                if since.elapsed() >= backoff.max() {
                    backoff.reset();
                }
            }
            Err(error) if failures == 0 => {
                tracing::warn!(%error, "cannot open the Redis publisher connection; retrying");
            }
            Err(error) => {
                tracing::debug!(%error, failures, "Redis publisher connection still down");
            }
        }
        failures += 1;
        shared.set_health(|h| h.publisher = LinkState::Down);

        // Wait before the next attempt, failing whatever was queued before `Down` showed.
        let pause = tokio::time::sleep(backoff.next_delay());
        tokio::pin!(pause);
        loop {
            tokio::select! {
                biased;
                () = stop.wait() => return,
                () = &mut pause => break,
                taken = outbound.recv_many(&mut batch, BATCH) => {
                    if taken == 0 {
                        return;
                    }
                    fail(&shared, &mut batch, &Error::Unavailable);
                }
            }
        }
    }
}

/// Publishes until the connection fails.
async fn serve(
    shared: &Shared,
    mut connection: Connection,
    outbound: &mut mpsc::Receiver<Outbound>,
    batch: &mut Vec<Outbound>,
) -> LinkError {
    let interval = shared.config.probe_interval;
    let mut probe = tokio::time::interval_at(Instant::now() + interval, interval);
    probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut busy = false;
    loop {
        let step = tokio::select! {
            taken = outbound.recv_many(batch, BATCH) => {
                if taken == 0 {
                    return LinkError::Closed;
                }
                busy = true;
                publish(shared, &mut connection, batch).await
            }
            // A connection that carried traffic since the last tick has proved itself.
            _ = probe.tick() => if std::mem::take(&mut busy) {
                Ok(())
            } else {
                ping(shared, &mut connection).await
            },
            () = shared.check_publisher.notified() => ping(shared, &mut connection).await,
        };
        if let Err(error) = step {
            return error;
        }
    }
}

/// Sends `batch` (one pipeline on a single Redis; on a cluster, every `SPUBLISH` at
/// once, in order per master) and tells each message's waiter how it went.
async fn publish(
    shared: &Shared,
    connection: &mut Connection,
    batch: &mut Vec<Outbound>,
) -> Result<(), LinkError> {
    let limit = shared.config.response_timeout;
    let result = match connection {
        Connection::Single(connection) => {
            let mut pipeline = redis::pipe();
            for message in batch.iter() {
                pipeline
                    .cmd("PUBLISH")
                    .arg(&message.channel)
                    .arg(&message.envelope);
            }
            within(
                limit,
                "PUBLISH",
                pipeline.query_async::<Vec<usize>>(connection),
            )
            .await
        }
        Connection::Cluster(connection) => {
            let publishes = batch.iter().map(|message| {
                let mut connection = connection.clone();
                let command = redis::cmd("SPUBLISH")
                    .arg(&message.channel)
                    .arg(&message.envelope)
                    .clone();
                async move { command.query_async::<usize>(&mut connection).await }
            });
            within(
                limit,
                "SPUBLISH",
                futures_util::future::try_join_all(publishes),
            )
            .await
        }
    };
    match result {
        Ok(receivers) => {
            shared
                .counters
                .published
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            for (message, receivers) in batch.drain(..).zip(receivers) {
                if let Some(ack) = message.ack {
                    let _ = ack.send(Ok(receivers));
                }
            }
            Ok(())
        }
        Err(error) => {
            fail(shared, batch, &error.to_error());
            Err(error)
        }
    }
}

async fn ping(shared: &Shared, connection: &mut Connection) -> Result<(), LinkError> {
    let limit = shared.config.response_timeout;
    match connection {
        Connection::Single(connection) => ping_on(limit, connection).await,
        Connection::Cluster(connection) => ping_on(limit, connection).await,
    }
}

async fn ping_on(
    limit: std::time::Duration,
    connection: &mut impl ConnectionLike,
) -> Result<(), LinkError> {
    within(
        limit,
        "PING",
        redis::cmd("PING").query_async::<redis::Value>(connection),
    )
    .await
    .map(drop)
}

/// Counts the messages of `batch` as failed and tells their waiters.
fn fail(shared: &Shared, batch: &mut Vec<Outbound>, error: &Error) {
    shared
        .counters
        .publish_failed
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    tracing::debug!(
        messages = batch.len(),
        %error,
        "dropped queued publishes: Redis is down"
    );
    for message in batch.drain(..) {
        if let Some(ack) = message.ack {
            let _ = ack.send(Err(error.clone()));
        }
    }
}
