//! Delta generations: recent history kept at a few sizes, to answer catch-up requests
//! with a delta instead of the full state.

use crate::delta::Delta;
use crate::replica::ReplicaRef;

/// One slot per size cap (Phoenix's `max_delta_sizes`, smallest first). Every delta
/// this shard sends or receives on a heartbeat is merged into every slot.
#[derive(Clone, Debug)]
pub(crate) struct Generations {
    caps: Vec<usize>,
    slots: Vec<Option<Delta>>,
}

impl Generations {
    pub(crate) fn new(caps: &[usize]) -> Self {
        Self {
            caps: caps.to_vec(),
            slots: vec![None; caps.len()],
        }
    }

    /// Merges `delta` into every slot.
    ///
    /// When the merge would exceed a slot's cap, the slot restarts from the previous
    /// (smaller) slot's new content, so the window slides. When it cannot merge (a gap
    /// in some replica's span) Phoenix leaves the slot as it is, which strands it: no
    /// later delta touches it either. Cinder restarts it the same way; a generation is
    /// only an optimisation over the full state, so dropping one is always safe.
    pub(crate) fn push(&mut self, delta: &Delta) {
        let mut smaller: Option<Delta> = None;
        for (slot, cap) in self.slots.iter_mut().zip(&self.caps) {
            let merged = match slot.as_ref() {
                Some(current) => current.merge(delta),
                None => Some(delta.clone()),
            };
            let next = match merged {
                Some(merged) if merged.size() <= *cap => Some(merged),
                _ => match smaller.take() {
                    Some(prev) => Some(prev),
                    None if delta.size() <= *cap => Some(delta.clone()),
                    None => None,
                },
            };
            smaller.clone_from(&next);
            *slot = next;
        }
    }

    /// Drops every generation (after merging a full state, whose jump no generation
    /// covers).
    pub(crate) fn clear(&mut self) {
        self.slots.iter_mut().for_each(|slot| *slot = None);
    }

    /// Removes a permanently-down replica from every generation.
    pub(crate) fn forget(&mut self, replica: &ReplicaRef) {
        for delta in self.slots.iter_mut().flatten() {
            delta.retain_replicas(|r| r != replica);
        }
    }

    /// The generations, smallest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Delta> {
        self.slots.iter().flatten()
    }
}
