//! The states dead renders mounted, kept for their page's join
//! ([`LiveView::ADOPT_DEAD_RENDER`]): one `mount` per page.
//!
//! Keyed like parked sessions ([`ParkKey`]: the view id and the digest of the session
//! and CSRF tokens), so only the join from the page that was rendered, in the same
//! browser session, takes a state. Bounded in time (a state older than the TTL is never
//! taken) and in count (past the cap the oldest goes first), checked at every insert:
//! a client that fetches pages in a loop costs at most the cap, and honest joins then
//! mount as usual.
//!
//! [`LiveView::ADOPT_DEAD_RENDER`]: crate::LiveView::ADOPT_DEAD_RENDER

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::parking::ParkKey;

/// How long a dead render's state waits for its join.
pub(crate) const TTL: Duration = Duration::from_secs(10);
/// How many dead renders' states a node keeps at most.
pub(crate) const MAX: usize = 10_000;

type Slot = (Box<str>, u64);

/// The kept states, and the order they came in.
#[derive(Default)]
pub(crate) struct DeadRenders {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    states: HashMap<Slot, (Instant, Box<dyn Any + Send>)>,
    /// Slots by age; an entry whose slot was taken or replaced since is skipped.
    order: VecDeque<(Slot, Instant)>,
}

impl std::fmt::Debug for DeadRenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadRenders").finish_non_exhaustive()
    }
}

impl DeadRenders {
    /// Keeps `state` for the join `key` names.
    pub(crate) fn keep(&self, key: &ParkKey, state: Box<dyn Any + Send>) {
        let now = Instant::now();
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let Kept { states, order } = &mut *kept;
        while let Some((slot, at)) = order.front() {
            let expired = now.duration_since(*at) >= TTL;
            if !expired && states.len() < MAX {
                break;
            }
            if states.get(slot).is_some_and(|(kept_at, _)| kept_at == at) {
                states.remove(slot);
            }
            order.pop_front();
        }
        let slot = key.slot();
        order.push_back((slot.clone(), now));
        states.insert(slot, (now, state));
    }

    /// The state kept for `key`, if it is there and young enough.
    pub(crate) fn take(&self, key: &ParkKey) -> Option<Box<dyn Any + Send>> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, state) = kept.states.remove(&key.slot())?;
        (at.elapsed() < TTL).then_some(state)
    }
}
