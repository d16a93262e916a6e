//! `cinder-loadtest`: drives Cinder gateways with simulated browser tabs, and prints
//! the figures a deployment is sized by.
//!
//! Load scenarios (one controller, `--procs` worker processes, any number of gateways;
//! see `control.rs` for the shared options, `--help` for each):
//!
//! - `idle` — open sessions step by step at a connect rate and hold them: join rate
//!   and resident bytes per session of each watched process and of the load tester.
//! - `click` — the same, then events on a fixed open-loop clock over the sessions:
//!   latency percentiles from each event's scheduled send.
//! - `churn` — the same, then closes and opens `--churn` sessions per second: join
//!   time and errors under churn.
//! - `chat` — the same as `click` with chat messages that carry a stamp: each session
//!   that receives one times its delivery one way.
//! - `fanout` — sessions on one topic, and publishes through the topics API on a fixed
//!   clock: time from each publish to every delivery, and to the last.
//! - `rollout` — `click` with a command run once every session is joined (a rolling
//!   restart): sessions recover as the browser does; how long each was without its
//!   view, when the last joined again, and what was lost.
//! - `merge` — adds up the `--json` results of many pods into one report.
//!
//! Figure scenarios that start or need a particular cluster:
//!
//! - `converge --url URL --redis HOST:PORT` — partitions a view-node named `island` from
//!   Redis, heals, and times presence convergence.
//! - `drain` — starts a view-node and two gateways, drains one with SIGTERM under N
//!   sockets and times the clients' move (see `drain.rs`).
//!
//! Every loop is bounded by its count or its time; the tool stops by itself.

mod control;
mod converge;
mod drain;
mod html;
mod process;
mod publish;
mod report;
mod run;
mod session;
mod sources;
mod stalls;
mod stats;
mod watch;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use control::{Events, Load};
use publish::Publish;
use session::Push;

#[derive(Parser)]
#[command(
    name = "cinder-loadtest",
    version,
    about = "Load and figures for Cinder deployments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open sessions step by step and hold them; report join rate and bytes per session.
    Idle {
        #[command(flatten)]
        load: Load,
    },
    /// Hold sessions and push events at a fixed open-loop rate; report latency.
    Click {
        #[command(flatten)]
        load: Load,
        /// Events per second over all sessions; a comma list makes steps.
        #[arg(long, value_delimiter = ',', default_value = "1000")]
        rate: Vec<f64>,
        /// The event each click pushes.
        #[arg(long, default_value = "inc")]
        event: String,
    },
    /// Hold sessions and replace `--churn` of them per second: joins under churn.
    Churn {
        #[command(flatten)]
        load: Load,
        /// Sessions closed and opened again per second; a comma list makes steps.
        #[arg(long, value_delimiter = ',', default_value = "100")]
        churn: Vec<f64>,
    },
    /// Chat messages at a fixed open-loop rate; every session in the room times their
    /// delivery from the stamp they carry.
    Chat {
        #[command(flatten)]
        load: Load,
        /// Messages per second over all sessions; a comma list makes steps.
        #[arg(long, value_delimiter = ',', default_value = "10")]
        rate: Vec<f64>,
        /// The form's `phx-submit` event.
        #[arg(long, default_value = "send")]
        event: String,
        /// The form field that carries the message.
        #[arg(long, default_value = "body")]
        field: String,
    },
    /// Publishes through a gateway's topics API to every session on a topic: time to
    /// every delivery and to the last.
    Fanout {
        #[command(flatten)]
        load: Load,
        /// The topic the sessions' page subscribes to (`feed:NAME` for `/feed/NAME`).
        #[arg(long)]
        topic: String,
        /// Publishes per second; a comma list makes steps.
        #[arg(long, value_delimiter = ',', default_value = "0.5")]
        rate: Vec<f64>,
        /// The gateway to publish through (`http://host:port`); the first `--url`'s by
        /// default. The token is `CINDER_API_TOKEN`.
        #[arg(long)]
        via: Option<String>,
    },
    /// Click load while a command (a rolling restart) runs; sessions recover as the
    /// browser does: outage per session, last rejoin, what was lost.
    Rollout {
        #[command(flatten)]
        load: Load,
        /// Events per second over all sessions; a comma list makes steps.
        #[arg(long, value_delimiter = ',', default_value = "100")]
        rate: Vec<f64>,
        /// The event each click pushes.
        #[arg(long, default_value = "inc")]
        event: String,
        /// The command to run (`sh -c`) once every session is joined; `--hold` must
        /// outlast it.
        #[arg(long)]
        during: String,
    },
    /// Merge the `--json` results of several runs (the pods of a distributed run).
    Merge {
        /// The result files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        outputs: report::Outputs,
    },
    /// Presence convergence after a Redis partition of the view-node `island`.
    Converge {
        #[arg(long)]
        url: String,
        /// Redis `HOST:PORT`.
        #[arg(long)]
        redis: std::net::SocketAddr,
    },
    /// A gateway drained under load: time until its clients joined again elsewhere.
    Drain {
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
        /// The folder holding `cinder-demo` and `cinder-gateway` (default: beside this).
        #[arg(long)]
        bin: Option<PathBuf>,
        #[arg(long, default_value = "/counter")]
        path: String,
        /// The gateways' `--drain-serve-ms`.
        #[arg(long)]
        serve_ms: Option<u64>,
        /// The gateways' `--drain-close-ms`.
        #[arg(long)]
        close_ms: Option<u64>,
        /// The gateways' `--drain-deadline-ms`.
        #[arg(long)]
        deadline_ms: Option<u64>,
    },
}

/// One thread per process: the box's cores belong to the servers under test, and
/// `--procs` is the knob that spreads the load tester.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run(Cli::parse()).await {
        eprintln!("cinder-loadtest: {error:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Idle { load } => control::run(load, Events::hold()).await,
        Command::Click { load, rate, event } => {
            let events = Events {
                rates: rate,
                push: Push::Click(event),
                ..Events::hold()
            };
            control::run(load, events).await
        }
        Command::Churn { load, churn } => {
            let events = Events {
                churn,
                ..Events::hold()
            };
            control::run(load, events).await
        }
        Command::Chat {
            load,
            rate,
            event,
            field,
        } => {
            let events = Events {
                rates: rate,
                push: Push::Stamped { event, field },
                ..Events::hold()
            };
            control::run(load, events).await
        }
        Command::Fanout {
            load,
            topic,
            rate,
            via,
        } => {
            let token = std::env::var("CINDER_API_TOKEN")
                .context("fanout needs CINDER_API_TOKEN, the gateways' --api-token")?;
            let via = via.as_ref().unwrap_or(&load.urls[0]);
            let publish = Publish {
                addr: run::socket_addr(via)?,
                topic,
                token: token.into(),
            };
            let events = Events {
                rates: rate,
                push: Push::Publish,
                publish: Some(publish),
                ..Events::hold()
            };
            control::run(load, events).await
        }
        Command::Rollout {
            load,
            rate,
            event,
            during,
        } => {
            let events = Events {
                rates: rate,
                push: Push::Click(event),
                during: Some(during),
                ..Events::hold()
            };
            control::run(load, events).await
        }
        Command::Merge { files, outputs } => {
            let run = report::merge(&files)?;
            report::print_summary(&run, &outputs);
            run.write(&outputs)
        }
        Command::Converge { url, redis } => converge::run(&url, redis).await,
        Command::Drain {
            sessions,
            bin,
            path,
            serve_ms,
            close_ms,
            deadline_ms,
        } => {
            let bin = match bin {
                Some(dir) => dir,
                None => std::env::current_exe()?
                    .parent()
                    .context("the load tester's folder")?
                    .to_owned(),
            };
            let mut gateway_flags = Vec::new();
            for (flag, ms) in [
                ("--drain-serve-ms", serve_ms),
                ("--drain-close-ms", close_ms),
                ("--drain-deadline-ms", deadline_ms),
            ] {
                if let Some(ms) = ms {
                    gateway_flags.extend([flag.to_owned(), ms.to_string()]);
                }
            }
            drain::run(drain::Options {
                sessions,
                bin,
                path,
                gateway_flags,
            })
            .await
        }
    }
}
