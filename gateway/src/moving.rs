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
//! and sending share a lock per link, so that no frame can slip to A after `Migrate`;
//! a frame that read the channel's route just before it was pointed at B still reaches
//! A's link, and goes on to B from there.
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

/// The sessions of one link that are moving away from it: their held frames, then where
/// they went (`T`: the new node's link).
#[derive(Debug)]
pub(crate) struct Holds<T> {
    sessions: RwLock<HashMap<u64, Move<T>>>,
}

impl<T> Default for Holds<T> {
    fn default() -> Self {
        Holds {
            sessions: RwLock::new(HashMap::new()),
        }
    }
}

#[derive(Debug)]
enum Move<T> {
    /// Waiting for the snapshot: the client's frames wait here.
    Holding { frames: Vec<Up>, bytes: usize },
    /// Resumed at `T`. A frame that read the channel's route before it was pointed
    /// there still reaches this link; it goes on to `T`, after the held ones. Kept until
    /// this link ends.
    Moved(T),
}

impl<T: Clone> Holds<T> {
    fn read(&self) -> RwLockReadGuard<'_, HashMap<u64, Move<T>>> {
        self.sessions.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<u64, Move<T>>> {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `send` for `up` unless its session is moving (then `up` is held, or refused
    /// past the bound) or moved (then `forward` takes it to where it went). `send` runs
    /// under the read lock, so that `start` cannot slip its `Migrate` between the check
    /// and the send.
    pub(crate) fn send_or_hold(
        &self,
        up: Up,
        send: impl FnOnce(Up) -> Result<(), SendError>,
        forward: impl FnOnce(T, Up) -> Result<(), SendError>,
    ) -> Result<(), SendError> {
        let sessions = self.read();
        match sessions.get(&up.session) {
            None => return send(up),
            Some(Move::Moved(to)) => {
                let to = to.clone();
                drop(sessions);
                return forward(to, up);
            }
            Some(Move::Holding { .. }) => {}
        }
        drop(sessions);
        let mut sessions = self.write();
        match sessions.get_mut(&up.session) {
            // Refused meanwhile (too many frames): the channel is failing.
            None => Err(SendError::Closed),
            Some(Move::Moved(to)) => {
                let to = to.clone();
                drop(sessions);
                forward(to, up)
            }
            Some(Move::Holding { frames, bytes }) => {
                let size = crate::link::queued_size(&up);
                if frames.len() >= MAX_HELD_FRAMES || *bytes + size > MAX_HELD_BYTES {
                    warn!(
                        session = up.session,
                        "too many frames while the session moves"
                    );
                    sessions.remove(&up.session);
                    return Err(SendError::Closed);
                }
                *bytes += size;
                frames.push(up);
                Ok(())
            }
        }
    }

    /// The node says `session` can move: hold its frames from now on and ask the node
    /// for its snapshot (`migrate` queues `Migrate` on the same link).
    pub(crate) fn start(&self, session: u64, migrate: impl FnOnce(Up)) {
        let mut sessions = self.write();
        sessions.insert(
            session,
            Move::Holding {
                frames: Vec::new(),
                bytes: 0,
            },
        );
        migrate(Up {
            session,
            kind: Some(up::Kind::Migrate(Migrate {})),
            trace: HashMap::new(),
        });
    }

    /// The snapshot of `session` came: `resume` gets the held frames and sends them on
    /// (under the lock, so that a frame arriving meanwhile waits and follows them), and
    /// returns where the session went, or `None` when it could not go anywhere. Whether
    /// it went.
    pub(crate) fn finish(&self, session: u64, resume: impl FnOnce(Vec<Up>) -> Option<T>) -> bool {
        let mut sessions = self.write();
        let frames = match sessions.remove(&session) {
            Some(Move::Holding { frames, .. }) => frames,
            _ => Vec::new(),
        };
        let Some(to) = resume(frames) else {
            return false;
        };
        sessions.insert(session, Move::Moved(to));
        true
    }

    /// Ends the move of `session`; whether it was still holding.
    pub(crate) fn cancel(&self, session: u64) -> bool {
        matches!(self.write().remove(&session), Some(Move::Holding { .. }))
    }

    /// Forgets every move (the link is gone).
    pub(crate) fn clear(&self) {
        self.write().clear();
    }
}

/// The node behind `from` handed over `session` as `moved`: resume it on the node
/// placement picks now, forward what was held, and route the channel there. The client
/// is told to rejoin (`phx_error`) when no node can take it.
pub(crate) fn resume(nodes: &Nodes, from: &Link, session: u64, conn: &Arc<Conn>, moved: Moved) {
    let Some(topic) = conn.view_topic(session) else {
        debug!(session, "a moved session whose channel is gone");
        from.holds.cancel(session);
        return;
    };
    let Some(to) = nodes.place(&topic["lv:".len()..]) else {
        info!(session, "no view-node to move a session to");
        from.holds.cancel(session);
        conn.node_down(session);
        return;
    };
    let went = from.holds.finish(session, |held| {
        if !to.register(session, conn) {
            return None;
        }
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
            return None;
        }
        Some(to.clone())
    });
    if went {
        conn.reroute(session, &to);
        metrics::counter!("cinder_gateway_sessions_moved_total").increment(1);
        debug!(session, from = %from.addr, to = %to.addr, "session moved");
    } else {
        conn.node_down(session);
    }
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

    fn payload(up: &Up) -> u8 {
        match &up.kind {
            Some(up::Kind::Frame(bytes)) => bytes[0],
            _ => panic!("not a frame"),
        }
    }

    /// Sends or forwards `up` through `holds`, recording where it went.
    fn send(holds: &Holds<&'static str>, up: Up, log: &mut Vec<(&'static str, u8)>) {
        let n = payload(&up);
        let went = std::cell::Cell::new(None);
        holds
            .send_or_hold(
                up,
                |_| {
                    went.set(Some("here"));
                    Ok(())
                },
                |to, _| {
                    went.set(Some(to));
                    Ok(())
                },
            )
            .unwrap();
        if let Some(to) = went.get() {
            log.push((to, n));
        }
    }

    #[test]
    fn a_moving_session_s_frames_wait_then_follow_it_in_order() {
        let holds = Holds::<&'static str>::default();
        let mut log = Vec::new();
        let mut migrates = Vec::new();
        send(&holds, frame(1, 0), &mut log);
        holds.start(1, |up| migrates.push(up));
        assert!(matches!(migrates[0].kind, Some(up::Kind::Migrate(_))));
        for n in 1..=3 {
            send(&holds, frame(1, n), &mut log);
        }
        send(&holds, frame(2, 9), &mut log);
        assert_eq!(log, [("here", 0), ("here", 9)], "held: 1, 2, 3");
        let mut resumed = Vec::new();
        assert!(holds.finish(1, |held| {
            resumed = held.iter().map(payload).collect();
            Some("there")
        }));
        assert_eq!(resumed, [1, 2, 3]);
        // A frame that read the old route still reaches the old link: it goes on.
        send(&holds, frame(1, 4), &mut log);
        assert_eq!(log.last(), Some(&("there", 4)));
        // Nowhere to go: nothing is kept, and the next frame is the old link's to refuse.
        holds.start(3, |_| {});
        assert!(!holds.finish(3, |_| None));
        send(&holds, frame(3, 5), &mut log);
        assert_eq!(log.last(), Some(&("here", 5)));
    }

    #[test]
    fn a_client_that_floods_a_moving_session_loses_its_channel() {
        let holds = Holds::<&'static str>::default();
        holds.start(7, |_| {});
        let refuse = |_: Up| -> Result<(), SendError> { panic!("held, not sent") };
        for n in 0..MAX_HELD_FRAMES {
            let n = u8::try_from(n % 250).unwrap();
            holds
                .send_or_hold(frame(7, n), refuse, |_, _| panic!("not moved"))
                .unwrap();
        }
        assert_eq!(
            holds.send_or_hold(frame(7, 0), refuse, |_, _| panic!("not moved")),
            Err(SendError::Closed)
        );
        // Its move is forgotten: the snapshot that comes finds nothing held.
        assert!(!holds.cancel(7));
    }
}
