//! One tracked presence as it is replicated: where, who, what, and its `phx_ref`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_64;

use crate::clock::Dot;

/// The node-local identity of the session (Phoenix: the pid) that tracked an entry.
///
/// Only the owning node uses it, to untrack everything a session tracked when it ends;
/// two nodes may use the same number for different sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

/// One presence: a session's `key` (a user id, say) on a `topic`, with its metadata.
///
/// Entries are immutable. An update replaces the entry by a new one with a new
/// `phx_ref`, keeping the old one as `phx_ref_prev`, exactly as Phoenix does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The topic, e.g. `"room:lobby"`.
    pub topic: String,
    /// The presence key the client groups metas by.
    pub key: String,
    /// The owning node's session.
    pub session: SessionId,
    /// The application's metadata (a JSON object).
    pub meta: Map<String, Value>,
    /// The unique reference the client keys this meta by.
    pub phx_ref: String,
    /// After an update, the `phx_ref` of the entry this one replaced.
    pub phx_ref_prev: Option<String>,
}

impl Entry {
    /// The meta as the client sees it: the application's fields plus `phx_ref` and,
    /// after an update, `phx_ref_prev`.
    ///
    /// ```
    /// use cinder_presence::{Entry, SessionId};
    /// use serde_json::json;
    ///
    /// let entry = Entry {
    ///     topic: "room:lobby".into(),
    ///     key: "alice".into(),
    ///     session: SessionId(7),
    ///     meta: json!({"status": "away"}).as_object().cloned().unwrap_or_default(),
    ///     phx_ref: "B".into(),
    ///     phx_ref_prev: Some("A".into()),
    /// };
    /// assert_eq!(
    ///     entry.client_meta(),
    ///     json!({"status": "away", "phx_ref": "B", "phx_ref_prev": "A"})
    /// );
    /// ```
    pub fn client_meta(&self) -> Value {
        let mut meta = self.meta.clone();
        meta.insert("phx_ref".to_owned(), Value::String(self.phx_ref.clone()));
        if let Some(prev) = &self.phx_ref_prev {
            meta.insert("phx_ref_prev".to_owned(), Value::String(prev.clone()));
        }
        Value::Object(meta)
    }
}

/// The `phx_ref` of the entry tagged `tag`.
///
/// Phoenix mints a random reference (time, node hash, counter). Deriving it from the
/// tag gives the same uniqueness (a dot is never reused, and a restart is a new `vsn`)
/// while keeping every run deterministic: 8 bytes of `vsn`, 4 of the name's xxh3, 4 of
/// the counter, base64url without padding (22 characters).
pub(crate) fn phx_ref_for(tag: &Dot) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&tag.replica.vsn().to_be_bytes());
    bytes[8..12].copy_from_slice(&xxh3_64(tag.replica.name().as_bytes()).to_be_bytes()[4..]);
    bytes[12..].copy_from_slice(&tag.counter.to_be_bytes()[4..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replica::ReplicaRef;

    #[test]
    fn refs_are_distinct_per_dot_and_url_safe() {
        let a = ReplicaRef::new("node-a", 1);
        let b = ReplicaRef::new("node-b", 1);
        let refs = [
            phx_ref_for(&Dot::new(a.clone(), 1)),
            phx_ref_for(&Dot::new(a, 2)),
            phx_ref_for(&Dot::new(b, 1)),
            phx_ref_for(&Dot::new(ReplicaRef::new("node-a", 2), 1)),
        ];
        for (i, x) in refs.iter().enumerate() {
            assert_eq!(x.len(), 22);
            assert!(
                x.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            );
            assert!(refs[i + 1..].iter().all(|y| y != x));
        }
    }

    #[test]
    fn client_meta_without_prev_has_only_phx_ref() {
        let entry = Entry {
            topic: "t".into(),
            key: "k".into(),
            session: SessionId(1),
            meta: Map::new(),
            phx_ref: "R".into(),
            phx_ref_prev: None,
        };
        assert_eq!(entry.client_meta(), serde_json::json!({"phx_ref": "R"}));
    }
}
