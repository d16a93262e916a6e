//! Snapshots: a session's state as it travels from a draining view-node to the node that
//! takes it over ([`LiveView::snapshot`]).
//!
//! A snapshot is the view's fields, encoded by the view's own [`Snapshots`] (serde, for a
//! view that derives `Serialize` and `Deserialize`), inside an envelope that says what
//! reads it back: the envelope's format, the route the view is mounted at, the view's
//! snapshot version, the URL, the channel (topic and `join_ref`) and who may adopt the
//! session after a reconnect. It is JSON: a field added to the view with
//! `#[serde(default)]` loads from a snapshot written before it existed, a field removed
//! is ignored, and anything else that does not fit (another version, another route, a
//! field whose type changed) is refused, and the client mounts the view afresh from its
//! URL. Never a crash.
//!
//! What a snapshot does not hold: the view's subscriptions, presences and timers (they
//! hold closures; [`LiveView::resume`] makes them again on the new node), live
//! components' state (they mount again as the view renders them), stream items (the
//! client keeps them) and uploads in progress (a session with one does not move).
//!
//! [`LiveView::snapshot`]: crate::LiveView::snapshot
//! [`LiveView::resume`]: crate::LiveView::resume

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The envelope's format; an envelope of another is refused.
const FORMAT: u32 = 1;

/// How a view's state is written into a snapshot and read back.
pub struct Snapshots<V> {
    /// The view's snapshot version: a snapshot written with another is not restored.
    /// Raise it when the fields change in a way `serde` cannot bridge.
    pub version: u32,
    save: fn(&V) -> Result<Value, String>,
    load: fn(Value) -> Result<V, String>,
}

impl<V> std::fmt::Debug for Snapshots<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<V: Serialize + DeserializeOwned> Snapshots<V> {
    /// Snapshots through the view's `Serialize` and `Deserialize`, at `version`.
    pub fn serde(version: u32) -> Self {
        Snapshots {
            version,
            save: |view| serde_json::to_value(view).map_err(|e| e.to_string()),
            load: |state| serde_json::from_value(state).map_err(|e| e.to_string()),
        }
    }
}

impl<V> Snapshots<V> {
    /// The view's state as a JSON value.
    pub fn save(&self, view: &V) -> Result<Value, String> {
        (self.save)(view)
    }

    /// The view's state read back from a JSON value.
    pub fn load(&self, state: Value) -> Result<V, String> {
        (self.load)(state)
    }
}

/// A snapshot as it travels: the view's state and what reads it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The envelope's format (1; an envelope of another is refused).
    pub format: u32,
    /// The route the view is mounted at (`/counter`): the node reading it must mount
    /// the same route.
    pub route: String,
    /// The view's [`Snapshots::version`].
    pub version: u32,
    /// The channel: `lv:<view id>`.
    pub topic: String,
    /// The channel's `join_ref`, as the client's frames carry it.
    pub join_ref: Option<String>,
    /// The current URL (after any live patch).
    pub url: String,
    /// Who may adopt the session after a reconnect (the parking identity), if its view
    /// parks.
    pub identity: Option<u64>,
    /// The view's fields, as [`Snapshots::save`] wrote them.
    pub state: Value,
}

/// Why a snapshot was not restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// Not an envelope this code reads (undecodable, or another format).
    #[error("undecodable snapshot: {0}")]
    Undecodable(String),
    /// No route of this node mounts the snapshot's URL, or another view does.
    #[error("no route for the snapshot of {0}")]
    NoRoute(String),
    /// The view takes no snapshots here.
    #[error("the view takes no snapshots")]
    NotSnapshotted,
    /// Written by another version of the view.
    #[error("snapshot version {found}, the view reads {expected}")]
    Version {
        /// The snapshot's.
        found: u32,
        /// The view's.
        expected: u32,
    },
    /// The view's fields did not load.
    #[error("the view's state did not load: {0}")]
    State(String),
}

impl Envelope {
    /// The envelope's bytes.
    pub fn encode(&self) -> Vec<u8> {
        // A struct of strings, numbers and a `Value` always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads an envelope; refused when it is not one this code reads. The JSON reader's
    /// own nesting limit (128) bounds the recursion; the link bounds the size.
    pub fn decode(bytes: &[u8]) -> Result<Self, RestoreError> {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| RestoreError::Undecodable(e.to_string()))?;
        if envelope.format != FORMAT {
            return Err(RestoreError::Undecodable(format!(
                "format {}",
                envelope.format
            )));
        }
        Ok(envelope)
    }

    /// Writes the snapshot of `view`, mounted at `route`, on `channel` (topic and
    /// `join_ref`), now at `url`, adoptable after a reconnect by `identity`.
    pub fn save<V>(
        snapshots: &Snapshots<V>,
        view: &V,
        route: &str,
        channel: (&str, Option<&str>),
        url: &str,
        identity: Option<u64>,
    ) -> Result<Self, String> {
        Ok(Envelope {
            format: FORMAT,
            route: route.to_owned(),
            version: snapshots.version,
            topic: channel.0.to_owned(),
            join_ref: channel.1.map(str::to_owned),
            url: url.to_owned(),
            identity,
            state: snapshots.save(view)?,
        })
    }

    /// Reads the view back, if `snapshots` reads this snapshot's version.
    pub fn load<V>(self, snapshots: &Snapshots<V>) -> Result<V, RestoreError> {
        if self.version != snapshots.version {
            return Err(RestoreError::Version {
                found: self.version,
                expected: snapshots.version,
            });
        }
        snapshots.load(self.state).map_err(RestoreError::State)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Before {
        count: i64,
        dropped: String,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct After {
        count: i64,
        #[serde(default)]
        added: Vec<String>,
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct Changed {
        count: String,
    }

    fn written(version: u32) -> Vec<u8> {
        let before = Before {
            count: 7,
            dropped: "gone".into(),
        };
        let snapshots = Snapshots::<Before>::serde(version);
        Envelope::save(
            &snapshots,
            &before,
            "/c",
            ("lv:x", Some("4")),
            "/c?a=1",
            Some(9),
        )
        .unwrap()
        .encode()
    }

    #[test]
    fn added_fields_load_with_their_defaults_and_removed_ones_are_ignored() {
        let envelope = Envelope::decode(&written(1)).unwrap();
        assert_eq!(
            (envelope.route.as_str(), envelope.url.as_str()),
            ("/c", "/c?a=1")
        );
        assert_eq!(envelope.identity, Some(9));
        let after = envelope.load(&Snapshots::<After>::serde(1)).unwrap();
        assert_eq!(
            after,
            After {
                count: 7,
                added: Vec::new()
            }
        );
    }

    #[test]
    fn another_version_or_an_incompatible_field_is_refused() {
        let envelope = Envelope::decode(&written(1)).unwrap();
        assert!(matches!(
            envelope.clone().load(&Snapshots::<After>::serde(2)),
            Err(RestoreError::Version {
                found: 1,
                expected: 2
            })
        ));
        assert!(matches!(
            envelope.load(&Snapshots::<Changed>::serde(1)),
            Err(RestoreError::State(_))
        ));
    }

    #[test]
    fn garbage_and_other_formats_are_refused() {
        assert!(Envelope::decode(b"\x00not json").is_err());
        let mut envelope = Envelope::decode(&written(1)).unwrap();
        envelope.format = 2;
        assert!(Envelope::decode(&envelope.encode()).is_err());
        let deep = "[".repeat(10_000);
        assert!(Envelope::decode(deep.as_bytes()).is_err());
    }
}
