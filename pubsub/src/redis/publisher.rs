//! The publishing connection: drains the bounded publish queue into pipelined `PUBLISH`es.
//!
//! Publishers never wait on it: they push into the queue or fail at once (see
//! `Shared::forward`). This task takes whatever is queued, up to [`BATCH`], sends it as one
//! pipeline and waits for the replies before the next, so one node's messages reach Redis
//! in publish order. While the connection is down the task fails whatever is still queued,
//! so the queue holds no stale messages when Redis returns.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::{LinkError, LinkState, Outbound, Shared, Stop, within};
use crate::Error;
use crate::backoff::Backoff;

/// Most messages in one pipeline.
const BATCH: usize = 256;

/// Keeps the publishing connection up until the backend stops.
pub(super) async fn run(
    shared: Arc<Shared>,
    client: redis::Client,
    mut outbound: mpsc::Receiver<Outbound>,
    mut stop: Stop,
) {
    let config = &shared.config;
    let connection = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.response_timeout));
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut failures = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let attempt = tokio::select! {
            biased;
            () = stop.wait() => return,
            attempt = within(
                config.connect_timeout,
                "connect",
                client.get_multiplexed_async_connection_with_config(&connection),
            ) => attempt,
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
    mut connection: MultiplexedConnection,
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

/// Sends `batch` as one pipeline and tells each message's waiter how it went.
async fn publish(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    batch: &mut Vec<Outbound>,
) -> Result<(), LinkError> {
    let mut pipeline = redis::pipe();
    for message in batch.iter() {
        pipeline
            .cmd("PUBLISH")
            .arg(&message.channel)
            .arg(&message.envelope);
    }
    let result = within(
        shared.config.response_timeout,
        "PUBLISH",
        pipeline.query_async::<Vec<usize>>(connection),
    )
    .await;
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

async fn ping(shared: &Shared, connection: &mut MultiplexedConnection) -> Result<(), LinkError> {
    within(
        shared.config.response_timeout,
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
