//! An app binary's command line: embedded mode by default, `view-node` to join a
//! cluster. Every setting is a flag and an environment variable, documented in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use cinder_gateway::cli::DrainFlags;

/// A Cinder app. Without a command it runs embedded: gateway, view-node and in-process
/// pubsub and presence in one process, no Redis, on http://127.0.0.1:$PORT.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Without a command: embedded mode.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Embedded mode's settings.
    #[command(flatten)]
    pub embedded: EmbeddedFlags,
}

/// The ways the app runs besides embedded.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serve the app's views as a view-node of a cluster, behind `cinder-gateway`.
    ///
    /// Prints `view-node listening on <addr>` once listening. On SIGTERM it drains:
    /// health turns NOT_SERVING, it leaves the member set and presence, its links end
    /// (their clients rejoin on other nodes) and it exits when they are closed or at
    /// --drain-timeout-ms. A second SIGTERM, or SIGINT, exits at once.
    ViewNode(cinder_view_node::cli::Flags),
}

/// Embedded mode: gateway, view-node and in-process pubsub and presence in one process,
/// no Redis. Prints `listening on http://<addr>` once serving.
#[derive(Debug, Clone, clap::Args)]
pub struct EmbeddedFlags {
    /// The address to serve HTTP and WebSockets on. Default: 127.0.0.1 and --port.
    #[arg(long, env = "CINDER_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// The port on 127.0.0.1 when --listen is not given.
    #[arg(long, env = "PORT", value_name = "PORT", default_value_t = 4000)]
    pub port: u16,

    /// The folder holding app.js and node_modules/ with the pinned LiveView client.
    /// Default: the one the app was built with.
    #[arg(long, env = "CINDER_ASSETS", value_name = "DIR")]
    pub assets: Option<PathBuf>,

    /// The variable holding the token secret (at least 32 bytes); unset, a random one
    /// (pages from an earlier run then reload once).
    #[arg(long, value_name = "NAME", default_value = "CINDER_SECRET")]
    pub secret_env: String,

    /// The variable holding the topics API's bearer token (POST /api/topics/…); closed
    /// without it.
    #[arg(long, value_name = "NAME", default_value = "CINDER_API_TOKEN")]
    pub api_token_env: String,

    /// The variable holding the token of the cluster dashboard at /dashboard; without
    /// it the dashboard is open to whoever reaches the port (embedded mode serves
    /// 127.0.0.1 unless told otherwise).
    #[arg(long, value_name = "NAME", default_value = "CINDER_DASHBOARD_TOKEN")]
    pub dashboard_token_env: String,

    /// What SIGTERM does.
    #[command(flatten)]
    pub drain: DrainFlags,
}

impl EmbeddedFlags {
    /// Where to listen.
    pub fn listen(&self) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], self.port)))
    }
}
