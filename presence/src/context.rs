//! The causal context: every dot a state has observed, as a compacted clock plus clouds.
//!
//! A dot is *observed* when it is at or below its replica's counter in the clock, or sits
//! in that replica's cloud (seen, but with a gap below it). An observed dot without a
//! value in the state means "removed"; that is the whole tombstone story, so a removed
//! dot must never leave the context (see the crate's deviation from Phoenix in
//! [`crate::crdt`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::{Clock, Dot};
use crate::replica::ReplicaRef;

/// Observed dots per replica: a contiguous prefix (the clock) plus outliers (clouds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Context {
    /// Highest contiguous counter seen, per known replica.
    clock: Clock,
    /// Counters seen above a gap, per replica; always above the clock's counter.
    clouds: BTreeMap<ReplicaRef, BTreeSet<u64>>,
}

impl Context {
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn knows(&self, replica: &ReplicaRef) -> bool {
        self.clock.contains(replica)
    }

    /// Makes `replica` known with nothing observed yet, if it was unknown.
    pub(crate) fn learn(&mut self, replica: &ReplicaRef) {
        self.clock.raise(replica, 0);
    }

    /// Forgets `replica` entirely (permanent down).
    pub(crate) fn forget(&mut self, replica: &ReplicaRef) {
        self.clock.remove(replica);
        self.clouds.remove(replica);
    }

    pub(crate) fn observes(&self, dot: &Dot) -> bool {
        self.clock.get(&dot.replica) >= dot.counter
            || self
                .clouds
                .get(&dot.replica)
                .is_some_and(|cloud| cloud.contains(&dot.counter))
    }

    /// Adds one dot of a known replica, then compacts. Dots of unknown replicas are
    /// ignored: we must not claim to have seen history we dropped.
    pub(crate) fn insert(&mut self, dot: &Dot) {
        if self.knows(&dot.replica) && dot.counter > self.clock.get(&dot.replica) {
            self.clouds
                .entry(dot.replica.clone())
                .or_default()
                .insert(dot.counter);
            self.compact(&dot.replica);
        }
    }

    /// Raises a known replica's contiguous counter to `counter`, then compacts.
    pub(crate) fn raise(&mut self, replica: &ReplicaRef, counter: u64) {
        if let Some(c) = self.clock.get_mut(replica) {
            *c = (*c).max(counter);
            self.compact(replica);
        }
    }

    /// The cloud dots of `replica`.
    pub(crate) fn cloud(&self, replica: &ReplicaRef) -> impl Iterator<Item = Dot> + '_ {
        let owner = replica.clone();
        self.clouds
            .get(replica)
            .into_iter()
            .flatten()
            .map(move |c| Dot::new(owner.clone(), *c))
    }

    /// Folds cloud dots into the clock while they are contiguous, and drops the ones the
    /// clock already covers.
    fn compact(&mut self, replica: &ReplicaRef) {
        let Some(top) = self.clock.get_mut(replica) else {
            return;
        };
        let Some(cloud) = self.clouds.get_mut(replica) else {
            return;
        };
        while let Some(&first) = cloud.first() {
            if first <= *top {
                cloud.pop_first();
            } else if first == *top + 1 {
                *top = first;
                cloud.pop_first();
            } else {
                break;
            }
        }
        if cloud.is_empty() {
            self.clouds.remove(replica);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(c: u64) -> Dot {
        Dot::new(ReplicaRef::new("a", 1), c)
    }

    #[test]
    fn gaps_stay_in_the_cloud_until_filled() {
        let a = ReplicaRef::new("a", 1);
        let mut ctx = Context::default();
        ctx.learn(&a);
        ctx.insert(&dot(2));
        ctx.insert(&dot(4));
        assert_eq!(ctx.clock().get(&a), 0);
        assert!(ctx.observes(&dot(2)) && !ctx.observes(&dot(3)));
        ctx.insert(&dot(1));
        assert_eq!(ctx.clock().get(&a), 2);
        ctx.insert(&dot(3));
        assert_eq!(ctx.clock().get(&a), 4);
        assert_eq!(ctx.cloud(&a).count(), 0);
    }

    #[test]
    fn unknown_replicas_are_not_observed() {
        let mut ctx = Context::default();
        ctx.insert(&dot(1));
        assert!(!ctx.observes(&dot(1)));
        assert!(!ctx.knows(&ReplicaRef::new("a", 1)));
    }
}
