//! A view-node's settings: every one a flag and an environment variable
//! (`--redis` or `CINDER_REDIS_URL`…), documented in `--help`. An app binary built on
//! `cinder-runtime` offers them as its `view-node` command.
//!
//! Secrets are read from variables only (never argv, which other users of the host can
//! see): `CINDER_SECRET` and `CINDER_API_TOKEN` unless `--secret-env`/`--api-token-env`
//! name others.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cinder_presence::Config as PresenceConfig;

use crate::NodeOptions;

/// The settings of `view-node`.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// The address the gRPC port listens on: gateways' links and renders, the topics API,
    /// grpc.health.v1.
    #[arg(
        long,
        env = "CINDER_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:7001"
    )]
    pub listen: SocketAddr,

    /// The HOST:PORT gateways dial (and the node registers in Redis). Default: the
    /// listening address.
    #[arg(long, env = "CINDER_ADVERTISE", value_name = "HOST:PORT")]
    pub advertise: Option<String>,

    /// The node's name: unique in the cluster and stable across restarts (a pod's
    /// name). Default: the advertised address.
    #[arg(long, env = "CINDER_NODE_NAME", value_name = "NAME")]
    pub name: Option<String>,

    /// The cluster's Redis, as redis://host:port (rediss:// for TLS), or a Redis
    /// Cluster's nodes as a comma list (sharded pubsub): topics, presence and membership
    /// go through it. Unset: a lone node, everything in the process.
    #[arg(
        long,
        env = "CINDER_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis: Option<String>,

    /// The address of the HTTP port serving /healthz, /readyz and /metrics (Prometheus).
    /// Unset: no HTTP port.
    #[arg(long, env = "CINDER_ADMIN_LISTEN", value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,

    /// How often presence changes are broadcast to the other nodes, in milliseconds
    /// (Phoenix's 1500 by default).
    #[arg(long, env = "CINDER_PRESENCE_PERIOD_MS", value_name = "MS")]
    pub presence_period_ms: Option<u64>,

    /// How long a silent node's presences stay listed, in milliseconds: at least twice
    /// the period (default: 20 periods, 30000 with the default period).
    #[arg(long, env = "CINDER_PRESENCE_DOWN_MS", value_name = "MS")]
    pub presence_down_ms: Option<u64>,

    /// The certificate chain (PEM) to serve links over TLS with, for gateways on other
    /// hosts (started with --link-tls-ca). Needs --tls-key.
    #[arg(
        long,
        env = "CINDER_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(
        long,
        env = "CINDER_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Sessions the node hosts at most; joins past it get an `overloaded` error reply.
    #[arg(long, env = "CINDER_MAX_SESSIONS", value_name = "N", default_value_t = crate::DEFAULT_MAX_SESSIONS)]
    pub max_sessions: u64,

    /// After SIGTERM: the longest the node waits for its links to close before it exits.
    #[arg(
        long,
        env = "CINDER_DRAIN_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 10_000
    )]
    pub drain_timeout_ms: u64,

    /// How long a session of a view that parks (`LiveView::PARK`) waits for its client
    /// to reconnect after its socket went away.
    #[arg(
        long,
        env = "CINDER_PARK_MS",
        value_name = "MS",
        default_value_t = 30_000
    )]
    pub park_ms: u64,

    /// Parked sessions the node keeps at most (the oldest ends first); 0 parks none.
    #[arg(
        long,
        env = "CINDER_MAX_PARKED",
        value_name = "N",
        default_value_t = cinder::parking::DEFAULT_MAX_PARKED
    )]
    pub max_parked: usize,

    /// The variable holding the cluster secret (at least 32 bytes, the same on every
    /// process of the cluster).
    #[arg(long, value_name = "NAME", default_value = "CINDER_SECRET")]
    pub secret_env: String,

    /// The variable holding the topics API's bearer token; the API is closed without it.
    #[arg(long, value_name = "NAME", default_value = "CINDER_API_TOKEN")]
    pub api_token_env: String,

    /// The variable holding the token of the cluster dashboard at /dashboard (an app
    /// built with cinder-runtime); the dashboard is off without it.
    #[arg(long, value_name = "NAME", default_value = "CINDER_DASHBOARD_TOKEN")]
    pub dashboard_token_env: String,
}

/// A setting that cannot work, said in one line naming the flag and its variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingError(pub String);

impl Flags {
    /// The cluster secret from its variable, refused if missing or under 32 bytes.
    ///
    /// # Errors
    /// Names the variable and what it must hold.
    pub fn secret(&self) -> Result<Vec<u8>, SettingError> {
        let name = &self.secret_env;
        cinder_proto::credential::secret_from_env(name)
            .map_err(SettingError)?
            .ok_or_else(|| {
                SettingError(format!(
                    "{name} is not set: it holds the cluster secret, at least 32 bytes, the same on every process (--secret-env names another variable)"
                ))
            })
    }

    /// The dashboard's token, if its variable is set and not empty.
    pub fn dashboard_token(&self) -> Option<String> {
        std::env::var(&self.dashboard_token_env)
            .ok()
            .filter(|token| !token.is_empty())
    }

    /// The node's place in the cluster, with the TLS files read.
    ///
    /// # Errors
    /// A presence timing that cannot work, or a TLS file that cannot be read.
    pub fn options(&self) -> Result<NodeOptions, SettingError> {
        if let Some(url) = &self.redis {
            cinder_pubsub::redis::check_url(url)
                .map_err(|error| SettingError(format!("--redis (CINDER_REDIS_URL): {error}")))?;
        }
        Ok(NodeOptions {
            redis: self.redis.clone(),
            name: self.name.clone(),
            advertise: self.advertise.clone(),
            presence: presence_config(self.presence_period_ms, self.presence_down_ms)?,
            api_token: std::env::var(&self.api_token_env)
                .ok()
                .filter(|token| !token.is_empty()),
            tls: self.tls()?,
            max_sessions: Some(self.max_sessions),
            admin_listen: self.admin_listen,
            drain_timeout: Some(Duration::from_millis(self.drain_timeout_ms)),
            park: Some((Duration::from_millis(self.park_ms), self.max_parked)),
        })
    }

    fn tls(&self) -> Result<Option<tonic::transport::Identity>, SettingError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let read = |file: &PathBuf, flag: &str, variable: &str| {
            std::fs::read(file).map_err(|error| {
                SettingError(format!("{flag} {} ({variable}): {error}", file.display()))
            })
        };
        let cert = read(cert, "--tls-cert", "CINDER_TLS_CERT")?;
        let key = read(key, "--tls-key", "CINDER_TLS_KEY")?;
        Ok(Some(tonic::transport::Identity::from_pem(cert, key)))
    }
}

/// Presence timing from the two flags, `None` when neither is given (Phoenix's defaults).
///
/// A period alone keeps Phoenix's proportions (down after 20 periods). An idle node
/// heartbeats every `max_silent_periods + 1` periods, which must come within the down
/// period: a short down period gets heartbeats often enough to fit.
///
/// # Errors
/// A zero period, or a down period under twice the period, naming both flags.
pub fn presence_config(
    period_ms: Option<u64>,
    down_ms: Option<u64>,
) -> Result<Option<PresenceConfig>, SettingError> {
    if period_ms.is_none() && down_ms.is_none() {
        return Ok(None);
    }
    let mut config = PresenceConfig::default();
    if let Some(period) = period_ms {
        if period == 0 {
            return Err(SettingError(
                "--presence-period-ms (CINDER_PRESENCE_PERIOD_MS) must be at least 1".into(),
            ));
        }
        config.broadcast_period_ms = period;
        config.down_period_ms = period
            .saturating_mul(u64::from(config.max_silent_periods))
            .saturating_mul(2);
    }
    if let Some(down) = down_ms {
        config.down_period_ms = down;
    }
    let period = config.broadcast_period_ms;
    if config.down_period_ms < period.saturating_mul(2) {
        return Err(SettingError(format!(
            "--presence-down-ms (CINDER_PRESENCE_DOWN_MS) {} is under twice --presence-period-ms (CINDER_PRESENCE_PERIOD_MS) {period}: give at least {}",
            config.down_period_ms,
            period.saturating_mul(2)
        )));
    }
    if config.down_period_ms >= config.permdown_period_ms {
        return Err(SettingError(format!(
            "--presence-down-ms (CINDER_PRESENCE_DOWN_MS) {} must be under {} (when a down node's presences are purged)",
            config.down_period_ms, config.permdown_period_ms
        )));
    }
    // The most silent periods whose heartbeat, every (silent + 1) periods, still comes
    // strictly within the down period.
    let fit = (config.down_period_ms - 1) / period;
    let fit = u32::try_from(fit.saturating_sub(1)).unwrap_or(u32::MAX);
    config.max_silent_periods = config.max_silent_periods.min(fit);
    config
        .validate()
        .map_err(|error| SettingError(format!("presence timing: {error}")))?;
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_leave_presence_to_phoenix() {
        assert_eq!(presence_config(None, None), Ok(None));
    }

    #[test]
    fn every_down_period_from_twice_the_period_works() {
        for period in [1, 7, 100, 1_500] {
            for down in [
                2 * period,
                2 * period + 1,
                3 * period,
                3_000,
                30_000,
                100_000,
            ] {
                if down < 2 * period {
                    continue;
                }
                let config = presence_config(Some(period), Some(down))
                    .unwrap_or_else(|e| panic!("{period}/{down}: {e}"));
                assert!(config.is_some(), "{period}/{down}");
            }
        }
        // The value the issue found refused: the default period and a 3 s down period.
        let config = presence_config(None, Some(3_000)).unwrap_or_default();
        let config = config.unwrap_or_default();
        assert_eq!(config.down_period_ms, 3_000);
        assert!(config.broadcast_period_ms * u64::from(config.max_silent_periods + 1) < 3_000);
    }

    #[test]
    fn a_period_alone_keeps_phoenix_proportions() {
        let config = presence_config(Some(100), None).ok().flatten();
        assert_eq!(config.map(|c| c.down_period_ms), Some(2_000));
    }

    #[test]
    fn impossible_timings_name_both_flags() {
        let error = presence_config(Some(1_500), Some(2_000)).unwrap_err();
        assert!(
            error
                .0
                .contains("--presence-down-ms (CINDER_PRESENCE_DOWN_MS)"),
            "{error}"
        );
        assert!(
            error
                .0
                .contains("--presence-period-ms (CINDER_PRESENCE_PERIOD_MS)"),
            "{error}"
        );
        assert!(error.0.contains("at least 3000"), "{error}");
        let error = presence_config(Some(0), None).unwrap_err();
        assert!(error.0.contains("CINDER_PRESENCE_PERIOD_MS"), "{error}");
    }
}
