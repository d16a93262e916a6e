//! The load tester's reusable parts; the measurements live in the `cinder-loadtest`
//! binary.
//!
//! - [`proxy`] — a TCP proxy that can be cut, for partitions.

pub mod proxy;
