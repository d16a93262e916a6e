//! `cinder-gateway`: reads its settings (flags or `CINDER_*` variables, see `--help` and
//! [`cinder_gateway::cli`]), installs logging, and serves until a signal.
//!
//! ```text
//! CINDER_SECRET=… cinder-gateway --listen 127.0.0.1:4000 --view-node 127.0.0.1:7100
//! CINDER_SECRET=… CINDER_REDIS_URL=redis://127.0.0.1:6379 cinder-gateway
//! ```
//!
//! Prints exactly one line to stdout once listening: `gateway listening on http://<addr>`.
//!
//! SIGTERM drains ([`Gateway::serve_until_drained`]): `/readyz` 503 at once, serving on
//! for `--drain-serve-ms`, then the sockets closed over `--drain-close-ms`, and the exit
//! when none is left or at `--drain-deadline-ms`. A second SIGTERM, or a SIGINT, exits at
//! once.

use std::io::Write as _;
use std::process::ExitCode;

use cinder_gateway::Gateway;
use cinder_gateway::cli::{self, Flags};
use cinder_gateway::signals::Stops;

/// How long to wait for the first view-node link before announcing.
const FIRST_LINK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

#[tokio::main]
async fn main() -> ExitCode {
    let config = Flags::from_env()
        .config()
        .unwrap_or_else(|error| error.exit());
    let _telemetry = cinder_telemetry::init("cinder-gateway");
    let gateway = match cinder_gateway::bind(config).await {
        Ok(gateway) => gateway,
        Err(error) => match cli::setting_error(&error) {
            Some(setting) => setting.exit(),
            None => return failed(&error),
        },
    };
    let served = async {
        // Listening for the stop signals before announcing: a SIGTERM sent as soon as the
        // line is read must drain, not kill.
        let stops = Stops::listen()?;
        announce(&gateway).await?;
        serve(gateway, &stops).await
    };
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failed(&error),
    }
}

/// One line on stderr and exit code 1; the errors already name their cause.
fn failed(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("cinder-gateway: {error}");
    ExitCode::FAILURE
}

/// Prints the listening line once a view-node link is up (or after a bounded wait, so a
/// gateway with no reachable node still serves its health endpoints).
async fn announce(gateway: &Gateway) -> anyhow::Result<()> {
    gateway.links().first(FIRST_LINK_WAIT).await;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "gateway listening on http://{}",
        gateway.local_addr()
    )?;
    stdout.flush()?;
    Ok(())
}

/// Serves until SIGTERM, then drains; a second SIGTERM or a SIGINT ends it at once.
async fn serve(gateway: Gateway, stops: &Stops) -> anyhow::Result<()> {
    tokio::select! {
        served = gateway.serve_until_drained(stops.drain()) => served?,
        () = stops.now() => tracing::warn!("stopping at once"),
    }
    Ok(())
}
