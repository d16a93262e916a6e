//! Dots and version vectors: how much of each replica's history a state has seen.

use std::collections::BTreeMap;

use crate::replica::ReplicaRef;

/// One event minted by one replica: its `counter`-th bump. A dot names an entry (the
/// entry's *tag*) or a removal, and is never reused.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dot {
    /// The replica that minted it.
    pub replica: ReplicaRef,
    /// Its position in that replica's history, from 1.
    pub counter: u64,
}

impl Dot {
    /// The `counter`-th dot of `replica`.
    pub fn new(replica: ReplicaRef, counter: u64) -> Self {
        Self { replica, counter }
    }
}

/// A version vector: for each replica, the highest counter up to which every dot has
/// been seen.
///
/// A replica that is present with counter 0 is *known* (its values are accepted); a
/// replica that is absent is unknown. That difference matters: values from unknown
/// replicas are dropped, which is how data of a permanently-down life stays out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clock(BTreeMap<ReplicaRef, u64>);

impl Clock {
    /// An empty clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter for `replica`, 0 when absent.
    pub fn get(&self, replica: &ReplicaRef) -> u64 {
        self.0.get(replica).copied().unwrap_or(0)
    }

    /// Whether `replica` has an entry (possibly 0).
    pub fn contains(&self, replica: &ReplicaRef) -> bool {
        self.0.contains_key(replica)
    }

    /// Sets the counter for `replica`.
    pub fn insert(&mut self, replica: ReplicaRef, counter: u64) {
        self.0.insert(replica, counter);
    }

    /// Removes `replica`.
    pub fn remove(&mut self, replica: &ReplicaRef) {
        self.0.remove(replica);
    }

    /// The replicas and their counters, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&ReplicaRef, u64)> {
        self.0.iter().map(|(r, c)| (r, *c))
    }

    /// How many replicas have an entry.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no replica has an entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this clock has seen at least as much as `other` of every replica in
    /// `other` (absent counts as 0).
    ///
    /// Phoenix's `dominates?` also requires at least as many entries. Cinder compares
    /// clocks only after restricting both to the replicas the comparing node considers
    /// up (see [`crate::Shard`]); with equal key sets the extra condition is moot, and
    /// without it a peer that still lists a replica we marked down no longer triggers a
    /// transfer on every sample (the loop of phoenix_pubsub#135).
    pub fn covers(&self, other: &Clock) -> bool {
        other.iter().all(|(r, c)| self.get(r) >= c)
    }

    /// This clock with only the replicas that `keys` has an entry for.
    pub fn restricted_to(&self, keys: &Clock) -> Clock {
        Clock(
            self.0
                .iter()
                .filter(|(r, _)| keys.contains(r))
                .map(|(r, c)| (r.clone(), *c))
                .collect(),
        )
    }

    /// Raises `replica`'s counter to at least `counter`, adding the entry if absent.
    pub(crate) fn raise(&mut self, replica: &ReplicaRef, counter: u64) {
        match self.0.get_mut(replica) {
            Some(c) => *c = (*c).max(counter),
            None => {
                self.0.insert(replica.clone(), counter);
            }
        }
    }

    pub(crate) fn get_mut(&mut self, replica: &ReplicaRef) -> Option<&mut u64> {
        self.0.get_mut(replica)
    }
}

impl FromIterator<(ReplicaRef, u64)> for Clock {
    fn from_iter<I: IntoIterator<Item = (ReplicaRef, u64)>>(iter: I) -> Self {
        Clock(iter.into_iter().collect())
    }
}

/// The peers to ask for a transfer, given our clock and the clocks heard since the last
/// sample: those whose clock (restricted to the replicas we know and consider up) is
/// not covered by ours, minus those another candidate covers. Of identical clocks only
/// the first is asked, so one change seen by many peers costs one transfer.
pub(crate) fn transfer_targets(
    own: &Clock,
    heard: &BTreeMap<ReplicaRef, Clock>,
) -> Vec<ReplicaRef> {
    let candidates: Vec<(&ReplicaRef, Clock)> = heard
        .iter()
        .map(|(r, c)| (r, c.restricted_to(own)))
        .filter(|(_, c)| !own.covers(c))
        .collect();
    candidates
        .iter()
        .enumerate()
        .filter(|(i, (_, mine))| {
            !candidates
                .iter()
                .enumerate()
                .any(|(j, (_, other))| j != *i && other.covers(mine) && (other != mine || j < *i))
        })
        .map(|(_, (r, _))| (*r).clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str) -> ReplicaRef {
        ReplicaRef::new(name, 1)
    }

    fn clock(pairs: &[(&str, u64)]) -> Clock {
        pairs.iter().map(|(n, c)| (r(n), *c)).collect()
    }

    #[test]
    fn covers_treats_absent_as_zero() {
        assert!(clock(&[("a", 2)]).covers(&clock(&[("a", 2), ("b", 0)])));
        assert!(!clock(&[("a", 2)]).covers(&clock(&[("b", 1)])));
        assert!(Clock::new().covers(&Clock::new()));
    }

    #[test]
    fn identical_clocks_cost_one_transfer() {
        let own = clock(&[("a", 1), ("b", 1), ("c", 1)]);
        let heard: BTreeMap<_, _> = [
            (r("b"), clock(&[("a", 1), ("b", 3), ("c", 1)])),
            (r("c"), clock(&[("a", 1), ("b", 3), ("c", 1)])),
        ]
        .into_iter()
        .collect();
        assert_eq!(transfer_targets(&own, &heard), vec![r("b")]);
    }

    #[test]
    fn dominated_candidates_are_skipped() {
        let own = clock(&[("a", 1), ("b", 1), ("c", 1)]);
        let heard: BTreeMap<_, _> = [
            (r("b"), clock(&[("a", 1), ("b", 3), ("c", 1)])),
            (r("c"), clock(&[("a", 1), ("b", 3), ("c", 4)])),
        ]
        .into_iter()
        .collect();
        assert_eq!(transfer_targets(&own, &heard), vec![r("c")]);
    }

    #[test]
    fn replicas_we_do_not_know_do_not_trigger_transfers() {
        let own = clock(&[("a", 1), ("b", 3)]);
        let heard: BTreeMap<_, _> = [(r("b"), clock(&[("a", 1), ("b", 3), ("z", 9)]))]
            .into_iter()
            .collect();
        assert!(transfer_targets(&own, &heard).is_empty());
    }
}
