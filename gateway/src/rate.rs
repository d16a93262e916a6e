//! The per-socket message rate limit: a token bucket.
//!
//! A socket starts with `burst` tokens; each message takes one and tokens come back at
//! `rate` per second up to `burst`. The phoenix client sends a heartbeat every 30 s and
//! a message per user action, so the defaults (100/s, burst 200) only stop floods.
//!
//! A binary frame (an upload chunk) costs [`CHUNK_COST`] of a message: the client sends
//! a file's next chunk only once the last was acknowledged, so an 8 MB file (125 chunks
//! of 64 KB, Phoenix's defaults) fits in the burst, and a flood of chunks still meets
//! the bucket at eight times the message rate.

use std::time::Instant;

/// What a binary frame (an upload chunk) costs, in messages.
pub(crate) const CHUNK_COST: f32 = 0.125;

/// A token bucket, refilled lazily when a message arrives.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: f32,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(burst: u32, now: Instant) -> Self {
        Self {
            #[expect(clippy::cast_precision_loss, reason = "a burst is far below 2^24")]
            tokens: burst as f32,
            last: now,
        }
    }

    /// Takes `cost` tokens (1 for a message) at `now`; false when fewer are left.
    pub(crate) fn take(&mut self, cost: f32, rate: u32, burst: u32, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f32();
        self.last = now;
        #[expect(clippy::cast_precision_loss, reason = "rates are far below 2^24")]
        let (rate, burst) = (rate as f32, burst as f32);
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(3, start);
        assert!((0..3).all(|_| bucket.take(1.0, 10, 3, start)));
        assert!(!bucket.take(1.0, 10, 3, start));
        // 100 ms at 10/s gives one token back.
        let later = start + Duration::from_millis(100);
        assert!(bucket.take(1.0, 10, 3, later));
        assert!(!bucket.take(1.0, 10, 3, later));
    }

    #[test]
    fn chunks_cost_an_eighth() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2, start);
        assert!((0..16).all(|_| bucket.take(CHUNK_COST, 10, 2, start)));
        assert!(!bucket.take(CHUNK_COST, 10, 2, start));
        assert!(!bucket.take(1.0, 10, 2, start));
    }

    #[test]
    fn never_holds_more_than_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2, start);
        let much_later = start + Duration::from_secs(3600);
        assert!(bucket.take(1.0, 10, 2, much_later));
        assert!(bucket.take(1.0, 10, 2, much_later));
        assert!(!bucket.take(1.0, 10, 2, much_later));
    }
}
