//! The session engine's metrics, read back from the process's Prometheus text
//! (`cinder_telemetry::prometheus`) while a real session actor takes real frames: a join,
//! a click and a message are counted and timed under the view's name, errors under their
//! reason, and the session leaves the gauge when it ends.
//!
//! The view's name is this file's own, so other sessions in the process do not touch its
//! series; the unlabeled counters are read as differences.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use cinder::session::Input;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::{Value, json};

mod support;

use support::Frames;

#[derive(Assigns)]
struct MeteredCounter {
    count: i64,
}

struct Bump;

impl LiveView for MeteredCounter {
    type Info = Bump;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        if cx.params.get("fail").is_some() {
            return Err(cinder::Error::app("refused"));
        }
        Ok(MeteredCounter { count: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p>"#)
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _: Value) -> Result {
        match event {
            "inc" => socket.update_count(|c| *c += 1),
            "boom" => panic!("app bug"),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, Bump: Bump) -> Result {
        socket.update_count(|c| *c += 10);
        Ok(())
    }
}

/// The value of `series` (a name with its labels, as rendered) in the rendered text; 0
/// when the series is not there yet, NaN (equal to nothing) when it does not parse.
fn value(series: &str) -> f64 {
    let text = cinder_telemetry::prometheus().render();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.parse().unwrap_or(f64::NAN))
}

const VIEW: &str = r#"view="MeteredCounter""#;

async fn join(url: &str) -> (Frames, Value) {
    let payload = json!({"url": url, "params": {}, "session": "", "static": null});
    Frames::join::<MeteredCounter>("lv:phx-metrics", payload, None).await
}

async fn click(client: &mut Frames, event: &str) -> Value {
    client
        .push(
            "event",
            json!({"type": "click", "event": event, "value": {}}),
        )
        .await
}

#[tokio::test]
async fn a_session_is_counted_timed_and_let_go_under_its_view() {
    cinder_telemetry::prometheus();
    let diff_bytes = value("cinder_diff_bytes_total");
    let (mut client, reply) = join("http://localhost/metered").await;
    assert_eq!(reply[4]["status"], "ok");
    assert_eq!(value(&format!("cinder_sessions{{{VIEW}}}")), 1.0);
    assert_eq!(value(&format!("cinder_session_joins_total{{{VIEW}}}")), 1.0);
    // The join's render, at least its statics.
    assert!(value("cinder_diff_bytes_total") >= diff_bytes + 20.0);

    let reply = click(&mut client, "inc").await;
    assert_eq!(reply[4]["response"], json!({"diff": {"0": "1"}}));
    let event = format!(r#"{VIEW},kind="event""#);
    assert_eq!(
        value(&format!("cinder_event_duration_seconds_count{{{event}}}")),
        1.0
    );
    // A real histogram: every click lands under the last bucket, 10 s.
    assert_eq!(
        value(&format!(
            r#"cinder_event_duration_seconds_bucket{{{event},le="10"}}"#
        )),
        1.0
    );

    client.handle.try_send(Input::Info(Box::new(Bump))).unwrap();
    let push = client.read().await;
    assert_eq!(push[3], "diff");
    assert_eq!(
        value(&format!(
            r#"cinder_event_duration_seconds_count{{{VIEW},kind="info"}}"#
        )),
        1.0
    );

    let failed = value(r#"cinder_session_errors_total{reason="callback_failed"}"#);
    let reply = click(&mut client, "nope").await;
    assert_eq!(reply[4]["status"], "error");
    assert_eq!(
        value(r#"cinder_session_errors_total{reason="callback_failed"}"#),
        failed + 1.0
    );

    let panics = value(r#"cinder_session_errors_total{reason="panic"}"#);
    let error = click(&mut client, "boom").await;
    assert_eq!(error[3], "phx_error");
    // The session has ended once its outbox is dropped.
    assert!(client.rx.recv().await.is_none());
    assert_eq!(
        value(r#"cinder_session_errors_total{reason="panic"}"#),
        panics + 1.0
    );
    assert_eq!(value(&format!("cinder_sessions{{{VIEW}}}")), 0.0);
    assert_eq!(
        value(&format!("cinder_session_leaves_total{{{VIEW}}}")),
        1.0
    );
    assert_eq!(
        value(&format!(
            r#"cinder_event_duration_seconds_count{{{event}}}"#
        )),
        3.0,
        "every click is timed, those answered with an error or a crash too"
    );
}

#[tokio::test]
async fn a_refused_mount_counts_an_error_and_no_session() {
    cinder_telemetry::prometheus();
    let failed = value(r#"cinder_session_errors_total{reason="mount_failed"}"#);
    let joins = value(&format!("cinder_session_joins_total{{{VIEW}}}"));
    let (mut client, reply) = join("http://localhost/metered?fail=1").await;
    assert_eq!(reply[4]["status"], "error");
    assert!(client.rx.recv().await.is_none());
    assert_eq!(
        value(r#"cinder_session_errors_total{reason="mount_failed"}"#),
        failed + 1.0
    );
    assert_eq!(
        value(&format!("cinder_session_joins_total{{{VIEW}}}")),
        joins
    );
}
