//! Turns a Cinder app into a complete binary.
//!
//! An app is its views plus a function adding their routes to a [`Router`]; its `main`
//! hands that to the runtime:
//!
//! ```no_run
//! use cinder::router::Router;
//!
//! fn routes(router: Router) -> Router {
//!     router // .live::<Counter>("/counter") …
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     cinder_runtime::App::new("my-app", routes).main()
//! }
//! ```
//!
//! The binary then runs in one of two modes (see `--help`):
//!
//! - `my-app` — embedded: gateway + view-node + in-process pubsub and presence in one
//!   process, no Redis, on `http://127.0.0.1:$PORT` (4000 by default).
//! - `my-app view-node` — a view-node of a cluster behind `cinder-gateway`, joined
//!   through Redis (`--redis`), with health, metrics and a drain.
//!
//! Both modes serve the cluster dashboard at `/dashboard` ([`dashboard`]): embedded
//! always (open, or behind `CINDER_DASHBOARD_TOKEN` when it is set), a view-node only
//! when `CINDER_DASHBOARD_TOKEN` is set.
//!
//! Every setting is a flag and an environment variable (`CINDER_*`); a bad one ends the
//! process with one line naming both, and exit code 2. The router the app receives
//! already has the node's pubsub and presence: views `subscribe`, `broadcast` and
//! `track` across the cluster without the app naming any of it.

pub mod cli;
pub mod dashboard;
mod embedded;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use cinder::router::Router;
use cinder_gateway::signals::Stops;
use clap::error::ErrorKind;
use clap::{CommandFactory as _, FromArgMatches as _};

pub use embedded::{Embedded, embedded};

use crate::dashboard::Guard;

use crate::cli::{Cli, Command};

/// An app: its name and its routes.
#[derive(Debug, Clone)]
pub struct App {
    name: &'static str,
    routes: fn(Router) -> Router,
    assets: PathBuf,
}

impl App {
    /// The app `name` (its binary's, shown in `--help` and traces) serving `routes`.
    pub fn new(name: &'static str, routes: fn(Router) -> Router) -> Self {
        App {
            name,
            routes,
            assets: PathBuf::from("client"),
        }
    }

    /// Where embedded mode finds `app.js` and the pinned client bundles when neither
    /// `--assets` nor `CINDER_ASSETS` says (default: `client`, relative to the working
    /// folder).
    #[must_use]
    pub fn assets(mut self, dir: impl Into<PathBuf>) -> Self {
        self.assets = dir.into();
        self
    }

    /// Parses the command line, runs the mode it asks for until a signal, and gives the
    /// process's exit code: 0 after a drain, 2 for a bad setting, 1 for another failure
    /// (said in one line on stderr).
    pub fn main(self) -> ExitCode {
        let command = Cli::command().name(self.name).bin_name(self.name);
        let cli = command
            .clone()
            .try_get_matches()
            .and_then(|matches| Cli::from_arg_matches(&matches))
            .unwrap_or_else(|error| cinder_gateway::cli::name_variable(error, &command).exit());
        let service = match cli.command {
            Some(Command::ViewNode(_)) => "cinder-view-node",
            None => self.name,
        };
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(error) => return self.failed(&error.into()),
        };
        let ran = runtime.block_on(async {
            let _telemetry = cinder_telemetry::init(service);
            self.run(cli, &command).await
        });
        match ran {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => self.failed(&error),
        }
    }

    async fn run(&self, cli: Cli, command: &clap::Command) -> anyhow::Result<()> {
        let bad = |message: String| command.clone().error(ErrorKind::ValueValidation, message);
        // A view-node's errors show its own usage line.
        let node_bad = |message: String| {
            let node = command.find_subcommand("view-node").cloned();
            node.map_or_else(
                || command.clone(),
                |node| node.bin_name(format!("{} view-node", self.name)),
            )
            .error(ErrorKind::ValueValidation, message)
        };
        let stops = Stops::listen()?;
        match cli.command {
            None => {
                let flags = cli.embedded;
                let secret = cinder_proto::credential::secret_from_env(&flags.secret_env)
                    .unwrap_or_else(|error| bad(error).exit())
                    .unwrap_or_else(|| rand::random::<[u8; 32]>().to_vec());
                let settings = Embedded {
                    listen: flags.listen(),
                    secret,
                    assets: flags.assets.clone().unwrap_or_else(|| self.assets.clone()),
                    api_token: std::env::var(&flags.api_token_env)
                        .ok()
                        .filter(|token| !token.is_empty()),
                    drain: flags.drain.drain(),
                };
                let guard = match std::env::var(&flags.dashboard_token_env) {
                    Ok(token) if !token.is_empty() => Guard::Token(token),
                    _ => Guard::Open,
                };
                let app = self.routes;
                let routes = move |router| dashboard::mount(app(router), guard);
                let ready = |addr: SocketAddr| announce(&format!("listening on http://{addr}"));
                tokio::select! {
                    ran = embedded(settings, routes, ready, stops.drain()) => ran,
                    () = stops.now() => Ok(()),
                }
            }
            Some(Command::ViewNode(flags)) => {
                let secret = flags
                    .secret()
                    .unwrap_or_else(|error| node_bad(error.0).exit());
                let options = flags
                    .options()
                    .unwrap_or_else(|error| node_bad(error.0).exit());
                let ready = |bound: cinder_view_node::Bound| {
                    announce(&format!("view-node listening on {}", bound.grpc));
                };
                let guard = flags.dashboard_token().map(Guard::Token);
                let app = self.routes;
                let routes = move |router| match guard {
                    Some(guard) => dashboard::mount(app(router), guard),
                    None => app(router),
                };
                let served = cinder_view_node::serve(
                    flags.listen,
                    &secret,
                    options,
                    routes,
                    ready,
                    stops.drain(),
                );
                tokio::select! {
                    ran = served => ran,
                    () = stops.now() => Ok(()),
                }
            }
        }
    }

    /// One line on stderr, the error with its causes, and exit code 1.
    fn failed(&self, error: &anyhow::Error) -> ExitCode {
        eprintln!("{}: {error:#}", self.name);
        ExitCode::FAILURE
    }
}

/// The one line scripts wait for.
#[expect(
    clippy::print_stdout,
    reason = "the listening line is the binary's interface"
)]
fn announce(line: &str) {
    println!("{line}");
}
