//! What every connection of one gateway shares ([`Shared`]), and the slot a WebSocket
//! holds under the connection cap ([`SocketPermit`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::admission::Admission;
use crate::config::Config;
use crate::csrf::Csrf;
use crate::drain::Sockets;
use crate::link::Nodes;
use crate::origins::Origins;
use crate::telemetry::Metrics;

/// What every connection of one gateway shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) csrf: Csrf,
    pub(crate) origins: Origins,
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) metrics: Metrics,
    /// Connections per client address, and dead renders per address.
    pub(crate) admission: Arc<Admission>,
    /// The next session key; one counter per gateway keeps keys unique on every link.
    next_session: AtomicU64,
    /// Open WebSockets (slots taken under the connection cap).
    sockets: AtomicUsize,
    /// The open WebSockets' shared halves, and the drain's state.
    pub(crate) open: Sockets,
}

/// A slot counted against the connection cap, released on drop.
#[derive(Debug)]
pub(crate) struct SocketPermit {
    shared: Arc<Shared>,
    /// The socket's id among [`Shared::open`] (a session key: unique in the gateway).
    id: u64,
}

impl SocketPermit {
    /// Makes the upgraded socket's `conn` known to the drain until this permit drops.
    pub(crate) fn register(&self, conn: &Arc<crate::conn::Conn>) {
        self.shared.open.register(self.id, conn);
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        self.shared.open.remove(self.id);
        let before = self.shared.sockets.fetch_sub(1, Ordering::AcqRel);
        self.shared.metrics.sockets.decrement(1.0);
        if before == 1 {
            self.shared.open.emptied();
        }
    }
}

// === impl Shared ===

impl Shared {
    /// The state of a gateway configured with `config`, linking through `nodes`.
    pub(crate) fn new(config: Config, nodes: Arc<Nodes>, metrics: Metrics) -> Self {
        Shared {
            admission: Arc::new(Admission::new(&config)),
            csrf: Csrf::new(config.secret.clone()),
            origins: Origins::new(&config.allowed_origins),
            config,
            nodes,
            metrics,
            next_session: AtomicU64::new(1),
            sockets: AtomicUsize::new(0),
            open: Sockets::default(),
        }
    }

    /// A fresh session key.
    pub(crate) fn next_session(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Takes a slot under the connection cap, or `None` when the cap is reached.
    pub(crate) fn try_open_socket(self: &Arc<Self>) -> Option<SocketPermit> {
        let before = self.sockets.fetch_add(1, Ordering::AcqRel);
        if before >= self.config.max_connections {
            self.sockets.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        self.metrics.sockets.increment(1.0);
        Some(SocketPermit {
            shared: self.clone(),
            id: self.next_session(),
        })
    }

    /// WebSockets open now.
    pub(crate) fn sockets(&self) -> usize {
        self.sockets.load(Ordering::Acquire)
    }

    /// Whether the gateway is draining: `/readyz` answers 503.
    pub(crate) fn is_draining(&self) -> bool {
        self.open.is_draining()
    }
}
