//! Streams: large or endless collections the server renders once and then forgets.
//!
//! A [`Stream`] field holds only what changed since the last render: inserted items,
//! deleted DOM ids, a reset. Rendering drains it, so the session keeps no items (protocol
//! §4.5). The template iterates it inside a `phx-update="stream"` container:
//!
//! ```text
//! <div id="messages" phx-update="stream">
//!   <p :for={(dom_id, msg) in @messages} id={dom_id}>{msg.body}</p>
//! </div>
//! ```
//!
//! and the diff carries `"stream": [ref, [[dom_id, at, limit, update_only]…], [deleted ids]]`
//! (plus `true` when resetting — never `false`, which the client reads as a reset).

use std::cell::RefCell;
use std::fmt;

struct Insert<T> {
    dom_id: String,
    at: i64,
    item: T,
    limit: Option<i64>,
    update_only: bool,
}

struct Changes<T> {
    inserts: Vec<Insert<T>>,
    deletes: Vec<String>,
    reset: bool,
}

impl<T> Default for Changes<T> {
    fn default() -> Self {
        Changes {
            inserts: Vec::new(),
            deletes: Vec::new(),
            reset: false,
        }
    }
}

/// A stream of `T`s; see the module docs.
pub struct Stream<T> {
    name: &'static str,
    limit: Option<i64>,
    changes: RefCell<Changes<T>>,
}

impl<T> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let changes = self.changes.borrow();
        f.debug_struct("Stream")
            .field("name", &self.name)
            .field("pending_inserts", &changes.inserts.len())
            .field("pending_deletes", &changes.deletes.len())
            .finish()
    }
}

/// What the client must do with a stream's container, sent beside its new entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOps {
    pub(crate) reference: String,
    pub(crate) inserts: Vec<(String, i64, Option<i64>, bool)>,
    pub(crate) deletes: Vec<String>,
    pub(crate) reset: bool,
}

impl<T> Stream<T> {
    /// An empty stream; `name` is its reference on the wire and must be unique in the view.
    pub fn new(name: &'static str) -> Self {
        Stream {
            name,
            limit: None,
            changes: RefCell::new(Changes::default()),
        }
    }

    /// Keeps at most `limit` items in the client's container: a negative limit keeps the
    /// last ones (`-50` for a chat), a positive one the first ones.
    #[must_use]
    pub fn with_limit(mut self, limit: i64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Appends `item` as the element `dom_id` (or updates it in place if present).
    pub fn insert(&mut self, dom_id: impl Into<String>, item: T) {
        self.insert_at(dom_id, item, -1);
    }

    /// Inserts `item` at `at` (`-1` append, `0` prepend, `n` that index).
    pub fn insert_at(&mut self, dom_id: impl Into<String>, item: T, at: i64) {
        let insert = Insert {
            dom_id: dom_id.into(),
            at,
            item,
            limit: self.limit,
            update_only: false,
        };
        self.changes.get_mut().inserts.push(insert);
    }

    /// Updates the element `dom_id` only if the client has it; never adds it.
    pub fn update(&mut self, dom_id: impl Into<String>, item: T) {
        let insert = Insert {
            dom_id: dom_id.into(),
            at: -1,
            item,
            limit: self.limit,
            update_only: true,
        };
        self.changes.get_mut().inserts.push(insert);
    }

    /// Removes the element `dom_id` from the client.
    pub fn delete(&mut self, dom_id: impl Into<String>) {
        self.changes.get_mut().deletes.push(dom_id.into());
    }

    /// Clears the client's container before this render's inserts.
    pub fn reset(&mut self) {
        let changes = self.changes.get_mut();
        changes.inserts.clear();
        changes.reset = true;
    }

    /// Drains the pending changes for a render: the ops and the items to render, with the
    /// last insert of a repeated DOM id winning.
    #[doc(hidden)]
    pub fn __cinder_take(&self) -> (StreamOps, Vec<(String, T)>) {
        let changes = std::mem::take(&mut *self.changes.borrow_mut());
        let mut seen = std::collections::HashSet::new();
        let mut inserts: Vec<Insert<T>> = changes
            .inserts
            .into_iter()
            .rev()
            .filter(|i| seen.insert(i.dom_id.clone()))
            .collect();
        inserts.reverse();
        let ops = StreamOps {
            reference: self.name.to_owned(),
            inserts: inserts
                .iter()
                .map(|i| (i.dom_id.clone(), i.at, i.limit, i.update_only))
                .collect(),
            deletes: changes.deletes,
            reset: changes.reset,
        };
        (
            ops,
            inserts.into_iter().map(|i| (i.dom_id, i.item)).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_drains_the_stream() {
        let mut s = Stream::new("songs").with_limit(-2);
        s.insert("songs-1", "a");
        s.insert("songs-2", "b");
        s.insert("songs-1", "a2");
        s.delete("songs-0");
        let (ops, items) = s.__cinder_take();
        assert_eq!(
            items,
            vec![("songs-2".to_owned(), "b"), ("songs-1".to_owned(), "a2")]
        );
        assert_eq!(ops.inserts[0], ("songs-2".to_owned(), -1, Some(-2), false));
        assert_eq!(ops.deletes, vec!["songs-0".to_owned()]);
        let (ops, items) = s.__cinder_take();
        assert!(items.is_empty() && ops.inserts.is_empty() && ops.deletes.is_empty() && !ops.reset);
    }
}
