//! Assigns and their change tracking: a view's state plus one bit per field.
//!
//! `#[derive(Assigns)]` numbers a struct's fields and generates, for each field `x`, the
//! setters `set_x` / `update_x` on [`Socket`](crate::Socket) (through a trait named
//! `<Struct>Assigns`, in scope wherever the struct is) that mark its bit. `html!` knows
//! at compile time which fields each dynamic reads, so a re-render evaluates only the
//! dynamics whose bits are set. Tracking costs one `u64` per session.

use std::ops::Deref;

/// A struct whose fields templates read as `@field`. Derive it with `#[derive(Assigns)]`.
pub trait Assigns {
    /// The field names, in bit order.
    const FIELDS: &'static [&'static str];
}

/// A view's state together with the set of fields changed since the last render.
#[derive(Debug, Default)]
pub struct Tracked<V> {
    value: V,
    changed: u64,
}

impl<V> Tracked<V> {
    /// Wraps freshly mounted state; everything counts as changed.
    pub fn new(value: V) -> Self {
        Tracked {
            value,
            changed: u64::MAX,
        }
    }

    /// The bits of the fields changed since the last render.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// Whether any of the fields in `mask` changed.
    pub fn is_changed(&self, mask: u64) -> bool {
        self.changed & mask != 0
    }

    /// Marks the fields in `mask` changed and gives write access to the state. Generated
    /// setters call this; call it directly to change state a setter can't reach.
    pub fn mark(&mut self, mask: u64) -> &mut V {
        self.changed |= mask;
        &mut self.value
    }

    /// Marks every field changed.
    pub fn mark_all(&mut self) -> &mut V {
        self.mark(u64::MAX)
    }

    /// Forgets the changes; the session calls this after every render.
    pub fn clear(&mut self) {
        self.changed = 0;
    }

    /// The change mask a template should use: the real one when tracking, else all.
    #[doc(hidden)]
    pub fn __cinder_changed(&self, track: bool) -> u64 {
        if track { self.changed } else { u64::MAX }
    }
}

impl<V> Deref for Tracked<V> {
    type Target = V;

    fn deref(&self) -> &V {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::Tracked;

    #[test]
    fn tracks_marked_bits_until_cleared() {
        let mut t = Tracked::new(1);
        assert!(t.is_changed(0b10));
        t.clear();
        assert!(!t.is_changed(0b11));
        *t.mark(0b10) += 1;
        assert!(t.is_changed(0b10) && !t.is_changed(0b01));
        assert_eq!(*t, 2);
        assert_eq!(t.__cinder_changed(false), u64::MAX);
    }
}
