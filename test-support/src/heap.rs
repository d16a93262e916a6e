//! What a memory benchmark reads: the live heap, counted by [`Counting`] once a bench
//! installs it as its global allocator, and the process's resident memory.
//!
//! ```
//! use cinder_test_support::heap::{self, Counting};
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting = Counting;
//!
//! fn main() {
//!     let before = heap::live();
//!     let block = vec![0u8; 4096];
//!     assert!(heap::live() >= before + 4096);
//!     drop(block);
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live heap bytes, to tell what the measured thing allocates from what the
/// allocator keeps. Counts nothing unless installed with `#[global_allocator]`.
#[derive(Debug)]
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator and only counts sizes.
#[allow(
    unsafe_code,
    reason = "a counting allocator is the only way to see live heap bytes"
)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

/// Live heap bytes now (0 if [`Counting`] is not the global allocator).
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The process's resident memory in bytes (`/proc/self/statm`).
pub fn resident_bytes() -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("statm"))?
        .parse()?;
    Ok(pages * 4096)
}
