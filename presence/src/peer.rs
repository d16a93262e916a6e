//! The replica lifecycle table: which life of each peer we know, and whether it is up.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::replica::ReplicaRef;

/// What this node believes about a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerStatus {
    /// Heard from within the down period; its entries are listed.
    Up,
    /// Silent longer than the down period; its entries are kept but hidden.
    Down,
    /// Silent longer than the permdown period, replaced by a newer life, or gone
    /// gracefully; its entries are purged and its replica forgotten.
    Gone,
}

#[derive(Clone, Debug)]
struct Peer {
    vsn: u64,
    status: PeerStatus,
    last_heard: u64,
    /// The life announced its own departure; nothing more from it is believed.
    left: bool,
}

/// What a heartbeat from `from` means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// From ourselves (an echo, or our own previous life) or from an older life of a
    /// peer than the one we know: ignore the whole message.
    Stale,
    /// The known, up life.
    Known,
    /// A life we did not know: a new name, or a life we had forgotten (a partition that
    /// outlasted the permdown period).
    New,
    /// The known life, back from down: show its entries again.
    Recovered,
    /// A newer life of a known node: forget `old` (if it was not already), then treat
    /// `from` as new.
    Replaced {
        /// The life that restarted, unless already gone.
        old: Option<ReplicaRef>,
    },
}

/// A status change caused by silence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    Down(ReplicaRef),
    Gone(ReplicaRef),
}

/// One record per peer name. Records of gone peers are kept, so that late messages of
/// an older life are still recognised as stale.
#[derive(Clone, Debug)]
pub(crate) struct Peers {
    me: ReplicaRef,
    by_name: BTreeMap<Arc<str>, Peer>,
}

impl Peers {
    pub(crate) fn new(me: ReplicaRef) -> Self {
        Self {
            me,
            by_name: BTreeMap::new(),
        }
    }

    /// Records a heartbeat from `from` at `now`.
    pub(crate) fn heartbeat(&mut self, from: &ReplicaRef, now: u64) -> Arrival {
        if from.same_node(&self.me) {
            return Arrival::Stale;
        }
        let fresh = Peer {
            vsn: from.vsn(),
            status: PeerStatus::Up,
            last_heard: now,
            left: false,
        };
        let Some(peer) = self.by_name.get_mut(from.name()) else {
            self.by_name.insert(from.name().into(), fresh);
            return Arrival::New;
        };
        if from.vsn() < peer.vsn || (from.vsn() == peer.vsn && peer.left) {
            return Arrival::Stale;
        }
        if from.vsn() > peer.vsn {
            let old =
                (peer.status != PeerStatus::Gone).then(|| ReplicaRef::new(from.name(), peer.vsn));
            *peer = fresh;
            return Arrival::Replaced { old };
        }
        let was = peer.status;
        *peer = fresh;
        match was {
            PeerStatus::Up => Arrival::Known,
            PeerStatus::Down => Arrival::Recovered,
            PeerStatus::Gone => Arrival::New,
        }
    }

    /// Whether a message from `from` comes from a life older than the one we know, from
    /// a life that announced its departure, or from ourselves, and must be ignored.
    pub(crate) fn is_stale(&self, from: &ReplicaRef) -> bool {
        from.same_node(&self.me)
            || self
                .by_name
                .get(from.name())
                .is_some_and(|peer| from.vsn() < peer.vsn || (from.vsn() == peer.vsn && peer.left))
    }

    /// Records a graceful leave of `from`; returns the life to forget, if any.
    pub(crate) fn leave(&mut self, from: &ReplicaRef, now: u64) -> Option<ReplicaRef> {
        if self.is_stale(from) {
            return None;
        }
        let gone = Peer {
            vsn: from.vsn(),
            status: PeerStatus::Gone,
            last_heard: now,
            left: true,
        };
        match self.by_name.insert(from.name().into(), gone) {
            Some(old) if old.status != PeerStatus::Gone => {
                Some(ReplicaRef::new(from.name(), old.vsn))
            }
            _ => None,
        }
    }

    /// Marks peers down or gone after their silence; a peer silent past both periods
    /// goes through both.
    pub(crate) fn expire(
        &mut self,
        now: u64,
        down_period: u64,
        permdown_period: u64,
    ) -> Vec<Expiry> {
        let mut changes = Vec::new();
        for (name, peer) in &mut self.by_name {
            let silence = now.saturating_sub(peer.last_heard);
            let replica = ReplicaRef::new(Arc::clone(name), peer.vsn);
            if peer.status == PeerStatus::Up && silence > down_period {
                peer.status = PeerStatus::Down;
                changes.push(Expiry::Down(replica.clone()));
            }
            if peer.status == PeerStatus::Down && silence > permdown_period {
                peer.status = PeerStatus::Gone;
                changes.push(Expiry::Gone(replica));
            }
        }
        changes
    }

    /// After our own link to the cluster comes back, counts every peer as heard at `now`:
    /// their silence was ours.
    pub(crate) fn forgive(&mut self, now: u64) {
        for peer in self.by_name.values_mut() {
            peer.last_heard = peer.last_heard.max(now);
        }
    }

    /// The current life and status of every peer.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ReplicaRef, PeerStatus)> + '_ {
        self.by_name
            .iter()
            .map(|(name, peer)| (ReplicaRef::new(Arc::clone(name), peer.vsn), peer.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> Peers {
        Peers::new(ReplicaRef::new("me", 1))
    }

    #[test]
    fn lifecycle_follows_phoenix_table() {
        let mut p = peers();
        let b1 = ReplicaRef::new("b", 1);
        assert_eq!(p.heartbeat(&b1, 0), Arrival::New);
        assert_eq!(p.heartbeat(&b1, 10), Arrival::Known);
        assert_eq!(p.expire(50, 30, 100), vec![Expiry::Down(b1.clone())]);
        assert_eq!(p.heartbeat(&b1, 60), Arrival::Recovered);
        let b2 = ReplicaRef::new("b", 2);
        assert_eq!(
            p.heartbeat(&b2, 70),
            Arrival::Replaced {
                old: Some(b1.clone())
            }
        );
        assert_eq!(p.heartbeat(&b1, 80), Arrival::Stale);
        assert_eq!(
            p.expire(300, 30, 100),
            vec![Expiry::Down(b2.clone()), Expiry::Gone(b2.clone())]
        );
        assert_eq!(p.heartbeat(&b2, 310), Arrival::New);
    }

    #[test]
    fn a_life_that_left_gracefully_does_not_come_back() {
        let mut p = peers();
        let b1 = ReplicaRef::new("b", 1);
        p.heartbeat(&b1, 0);
        assert_eq!(p.leave(&b1, 5), Some(b1.clone()));
        // A late or duplicated heartbeat of that life is not a partition healing.
        assert_eq!(p.heartbeat(&b1, 10), Arrival::Stale);
        assert!(p.is_stale(&b1));
        assert_eq!(
            p.heartbeat(&ReplicaRef::new("b", 2), 20),
            Arrival::Replaced { old: None }
        );
    }

    #[test]
    fn own_name_is_always_stale() {
        let mut p = peers();
        assert_eq!(p.heartbeat(&ReplicaRef::new("me", 0), 0), Arrival::Stale);
        assert_eq!(p.heartbeat(&ReplicaRef::new("me", 1), 0), Arrival::Stale);
    }

    #[test]
    fn forgiving_restarts_the_silence() {
        let mut p = peers();
        p.heartbeat(&ReplicaRef::new("b", 1), 0);
        p.forgive(1_000);
        assert!(p.expire(1_020, 30, 100).is_empty());
    }
}
