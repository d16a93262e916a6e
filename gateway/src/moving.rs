//! Sessions moving from a draining view-node to another, without their clients noticing.
//!
//! ```text
//! node A: Moving ──▶ hold the client's frames, send Migrate to A
//! node A: Moved{snapshot} ──▶ place the view id (A is out of placement), Resume{snapshot}
//!                             to node B, route the channel to B, forward the held frames
//! ```
//!
//! Every frame the gateway forwarded to A before holding reaches A's session before
//! `Migrate` (one ordered stream, one ordered mailbox), and every frame after it waits
//! here and reaches B after `Resume`: each client event runs once, in order. Holding
//! and sending share a lock per link, so that no frame can slip to A after `Migrate`.
//!
//! Held frames are bounded per session (count and bytes); a client that sends more while
//! its session moves gets its channel failed (`phx_error`), and its rejoin mounts afresh.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cinder_proto::v1::{Migrate, Moved, Resume, Up, up};
use tracing::{debug, info, warn};

use crate::conn::Conn;
use crate::link::{Link, Nodes, SendError};

/// Frames held for one moving session at most.
const MAX_HELD_FRAMES: usize = 256;
/// Bytes held for one moving session at most.
const MAX_HELD_BYTES: usize = 1 << 20;

/// The frames held for the sessions of one link that are moving away from it.
#[derive(Debug, Default)]
pub(crate) struct Holds {
    sessions: RwLock<HashMap<u64, Held>>,
}

#[derive(Debug, Default)]
struct Held {
    frames: Vec<Up>,
    bytes: usize,
}

impl Holds {
    fn read(&self) -> RwLockReadGuard<'_, HashMap<u64, Held>> {
        self.sessions.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<u64, Held>> {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `send` for `up` unless its session is moving, in which case `up` is held
    /// (or refused past the bound). Under the read lock, so that `start` cannot slip
    /// its `Migrate` between the check and the send.
    pub(crate) fn send_or_hold(
        &self,
        up: Up,
        send: impl FnOnce(Up) -> Result<(), SendError>,
    ) -> Result<(), SendError> {
        let sessions = self.read();
        if sessions.is_empty() || !sessions.contains_key(&up.session) {
            return send(up);
        }
        drop(sessions);
        let mut sessions = self.write();
        let Some(held) = sessions.get_mut(&up.session) else {
            // Its move ended meanwhile: the caller's route is stale, and the client is
            // told by whoever ended it.
            return Err(SendError::Closed);
        };
        let bytes = crate::link::queued_size(&up);
        if held.frames.len() >= MAX_HELD_FRAMES || held.bytes + bytes > MAX_HELD_BYTES {
            warn!(
                session = up.session,
                "too many frames while the session moves"
            );
            sessions.remove(&up.session);
            return Err(SendError::Closed);
        }
        held.bytes += bytes;
        held.frames.push(up);
        Ok(())
    }

    /// The node says `session` can move: hold its frames from now on and ask the node
    /// for its snapshot (`migrate` queues `Migrate` on the same link).
    pub(crate) fn start(&self, session: u64, migrate: impl FnOnce(Up)) {
        let mut sessions = self.write();
        sessions.insert(session, Held::default());
        migrate(Up {
            session,
            kind: Some(up::Kind::Migrate(Migrate {})),
            trace: HashMap::new(),
        });
    }

    /// Ends the move of `session`: its held frames, if it was moving.
    pub(crate) fn take(&self, session: u64) -> Option<Vec<Up>> {
        self.write().remove(&session).map(|held| held.frames)
    }

    /// Forgets every move (the link is gone).
    pub(crate) fn clear(&self) {
        self.write().clear();
    }
}

/// The node behind `from` handed over `session` as `moved`: resume it on the node
/// placement picks now, route its channel there and forward what was held. The client
/// is told to rejoin (`phx_error`) when no node can take it.
pub(crate) fn resume(nodes: &Nodes, from: &Link, session: u64, conn: &Arc<Conn>, moved: Moved) {
    let held = from.holds.take(session).unwrap_or_default();
    let Some(topic) = conn.view_topic(session) else {
        debug!(session, "a moved session whose channel is gone");
        return;
    };
    let Some(to) = nodes.place(&topic["lv:".len()..]) else {
        info!(session, "no view-node to move a session to");
        conn.node_down(session);
        return;
    };
    if !to.register(session, conn) {
        conn.node_down(session);
        return;
    }
    conn.reroute(session, &to);
    let resume = Up {
        session,
        kind: Some(up::Kind::Resume(Resume {
            snapshot: moved.snapshot,
        })),
        trace: HashMap::new(),
    };
    let sent = std::iter::once(resume)
        .chain(held)
        .try_for_each(|up| to.send(up, conn));
    if sent.is_err() {
        to.unregister(session);
        conn.node_down(session);
        return;
    }
    metrics::counter!("cinder_gateway_sessions_moved_total").increment(1);
    debug!(session, from = %from.addr, to = %to.addr, "session moved");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn frame(session: u64, n: u8) -> Up {
        Up {
            session,
            kind: Some(up::Kind::Frame(vec![n])),
            trace: HashMap::new(),
        }
    }

    /// Sends into `sent`.
    fn into(sent: &mut Vec<Up>) -> impl FnOnce(Up) -> Result<(), SendError> + '_ {
        |up| {
            sent.push(up);
            Ok(())
        }
    }

    fn payload(up: &Up) -> u8 {
        match &up.kind {
            Some(up::Kind::Frame(bytes)) => bytes[0],
            _ => panic!("not a frame"),
        }
    }

    #[test]
    fn frames_of_a_moving_session_wait_in_order_and_others_pass() {
        let holds = Holds::default();
        let mut sent = Vec::new();
        let mut migrates = Vec::new();
        holds.send_or_hold(frame(1, 0), into(&mut sent)).unwrap();
        holds.start(1, |up| migrates.push(up));
        assert!(matches!(migrates[0].kind, Some(up::Kind::Migrate(_))));
        for n in 1..=3 {
            holds.send_or_hold(frame(1, n), |_| panic!("held")).unwrap();
        }
        holds.send_or_hold(frame(2, 9), into(&mut sent)).unwrap();
        assert_eq!(sent.iter().map(payload).collect::<Vec<_>>(), [0, 9]);
        let held = holds.take(1).unwrap();
        assert_eq!(held.iter().map(payload).collect::<Vec<_>>(), [1, 2, 3]);
        // The move is over: frames pass again, and nothing is held for it any more.
        holds.send_or_hold(frame(1, 4), into(&mut sent)).unwrap();
        assert_eq!(sent.len(), 3);
        assert!(holds.take(1).is_none());
    }

    #[test]
    fn a_client_that_floods_a_moving_session_loses_its_channel() {
        let holds = Holds::default();
        holds.start(7, |_| {});
        for n in 0..MAX_HELD_FRAMES {
            holds
                .send_or_hold(frame(7, (n % 250) as u8), |_| panic!("held"))
                .unwrap();
        }
        assert_eq!(
            holds.send_or_hold(frame(7, 0), |_| panic!("held")),
            Err(SendError::Closed)
        );
        // Its move is forgotten: the moved snapshot finds nothing to resume.
        assert!(holds.take(7).is_none());
    }
}
