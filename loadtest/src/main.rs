//! `cinder-loadtest`: drives a Cinder gateway with protocol clients.
//!
//! - `latency --url URL [--rate 1000] [--events 10000] [--event inc]` — one page joined,
//!   events pushed at a fixed rate, prints p50/p99/p99.9 of event → reply frame (the
//!   wire round trip; the client does not merge these replies).
//! - `idle --url URL --sessions N` — N sockets, each joined to the page, held open;
//!   prints `ready N` once all joined, then waits for stdin to close.
//! - `crossnode --from URL --to URL [--messages 1000]` — chat messages between clients of
//!   two gateways served by two view-nodes: p50/p99 of send → the other client's push.
//! - `fanout --urls URL,URL… --sessions N` — N feed sessions, one publish through the
//!   topics API (`CINDER_API_TOKEN`): time until each, and the last, received it.
//! - `converge --url URL --redis HOST:PORT` — prints `proxy listening on ADDR` for a
//!   view-node named `island` to use as its Redis; partitions it, heals, and times
//!   presence convergence.
//!
//! - `drain [--sessions 10000] [--path /counter] [--bin DIR] [--serve-ms MS]
//!   [--close-ms MS]` — starts a view-node and gateways A and B from the binaries in `DIR`
//!   (default: beside this one), holds N sockets on A, sends A SIGTERM and times the
//!   clients' move to B (see `drain.rs`).
//!
//! Every loop is bounded by its count; the tool stops by itself.

mod cluster;
mod drain;
mod latency;
mod process;

use anyhow::{Context, bail};

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    flag(args, name).map_or(Ok(default), |v| {
        v.parse().with_context(|| format!("{name} takes a number"))
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = flag(&args, "--url")
        .unwrap_or("http://127.0.0.1:4000/counter")
        .to_owned();
    match args.first().map(String::as_str) {
        Some("latency") => {
            let rate = number(&args, "--rate", 1000)?;
            let events = number(&args, "--events", 10_000)?;
            let event = flag(&args, "--event").unwrap_or("inc");
            latency::run(&url, rate, events, event).await
        }
        Some("idle") => {
            let sessions = number(&args, "--sessions", 1000)?;
            latency::idle(&url, sessions).await
        }
        Some("crossnode") => {
            let from = flag(&args, "--from").context("--from URL")?;
            let to = flag(&args, "--to").context("--to URL")?;
            let messages = number(&args, "--messages", 1000)?;
            cluster::crossnode(from, to, messages).await
        }
        Some("fanout") => {
            let urls: Vec<String> = flag(&args, "--urls")
                .context("--urls URL,URL")?
                .split(',')
                .map(str::to_owned)
                .collect();
            let sessions = number(&args, "--sessions", 10_000)?;
            let token =
                std::env::var("CINDER_API_TOKEN").context("fanout needs CINDER_API_TOKEN")?;
            cluster::fanout(&urls, sessions, &token).await
        }
        Some("converge") => {
            let redis = flag(&args, "--redis")
                .context("--redis HOST:PORT")?
                .parse()
                .context("--redis takes HOST:PORT")?;
            cluster::converge(&url, redis).await
        }
        Some("drain") => {
            let bin = match flag(&args, "--bin") {
                Some(dir) => dir.into(),
                None => std::env::current_exe()?
                    .parent()
                    .context("the load tester's folder")?
                    .to_owned(),
            };
            let mut gateway_flags = Vec::new();
            for (ours, theirs) in [
                ("--serve-ms", "--drain-serve-ms"),
                ("--close-ms", "--drain-close-ms"),
                ("--deadline-ms", "--drain-deadline-ms"),
            ] {
                if let Some(ms) = flag(&args, ours) {
                    gateway_flags.extend([theirs.to_owned(), ms.to_owned()]);
                }
            }
            drain::run(drain::Options {
                sessions: usize::try_from(number(&args, "--sessions", 10_000)?)?,
                bin,
                path: flag(&args, "--path").unwrap_or("/counter").to_owned(),
                gateway_flags,
            })
            .await
        }
        _ => bail!("usage: cinder-loadtest latency|idle|crossnode|fanout|converge|drain [...]"),
    }
}
