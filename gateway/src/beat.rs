//! The gateway's beat ([`cinder_telemetry::beat`]): its sockets, frames and links, once a
//! second, handed to the view-node placed for the beats topic, which publishes it to
//! the cluster. A gateway without a live link has no one to tell; the dashboards then
//! show it down, which from where they stand it is.

use std::net::SocketAddr;
use std::sync::Arc;

use cinder_telemetry::beat::{self, Beat, GatewayBeat, State, Tier};
use cinder_telemetry::scrape::Scrape;
use tokio::sync::watch;
use tracing::debug;

use crate::shared::Shared;

/// Beats until `stopped` turns true.
pub(crate) fn spawn(shared: Arc<Shared>, addr: SocketAddr, mut stopped: watch::Receiver<bool>) {
    let name = name(addr);
    let started_ms = beat::unix_ms();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(beat::PERIOD);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            let Some(link) = shared.nodes.place(beat::TOPIC) else {
                continue;
            };
            // Off the workers: reading the metrics page takes long enough to delay the
            // frames queued behind it.
            let encoded = tokio::task::spawn_blocking({
                let (shared, name) = (shared.clone(), name.clone());
                move || serde_json::to_vec(&read(&shared, &name, addr, started_ms))
            });
            let json = match encoded.await {
                Ok(Ok(json)) => json,
                Ok(Err(error)) => {
                    debug!(%error, "beat not encoded");
                    continue;
                }
                Err(_) => continue,
            };
            if let Err(status) = link.beat(json).await {
                debug!(node = %link.addr, %status, "beat not taken");
            }
        }
    });
}

/// This gateway's beat now.
fn read(shared: &Shared, name: &str, addr: SocketAddr, started_ms: u64) -> Beat {
    let page = cinder_telemetry::render();
    let scrape = Scrape::parse(&page);
    let state = if scrape.get("cinder_gateway_draining").unwrap_or(0.0) > 0.0 {
        State::Draining
    } else {
        State::Ready
    };
    let mut beat = Beat::now(Tier::Gateway, name, &addr.to_string(), started_ms, state);
    beat.gateway = Some(GatewayBeat::read(&scrape, shared.nodes.states()));
    beat
}

/// The gateway's name in the cluster: its host's name and its port (two gateways of one
/// host differ by port; a pod's host name is its own).
fn name(addr: SocketAddr) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "gateway".to_owned());
    format!("{host}:{}", addr.port())
}
