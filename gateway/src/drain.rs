//! The drain a rolling update relies on: what the gateway does between the signal to
//! stop and its exit.
//!
//! ```text
//! signal ──▶ /readyz 503, still accepting ──▶ listener closed, sockets closed ──▶ exit
//!            (Drain::serve)                    one by one, 1012, (Drain::close)    (no socket left,
//!                                                                                  or Drain::deadline)
//! ```
//!
//! The serve window gives load balancers time to see `/readyz` fail and send new clients
//! elsewhere, while this gateway still answers those that arrive meanwhile. Then the
//! sockets are closed in a random order, spread evenly over the close window with a
//! random offset inside each one's slot (stratified jitter: no two bursts line up, and
//! the rate the other gateways see stays at about sockets ÷ window). The close code is
//! 1012 "service restart": the official `phoenix` client reconnects on any code but 1000,
//! its first retry after 10 ms, and its LiveView channels rejoin on the new socket.
//!
//! [`Sockets`] is the registry the close needs: every open WebSocket's shared half, by
//! the id of its slot under the connection cap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::seq::SliceRandom as _;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::conn::{CloseReason, Conn};

/// How a gateway drains once told to stop ([`Gateway::serve_until_drained`]).
///
/// [`Gateway::serve_until_drained`]: crate::Gateway::serve_until_drained
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drain {
    /// How long the gateway goes on accepting after the signal, with `/readyz` answering
    /// 503, so that load balancers stop sending it clients first. Flag:
    /// `--drain-serve-ms`.
    pub serve: Duration,
    /// The window the open sockets are closed over, each at a random point of its own
    /// slot, so their clients do not reconnect elsewhere all at once. Flag:
    /// `--drain-close-ms`.
    pub close: Duration,
    /// The latest the drain ends, counted from the signal, whatever is still open.
    /// Flag: `--drain-deadline-ms`.
    pub deadline: Duration,
}

impl Drain {
    /// Default serve window: a few readiness probe periods.
    pub const DEFAULT_SERVE: Duration = Duration::from_secs(5);
    /// Default close window: 10,000 sockets close at 1,000 a second.
    pub const DEFAULT_CLOSE: Duration = Duration::from_secs(10);
    /// Default deadline: under Kubernetes' default grace period of 30 s plus a preStop.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            serve: Self::DEFAULT_SERVE,
            close: Self::DEFAULT_CLOSE,
            deadline: Self::DEFAULT_DEADLINE,
        }
    }
}

/// The open WebSockets and the drain's state, shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Sockets {
    /// Every socket's shared half, by its slot id.
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Set at the signal: `/readyz` answers 503.
    draining: AtomicBool,
    /// Set when the close window starts: a socket registered from now on is closed at
    /// once (its upgrade was under way when the others were collected).
    closing: AtomicBool,
    /// Woken when the last slot under the connection cap is released.
    emptied: Notify,
}

// === impl Sockets ===

impl Sockets {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        // Nothing panics while holding it; a poisoned map is still a plain map.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the open socket `conn` under `id`; closes it at once if the close window
    /// has begun.
    pub(crate) fn register(&self, id: u64, conn: &Arc<Conn>) {
        self.lock().insert(id, conn.clone());
        if self.closing.load(Ordering::Acquire) {
            conn.close(CloseReason::DRAIN);
        }
    }

    /// Forgets the socket `id` (it ended).
    pub(crate) fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// The last socket slot was released.
    pub(crate) fn emptied(&self) {
        self.emptied.notify_waiters();
    }

    /// Whether the drain has begun (`/readyz` answers 503).
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// The drain begins.
    pub(crate) fn begin(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Closes every open socket, spread over `window` in a random order (see the module
    /// doc). Returns once the last close was asked for.
    pub(crate) async fn close_all(&self, window: Duration) {
        self.closing.store(true, Ordering::Release);
        let mut conns: Vec<Arc<Conn>> = self.lock().values().cloned().collect();
        conns.shuffle(&mut rand::rng());
        // Drawn before the first wait: the thread's generator cannot be held across one.
        let times: Vec<Duration> = schedule(conns.len(), window, &mut rand::rng()).collect();
        let start = Instant::now();
        for (conn, at) in conns.iter().zip(times) {
            tokio::time::sleep_until(start + at).await;
            conn.close(CloseReason::DRAIN);
        }
    }

    /// Waits until `open()` (the slots taken under the connection cap) is 0.
    pub(crate) async fn wait_empty(&self, open: impl Fn() -> usize) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            // Registered before the check, so a release in between is not missed.
            emptied.as_mut().enable();
            if open() == 0 {
                return;
            }
            emptied.await;
        }
    }
}

/// When each of `count` closes happens, from the start of `window`: slot `i` of
/// `count` equal slots, at a uniformly random point inside it. Non-decreasing.
fn schedule(
    count: usize,
    window: Duration,
    rng: &mut impl rand::Rng,
) -> impl Iterator<Item = Duration> {
    let slot = if count == 0 {
        Duration::ZERO
    } else {
        window.div_f64(count as f64)
    };
    (0..count).map(move |i| slot.mul_f64(i as f64 + rng.random::<f64>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_are_spread_over_the_window_one_per_slot() {
        let window = Duration::from_secs(10);
        let times: Vec<Duration> = schedule(1000, window, &mut rand::rng()).collect();
        assert_eq!(times.len(), 1000);
        for (i, at) in times.iter().enumerate() {
            let slot = Duration::from_millis(10);
            assert!(
                *at >= slot * u32::try_from(i).unwrap()
                    && *at < slot * u32::try_from(i + 1).unwrap(),
                "close {i} at {at:?} is outside its slot"
            );
        }
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn nothing_to_close_schedules_nothing() {
        assert_eq!(
            schedule(0, Duration::from_secs(1), &mut rand::rng()).count(),
            0
        );
    }
}
