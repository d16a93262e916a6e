//! Reconnect delays: exponential, capped, with jitter so that nodes cut off by the same
//! Redis restart do not all reconnect in the same millisecond.

use std::time::Duration;

/// The delays between reconnect attempts.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    /// The delay the next attempt waits for, before jitter.
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        let max = max.max(min);
        Backoff {
            min,
            max,
            next: min,
        }
    }

    /// The next delay: a random point in the upper half of the current step. Doubles the
    /// step, up to the maximum.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(self.max);
        let half = step / 2;
        let jitter_ms = rand::random_range(0..=u64::try_from(half.as_millis()).unwrap_or(u64::MAX));
        half + Duration::from_millis(jitter_ms)
    }

    /// Starts again from the minimum, after a connection that stayed up.
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }

    /// The longest step: a connection that stayed up this long earns a [`Backoff::reset`].
    pub(crate) fn max(&self) -> Duration {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_within_jitter() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let steps = [100, 200, 400, 400];
        for step in steps {
            let delay = backoff.next_delay();
            assert!(
                delay >= Duration::from_millis(step / 2),
                "{delay:?} < {step}/2"
            );
            assert!(delay <= Duration::from_millis(step), "{delay:?} > {step}");
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
