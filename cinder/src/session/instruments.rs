//! The session engine's metrics, in the process's Prometheus recorder
//! (`cinder_telemetry::prometheus`, installed when the first view's instruments are made
//! unless the app installed a recorder of its own before):
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `cinder_sessions` | gauge: sessions mounted and not ended | `view` |
//! | `cinder_session_joins_total` | counter: sessions mounted | `view` |
//! | `cinder_session_leaves_total` | counter: mounted sessions ended, however | `view` |
//! | `cinder_event_duration_seconds` | histogram: an input taken to its reply or diff handed to the outbox | `view`, `kind` (`event`: a client `event`; `info`: a `handle_info` message) |
//! | `cinder_session_errors_total` | counter: see [`ErrorReason`] | `reason` |
//! | `cinder_diff_bytes_total` | counter: bytes of the renders and diffs sessions send (join renders, replies' and pushed diffs) | |
//! | `cinder_upload_bytes_total` | counter: bytes of upload chunks sessions took | |
//!
//! `view` is the view's type name without its path (`Counter` for `demo::Counter`):
//! one series per view type, never a value from a client.
//!
//! A view's handles are looked up once per process and kept (`for_view`), so a session
//! holds one pointer to them, and timing an event costs two clock reads and a lock-free
//! push of the sample.

use std::sync::Mutex;
use std::time::Instant;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

/// Why a session ended in error, or answered a client with an error: the `reason` label
/// of `cinder_session_errors_total`. The session engine counts the ones it meets; the
/// tiers in front of it count theirs (a join refused before a session exists) with
/// [`ErrorReason::count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorReason {
    /// `mount_failed`: the view's `mount` returned an error; the join was refused.
    MountFailed,
    /// `panic`: app code (mount, an event, message or params callback, a render, a
    /// component) panicked; the join was refused or the session ended with `phx_error`.
    Panic,
    /// `component_failed`: a live component's `mount` or `update` failed during a
    /// render; the session ended with `phx_error`.
    ComponentFailed,
    /// `callback_failed`: a callback returned an error (answered as an error reply).
    CallbackFailed,
    /// `invalid_params`: a join's or patch's URL parameters were over their bounds.
    InvalidParams,
    /// `invalid_payload`: a client frame the session could not read (an event without
    /// its name, a patch without a URL, a second join).
    InvalidPayload,
    /// `unmatched_event`: a client frame of an event the session does not know.
    UnmatchedEvent,
    /// `unknown_component`: an event for a component the session does not hold.
    UnknownComponent,
    /// `upload_refused`: `allow_upload`, an upload channel's join or a chunk refused.
    UploadRefused,
    /// `frame_too_large`: a frame over the outbox's limit; the session ended.
    FrameTooLarge,
    /// `overloaded`: input refused because a session's mailbox (or the node) was full.
    Overloaded,
    /// `stale`: a join whose session or static token did not verify.
    Stale,
    /// `unauthorized`: a join the router refused for its socket.
    Unauthorized,
}

impl ErrorReason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorReason::MountFailed => "mount_failed",
            ErrorReason::Panic => "panic",
            ErrorReason::ComponentFailed => "component_failed",
            ErrorReason::CallbackFailed => "callback_failed",
            ErrorReason::InvalidParams => "invalid_params",
            ErrorReason::InvalidPayload => "invalid_payload",
            ErrorReason::UnmatchedEvent => "unmatched_event",
            ErrorReason::UnknownComponent => "unknown_component",
            ErrorReason::UploadRefused => "upload_refused",
            ErrorReason::FrameTooLarge => "frame_too_large",
            ErrorReason::Overloaded => "overloaded",
            ErrorReason::Stale => "stale",
            ErrorReason::Unauthorized => "unauthorized",
        }
    }

    /// Counts one in `cinder_session_errors_total{reason}`.
    pub fn count(self) {
        counter!("cinder_session_errors_total", "reason" => self.as_str()).increment(1);
    }
}

/// One view type's handles.
pub(super) struct ViewMetrics {
    sessions: Gauge,
    joins: Counter,
    leaves: Counter,
    event_seconds: Histogram,
    info_seconds: Histogram,
    diff_bytes: Counter,
    upload_bytes: Counter,
}

/// What a timed input was.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// A client `event` frame.
    Event,
    /// A message for `handle_info`.
    Info,
}

/// Views' handles made so far, by the view's full type name. Views are few (a router's
/// routes), so a scan under a lock, once per join, is cheap.
static VIEWS: Mutex<Vec<(&'static str, &'static ViewMetrics)>> = Mutex::new(Vec::new());

/// The handles of view `V`, made on its first session and kept for the process's life
/// (one small allocation per view type).
pub(super) fn for_view<V: 'static>() -> &'static ViewMetrics {
    let name = std::any::type_name::<V>();
    let mut views = VIEWS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, metrics)) = views.iter().find(|(known, _)| *known == name) {
        return metrics;
    }
    // Handles taken before a recorder exists would record nothing for good.
    cinder_telemetry::prometheus();
    let view = short_name(name);
    let metrics: &'static ViewMetrics = Box::leak(Box::new(ViewMetrics {
        sessions: gauge!("cinder_sessions", "view" => view),
        joins: counter!("cinder_session_joins_total", "view" => view),
        leaves: counter!("cinder_session_leaves_total", "view" => view),
        event_seconds: histogram!("cinder_event_duration_seconds", "view" => view, "kind" => "event"),
        info_seconds: histogram!("cinder_event_duration_seconds", "view" => view, "kind" => "info"),
        diff_bytes: counter!("cinder_diff_bytes_total"),
        upload_bytes: counter!("cinder_upload_bytes_total"),
    }));
    views.push((name, metrics));
    metrics
}

/// `demo::Counter` → `Counter`; `app::List<app::Item>` → `List`.
fn short_name(type_name: &'static str) -> &'static str {
    let path = type_name.split('<').next().unwrap_or(type_name);
    path.rsplit("::").next().unwrap_or(path)
}

/// A mounted session: counted in `cinder_sessions` and `cinder_session_joins_total` when
/// made, out of the gauge and into `cinder_session_leaves_total` when dropped, whichever
/// way the session ends (its task returning or being dropped).
pub(super) struct Live(&'static ViewMetrics);

impl Live {
    pub(super) fn start(metrics: &'static ViewMetrics) -> Self {
        metrics.sessions.increment(1.0);
        metrics.joins.increment(1);
        Live(metrics)
    }

    /// Starts timing one input of `kind`.
    pub(super) fn timer(&self, kind: Kind) -> Timer {
        let histogram = match kind {
            Kind::Event => &self.0.event_seconds,
            Kind::Info => &self.0.info_seconds,
        };
        Timer {
            histogram,
            started: Instant::now(),
        }
    }

    /// Counts a render or diff of `bytes` sent.
    pub(super) fn sent_diff(&self, bytes: usize) {
        self.0.diff_bytes.increment(bytes as u64);
    }

    /// Counts an upload chunk of `bytes` taken.
    pub(super) fn took_upload(&self, bytes: usize) {
        self.0.upload_bytes.increment(bytes as u64);
    }
}

/// One input being timed, into `cinder_event_duration_seconds`.
pub(super) struct Timer {
    histogram: &'static Histogram,
    started: Instant,
}

impl Timer {
    /// Records the time since the timer started.
    pub(super) fn stop(self) {
        self.histogram.record(self.started.elapsed());
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.sessions.decrement(1.0);
        self.0.leaves.increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn a_view_label_is_its_type_name_without_path_or_parameters() {
        assert_eq!(short_name("demo::views::Counter"), "Counter");
        assert_eq!(short_name("app::List<app::Item>"), "List");
        assert_eq!(short_name("Bare"), "Bare");
    }
}
