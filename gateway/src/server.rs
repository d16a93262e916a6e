//! The gateway process: binding, the accept loop, and what every connection shares.
//!
//! Each accepted TCP connection is counted first ([`crate::admission`]): past the total
//! or its address's cap it is closed at once. An admitted one gets one task, which
//! holds its count. It serves HTTP/1.1 with hyper until the connection ends or
//! upgrades; an upgrade hands the bare TCP stream to [`crate::socket`] in the same
//! task, after hyper's connection state (its buffers) has been dropped.
//!
//! [`Gateway::serve`] stops at once when told to; [`Gateway::serve_until_drained`] drains
//! first ([`crate::drain`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cinder_proto::credential::{LinkKey, check_secret};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tonic::transport::ClientTlsConfig;
use tracing::{Instrument as _, debug, info, warn};

use crate::admission::ConnectionPermit;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::link::{LINK_CLOSE, Nodes};
use crate::shared::Shared;
use crate::telemetry::Metrics;
use crate::{http, membership, socket};

/// How many view-node links are up (to nodes new sessions may be placed on: a member
/// that left the registry no longer counts); lets a caller wait for the gateway to be
/// ready.
#[derive(Clone, Debug)]
pub struct Links {
    up: watch::Receiver<usize>,
}

impl Links {
    /// Links up now.
    pub fn up(&self) -> usize {
        *self.up.borrow()
    }

    /// Waits until `ready(links up)` holds. Returns at once if the gateway is gone.
    pub async fn wait_until(&mut self, mut ready: impl FnMut(usize) -> bool) {
        let _ = self.up.wait_for(|up| ready(*up)).await;
    }

    /// Waits up to `limit` for a first link, so a gateway announced as listening can
    /// serve at once; returns whether one is up.
    pub async fn first(&mut self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, self.wait_until(|up| up > 0))
            .await
            .is_ok()
    }
}

/// A bound gateway, ready to [`serve`](Gateway::serve) or
/// [`serve_until_drained`](Gateway::serve_until_drained).
///
/// Its view-node links start connecting at [`bind`]; dropping the gateway (or the end
/// of serving) stops them.
#[derive(Debug)]
pub struct Gateway {
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: StopLinks,
}

/// Stops the view-node links when dropped.
#[derive(Debug)]
struct StopLinks(watch::Sender<bool>);

impl Drop for StopLinks {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

/// Binds the listener, installs the metrics recorder and starts linking to the
/// view-nodes: the static ones, and the registry's members if configured.
///
/// # Errors
/// [`Error::WeakSecret`], [`Error::InvalidViewNode`], [`Error::InvalidMembership`], or
/// [`Error::Bind`] when the address cannot be listened on.
pub async fn bind(mut config: Config) -> Result<Gateway> {
    check_secret(&config.secret).map_err(Error::WeakSecret)?;
    // A client frame goes up the link in one message; a larger one would break the link
    // for every session on it, so the link's limit caps the client's.
    if config.max_frame_bytes > cinder_proto::MAX_LINK_FRAME_BYTES {
        warn!(
            max_frame_bytes = config.max_frame_bytes,
            link = cinder_proto::MAX_LINK_FRAME_BYTES,
            "max_frame_bytes capped to what the link carries"
        );
        config.max_frame_bytes = cinder_proto::MAX_LINK_FRAME_BYTES;
    }
    let metrics = Metrics::register();
    let (stop, stopped) = watch::channel(false);
    let nodes = Arc::new(Nodes::new(
        &config.view_nodes,
        config.link_queue_bytes,
        metrics.clone(),
        stopped.clone(),
        LinkKey::derive(&config.secret).credential(),
        config.link_tls_ca.as_ref().map(|ca| {
            ClientTlsConfig::new().ca_certificate(tonic::transport::Certificate::from_pem(ca))
        }),
        config.in_process.as_ref(),
    )?);
    let members = config
        .membership
        .as_ref()
        .map(|registry| membership::watch(registry, &config.secret))
        .transpose()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    nodes.spawn();
    if let Some(members) = members {
        membership::spawn(members, nodes.clone(), stopped);
    }
    let shared = Arc::new(Shared::new(config, nodes, metrics));
    if let Ok(addr) = listener.local_addr() {
        crate::beat::spawn(shared.clone(), addr, stop.subscribe());
    }
    Ok(Gateway {
        listener,
        shared,
        stop: StopLinks(stop),
    })
}

// === impl Gateway ===

impl Gateway {
    /// The address the listener is bound to (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.shared.config.listen)
    }

    /// The view-node link count, to wait for readiness.
    pub fn links(&self) -> Links {
        Links {
            up: self.shared.nodes.watch(),
        }
    }

    /// Accepts connections until `shutdown` resolves, then stops at once: the listener
    /// closes, and the links stop. Connections already open keep running until they end
    /// or the runtime stops.
    ///
    /// # Errors
    /// None today: accept failures (such as running out of file descriptors) are
    /// logged and retried.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        info!(addr = %self.listener.local_addr()?, "gateway serving");
        accept(&self.listener, &self.shared, shutdown).await;
        info!("gateway stopped accepting");
        Ok(())
    }

    /// Accepts connections until `drain` resolves, then drains as
    /// [`Config::drain`](crate::Config::drain) says: `/readyz` answers 503 at once while
    /// the gateway goes on accepting for the serve window; then the listener closes and
    /// the open WebSockets are closed (1012) spread over the close window. Returns when
    /// no WebSocket is left, or at the deadline (counted from `drain`), once the links
    /// are closed (each node ends its half after the gateway's; waited for up to 1 s).
    ///
    /// To stop at once during the drain (a second signal), drop this future: the
    /// listener and the links stop with it, open connections when the runtime stops.
    ///
    /// # Errors
    /// None today, as [`Gateway::serve`].
    pub async fn serve_until_drained(self, drain: impl Future<Output = ()>) -> Result<()> {
        let Gateway {
            listener,
            shared,
            stop,
        } = self;
        info!(addr = %listener.local_addr()?, "gateway serving");
        accept(&listener, &shared, drain).await;
        let plan = shared.config.drain;
        let deadline = tokio::time::Instant::now() + plan.deadline;
        shared.open.begin();
        shared.metrics.draining.set(1.0);
        info!(
            serve_ms = plan.serve.as_millis(),
            close_ms = plan.close.as_millis(),
            deadline_ms = plan.deadline.as_millis(),
            sockets = shared.sockets(),
            "draining: not ready, still accepting"
        );
        let serve_end = deadline.min(tokio::time::Instant::now() + plan.serve);
        accept(&listener, &shared, tokio::time::sleep_until(serve_end)).await;
        drop(listener);
        info!(
            sockets = shared.sockets(),
            "draining: stopped accepting, closing the sockets"
        );
        let emptied = async {
            shared.open.close_all(plan.close).await;
            shared.open.wait_empty(|| shared.sockets()).await;
        };
        match tokio::time::timeout_at(deadline, emptied).await {
            Ok(()) => info!("drained: no socket left"),
            Err(_) => warn!(
                sockets = shared.sockets(),
                "drain deadline: stopping with sockets still open"
            ),
        }
        // The links end their streams and wait for the nodes to end theirs: with every
        // link down, the nodes have seen a clean close, not the reset of the exit.
        let mut links = shared.nodes.watch();
        drop(stop);
        let _ = tokio::time::timeout(LINK_CLOSE, links.wait_for(|up| *up == 0)).await;
        Ok(())
    }
}

/// The accept loop, until `until` resolves.
async fn accept(listener: &TcpListener, shared: &Arc<Shared>, until: impl Future<Output = ()>) {
    tokio::pin!(until);
    loop {
        tokio::select! {
            () = &mut until => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    // Past a cap: dropped here, unread, before it costs a task.
                    let Some(permit) = shared.admission.open(peer.ip()) else {
                        debug!(%peer, "connection refused: too many open");
                        shared.metrics.connections_refused.increment(1);
                        continue;
                    };
                    let span = tracing::debug_span!("connection", %peer);
                    let task = connection(tcp, permit, shared.clone());
                    tokio::spawn(task.instrument(span));
                }
                Err(error) => {
                    // EMFILE and friends: wait for sockets to close rather than spin.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

/// One accepted connection: HTTP until it ends or upgrades, then the WebSocket. It
/// counts against the caps (`permit`) until it ends.
async fn connection(tcp: TcpStream, permit: ConnectionPermit, shared: Arc<Shared>) {
    if let Err(error) = tcp.set_nodelay(true) {
        debug!(%error, "set_nodelay failed");
    }
    // Boxed so hyper's connection state is freed before the socket's life begins.
    let upgrade = Box::pin(http::serve(tcp, permit.client(), shared.clone())).await;
    if let Some(upgrade) = upgrade {
        socket::run(upgrade, shared).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every idle socket is one task whose size is this future's: keep it small (the
    /// budget is 4 KB for a whole idle socket; `benches/idle_memory.rs` measures that).
    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let gateway = bind(Config::new(
            "127.0.0.1:0".parse().unwrap(),
            vec![],
            b"a test secret of thirty-two bytes".to_vec(),
        ))
        .await
        .unwrap();
        let _client = TcpStream::connect(gateway.local_addr()).await.unwrap();
        let (tcp, peer) = gateway.listener.accept().await.unwrap();
        let permit = gateway.shared.admission.open(peer.ip()).unwrap();
        let task = connection(tcp, permit, gateway.shared.clone());
        let size = std::mem::size_of_val(&task);
        assert!(size <= 1024, "the connection future is {size} bytes");
    }
}
