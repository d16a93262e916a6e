//! One node's registration: the heartbeat task, and the drain that removes the member.

use std::time::Duration;

use tokio::sync::oneshot;

use super::signature::unix_now_ms;
use super::{Connection, Keys, MemberKey, RETRY_MAX, RETRY_MIN, non_empty};
use crate::Error;
use crate::backoff::Backoff;

/// Where [`Registration::leave`] waits for the removal's outcome.
type Leave = oneshot::Sender<Result<(), Error>>;

/// Keeps this node registered as a cluster member, from a background task.
///
/// Dropping it without [`Registration::leave`] stops the heartbeat: the member's key
/// expires `ttl` later, as a killed node's would.
#[derive(Debug)]
pub struct Registration {
    name: String,
    /// Asks the task to remove the member and stop. Dropped unsent, it stops the task and
    /// leaves the key to expire.
    leave: oneshot::Sender<Leave>,
}

// === impl Registration ===

impl Registration {
    /// Registers `name` (unique in the cluster, stable across restarts) at `addr` (the
    /// `host:port` gateways dial) in the Redis at `url`, under `prefix` (usually
    /// [`DEFAULT_PREFIX`](super::DEFAULT_PREFIX)), signed with the cluster `secret`
    /// (see [`MemberKey`]).
    ///
    /// Returns at once; a task then runs `SET <prefix>:member:<name> <signed addr> PX
    /// <ttl>` and `SADD <prefix>:members <name>` now and every `ttl / 3`. While Redis does not answer
    /// it logs and retries (see the [module doc](super)), and registers again once Redis
    /// is back. Start it inside a tokio runtime.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid URL, an empty name, address or secret, or
    /// a `ttl` under a millisecond; [`Error::NoRuntime`] outside a tokio runtime.
    pub fn start(
        url: &str,
        prefix: &str,
        name: &str,
        addr: &str,
        ttl: Duration,
        secret: &[u8],
    ) -> Result<Registration, Error> {
        non_empty("name", name)?;
        non_empty("address", addr)?;
        super::secret(secret)?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ttl_ms == 0 {
            return Err(Error::InvalidConfig(
                "the member TTL is under a millisecond".to_owned(),
            ));
        }
        let connection = Connection::new(url)?;
        let keys = Keys::new(prefix, url);
        let heartbeat = Signed {
            key: MemberKey::derive(secret),
            prefix: prefix.to_owned(),
            name: name.to_owned(),
            addr: addr.to_owned(),
            keys: keys.clone(),
            ttl_ms,
        };
        let mut removal = redis::pipe();
        removal
            .cmd("DEL")
            .arg(keys.member(name))
            .ignore()
            .cmd("SREM")
            .arg(&keys.members)
            .arg(name)
            .ignore();
        let (leave, left) = oneshot::channel();
        let task = Heartbeat {
            connection,
            name: name.to_owned(),
            heartbeat,
            removal,
            period: (ttl / 3).max(Duration::from_millis(1)),
        };
        tokio::spawn(task.run(left));
        Ok(Registration {
            name: name.to_owned(),
            leave,
        })
    }

    /// This member's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drains: stops the heartbeat and removes the member now (`DEL` + `SREM`), so that
    /// gateways stop placing new sessions here at their next poll.
    ///
    /// A heartbeat already sent completes first, so it cannot register the member again
    /// after the removal.
    ///
    /// # Errors
    /// What the removal failed with ([`Error::Unavailable`], [`Error::Timeout`],
    /// [`Error::Rejected`]); the heartbeat has stopped all the same, so the member
    /// expires after its TTL. [`Error::Closed`] if the runtime is shutting down.
    pub async fn leave(self) -> Result<(), Error> {
        let (reply, outcome) = oneshot::channel();
        self.leave.send(reply).map_err(|_| Error::Closed)?;
        outcome.await.map_err(|_| Error::Closed)?
    }
}

/// The task behind a [`Registration`].
struct Heartbeat {
    connection: Connection,
    name: String,
    /// Makes each heartbeat's `SET … PX` and `SADD`, signed afresh.
    heartbeat: Signed,
    /// `DEL` and `SREM`, in one round trip.
    removal: redis::Pipeline,
    /// Time between heartbeats: a third of the TTL, so that two can be lost.
    period: Duration,
}

impl Heartbeat {
    /// Renews the member until asked to leave, or until the [`Registration`] is dropped.
    async fn run(mut self, mut leave: oneshot::Receiver<Leave>) {
        let longest_retry = RETRY_MAX.min(self.period);
        let mut retry = Backoff::new(RETRY_MIN.min(longest_retry), longest_retry);
        let mut failures = 0u64;
        loop {
            // Not raced against `leave`: a heartbeat in flight finishes before a removal.
            let heartbeat = self.heartbeat.pipeline();
            let wait = match self.connection.query::<()>(&heartbeat).await {
                Ok(()) => {
                    if failures > 0 {
                        tracing::info!(member = %self.name, failures, "registered again");
                    } else {
                        tracing::trace!(member = %self.name, "membership renewed");
                    }
                    failures = 0;
                    retry.reset();
                    self.period
                }
                Err(error) => {
                    if failures == 0 {
                        tracing::warn!(member = %self.name, %error, "cannot renew the membership; retrying");
                    } else {
                        tracing::debug!(member = %self.name, %error, failures, "membership still not renewed");
                    }
                    failures += 1;
                    retry.next_delay()
                }
            };
            tokio::select! {
                biased;
                asked = &mut leave => {
                    if let Ok(reply) = asked {
                        let _ = reply.send(self.remove().await);
                    } else {
                        tracing::info!(member = %self.name, "registration dropped; the member expires after its TTL");
                    }
                    return;
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn remove(&mut self) -> Result<(), Error> {
        let result = self.connection.query::<()>(&self.removal).await;
        match &result {
            Ok(()) => tracing::info!(member = %self.name, "left the cluster"),
            Err(error) => {
                tracing::warn!(member = %self.name, %error, "cannot remove the member; it expires after its TTL");
            }
        }
        result
    }
}

/// One member's heartbeat: its signed value, renewed with an expiry a TTL ahead.
struct Signed {
    key: MemberKey,
    prefix: String,
    name: String,
    addr: String,
    keys: Keys,
    ttl_ms: u64,
}

impl Signed {
    /// `SET <prefix>:member:<name> <signed addr> PX <ttl>` and `SADD`, in one round trip.
    fn pipeline(&self) -> redis::Pipeline {
        let expires = unix_now_ms().saturating_add(self.ttl_ms);
        let value = self.key.sign(&self.prefix, &self.name, &self.addr, expires);
        let mut heartbeat = redis::pipe();
        heartbeat
            .cmd("SET")
            .arg(self.keys.member(&self.name))
            .arg(value)
            .arg("PX")
            .arg(self.ttl_ms)
            .ignore()
            .cmd("SADD")
            .arg(&self.keys.members)
            .arg(&self.name)
            .ignore();
        heartbeat
    }
}
