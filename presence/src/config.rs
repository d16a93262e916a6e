//! The tracker's timing and size knobs, with Phoenix.Tracker's defaults.

use crate::error::Error;

/// Timing and size settings of a [`crate::Shard`]. Times are milliseconds on whatever
/// clock the caller passes to the shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How often the caller ticks the shard: the worst-case replication lag.
    pub broadcast_period_ms: u64,
    /// Ticks without changes before an empty heartbeat is sent anyway.
    pub max_silent_periods: u32,
    /// Silence after which a peer is marked down (its entries hidden).
    pub down_period_ms: u64,
    /// Silence after which a peer is forgotten (its entries purged).
    pub permdown_period_ms: u64,
    /// Ticks between two transfer decisions.
    pub clock_sample_periods: u32,
    /// Caps (values plus dots) of the delta generations, smallest first.
    pub max_delta_sizes: Vec<usize>,
}

impl Default for Config {
    fn default() -> Self {
        let broadcast_period_ms = 1_500;
        let max_silent_periods = 10;
        Self {
            broadcast_period_ms,
            max_silent_periods,
            down_period_ms: broadcast_period_ms * u64::from(max_silent_periods) * 2,
            permdown_period_ms: 1_200_000,
            clock_sample_periods: 2,
            max_delta_sizes: vec![100, 1_000, 10_000],
        }
    }
}

impl Config {
    /// Checks the rules Phoenix enforces at start.
    pub fn validate(&self) -> Result<(), Error> {
        if self.broadcast_period_ms == 0 {
            return Err(Error::InvalidConfig("broadcast_period_ms must be positive"));
        }
        if self.down_period_ms < 2 * self.broadcast_period_ms {
            return Err(Error::InvalidConfig(
                "down_period_ms must be at least twice broadcast_period_ms",
            ));
        }
        if self.permdown_period_ms <= self.down_period_ms {
            return Err(Error::InvalidConfig(
                "permdown_period_ms must exceed down_period_ms",
            ));
        }
        if self.clock_sample_periods == 0 {
            return Err(Error::InvalidConfig(
                "clock_sample_periods must be positive",
            ));
        }
        // An idle node must heartbeat before its peers mark it down.
        let heartbeat_gap = self.broadcast_period_ms * (u64::from(self.max_silent_periods) + 1);
        if heartbeat_gap >= self.down_period_ms {
            return Err(Error::InvalidConfig(
                "an idle heartbeat every (max_silent_periods + 1) broadcasts must come within down_period_ms",
            ));
        }
        let sizes = &self.max_delta_sizes;
        if sizes.is_empty() || sizes[0] == 0 || sizes.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::InvalidConfig(
                "max_delta_sizes must be positive and strictly increasing",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_phoenix_and_valid() {
        let config = Config::default();
        assert_eq!(config.down_period_ms, 30_000);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn permdown_must_exceed_down() {
        let config = Config {
            permdown_period_ms: 30_000,
            ..Config::default()
        };
        assert!(config.validate().is_err());
    }
}
