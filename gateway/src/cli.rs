//! The `cinder-gateway` command line: every setting a flag and an environment variable
//! (`--listen` or `CINDER_LISTEN`…), documented in `--help`, turned into a [`Config`].
//!
//! A list flag (`--view-node`, `--allowed-origin`) is repeated on the command line, or
//! comma-separated in its variable. Secrets are read from variables only (never argv,
//! which other users of the host can see): `CINDER_SECRET` and `CINDER_API_TOKEN` unless
//! `--secret-env`/`--api-token-env` name others. A bad setting ends the process with one
//! line naming the flag and its variable, and exit code 2.
//!
//! [`DrainFlags`] is public so that a binary embedding a gateway can offer the same
//! drain settings (`#[command(flatten)]`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgGroup, CommandFactory as _, Parser};

use crate::{Config, Drain, Error, Membership};

/// Cinder's gateway: terminates browser WebSockets, answers heartbeats, places LiveView
/// sessions on view-nodes and forwards frames.
///
/// Prints `gateway listening on http://<addr>` once listening. On SIGTERM it drains:
/// `/readyz` answers 503 at once, it goes on serving for --drain-serve-ms, then closes
/// its WebSockets (1012) spread over --drain-close-ms and exits when none is left, or at
/// --drain-deadline-ms. A second SIGTERM, or SIGINT, exits at once.
#[derive(Debug, Clone, Parser)]
#[command(name = "cinder-gateway", version)]
#[command(group(
    ArgGroup::new("nodes").required(true).multiple(true).args(["view_nodes", "redis"])
))]
pub struct Flags {
    /// The address to listen on (HTTP, WebSockets, /healthz, /readyz, /metrics).
    #[arg(
        long,
        env = "CINDER_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:4000"
    )]
    pub listen: SocketAddr,

    /// A view-node to link to, HOST:PORT, besides the registered ones; every gateway
    /// needs the same list (repeat the flag, or comma-separate in the variable).
    #[arg(
        long = "view-node",
        env = "CINDER_VIEW_NODES",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    pub view_nodes: Vec<String>,

    /// The Redis view-nodes register in, as redis://host:port (rediss:// for TLS,
    /// user:password@ before the host if it has one), or a Redis Cluster's nodes as a
    /// comma list: links follow its members, read every second.
    #[arg(
        long,
        env = "CINDER_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis: Option<String>,

    /// The variable holding the cluster secret (at least 32 bytes, the same on every
    /// process of the cluster).
    #[arg(long, value_name = "NAME", default_value = "CINDER_SECRET")]
    pub secret_env: String,

    /// The CA certificate (PEM) view-nodes' TLS certificates are checked against: links
    /// and renders go over TLS. Unset: plain HTTP/2.
    #[arg(long, env = "CINDER_LINK_TLS_CA", value_name = "FILE")]
    pub link_tls_ca: Option<PathBuf>,

    /// The folder holding app.js and node_modules/ (the repository's client/).
    #[arg(
        long,
        env = "CINDER_ASSETS",
        value_name = "DIR",
        default_value = "client"
    )]
    pub assets: PathBuf,

    /// An origin allowed to open a socket besides the request's own host, as
    /// scheme://host or scheme://host:port (repeat the flag, or comma-separate in the
    /// variable).
    #[arg(
        long = "allowed-origin",
        env = "CINDER_ALLOWED_ORIGINS",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Client messages per second one socket may sustain (burst: twice that).
    #[arg(long, env = "CINDER_RATE_PER_SEC", value_name = "N", default_value_t = Config::DEFAULT_RATE_PER_SEC)]
    pub rate_per_sec: u32,

    /// The variable holding the topics API's token: with it set, POST /api/topics/… is
    /// checked here; without it, refused with 503.
    #[arg(long, value_name = "NAME", default_value = "CINDER_API_TOKEN")]
    pub api_token_env: String,

    /// Open WebSockets at most; the next upgrade gets 503 (size it from memory: about
    /// 2.4 KB per idle socket, see deploy/README.md).
    #[arg(long, env = "CINDER_MAX_SOCKETS", value_name = "N", default_value_t = Config::DEFAULT_MAX_CONNECTIONS)]
    pub max_sockets: usize,

    /// Accepted TCP connections open at once, HTTP and WebSocket; keep it under the
    /// open-file limit.
    #[arg(long, env = "CINDER_MAX_TCP_CONNECTIONS", value_name = "N", default_value_t = Config::DEFAULT_MAX_TCP_CONNECTIONS)]
    pub max_tcp_connections: usize,

    /// Connections open at once from one client address (behind a proxy, raise it).
    #[arg(long, env = "CINDER_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N", default_value_t = Config::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS)]
    pub max_connections_per_address: usize,

    /// Page loads (dead renders) per second one client address may sustain.
    #[arg(long, env = "CINDER_RENDERS_PER_SEC", value_name = "N", default_value_t = Config::DEFAULT_RENDERS_PER_SEC)]
    pub renders_per_sec: u32,

    /// Page loads one client address may ask for at once.
    #[arg(long, env = "CINDER_RENDER_BURST", value_name = "N", default_value_t = Config::DEFAULT_RENDER_BURST)]
    pub render_burst: u32,

    /// Take the client address of those limits from X-Forwarded-For: only behind a proxy
    /// that sets it. The variable takes true/false, 1/0, yes/no or on/off.
    #[arg(long, env = "CINDER_TRUST_FORWARDED_FOR", value_parser = BoolishValueParser::new())]
    pub trust_forwarded_for: bool,

    /// How long a connection may take to send a request's headers (and stay idle between
    /// requests).
    #[arg(long, env = "CINDER_HEADER_TIMEOUT_MS", value_name = "MS", default_value_t = millis(Config::DEFAULT_HEADER_TIMEOUT))]
    pub header_timeout_ms: u64,

    /// How long a publish body may take to arrive; past it 408.
    #[arg(long, env = "CINDER_BODY_TIMEOUT_MS", value_name = "MS", default_value_t = millis(Config::DEFAULT_BODY_TIMEOUT))]
    pub body_timeout_ms: u64,

    /// Joined views and upload channels one socket may hold.
    #[arg(long, env = "CINDER_MAX_CHANNELS", value_name = "N", default_value_t = Config::DEFAULT_MAX_CHANNELS)]
    pub max_channels: usize,

    /// The longest topic a join may name, in bytes.
    #[arg(long, env = "CINDER_MAX_TOPIC_BYTES", value_name = "N", default_value_t = Config::DEFAULT_MAX_TOPIC_BYTES)]
    pub max_topic_bytes: usize,

    /// A socket that completes no frame for this long is closed (1001).
    #[arg(long, env = "CINDER_IDLE_TIMEOUT_MS", value_name = "MS", default_value_t = millis(Config::DEFAULT_IDLE_TIMEOUT))]
    pub idle_timeout_ms: u64,

    /// A frame the client does not take in this long drops its socket.
    #[arg(long, env = "CINDER_WRITE_TIMEOUT_MS", value_name = "MS", default_value_t = millis(Config::DEFAULT_WRITE_TIMEOUT))]
    pub write_timeout_ms: u64,

    /// TCP keepalive on sockets: idle seconds before the first probe; 0 turns it off.
    #[arg(long, env = "CINDER_TCP_KEEPALIVE_SECS", value_name = "SECS", default_value_t = Config::DEFAULT_TCP_KEEPALIVE.as_secs())]
    pub tcp_keepalive_secs: u64,

    /// Bytes of one socket's messages waiting in link queues before it is read no
    /// further.
    #[arg(long, env = "CINDER_SOCKET_UP_BYTES", value_name = "N", default_value_t = Config::DEFAULT_SOCKET_UP_BYTES)]
    pub socket_up_bytes: usize,

    /// Bytes all sockets' messages may take in one view-node link's queue.
    #[arg(long, env = "CINDER_LINK_QUEUE_BYTES", value_name = "N", default_value_t = Config::DEFAULT_LINK_QUEUE_BYTES)]
    pub link_queue_bytes: usize,

    /// Bytes of frames waiting for one socket before it is closed (1013).
    #[arg(long, env = "CINDER_OUTBOX_BYTES", value_name = "N", default_value_t = Config::DEFAULT_OUTBOX_BYTES)]
    pub outbox_bytes: usize,

    /// What SIGTERM does.
    #[command(flatten)]
    pub drain: DrainFlags,
}

/// The drain's settings (see [`Drain`]).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct DrainFlags {
    /// After SIGTERM: how long the gateway goes on serving, with /readyz answering 503.
    #[arg(long = "drain-serve-ms", env = "CINDER_DRAIN_SERVE_MS", value_name = "MS", default_value_t = millis(Drain::DEFAULT_SERVE))]
    pub serve_ms: u64,

    /// Then: the window its WebSockets are closed over, spread with jitter.
    #[arg(long = "drain-close-ms", env = "CINDER_DRAIN_CLOSE_MS", value_name = "MS", default_value_t = millis(Drain::DEFAULT_CLOSE))]
    pub close_ms: u64,

    /// The latest it exits, counted from SIGTERM, whatever is still open.
    #[arg(long = "drain-deadline-ms", env = "CINDER_DRAIN_DEADLINE_MS", value_name = "MS", default_value_t = millis(Drain::DEFAULT_DEADLINE))]
    pub deadline_ms: u64,
}

// === impl DrainFlags ===

impl DrainFlags {
    /// The drain these flags ask for.
    pub fn drain(&self) -> Drain {
        Drain {
            serve: Duration::from_millis(self.serve_ms),
            close: Duration::from_millis(self.close_ms),
            deadline: Duration::from_millis(self.deadline_ms),
        }
    }
}

// === impl Flags ===

impl Flags {
    /// Parses the process's arguments and variables; on a bad one, prints one line
    /// naming the flag and its variable and exits with code 2 (`--help` and
    /// `--version` print and exit with 0).
    pub fn from_env() -> Self {
        Self::try_parse().unwrap_or_else(|error| with_variable(error).exit())
    }

    /// The gateway's configuration: the flags, the secret and the API token from their
    /// variables, the CA file read.
    ///
    /// # Errors
    /// A clap error naming the setting when the secret is missing or under 32 bytes, or
    /// the CA file cannot be read; its `exit()` prints it and exits with code 2.
    pub fn config(self) -> Result<Config, clap::Error> {
        let invalid = |message: String| Self::command().error(ErrorKind::ValueValidation, message);
        let secret = cinder_proto::credential::secret_from_env(&self.secret_env)
            .map_err(invalid)?
            .ok_or_else(|| {
                invalid(format!(
                    "{} is not set: it holds the cluster secret, at least 32 bytes (--secret-env names another variable)",
                    self.secret_env
                ))
            })?;
        let link_tls_ca = match &self.link_tls_ca {
            Some(file) => Some(std::fs::read(file).map_err(|error| {
                invalid(format!(
                    "--link-tls-ca {} (CINDER_LINK_TLS_CA): {error}",
                    file.display()
                ))
            })?),
            None => None,
        };
        let mut config = Config::new(self.listen, self.view_nodes, secret);
        config.membership = self.redis.map(Membership::new);
        config.link_tls_ca = link_tls_ca;
        config.assets = self.assets;
        config.allowed_origins = self.allowed_origins;
        config.rate_per_sec = self.rate_per_sec;
        config.rate_burst = self.rate_per_sec.saturating_mul(2);
        config.api_token = std::env::var(&self.api_token_env)
            .ok()
            .filter(|token| !token.is_empty());
        config.max_connections = self.max_sockets;
        config.max_tcp_connections = self.max_tcp_connections;
        config.max_connections_per_address = self.max_connections_per_address;
        config.renders_per_sec = self.renders_per_sec;
        config.render_burst = self.render_burst;
        config.trust_forwarded_for = self.trust_forwarded_for;
        config.header_timeout = Duration::from_millis(self.header_timeout_ms);
        config.body_timeout = Duration::from_millis(self.body_timeout_ms);
        config.max_channels = self.max_channels;
        config.max_topic_bytes = self.max_topic_bytes;
        config.idle_timeout = Duration::from_millis(self.idle_timeout_ms);
        config.write_timeout = Duration::from_millis(self.write_timeout_ms);
        config.tcp_keepalive =
            (self.tcp_keepalive_secs > 0).then(|| Duration::from_secs(self.tcp_keepalive_secs));
        config.socket_up_bytes = self.socket_up_bytes;
        config.link_queue_bytes = self.link_queue_bytes;
        config.outbox_bytes = self.outbox_bytes;
        config.drain = self.drain.drain();
        Ok(config)
    }
}

/// A [`bind`](crate::bind) error that is about a setting, as the one-line error a bad
/// value gets (naming the flag and its variable; `exit()` uses code 2). `None` for the
/// others, such as an address already in use.
pub fn setting_error(error: &Error) -> Option<clap::Error> {
    let (flag, variable) = match error {
        Error::InvalidViewNode { .. } => ("--view-node", "CINDER_VIEW_NODES"),
        Error::InvalidMembership(_) => ("--redis", "CINDER_REDIS_URL"),
        _ => return None,
    };
    let message = format!("{flag} (or {variable}): {error}");
    Some(Flags::command().error(ErrorKind::ValueValidation, message))
}

/// A duration as whole milliseconds, for the flags' defaults.
const fn millis(duration: Duration) -> u64 {
    duration.as_secs() * 1000 + duration.subsec_millis() as u64
}

/// Clap names the flag of a bad value; a value read from a variable is named by the
/// variable too, so the error says where to look either way.
fn with_variable(error: clap::Error) -> clap::Error {
    if error.kind() == ErrorKind::MissingRequiredArgument {
        // The one required setting is the `nodes` group.
        return Flags::command().error(
            ErrorKind::MissingRequiredArgument,
            "no view-nodes: give --view-node (CINDER_VIEW_NODES) or --redis (CINDER_REDIS_URL)",
        );
    }
    name_variable(error, &Flags::command())
}

/// `error` about a bad value, rewritten to name the flag's variable too (`invalid value
/// 'x' for '--listen <ADDR>' (or CINDER_LISTEN): …`); other errors as they are. The flag
/// is looked up in `command` and its subcommands, so an app binary with its own commands
/// can use it.
pub fn name_variable(error: clap::Error, command: &clap::Command) -> clap::Error {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return error;
    }
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let flag = shown.split_whitespace().next().unwrap_or_default();
    let variable = std::iter::once(command)
        .chain(command.get_subcommands())
        .flat_map(clap::Command::get_arguments)
        .find_map(|arg| {
            let long = arg.get_long()?;
            (flag == format!("--{long}"))
                .then(|| arg.get_env())
                .flatten()
        });
    let Some(variable) = variable else {
        return error;
    };
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    let cause = match (
        std::error::Error::source(&error),
        error.get(ContextKind::ValidValue),
    ) {
        (Some(cause), _) => format!(": {cause}"),
        (None, Some(ContextValue::Strings(valid))) => format!(": one of {}", valid.join(", ")),
        _ => String::new(),
    };
    command.clone().error(
        error.kind(),
        format!(
            "invalid value '{value}' for '{shown}' (or {}){cause}",
            variable.to_string_lossy()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_are_consistent() {
        Flags::command().debug_assert();
    }

    #[test]
    fn every_setting_has_a_variable() {
        for arg in Flags::command().get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "secret_env" | "api_token_env" | "help" | "version") {
                continue;
            }
            let long = arg.get_long().unwrap_or_default();
            let want = format!("CINDER_{}", long.to_uppercase().replace('-', "_"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            let listed = matches!(id, "view_nodes" | "allowed_origins" | "redis");
            assert!(
                env.as_deref() == Some(want.as_str()) || (listed && env.is_some()),
                "--{long} has the variable {env:?}, not {want}"
            );
        }
    }

    #[test]
    fn trusting_forwarded_for_is_a_bare_flag() {
        let parse = |args: &[&str]| {
            let mut all = vec!["cinder-gateway", "--view-node", "127.0.0.1:1"];
            all.extend_from_slice(args);
            Flags::try_parse_from(all).unwrap().trust_forwarded_for
        };
        assert!(parse(&["--trust-forwarded-for"]));
        assert!(!parse(&[]));
    }

    #[test]
    fn a_drain_reads_its_three_windows() {
        let flags = Flags::try_parse_from([
            "cinder-gateway",
            "--view-node",
            "127.0.0.1:1",
            "--drain-serve-ms",
            "1",
            "--drain-close-ms",
            "2",
            "--drain-deadline-ms",
            "3",
        ])
        .unwrap();
        assert_eq!(
            flags.drain.drain(),
            Drain {
                serve: Duration::from_millis(1),
                close: Duration::from_millis(2),
                deadline: Duration::from_millis(3),
            }
        );
        let defaults = Flags::try_parse_from(["cinder-gateway", "--redis", "redis://r"]).unwrap();
        assert_eq!(defaults.drain.drain(), Drain::default());
    }
}
