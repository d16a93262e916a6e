//! A session that moves to another view-node when its own drains
//! ([`LiveView::snapshot`]).
//!
//! ```text
//! old node                         gateway                          new node
//! Drain ──▶ Outbox::moving ──────▶ holds the client's frames,
//!                                  sends Migrate after the ones
//!                                  it forwarded already
//! Migrate ─▶ snapshot, Outbox::moved ─▶ places the view id anew ──▶ restore, resume,
//! (ends; its presences stay             re-routes the channel,      one whole render
//!  until the node leaves)               forwards the held frames    as a `diff` push
//! ```
//!
//! `Migrate` reaches the session through its mailbox after every frame the gateway sent
//! before holding, and the held frames reach the new node after the snapshot: each
//! client event runs once, on one node, in order. A session that cannot move (its view
//! takes no snapshots, an upload is in progress, it is parked) ends with `phx_error`,
//! and its client rejoins on a node that stays.

use super::uploads::uploading;
use super::*;

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// The node drains: ask to move, or end with `phx_error`.
    pub(super) async fn drain(&mut self, socket: &mut Socket<V>) -> Outcome {
        if self.parked {
            // Nobody to tell: its client's rejoin mounts afresh elsewhere.
            return Outcome::Stop;
        }
        if V::snapshot().is_some() && !uploading(socket) && self.outbox.moving().await {
            debug!("moving");
            return Outcome::Continue;
        }
        self.fail("node_drained").await
    }

    /// The client's frames are held: write the snapshot, hand it on, end. The session's
    /// presences stay tracked here: the node removes them when it leaves the cluster,
    /// after the new node's are known, so nobody sees this session leave.
    pub(super) async fn migrate(
        &mut self,
        socket: &mut Socket<V>,
        identity: Option<u64>,
    ) -> Outcome {
        let Some(snapshots) = V::snapshot() else {
            return Outcome::Stop;
        };
        let route = self
            .env
            .as_ref()
            .and_then(|env| env.route.as_ref())
            .map_or("", Pattern::as_str);
        let started = std::time::Instant::now();
        let channel = (&*self.topic, self.join_ref());
        let saved = catch_unwind(AssertUnwindSafe(|| {
            Envelope::save(
                &snapshots,
                &*socket.assigns,
                route,
                channel,
                &self.uri,
                identity,
            )
        }));
        let envelope = match saved {
            Ok(Ok(envelope)) => envelope,
            Ok(Err(error)) => {
                warn!(%error, "the snapshot failed; the session ends");
                return Outcome::Stop;
            }
            Err(_) => {
                warn!("the snapshot panicked; the session ends");
                ErrorReason::Panic.count();
                return Outcome::Stop;
            }
        };
        let bytes = envelope.encode();
        #[expect(clippy::cast_precision_loss, reason = "a histogram, approximate")]
        metrics::histogram!("cinder_snapshot_bytes").record(bytes.len() as f64);
        metrics::histogram!("cinder_snapshot_seconds").record(started.elapsed().as_secs_f64());
        if self.outbox.moved(bytes).await {
            if let Some(held) = &mut self.held {
                held.presence_id = None;
            }
            debug!("moved");
        }
        Outcome::Stop
    }

    /// Starts a session restored from its snapshot: runs `resume`, then renders the
    /// whole page as a `diff` push (the client holds the page the old node rendered;
    /// this replaces it, patching only what differs). `None` when it failed: the client
    /// got `phx_error` and rejoins, mounting afresh.
    pub(super) async fn restore(&mut self, restored: Restored<V>) -> Option<Socket<V>> {
        let Restored {
            mut socket,
            join_ref,
            url,
        } = restored;
        self.join_ref = join_ref.map(String::into_boxed_str);
        self.uri = url.into();
        self.live = Some(Live::start(instruments::for_view::<V>()));
        let node = self.node().to_owned();
        let resumed = catch_unwind(AssertUnwindSafe(|| V::resume(&mut socket, &node)));
        let failed = match resumed {
            Ok(Ok(())) => None,
            Ok(Err(error)) => {
                warn!(%error, "resume failed");
                Some(ErrorReason::CallbackFailed)
            }
            Err(_) => {
                warn!("resume panicked");
                Some(ErrorReason::Panic)
            }
        };
        if let Some(reason) = failed {
            self.crash(reason).await;
            return None;
        }
        self.prints.reset();
        socket.assigns.mark_all();
        match self.callback_once(&mut socket, None, |_| Ok(())).await {
            Outcome::Continue => {
                debug!("restored from a snapshot");
                Some(socket)
            }
            Outcome::Stop => None,
        }
    }
}
