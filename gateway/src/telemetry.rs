//! The gateway's instruments. They land in the process's Prometheus recorder
//! ([`cinder_telemetry::prometheus`]), installed the first time a gateway binds.

use metrics::{Counter, Gauge, counter, gauge};

/// Handles on the gateway's instruments, registered once at bind.
#[derive(Clone, Debug)]
pub(crate) struct Metrics {
    /// `cinder_gateway_sockets`: open WebSockets.
    pub(crate) sockets: Gauge,
    /// `cinder_gateway_links_up`: view-node links up, to nodes new joins may be placed on.
    pub(crate) links_up: Gauge,
    /// `cinder_gateway_frames_up_total`: client messages received.
    pub(crate) frames_up: Counter,
    /// `cinder_gateway_frames_down_total`: view-node frames relayed to clients.
    pub(crate) frames_down: Counter,
    /// `cinder_gateway_joins_total`: `lv:` joins forwarded.
    pub(crate) joins: Counter,
    /// `cinder_gateway_renders_total`: dead renders forwarded.
    pub(crate) renders: Counter,
    /// `cinder_gateway_renders_refused_total`: dead renders refused (429) by an
    /// address's rate.
    pub(crate) renders_refused: Counter,
    /// `cinder_gateway_connections_refused_total`: connections closed at accept, past
    /// the total or an address's cap.
    pub(crate) connections_refused: Counter,
    /// `cinder_gateway_draining`: 1 from the signal to stop until the exit, else 0.
    pub(crate) draining: Gauge,
}

impl Metrics {
    pub(crate) fn register() -> Self {
        cinder_telemetry::prometheus();
        Self {
            sockets: gauge!("cinder_gateway_sockets"),
            links_up: gauge!("cinder_gateway_links_up"),
            frames_up: counter!("cinder_gateway_frames_up_total"),
            frames_down: counter!("cinder_gateway_frames_down_total"),
            joins: counter!("cinder_gateway_joins_total"),
            renders: counter!("cinder_gateway_renders_total"),
            renders_refused: counter!("cinder_gateway_renders_refused_total"),
            connections_refused: counter!("cinder_gateway_connections_refused_total"),
            draining: gauge!("cinder_gateway_draining"),
        }
    }

    /// Counts a socket the gateway closed, by reason:
    /// `cinder_gateway_closes_total{reason="drain"|"idle"|"slow_client"|"rate_limit"|
    /// "too_big"|"malformed"|"protocol_error"|"client"}` (`client`: the client closed
    /// first and the gateway answered; `slow_client` also counts sockets dropped at the
    /// write timeout, which get no close frame).
    pub(crate) fn closed(reason: &'static str) {
        counter!("cinder_gateway_closes_total", "reason" => reason).increment(1);
    }
}
