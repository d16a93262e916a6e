//! The simulated network: every message in flight, delivered, duplicated or dropped only
//! when the test says so, plus a partition that cuts one group of nodes off the rest.

use std::collections::BTreeSet;

use cinder_presence::Message;

/// One message on its way from one node to another.
#[derive(Clone, Debug)]
pub(crate) struct Envelope {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) message: Message,
}

/// Messages in flight, in sending order.
#[derive(Debug, Default)]
pub(crate) struct Network {
    in_flight: Vec<Envelope>,
    /// Nodes on the far side of a partition; empty when healed.
    cut_off: BTreeSet<usize>,
}

impl Network {
    pub(crate) fn send(&mut self, envelope: Envelope) {
        self.in_flight.push(envelope);
    }

    /// Takes the message at `index` (modulo the number in flight), out of order.
    pub(crate) fn take(&mut self, index: usize) -> Option<Envelope> {
        if self.in_flight.is_empty() {
            return None;
        }
        let index = index % self.in_flight.len();
        Some(self.in_flight.remove(index))
    }

    /// Takes the oldest message.
    pub(crate) fn take_oldest(&mut self) -> Option<Envelope> {
        self.take(0)
    }

    /// Sends a copy of the message at `index` again.
    pub(crate) fn duplicate(&mut self, index: usize) {
        if !self.in_flight.is_empty() {
            let copy = self.in_flight[index % self.in_flight.len()].clone();
            self.in_flight.push(copy);
        }
    }

    /// Loses the message at `index`.
    pub(crate) fn drop_message(&mut self, index: usize) {
        let _ = self.take(index);
    }

    /// Cuts `nodes` off from the others.
    pub(crate) fn partition(&mut self, nodes: BTreeSet<usize>) {
        self.cut_off = nodes;
    }

    pub(crate) fn heal(&mut self) {
        self.cut_off.clear();
    }

    /// Whether the partition separates `a` and `b`.
    pub(crate) fn separates(&self, a: usize, b: usize) -> bool {
        self.cut_off.contains(&a) != self.cut_off.contains(&b)
    }
}
