//! Replica identity: which node minted a dot, and which life of that node it was.

use std::fmt;
use std::sync::Arc;

/// One life of one tracker shard: a stable node name plus a version that is new at every
/// start, so a restarted node is a *new* replica (Phoenix's `{name, vsn}`).
///
/// The version must grow across the restarts of one name (the start time in microseconds
/// does). Phoenix only needs it to differ; Cinder also orders it, so a delayed or
/// duplicated message from a node's previous life is recognised as stale instead of
/// looking like yet another restart.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplicaRef {
    name: Arc<str>,
    vsn: u64,
}

impl ReplicaRef {
    /// The replica `name` in its life `vsn`.
    pub fn new(name: impl Into<Arc<str>>, vsn: u64) -> Self {
        Self {
            name: name.into(),
            vsn,
        }
    }

    /// The node's stable name (a pod name, say); unique in the cluster.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version of this life of the node.
    pub fn vsn(&self) -> u64 {
        self.vsn
    }

    /// Whether `other` is a life (this one or another) of the same node.
    pub fn same_node(&self, other: &ReplicaRef) -> bool {
        self.name == other.name
    }
}

impl fmt::Display for ReplicaRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.vsn)
    }
}
