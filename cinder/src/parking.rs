//! The sessions a node keeps parked while their clients reconnect ([`LiveView::PARK`]),
//! by view id, and who may adopt them.
//!
//! A session is adopted only by a join for the same view id carrying the same session
//! token and the same CSRF token: the page that started it, from the same browser
//! session, through any gateway (placement is by view id). Identities are kept as digests
//! keyed with the cluster secret (the same on every node, so a session that moved to
//! another node carries its identity along), and the map holds no token. The map is
//! capped: past `max` parked sessions the one parked longest ends first.
//!
//! [`LiveView::PARK`]: crate::LiveView::PARK

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::session::{Input, SessionHandle};
use crate::token::Signer;

/// How long a parked session waits for its client by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);
/// How many sessions a node keeps parked at most by default.
pub const DEFAULT_MAX_PARKED: usize = 10_000;

/// What a rejoin must show to adopt a parked session.
#[derive(Debug, Clone)]
pub(crate) struct ParkKey {
    view_id: Box<str>,
    pub(crate) identity: u64,
}

impl ParkKey {
    /// The key of a session of `view_id` whose identity digest is `identity`.
    pub(crate) fn new(view_id: &str, identity: u64) -> Self {
        ParkKey {
            view_id: view_id.into(),
            identity,
        }
    }

    /// The key as a map's key.
    pub(crate) fn slot(&self) -> (Box<str>, u64) {
        (self.view_id.clone(), self.identity)
    }

    /// The key of a session of `view_id` joined with `session_token` and `csrf_token`.
    pub(crate) fn of(
        signer: &Signer,
        view_id: &str,
        session_token: &str,
        csrf_token: &str,
    ) -> Self {
        ParkKey::new(view_id, signer.digest("park", &[session_token, csrf_token]))
    }
}

/// The parked sessions of one node.
#[derive(Debug)]
pub(crate) struct Parking {
    parked: Arc<Mutex<Parked>>,
    pub(crate) grace: Duration,
    pub(crate) max: usize,
}

/// The map and the order sessions were parked in.
#[derive(Debug, Default)]
struct Parked {
    /// By view id and identity: a join that shows the same view id and another
    /// identity neither adopts nor evicts the parked session. The number says which
    /// parking of that slot it is.
    sessions: HashMap<Slot, (u64, SessionHandle)>,
    /// Slots in the order they were parked, with their parking's number and instant:
    /// the oldest is evicted first, in constant time, and as the grace is the same for
    /// all, this is also the order they expire in (one sweeper ends them, no timer per
    /// session). An entry whose slot was adopted or parked again since is skipped, and
    /// such entries are dropped when they outnumber the live ones.
    order: VecDeque<(Slot, u64, Instant)>,
    next: u64,
    /// Whether the sweeper runs (it stops when nothing is parked).
    sweeping: bool,
}

impl Parked {
    /// Ends the parking `number` of `slot`, if it is still the one there.
    fn end(&mut self, slot: &Slot, number: u64) {
        if self.sessions.get(slot).is_some_and(|(n, _)| *n == number)
            && let Some((_, ended)) = self.sessions.remove(slot)
        {
            let _ = ended.try_send(Input::Shutdown);
        }
    }
}

type Slot = (Box<str>, u64);

impl Default for Parking {
    fn default() -> Self {
        Parking {
            parked: Arc::new(Mutex::new(Parked::default())),
            grace: DEFAULT_GRACE,
            max: DEFAULT_MAX_PARKED,
        }
    }
}

impl Parking {
    /// Parks the session of `handle` if its view parks (it carries a key) and the cap
    /// allows; false when it was not parked (the caller stops it).
    pub(crate) fn park(&self, mut handle: SessionHandle) -> Result<(), SessionHandle> {
        if self.max == 0 {
            return Err(handle);
        }
        let Some(key) = handle.park.take() else {
            return Err(handle);
        };
        if handle.try_send(Input::Park).is_err() {
            return Err(handle);
        }
        let slot: Slot = (key.view_id.clone(), key.identity);
        handle.park = Some(key);
        let mut parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        while parked.sessions.len() >= self.max {
            let Some((oldest, number, _)) = parked.order.pop_front() else {
                break;
            };
            parked.end(&oldest, number);
        }
        let number = parked.next;
        parked.next += 1;
        parked
            .order
            .push_back((slot.clone(), number, Instant::now()));
        if let Some((_, replaced)) = parked.sessions.insert(slot, (number, handle)) {
            let _ = replaced.try_send(Input::Shutdown);
        }
        if parked.order.len() > 2 * parked.sessions.len() + 64 {
            let Parked {
                sessions, order, ..
            } = &mut *parked;
            order.retain(|(slot, n, _)| sessions.get(slot).is_some_and(|(m, _)| m == n));
        }
        metrics::gauge!("cinder_parked_sessions").set(parked.sessions.len() as f64);
        if !parked.sweeping {
            parked.sweeping = true;
            tokio::spawn(sweep(Arc::downgrade(&self.parked), self.grace));
        }
        Ok(())
    }

    /// Ends every parked session.
    pub(crate) fn end_all(&self) {
        let mut parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, (_, handle)) in parked.sessions.drain() {
            let _ = handle.try_send(Input::Shutdown);
        }
        parked.order.clear();
        metrics::gauge!("cinder_parked_sessions").set(0.0);
    }

    /// The parked session `key` names (view id and identity), taken out of the map, if
    /// it is still there.
    pub(crate) fn adopt(&self, key: &ParkKey) -> Option<SessionHandle> {
        let mut parked = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        let handle = parked
            .sessions
            .remove(&(key.view_id.clone(), key.identity))
            .map(|(_, handle)| handle)
            .filter(|h| !h.is_closed());
        metrics::gauge!("cinder_parked_sessions").set(parked.sessions.len() as f64);
        handle
    }
}

/// Ends parked sessions as their grace runs out, oldest first; stops when none is left
/// (the next park starts it again) or the parking is gone.
async fn sweep(parked: Weak<Mutex<Parked>>, grace: Duration) {
    loop {
        let next = {
            let Some(parked) = parked.upgrade() else {
                return;
            };
            let mut parked = parked.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            while let Some((_, _, at)) = parked.order.front()
                && now.duration_since(*at) >= grace
            {
                if let Some((slot, number, _)) = parked.order.pop_front() {
                    parked.end(&slot, number);
                }
            }
            metrics::gauge!("cinder_parked_sessions").set(parked.sessions.len() as f64);
            match parked.order.front() {
                Some((_, _, at)) => *at + grace,
                None => {
                    parked.sweeping = false;
                    return;
                }
            }
        };
        tokio::time::sleep_until(next.into()).await;
    }
}
