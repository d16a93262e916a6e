//! How a view-node joins the others: the pubsub, presence and membership it runs with.
//!
//! Without Redis (embedded mode, or a lone view-node) topics and presence stay in the
//! process. With `--redis`, topics go through Redis, presence replicates over them, and
//! the node registers itself so that gateways started with `--redis` find it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use cinder_presence::{Config as PresenceConfig, Tracker, TrackerOptions};
use cinder_pubsub::membership::Registration;
use cinder_pubsub::{Local, PubSub, Redis, RedisConfig};
use tokio::sync::watch;
use tracing::warn;

/// The longest wait between two attempts to reach Redis again.
const RECONNECT_MAX: Duration = Duration::from_secs(1);

/// How long a registration outlives its node's last heartbeat.
const MEMBER_TTL: Duration = Duration::from_secs(3);
/// How long a drain waits for its last Redis messages to be sent.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);
/// What a drain waits past one presence broadcast period before its presence leave.
const MOVED_PRESENCE_MARGIN: Duration = Duration::from_millis(500);

/// How a view-node runs: its place in the cluster, its limits, its admin port.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// `redis://host:port`; `None` keeps topics and presence in the process.
    pub redis: Option<String>,
    /// This node's name: unique in the cluster, stable across restarts. Defaults to the
    /// address it advertises.
    pub name: Option<String>,
    /// The `host:port` gateways dial; defaults to the address the node listens on.
    pub advertise: Option<String>,
    /// Presence timing; Phoenix's defaults when `None`.
    pub presence: Option<PresenceConfig>,
    /// The bearer token of the topics API for outside services; closed when `None`.
    pub api_token: Option<String>,
    /// The certificate chain and key to serve links over TLS with (`--tls-cert`,
    /// `--tls-key`); plain HTTP/2 when `None`.
    pub tls: Option<tonic::transport::Identity>,
    /// Sessions the node hosts at most; joins past it are refused `overloaded`.
    /// [`crate::DEFAULT_MAX_SESSIONS`] when `None`.
    pub max_sessions: Option<u64>,
    /// The HTTP port for `/healthz`, `/readyz` and `/metrics`; none when `None`.
    pub admin_listen: Option<std::net::SocketAddr>,
    /// The longest a drain waits for the links to close; 10 s when `None`.
    pub drain_timeout: Option<Duration>,
    /// How long a parked session waits for its client, and how many the node keeps
    /// (`Router::park`); the router's defaults (30 s, 10,000) when `None`.
    pub park: Option<(Duration, usize)>,
}

/// The running pubsub, tracker and registration of one node.
pub struct Cluster {
    /// Topics for the views.
    pub pubsub: Arc<dyn PubSub>,
    /// Presence for the views.
    pub tracker: Tracker,
    /// Whether the node reaches the cluster's Redis (always, without one).
    pub up: watch::Receiver<bool>,
    registration: Option<Registration>,
    /// How often presence replicates: the wait before a drain's presence leave.
    broadcast_period_ms: u64,
    /// The Redis backend, when there is one: a drain waits for its last messages.
    redis: Option<Arc<Redis>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("registered", &self.registration.is_some())
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Topics and presence inside this process only.
    pub fn local(name: &str, presence: Option<PresenceConfig>) -> anyhow::Result<Self> {
        let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
        let mut options = TrackerOptions::new(name);
        options.config = presence.unwrap_or_default();
        let broadcast_period_ms = options.config.broadcast_period_ms;
        let tracker = Tracker::start(pubsub.clone(), options).context("starting presence")?;
        let (_, up) = watch::channel(true);
        Ok(Cluster {
            pubsub,
            tracker,
            up,
            registration: None,
            broadcast_period_ms,
            redis: None,
        })
    }

    /// Joins the cluster as the view-node listening on `listen`; its membership is signed
    /// with the cluster `secret`.
    pub fn join(options: &NodeOptions, listen: &str, secret: &[u8]) -> anyhow::Result<Self> {
        let advertise = options.advertise.as_deref().unwrap_or(listen);
        let name = options.name.as_deref().unwrap_or(advertise);
        let Some(url) = &options.redis else {
            return Self::local(name, options.presence.clone());
        };
        let mut config = RedisConfig::new(url.as_str(), name);
        // A node cut off from Redis is cut off from presence and topics: retry every
        // second at worst, so a healed partition heals within about a second.
        config.backoff_max = RECONNECT_MAX;
        let redis = Arc::new(Redis::start(config).context("starting the Redis pubsub")?);
        let mut presence = TrackerOptions::new(name);
        presence.config = options.presence.clone().unwrap_or_default();
        let up = link_state(&redis);
        presence.link = Some(up.clone());
        let pubsub: Arc<dyn PubSub> = redis.clone();
        let broadcast_period_ms = presence.config.broadcast_period_ms;
        let tracker = Tracker::start(pubsub.clone(), presence).context("starting presence")?;
        let registration = Registration::start(url, "cinder", name, advertise, MEMBER_TTL, secret)
            .context("registering the node")?;
        Ok(Cluster {
            pubsub,
            tracker,
            up,
            registration: Some(registration),
            broadcast_period_ms,
            redis: Some(redis),
        })
    }

    /// The drain's first step: leaves the member set, so gateways stop placing joins
    /// here.
    pub async fn leave_members(&mut self) {
        if let Some(registration) = self.registration.take()
            && let Err(err) = registration.leave().await
        {
            warn!(%err, "leaving the member set");
        }
    }

    /// The drain's last step, once the sessions are gone: leaves the member set if still
    /// in it, and presence (peers drop this node's presences now instead of after the
    /// down period). With Redis, it first waits for the presences of sessions that moved
    /// away to reach the peers from their new nodes (one broadcast period), so that no
    /// peer sees them leave and join again.
    pub async fn leave(mut self) {
        self.leave_members().await;
        if self.redis.is_some() {
            let period = Duration::from_millis(self.broadcast_period_ms);
            tokio::time::sleep(period + MOVED_PRESENCE_MARGIN).await;
        }
        self.tracker.leave().await;
        // The graceful leave is queued for Redis: the process must not exit before it
        // is sent (bounded, as Redis may be gone).
        if let Some(redis) = &self.redis {
            match tokio::time::timeout(SETTLE_TIMEOUT, redis.settled()).await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => warn!(%err, "the last presence messages did not reach Redis"),
                Err(_) => warn!("the last presence messages took over {SETTLE_TIMEOUT:?}"),
            }
        }
    }
}

/// Whether the node's Redis connections are up, as the tracker wants it.
fn link_state(redis: &Redis) -> watch::Receiver<bool> {
    let mut health = redis.watch_health();
    let (tx, rx) = watch::channel(health.borrow().is_up());
    tokio::spawn(async move {
        while health.changed().await.is_ok() {
            let up = health.borrow_and_update().is_up();
            tx.send_if_modified(|state| std::mem::replace(state, up) != up);
            if tx.is_closed() {
                break;
            }
        }
    });
    rx
}
