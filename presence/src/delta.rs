//! What one replica ships to another: a [`Delta`] (recent history) or an [`Extract`]
//! (everything it knows, for the replicas the receiver knows).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::clock::{Clock, Dot};
use crate::entry::Entry;
use crate::replica::ReplicaRef;

/// The counters `(after, through]` of one replica that a delta covers completely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The last counter *not* covered.
    pub after: u64,
    /// The last counter covered.
    pub through: u64,
}

impl Span {
    /// Whether two spans overlap or meet, so their union is one span.
    fn touches(&self, other: &Span) -> bool {
        self.through >= other.after && other.through >= self.after
    }
}

/// A delta-state: a set of dots with, for each dot that is still live, its entry.
///
/// A dot in `dots` without a value is a removal record. For every replica in `spans`,
/// the delta holds *every* dot in the span; dots outside the spans (the tags of entries
/// removed in this window) may appear as well.
///
/// Phoenix keeps a `(start, end)` pair of full clocks; Cinder keeps a span only for the
/// replicas with dots in the delta. A replica the delta says nothing about then cannot
/// stop two deltas from merging, nor widen a merged range over dots it does not hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub(crate) spans: BTreeMap<ReplicaRef, Span>,
    pub(crate) dots: BTreeSet<Dot>,
    pub(crate) values: BTreeMap<Dot, Arc<Entry>>,
}

impl Delta {
    /// Whether the delta carries nothing.
    pub fn is_empty(&self) -> bool {
        self.dots.is_empty() && self.values.is_empty()
    }

    /// Phoenix's size measure, for the generation caps: values plus dots.
    pub fn size(&self) -> usize {
        self.dots.len() + self.values.len()
    }

    /// The spans covered, per replica.
    pub fn spans(&self) -> &BTreeMap<ReplicaRef, Span> {
        &self.spans
    }

    /// Every dot the delta has observed.
    pub fn dots(&self) -> &BTreeSet<Dot> {
        &self.dots
    }

    /// The live entries, by tag.
    pub fn values(&self) -> &BTreeMap<Dot, Arc<Entry>> {
        &self.values
    }

    /// Whether the delta has observed `dot`.
    pub(crate) fn observes(&self, dot: &Dot) -> bool {
        self.dots.contains(dot) || self.values.contains_key(dot)
    }

    /// The union of two deltas, or `None` when a replica's spans neither overlap nor
    /// meet (the union would claim dots neither holds).
    ///
    /// A value survives unless the other side observed its dot without holding it:
    /// removals win, which is what makes the union commutative.
    pub(crate) fn merge(&self, other: &Delta) -> Option<Delta> {
        let mut spans = self.spans.clone();
        for (r, theirs) in &other.spans {
            match spans.get_mut(r) {
                Some(ours) if ours.touches(theirs) => {
                    ours.after = ours.after.min(theirs.after);
                    ours.through = ours.through.max(theirs.through);
                }
                Some(_) => return None,
                None => {
                    spans.insert(r.clone(), *theirs);
                }
            }
        }
        let survives =
            |dot: &Dot, other: &Delta| !other.observes(dot) || other.values.contains_key(dot);
        let values = self
            .values
            .iter()
            .filter(|(d, _)| survives(d, other))
            .chain(other.values.iter().filter(|(d, _)| survives(d, self)))
            .map(|(d, e)| (d.clone(), Arc::clone(e)))
            .collect();
        let dots = self.dots.union(&other.dots).cloned().collect();
        Some(Delta {
            spans,
            dots,
            values,
        })
    }

    /// Keeps only what concerns replicas for which `keep` holds.
    pub(crate) fn retain_replicas(&mut self, keep: impl Fn(&ReplicaRef) -> bool) {
        self.spans.retain(|r, _| keep(r));
        self.dots.retain(|d| keep(&d.replica));
        self.values.retain(|d, _| keep(&d.replica));
    }

    /// A copy with only the replicas `keys` has an entry for.
    pub(crate) fn restricted_to(&self, keys: &Clock) -> Delta {
        let mut delta = self.clone();
        delta.retain_replicas(|r| keys.contains(r));
        delta
    }
}

/// A full state, pruned to the replicas the requester knows: Phoenix's `extract`.
///
/// Every dot at or below `clock`, or in `clouds`, is observed; the observed dots
/// without a value in `values` are removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extract {
    pub(crate) clock: Clock,
    pub(crate) clouds: BTreeSet<Dot>,
    pub(crate) values: BTreeMap<Dot, Arc<Entry>>,
}

impl Extract {
    /// The contiguous part of the sender's context.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The sender's observed dots above a gap.
    pub fn clouds(&self) -> &BTreeSet<Dot> {
        &self.clouds
    }

    /// The live entries, by tag (including those of replicas the sender sees as down).
    pub fn values(&self) -> &BTreeMap<Dot, Arc<Entry>> {
        &self.values
    }

    /// Whether the sender had observed `dot`.
    pub(crate) fn observes(&self, dot: &Dot) -> bool {
        self.clock.get(&dot.replica) >= dot.counter || self.clouds.contains(dot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SessionId;

    fn a() -> ReplicaRef {
        ReplicaRef::new("a", 1)
    }

    fn delta(after: u64, through: u64, live: &[u64], extra_dots: &[u64]) -> Delta {
        let dot = |c| Dot::new(a(), c);
        let entry = |c: u64| {
            Arc::new(Entry {
                topic: "t".into(),
                key: format!("k{c}"),
                session: SessionId(c),
                meta: serde_json::Map::new(),
                phx_ref: format!("r{c}"),
                phx_ref_prev: None,
            })
        };
        Delta {
            spans: [(a(), Span { after, through })].into_iter().collect(),
            dots: (after + 1..=through)
                .chain(extra_dots.iter().copied())
                .map(dot)
                .collect(),
            values: live.iter().map(|c| (dot(*c), entry(*c))).collect(),
        }
    }

    #[test]
    fn touching_deltas_merge_and_removals_win() {
        let first = delta(0, 2, &[1, 2], &[]);
        let second = delta(2, 4, &[3], &[1]);
        let merged = first.merge(&second).expect("touching");
        assert_eq!(
            merged.spans[&a()],
            Span {
                after: 0,
                through: 4
            }
        );
        let live: Vec<u64> = merged.values.keys().map(|d| d.counter).collect();
        assert_eq!(live, vec![2, 3]);
        assert_eq!(Some(merged), second.merge(&first));
    }

    #[test]
    fn non_contiguous_deltas_do_not_merge() {
        assert!(
            delta(0, 2, &[1], &[])
                .merge(&delta(3, 4, &[4], &[]))
                .is_none()
        );
    }
}
