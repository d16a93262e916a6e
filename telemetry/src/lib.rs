//! Logs, traces and metrics for Cinder's processes.
//!
//! [`init`] installs the log output every binary writes (stderr, filtered by `RUST_LOG`,
//! `info` by default) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, an OpenTelemetry
//! exporter that sends `tracing` spans over OTLP/gRPC (the SDK's standard variables
//! apply: `OTEL_SERVICE_NAME`, `OTEL_BSP_SCHEDULE_DELAY`…). Exported spans are the `info`
//! ones whatever `RUST_LOG` says; without the variable nothing is exported and no span
//! is made for that purpose.
//!
//! One click is one trace: the gateway makes a span for each client message it forwards
//! and puts its W3C trace context ([`inject`]) in the link's `trace` map; the view-node
//! makes the span of the session's handling a child of it ([`set_parent`]).
//!
//! [`prometheus()`] is the process's Prometheus recorder, which every `/metrics` renders
//! (module `prometheus`: the recorder, its histogram buckets and its upkeep). [`beat`] is
//! what the cluster dashboard receives of each process every second, read from that page
//! with [`scrape`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub mod beat;
pub mod process;
mod prometheus;
pub mod scrape;

pub use prometheus::{BYTES_BUCKETS, SECONDS_BUCKETS, UPKEEP_PERIOD, prometheus, render};

/// The variable that turns the export on, as in every OpenTelemetry SDK.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The installed telemetry; dropping it flushes the spans not yet sent.
#[derive(Debug)]
#[must_use = "dropping it stops the export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "flushing the last spans failed");
        }
    }
}

/// Installs the log output and, if [`ENDPOINT_VAR`] is set and not empty, the OTLP trace export for
/// the process named `service` (`OTEL_SERVICE_NAME` wins). Call it once, inside the
/// tokio runtime (the exporter's gRPC channel lives there). An exporter that cannot be
/// built is reported in the log and the process runs without it.
pub fn init(service: &str) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Set but empty counts as unset: compose and Kubernetes pass `VAR=` to mean "off".
    let (provider, failure) = match std::env::var_os(ENDPOINT_VAR).filter(|v| !v.is_empty()) {
        None => (None, None),
        Some(_) => match exporter(service) {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some(error)),
        },
    };
    match &provider {
        // `RUST_LOG` filters the log lines only: exported spans are the `info` ones,
        // whatever the log level.
        Some(provider) => {
            let traces = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(service.to_owned()))
                .with_filter(LevelFilter::INFO);
            let logs = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter);
            tracing_subscriber::registry()
                .with(logs)
                .with(traces)
                .init();
        }
        // Without export, the plain subscriber: callsites `RUST_LOG` disables cost
        // nothing and make no span (an idle session holds none).
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    if let Some(error) = failure {
        tracing::warn!(%error, "{ENDPOINT_VAR} is set but the exporter failed: no traces");
    }
    if provider.is_some() {
        global::set_text_map_propagator(TraceContextPropagator::new());
        EXPORTING.store(true, Ordering::Relaxed);
        tracing::info!(service, "exporting traces over OTLP");
    }
    Telemetry { provider }
}

fn exporter(service: &str) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}

/// Whether this process exports traces: spans that exist only to be exported (one per
/// client message) are made only then.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The W3C trace context of `span` (`traceparent`, maybe `tracestate`), for the link's
/// `trace` map; empty when nothing is exported.
pub fn inject(span: &tracing::Span) -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    if exporting() {
        let context = span.context();
        global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    }
    carrier
}

/// Makes the trace context in `carrier` (from [`inject`] in another process) the parent
/// of `span`.
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) {
    let context = global::get_text_map_propagator(|p| p.extract(carrier));
    let _ = span.set_parent(context);
}
