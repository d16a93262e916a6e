//! A session reduced to its snapshot while idle ([`LiveView::HIBERNATE_AFTER`]).
//!
//! Asleep, a session keeps its task, mailbox, subscriptions, presences and timers, and
//! drops its state, its prints and its component instances for the snapshot's bytes.
//! Its next input wakes it: the view is read back, the whole page is pushed (the prints
//! start over, so what the client holds and the session's prints agree again), and the
//! input is handled as usual.

use super::uploads::uploading;
use super::*;

/// A session's view: in memory, or reduced to its snapshot.
pub(super) enum Resident<V: LiveView> {
    Awake(Socket<V>),
    Asleep(Box<[u8]>),
}

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// Reduces the idle `socket` to its snapshot, unless it holds what a snapshot does
    /// not carry (components, uploads) or is parked; then it stays awake.
    pub(super) fn hibernate(&mut self, mut socket: Socket<V>) -> Resident<V> {
        let uploading = uploading(&mut socket);
        let Some(snapshots) = V::snapshot() else {
            return Resident::Awake(socket);
        };
        if uploading || self.parked || !self.components.is_empty() {
            return Resident::Awake(socket);
        }
        let saved = catch_unwind(AssertUnwindSafe(|| {
            snapshots
                .save(&*socket.assigns)
                .and_then(|state| serde_json::to_vec(&state).map_err(|e| e.to_string()))
        }));
        match saved {
            Ok(Ok(bytes)) => {
                self.prints = Prints::new();
                self.components = Registry::default();
                debug!(bytes = bytes.len(), "asleep");
                Resident::Asleep(bytes.into_boxed_slice())
            }
            _ => {
                warn!("the snapshot failed; the session stays awake");
                Resident::Awake(socket)
            }
        }
    }

    /// Wakes a session from its snapshot and pushes the whole page; `None` when it could
    /// not (the client got `phx_error` and rejoins).
    pub(super) async fn wake(&mut self, bytes: &[u8]) -> Option<Socket<V>> {
        let loaded = V::snapshot().and_then(|snapshots| {
            catch_unwind(AssertUnwindSafe(|| {
                serde_json::from_slice(bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|state| snapshots.load(state))
            }))
            .ok()?
            .ok()
        });
        let Some(view) = loaded else {
            warn!("a hibernated session did not load");
            self.crash(ErrorReason::Panic).await;
            return None;
        };
        let mut socket = Socket::new(view);
        self.prints.reset();
        socket.assigns.mark_all();
        match self.callback_once(&mut socket, None, |_| Ok(())).await {
            Outcome::Continue => {
                debug!("awake");
                Some(socket)
            }
            Outcome::Stop => None,
        }
    }
}
