//! `cinder-gateway`: reads its flags, installs logging, and runs the gateway until
//! SIGINT or SIGTERM (then it stops accepting, drops its links and flushes its traces).
//!
//! ```text
//! cinder-gateway --listen 127.0.0.1:4000 [--view-node 127.0.0.1:7100 …] [--redis URL]
//!                [--secret-env CINDER_SECRET] [--link-tls-ca FILE] [--assets ./client]
//!                [--allowed-origin URL …]
//!                [--rate-per-sec N] [--api-token-env CINDER_API_TOKEN]
//!                [--max-tcp-connections N] [--max-connections-per-address N]
//!                [--renders-per-sec N] [--render-burst N] [--trust-forwarded-for]
//!                [--header-timeout-ms N] [--body-timeout-ms N]
//! ```
//!
//! At least one `--view-node` or `--redis` is needed. `--redis redis://host:port` follows
//! the view-nodes registered in that Redis (prefix `cinder`, read every second); static
//! `--view-node`s are linked to besides them.
//!
//! The secret (at least 32 bytes) is the cluster's: the gateway presents a token derived
//! from it on every call to a view-node. `--link-tls-ca FILE` (PEM) dials the view-nodes
//! over TLS, trusting that CA, for nodes on other hosts (started with `--tls-cert` and
//! `--tls-key`).
//!
//! `--rate-per-sec` sets the inbound message rate allowed per connection (burst twice
//! that); the default suits browsers, a load tester pushing 1,000 events/s raises it.
//!
//! The variable `--api-token-env` names (default `CINDER_API_TOKEN`) holds the topics
//! API's token: with it set, `POST /api/topics/…` is checked here before its body is
//! read; without it, refused with 503. `--max-tcp-connections` caps accepted
//! connections (HTTP and WebSocket), `--max-connections-per-address` those of one
//! client address, `--renders-per-sec`/`--render-burst` the page loads of one address;
//! `--trust-forwarded-for` takes that address from `X-Forwarded-For` (only behind a
//! proxy that sets it). `--header-timeout-ms` bounds the wait for a request's headers
//! (and idle keep-alive), `--body-timeout-ms` a publish body's arrival.
//!
//! The socket limits: `--max-channels N` (joined views and upload channels per socket),
//! `--max-topic-bytes N`, `--idle-timeout-ms N` (no frame for that long closes a socket),
//! `--write-timeout-ms N` (a frame the client does not take in that time drops it),
//! `--tcp-keepalive-secs N` (0: off), `--socket-up-bytes N` (one socket's bytes waiting in
//! link queues before it is read no further), `--link-queue-bytes N` (one link's queue),
//! `--outbox-bytes N` (frames waiting for one socket before it is closed).
//!
//! Prints exactly one line to stdout once listening: `gateway listening on http://<addr>`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use cinder_gateway::{Config, Membership};

const USAGE: &str = "usage: cinder-gateway --listen ADDR [--view-node HOST:PORT …] [--redis URL] \
[--secret-env NAME] [--link-tls-ca FILE] [--assets DIR] [--allowed-origin URL …] [--rate-per-sec N] \
[--api-token-env NAME] [--max-tcp-connections N] [--max-connections-per-address N] \
[--renders-per-sec N] [--render-burst N] [--trust-forwarded-for] [--header-timeout-ms N] \
[--body-timeout-ms N] [--max-channels N] [--max-topic-bytes N] [--idle-timeout-ms N] \
[--write-timeout-ms N] [--tcp-keepalive-secs N] [--socket-up-bytes N] [--link-queue-bytes N] \
[--outbox-bytes N]";

struct Flags {
    listen: SocketAddr,
    view_nodes: Vec<String>,
    redis: Option<String>,
    secret_env: String,
    link_tls_ca: Option<PathBuf>,
    assets: PathBuf,
    allowed_origins: Vec<String>,
    rate_per_sec: Option<u32>,
    http: HttpFlags,
    socket: SocketFlags,
}

/// The WebSocket limits' flags; unset ones keep the config's defaults.
#[derive(Default)]
struct SocketFlags {
    max_channels: Option<usize>,
    max_topic_bytes: Option<usize>,
    idle_timeout_ms: Option<u64>,
    write_timeout_ms: Option<u64>,
    tcp_keepalive_secs: Option<u64>,
    socket_up_bytes: Option<usize>,
    link_queue_bytes: Option<usize>,
    outbox_bytes: Option<usize>,
}

impl SocketFlags {
    /// Takes `flag` with `value` if it is one of these; false otherwise.
    fn take(&mut self, flag: &str, value: &str) -> anyhow::Result<bool> {
        match flag {
            "--max-channels" => self.max_channels = Some(number(flag, value)?),
            "--max-topic-bytes" => self.max_topic_bytes = Some(number(flag, value)?),
            "--idle-timeout-ms" => self.idle_timeout_ms = Some(number(flag, value)?),
            "--write-timeout-ms" => self.write_timeout_ms = Some(number(flag, value)?),
            "--tcp-keepalive-secs" => self.tcp_keepalive_secs = Some(number(flag, value)?),
            "--socket-up-bytes" => self.socket_up_bytes = Some(number(flag, value)?),
            "--link-queue-bytes" => self.link_queue_bytes = Some(number(flag, value)?),
            "--outbox-bytes" => self.outbox_bytes = Some(number(flag, value)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn apply(self, config: &mut Config) {
        use std::time::Duration;
        let set = |field: &mut usize, value: Option<usize>| {
            if let Some(value) = value {
                *field = value;
            }
        };
        set(&mut config.max_channels, self.max_channels);
        set(&mut config.max_topic_bytes, self.max_topic_bytes);
        set(&mut config.socket_up_bytes, self.socket_up_bytes);
        set(&mut config.link_queue_bytes, self.link_queue_bytes);
        set(&mut config.outbox_bytes, self.outbox_bytes);
        if let Some(ms) = self.idle_timeout_ms {
            config.idle_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = self.write_timeout_ms {
            config.write_timeout = Duration::from_millis(ms);
        }
        if let Some(secs) = self.tcp_keepalive_secs {
            config.tcp_keepalive = (secs > 0).then(|| Duration::from_secs(secs));
        }
    }
}

/// The HTTP limits' flags; unset ones keep the config's defaults.
#[derive(Default)]
struct HttpFlags {
    api_token_env: Option<String>,
    max_tcp_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    renders_per_sec: Option<u32>,
    render_burst: Option<u32>,
    trust_forwarded_for: bool,
    header_timeout_ms: Option<u64>,
    body_timeout_ms: Option<u64>,
}

impl HttpFlags {
    /// Takes `flag` with `value` if it is one of these; false otherwise.
    fn take(&mut self, flag: &str, value: &str) -> anyhow::Result<bool> {
        match flag {
            "--api-token-env" => self.api_token_env = Some(value.to_owned()),
            "--max-tcp-connections" => self.max_tcp_connections = Some(number(flag, value)?),
            "--max-connections-per-address" => {
                self.max_connections_per_address = Some(number(flag, value)?);
            }
            "--renders-per-sec" => self.renders_per_sec = Some(number(flag, value)?),
            "--render-burst" => self.render_burst = Some(number(flag, value)?),
            "--header-timeout-ms" => self.header_timeout_ms = Some(number(flag, value)?),
            "--body-timeout-ms" => self.body_timeout_ms = Some(number(flag, value)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn apply(self, config: &mut Config) {
        let env = self.api_token_env.as_deref().unwrap_or("CINDER_API_TOKEN");
        config.api_token = std::env::var(env).ok().filter(|token| !token.is_empty());
        if let Some(n) = self.max_tcp_connections {
            config.max_tcp_connections = n;
        }
        if let Some(n) = self.max_connections_per_address {
            config.max_connections_per_address = n;
        }
        if let Some(n) = self.renders_per_sec {
            config.renders_per_sec = n;
        }
        if let Some(n) = self.render_burst {
            config.render_burst = n;
        }
        config.trust_forwarded_for = self.trust_forwarded_for;
        if let Some(ms) = self.header_timeout_ms {
            config.header_timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(ms) = self.body_timeout_ms {
            config.body_timeout = std::time::Duration::from_millis(ms);
        }
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> anyhow::Result<T> {
    value
        .parse()
        .ok()
        .with_context(|| format!("{flag} {value}: not a number"))
}

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Flags> {
    let mut flags = Flags {
        listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
        view_nodes: Vec::new(),
        redis: None,
        secret_env: "CINDER_SECRET".to_owned(),
        link_tls_ca: None,
        assets: PathBuf::from("client"),
        allowed_origins: Vec::new(),
        rate_per_sec: None,
        http: HttpFlags::default(),
        socket: SocketFlags::default(),
    };
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            bail!("{USAGE}");
        }
        if flag == "--trust-forwarded-for" {
            flags.http.trust_forwarded_for = true;
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--listen" => {
                flags.listen = value
                    .parse()
                    .with_context(|| format!("--listen {value}: not an address"))?;
            }
            "--view-node" => flags.view_nodes.push(value),
            "--redis" => flags.redis = Some(value),
            "--secret-env" => flags.secret_env = value,
            "--link-tls-ca" => flags.link_tls_ca = Some(PathBuf::from(value)),
            "--assets" => flags.assets = PathBuf::from(value),
            "--allowed-origin" => flags.allowed_origins.push(value),
            "--rate-per-sec" => {
                let rate = value
                    .parse()
                    .with_context(|| format!("--rate-per-sec {value}: not a number"))?;
                flags.rate_per_sec = Some(rate);
            }
            _ if flags.http.take(&flag, &value)? => {}
            _ if flags.socket.take(&flag, &value)? => {}
            _ => bail!("unknown flag {flag}\n{USAGE}"),
        }
    }
    if flags.view_nodes.is_empty() && flags.redis.is_none() {
        bail!("no view-nodes: give --view-node or --redis\n{USAGE}");
    }
    Ok(flags)
}

/// How long to wait for the first view-node link before announcing.
const FIRST_LINK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = cinder_telemetry::init("cinder-gateway");

    let flags = parse(std::env::args().skip(1))?;
    let secret = std::env::var(&flags.secret_env)
        .with_context(|| format!("the secret variable {} is not set", flags.secret_env))?;
    // One line naming the variable (a library error would not know its name).
    if let Err(weak) = cinder_proto::credential::check_secret(secret.as_bytes()) {
        bail!("{}: {weak}", flags.secret_env);
    }
    let mut config = Config::new(flags.listen, flags.view_nodes, secret.into_bytes());
    config.membership = flags.redis.map(Membership::new);
    config.assets = flags.assets;
    if let Some(ca) = &flags.link_tls_ca {
        let pem = std::fs::read(ca).with_context(|| format!("--link-tls-ca {}", ca.display()))?;
        config.link_tls_ca = Some(pem);
    }
    config.allowed_origins = flags.allowed_origins;
    flags.http.apply(&mut config);
    flags.socket.apply(&mut config);
    if let Some(rate) = flags.rate_per_sec {
        config.rate_per_sec = rate;
        config.rate_burst = rate.saturating_mul(2);
    }

    let gateway = cinder_gateway::bind(config).await?;
    // Announce once a view-node link is up (or after a bounded wait, so a gateway with
    // no reachable node still serves its health endpoints).
    gateway.links().first(FIRST_LINK_WAIT).await;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "gateway listening on http://{}",
        gateway.local_addr()
    )?;
    stdout.flush()?;
    drop(stdout);

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    gateway
        .serve(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        })
        .await?;
    Ok(())
}
