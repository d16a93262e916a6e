//! Cluster membership in Redis: view-nodes register under a TTL, gateways watch who is
//! live.
//!
//! - [`Registration`] (`registration`) — keeps one node registered:
//!   `SET <prefix>:member:<name> <addr> PX <ttl>` and `SADD <prefix>:members <name>`,
//!   every `ttl / 3`; [`Registration::leave`] removes both at once (a drain).
//! - [`Members`] (`members`) — reads the set every poll interval (`SMEMBERS`, then `MGET`
//!   of the members' keys) and publishes the live members, name → address.
//! - [`MemberKey`] (`signature`) — what a registration signs its address with, and a
//!   watcher checks: a member that is not signed with the cluster secret is ignored
//!   (logged and counted in `cinder_membership_rejected_total`), so a Redis client
//!   without the secret cannot add a view-node for gateways to send users to.
//!
//! A node is live while its key exists: a killed node drops out `ttl` after its last
//! heartbeat, a draining node at once. The set `<prefix>:members` only says which keys to
//! look for; a watcher removes (`SREM`) the names whose key has expired.
//!
//! # Redis outages
//!
//! Both sides keep going through an outage and agree on how fast they recover. A
//! registration retries a failed heartbeat after [`RETRY_MIN`], doubling (with jitter) up to
//! [`RETRY_MAX`] (or its heartbeat period, if shorter), so once Redis answers again — even
//! a Redis restarted empty — every live node is registered again within about
//! [`RETRY_MAX`]. A watcher keeps its last set while Redis does not answer, and after
//! Redis comes back it keeps members missing from its reads for [`RECONNECT_GRACE`]
//! (twice [`RETRY_MAX`]) before believing they are gone: a Redis blip never empties a
//! gateway's node list.
//!
//! The keys are documented for operators in the crate's `docs/redis.md` (Membership).

mod members;
mod registration;
mod signature;

use std::time::Duration;

use redis::FromRedisValue;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

use crate::Error;

pub use self::members::Members;
pub use self::registration::Registration;
pub use self::signature::{MemberKey, SIGNATURE_SKEW};

/// The key prefix a cluster uses unless told otherwise; the Redis backend's default too.
pub const DEFAULT_PREFIX: &str = "cinder";

/// First wait before a registration retries a failed heartbeat.
pub const RETRY_MIN: Duration = Duration::from_millis(50);

/// Longest wait between a registration's retries.
pub const RETRY_MAX: Duration = Duration::from_secs(1);

/// How long a watcher that reconnected keeps members its reads no longer show.
pub const RECONNECT_GRACE: Duration = Duration::from_secs(2);

/// The most names a watcher reads from the member set: a larger set (written by
/// something other than view-nodes) is not read at all: the read fails with
/// [`Error::TooManyMembers`] (a warning, and health `Down`) and the last set read is kept,
/// so one poll's `MGET` and memory stay bounded.
pub const MAX_MEMBERS: usize = 4096;

/// Longest wait for a connection, or for the reply to one round trip.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The key names under one prefix.
#[derive(Debug, Clone)]
struct Keys {
    /// `<prefix>:members`: the set of member names.
    members: String,
    /// `<prefix>:member:`, followed by a name: that member's address, with the TTL.
    member: String,
}

impl Keys {
    /// The keys under `prefix`. On a Redis Cluster the prefix is a hash tag
    /// (`{cinder}:members`, `{cinder}:member:<name>`), so that every membership key is in
    /// one slot and the set's `MGET` and the pipelines stay single-slot. Membership is
    /// a few keys read about once a second per gateway: one shard carries it easily.
    fn new(prefix: &str, url: &str) -> Self {
        let prefix = match crate::redis::cluster::seeds(url) {
            Some(_) => format!("{{{prefix}}}"),
            None => prefix.to_owned(),
        };
        Keys {
            members: format!("{prefix}:members"),
            member: format!("{prefix}:member:"),
        }
    }

    /// The key holding `name`'s address.
    fn member(&self, name: &str) -> String {
        format!("{}{name}", self.member)
    }
}

/// A connection opened on first use and dropped after any failure, so that the next
/// use reconnects.
enum Connection {
    Single {
        client: redis::Client,
        open: Option<MultiplexedConnection>,
    },
    Cluster {
        client: ClusterClient,
        open: Option<ClusterConnection>,
    },
}

impl Connection {
    /// Checks the URL (a Redis Cluster's seed list too) and the runtime; connects
    /// nothing yet.
    fn new(url: &str) -> Result<Self, Error> {
        tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let invalid = |e: redis::RedisError| Error::InvalidConfig(e.to_string());
        Ok(match crate::redis::cluster::seeds(url) {
            Some(seeds) => Connection::Cluster {
                client: ClusterClient::new(seeds).map_err(invalid)?,
                open: None,
            },
            None => Connection::Single {
                client: redis::Client::open(url).map_err(invalid)?,
                open: None,
            },
        })
    }

    /// Runs `pipeline` (one round trip), connecting first if needed.
    async fn query<T: FromRedisValue>(&mut self, pipeline: &redis::Pipeline) -> Result<T, Error> {
        match self {
            Connection::Single { client, open } => {
                let connect = async { within(client.get_multiplexed_async_connection()).await };
                query_on(open, connect, pipeline).await
            }
            Connection::Cluster { client, open } => {
                let connect = async { within(client.get_async_connection()).await };
                query_on(open, connect, pipeline).await
            }
        }
    }
}

/// Runs `pipeline` on `open`, connecting it first with `connect` if needed; a failure
/// drops the connection.
async fn query_on<C: ConnectionLike, T: FromRedisValue>(
    open: &mut Option<C>,
    connect: impl Future<Output = Result<C, Error>>,
    pipeline: &redis::Pipeline,
) -> Result<T, Error> {
    let connection = match open {
        Some(connection) => connection,
        None => open.insert(connect.await?),
    };
    let result = within(pipeline.query_async(connection)).await;
    if result.is_err() {
        *open = None;
    }
    result
}

/// Runs `future` for at most [`TIMEOUT`], mapping what failed to the crate's [`Error`].
async fn within<T>(future: impl Future<Output = redis::RedisResult<T>>) -> Result<T, Error> {
    match tokio::time::timeout(TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        // A server error reply (`READONLY`, `NOAUTH`, …) has a code; I/O errors do not.
        Ok(Err(error)) if error.code().is_some() => Err(Error::Rejected(error.to_string())),
        Ok(Err(error)) => {
            tracing::debug!(%error, "membership command failed");
            Err(Error::Unavailable)
        }
        Err(_) => Err(Error::Timeout),
    }
}

/// Refuses an empty cluster secret, with which anyone could sign a member.
fn secret(secret: &[u8]) -> Result<(), Error> {
    if secret.is_empty() {
        return Err(Error::InvalidConfig(
            "the cluster secret members are signed with is empty".to_owned(),
        ));
    }
    Ok(())
}

/// Refuses an empty `what`.
fn non_empty(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidConfig(format!("the member {what} is empty")));
    }
    Ok(())
}
