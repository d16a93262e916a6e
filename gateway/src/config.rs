//! What a gateway is told at start: where to listen, which view-nodes to link to (a
//! static list, the Redis registry they register in, or both), the cluster secret, and
//! the per-connection limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::drain::Drain;

/// A gateway's configuration. [`Config::new`] fills every limit with its default.
///
/// Its `Debug` shows neither the secret nor the Redis URL (which may hold a password).
#[derive(Clone)]
pub struct Config {
    /// The address the HTTP/WebSocket listener binds (`127.0.0.1:0` in tests).
    pub listen: SocketAddr,
    /// View-nodes to link to, as `host:port`, besides the registered ones (every gateway
    /// must be given the same list so that placement agrees).
    pub view_nodes: Vec<String>,
    /// Where view-nodes register: links follow the registry's live members. `None`
    /// (the default): only `view_nodes`.
    pub membership: Option<Membership>,
    /// The cluster secret that signs CSRF tokens.
    pub secret: Vec<u8>,
    /// The CA certificate(s), PEM, that view-nodes' TLS certificates are checked against:
    /// when set, links and renders go over TLS (`https://host:port`; the certificate must
    /// name the host the node is dialled at). `None` (the default): plain HTTP/2, for
    /// nodes on the same host or a trusted network. Flag: `--link-tls-ca FILE`.
    pub link_tls_ca: Option<Vec<u8>>,
    /// The folder holding `app.js` and `node_modules/` (the repository's `client/`).
    pub assets: PathBuf,
    /// Origins allowed to open a socket besides the request's own host, as
    /// `scheme://host[:port]` (e.g. `https://app.example.com`).
    pub allowed_origins: Vec<String>,
    /// The largest client message accepted, in bytes; a larger one closes the socket with
    /// 1009. At most `cinder_proto::MAX_LINK_FRAME_BYTES` (a larger value is capped).
    pub max_frame_bytes: usize,
    /// Open WebSockets at most; the next upgrade is refused with 503. The OS limit on open
    /// files applies too: each socket holds one.
    pub max_connections: usize,
    /// Client messages per second a socket may sustain (token bucket refill rate; 0
    /// allows the burst and nothing more).
    pub rate_per_sec: u32,
    /// Client messages a socket may send in a burst (token bucket size).
    pub rate_burst: u32,
    /// Channels (joined `lv:` views and open `lvu:` upload channels) one socket may hold
    /// at once; a join past it gets the error reply `too_many_channels` and the socket
    /// goes on.
    pub max_channels: usize,
    /// The longest topic a join may name, in bytes; a longer one gets the error reply
    /// `invalid_topic`.
    pub max_topic_bytes: usize,
    /// Bytes of one socket's messages that may wait in link queues; past it the gateway
    /// stops reading that socket until they are sent (backpressure). A single message
    /// larger than this still goes when nothing else of the socket's is waiting.
    pub socket_up_bytes: usize,
    /// Bytes all sockets' messages may take in one view-node link's queue; past it each
    /// sender's next message waits until its own have left (one message per socket at
    /// most goes over).
    pub link_queue_bytes: usize,
    /// Bytes of view-node frames one socket may have waiting to be written; past it the
    /// socket is closed with 1013 (a client that does not read fast enough).
    pub outbox_bytes: usize,
    /// A socket that completes no frame (message, heartbeat or ping) for this long is
    /// closed with 1001 `idle timeout`, as Phoenix does after 60 s without a heartbeat.
    pub idle_timeout: Duration,
    /// How long writing one frame to a socket may take; past it the socket is dropped
    /// without a close frame (one could never get through) and its sessions end.
    pub write_timeout: Duration,
    /// TCP keepalive on WebSockets: idle time before the first probe (probes then every
    /// [`Config::KEEPALIVE_INTERVAL`]); `None` leaves the OS default (off).
    pub tcp_keepalive: Option<Duration>,
    /// The topics API's bearer token, checked by the gateway before a `POST
    /// /api/topics/…` body is read (the view-node checks it again). `None` (the
    /// default): every publish is answered 503 at once.
    pub api_token: Option<String>,
    /// Accepted TCP connections open at once, HTTP and WebSocket alike; past it a new
    /// connection is closed at once, unread. Keep it under the process's open-file
    /// limit, so the gateway never runs out of descriptors.
    pub max_tcp_connections: usize,
    /// Connections open at once from one client address (an IPv6 /64 counts as one);
    /// past it the address's new connections are closed at once. Behind a proxy every
    /// connection comes from the proxy: raise it.
    pub max_connections_per_address: usize,
    /// Dead renders (page GETs) per second one client address may sustain; past the
    /// burst they get 429.
    pub renders_per_sec: u32,
    /// Dead renders one client address may ask for at once.
    pub render_burst: u32,
    /// Take the client address of render limits from the last `X-Forwarded-For` entry:
    /// only for a gateway that only a trusted proxy reaches. Default off.
    pub trust_forwarded_for: bool,
    /// How long an HTTP connection may wait for a request's headers: the first
    /// request's, and the next one on a kept-alive connection (so the idle timeout too).
    pub header_timeout: Duration,
    /// How long a request body (a publish) may take to arrive in full; past it 408.
    pub body_timeout: Duration,
    /// What [`Gateway::serve_until_drained`](crate::Gateway::serve_until_drained) does
    /// once told to stop: its serve window, close window and deadline.
    pub drain: Drain,
    /// A view-node in this process, by the address it has in `view_nodes`, and its
    /// services (`cinder_view_node::Server::local`): its link and calls go through them,
    /// without the network. `None` (the default): every node is dialled.
    pub in_process: Option<(String, cinder_proto::NodeService)>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("view_nodes", &self.view_nodes)
            .field(
                "membership_prefix",
                &self.membership.as_ref().map(|m| &m.prefix),
            )
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Default largest client message: 1 MiB.
    pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;
    /// Default open WebSockets at most.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;
    /// Default sustained messages per second per socket.
    pub const DEFAULT_RATE_PER_SEC: u32 = 100;
    /// Default burst of messages per socket.
    pub const DEFAULT_RATE_BURST: u32 = 200;
    /// Default channels per socket: a page with its nested views and a few uploads of
    /// many entries stays far under it.
    pub const DEFAULT_MAX_CHANNELS: usize = 128;
    /// Default longest topic: view ids and upload refs are tens of bytes.
    pub const DEFAULT_MAX_TOPIC_BYTES: usize = 256;
    /// Default bytes of one socket's messages waiting in link queues: one largest message.
    pub const DEFAULT_SOCKET_UP_BYTES: usize = 1 << 20;
    /// Default bytes waiting in one link's queue.
    pub const DEFAULT_LINK_QUEUE_BYTES: usize = 64 << 20;
    /// Default bytes of frames waiting for one socket.
    pub const DEFAULT_OUTBOX_BYTES: usize = 8 << 20;
    /// Default idle timeout: Phoenix's 60 s (the client heartbeats every 30 s).
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default write timeout for one frame.
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(20);
    /// Default TCP keepalive idle time.
    pub const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);
    /// Time between TCP keepalive probes once they start.
    pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
    /// Default accepted TCP connections at most: the sockets and room for page loads.
    pub const DEFAULT_MAX_TCP_CONNECTIONS: usize = 110_000;
    /// Default connections per client address.
    pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 512;
    /// Default sustained dead renders per second per client address.
    pub const DEFAULT_RENDERS_PER_SEC: u32 = 20;
    /// Default burst of dead renders per client address.
    pub const DEFAULT_RENDER_BURST: u32 = 100;
    /// Default time for a request's headers, and idle time between requests.
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default time for a whole request body.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

    /// A configuration with the default assets folder (`./client`), no extra origins and
    /// the default limits.
    pub fn new(listen: SocketAddr, view_nodes: Vec<String>, secret: impl Into<Vec<u8>>) -> Self {
        Self {
            listen,
            view_nodes,
            membership: None,
            secret: secret.into(),
            link_tls_ca: None,
            assets: PathBuf::from("client"),
            allowed_origins: Vec::new(),
            max_frame_bytes: Self::DEFAULT_MAX_FRAME_BYTES,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            rate_per_sec: Self::DEFAULT_RATE_PER_SEC,
            rate_burst: Self::DEFAULT_RATE_BURST,
            max_channels: Self::DEFAULT_MAX_CHANNELS,
            max_topic_bytes: Self::DEFAULT_MAX_TOPIC_BYTES,
            socket_up_bytes: Self::DEFAULT_SOCKET_UP_BYTES,
            link_queue_bytes: Self::DEFAULT_LINK_QUEUE_BYTES,
            outbox_bytes: Self::DEFAULT_OUTBOX_BYTES,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            write_timeout: Self::DEFAULT_WRITE_TIMEOUT,
            tcp_keepalive: Some(Self::DEFAULT_TCP_KEEPALIVE),
            api_token: None,
            max_tcp_connections: Self::DEFAULT_MAX_TCP_CONNECTIONS,
            max_connections_per_address: Self::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            renders_per_sec: Self::DEFAULT_RENDERS_PER_SEC,
            render_burst: Self::DEFAULT_RENDER_BURST,
            trust_forwarded_for: false,
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            drain: Drain::default(),
            in_process: None,
        }
    }
}

/// The Redis registry view-nodes register in (see `cinder_pubsub::membership`).
/// [`Membership::new`] fills the prefix and the poll interval with their defaults.
#[derive(Clone, Debug)]
pub struct Membership {
    /// `redis://[user:password@]host:port[/db]`.
    pub redis_url: String,
    /// The cluster's key prefix: members are read from `<prefix>:members`. Default
    /// `cinder`, as the view-nodes and the pubsub use.
    pub prefix: String,
    /// How often the member set is read: a node that registers or leaves is followed
    /// within this long. Default 1 s.
    pub poll_interval: Duration,
}

impl Membership {
    /// Default time between reads of the member set.
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

    /// The registry in the Redis at `redis_url`, with the default prefix and interval.
    pub fn new(redis_url: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            prefix: cinder_pubsub::membership::DEFAULT_PREFIX.to_owned(),
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_neither_the_secret_nor_the_redis_password() {
        let mut config = Config::new(
            "127.0.0.1:0".parse().unwrap(),
            vec![],
            b"the secret of thirty-two bytes..".to_vec(),
        );
        config.membership = Some(Membership::new("redis://cinder:hunter2@redis:6379"));
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("thirty-two"),
            "{shown}"
        );
        assert!(!shown.contains("116, 104, 101"), "{shown}");
    }
}
