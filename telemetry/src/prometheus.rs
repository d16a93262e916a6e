//! The process's Prometheus recorder: one per process, shared by every tier in it.
//!
//! The first call to [`prometheus`] installs it as the global `metrics` recorder, so the
//! `counter!`/`gauge!`/`histogram!` calls of every Cinder crate in the process land in it,
//! and `/metrics` (the gateway's port, the view-node's admin listener) renders it. Several
//! servers in one process (tests, the embedded mode) share it. A recorder installed
//! before, by the app, wins: [`prometheus`] then renders an empty page and says so in the
//! log.
//!
//! Histograms whose name ends in `_seconds` or `_bytes` are rendered as Prometheus
//! histograms with the buckets below (so `histogram_quantile` works across instances);
//! any other histogram is a summary.
//!
//! Histogram samples wait in the recorder until a render or an upkeep folds them into
//! the buckets. A thread folds them every [`UPKEEP_PERIOD`], so a process nobody scrapes
//! holds a few seconds of samples, not all of them.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Upper bounds of the `_seconds` histograms' buckets: from 50 µs (an in-process click
/// is ~26 µs at p50) to 10 s, about ×2.5 apart.
pub const SECONDS_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of the `_bytes` histograms' buckets: from 64 B to 16 MiB, ×4 apart.
pub const BYTES_BUCKETS: &[f64] = &[
    64.0,
    256.0,
    1_024.0,
    4_096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
];

/// How often the upkeep thread folds histogram samples into their buckets.
pub const UPKEEP_PERIOD: Duration = Duration::from_secs(5);

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder (and its upkeep thread) on
/// first use. Call it early (at bind, before the first session): metric handles taken
/// before a recorder is installed record nothing.
pub fn prometheus() -> &'static PrometheusHandle {
    PROMETHEUS.get_or_init(|| {
        let builder = builder().unwrap_or_else(|error| {
            tracing::warn!(%error, "histogram buckets refused; histograms render as summaries");
            PrometheusBuilder::new()
        });
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "another metrics recorder is installed; /metrics stays empty");
            return handle;
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_PERIOD);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            // Renders still fold the samples; only an unscraped process keeps them.
            tracing::warn!(%error, "no metrics upkeep thread; histograms fold at scrapes only");
        }
        handle
    })
}

/// The `/metrics` page: every metric of the process, with its resident memory and CPU
/// time read just now, under the names Prometheus's own client libraries use
/// (`process_resident_memory_bytes`, `process_cpu_seconds_total`), so that a load
/// tester or a dashboard sees a process's cost from its scrape alone.
pub fn render() -> String {
    let handle = prometheus();
    if let Some(usage) = crate::process::usage(std::process::id()) {
        #[expect(clippy::cast_precision_loss, reason = "a byte count as a gauge value")]
        metrics::gauge!("process_resident_memory_bytes").set(usage.resident_bytes as f64);
        // A counter by meaning; recorded as a gauge since it is read, not counted here.
        metrics::gauge!("process_cpu_seconds_total").set(usage.cpu.as_secs_f64());
    }
    handle.render()
}

/// The recorder's settings: the buckets of `_seconds` and `_bytes` histograms.
fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_bytes".into()), BYTES_BUCKETS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `_seconds` histogram renders with `le` buckets, not as a summary's quantiles;
    /// the recorder is this test process's global one.
    #[test]
    fn seconds_histograms_render_as_buckets() {
        let handle = prometheus();
        metrics::histogram!("cinder_test_duration_seconds").record(0.000_2);
        metrics::histogram!("cinder_test_payload_bytes").record(300.0);
        let text = handle.render();
        assert!(
            text.contains(r#"cinder_test_duration_seconds_bucket{le="0.00025"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"cinder_test_duration_seconds_bucket{le="0.0001"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"cinder_test_payload_bytes_bucket{le="1024"} 1"#),
            "{text}"
        );
        assert!(!text.contains("quantile="), "{text}");
    }

    /// The page carries the process's own memory and CPU, read at render time.
    #[test]
    fn the_page_shows_the_process_cost() {
        let text = render();
        let resident = text
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.parse::<f64>().ok());
        assert!(resident.is_some_and(|bytes| bytes > 1_000_000.0), "{text}");
        assert!(text.contains("process_cpu_seconds_total "), "{text}");
    }
}
