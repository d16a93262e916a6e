//! Malformed envelopes (not JSON, no or another version, no payload, a topic that does not
//! match the channel, too large, too deep, not UTF-8) are dropped with a log line and
//! counted; the node keeps delivering.

use cinder_test_support::redis as harness;

use std::io::Write;
use std::sync::{Arc, Mutex};

use cinder_pubsub::{PubSub as _, Redis};
use harness::{Event, Inbox, RedisServer, within};
use serde_json::json;

/// Collects every log line of this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn malformed_envelopes_are_dropped_with_a_log() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("cinder_pubsub=debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let server = RedisServer::start().unwrap();
    let mut config = harness::config(&server.url(), "node-a");
    config.max_message_bytes = 1024;
    let a = Redis::start(config).unwrap();
    within(a.ready()).await;
    let mut inbox = Inbox::new();
    a.subscribe("t", inbox.sink());
    within(a.flush()).await.unwrap();

    let deep = format!(
        r#"{{"v":1,"payload":{}{}}}"#,
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let large = format!(r#"{{"v":1,"payload":"{}"}}"#, "x".repeat(2000));
    let bad: [(&str, &[u8]); 10] = [
        ("cinder:topic:t", b"not json"),
        ("cinder:topic:t", br#"{"payload":1}"#),
        ("cinder:topic:t", br#"{"v":2,"payload":1}"#),
        ("cinder:topic:t", br#"{"v":1}"#),
        ("cinder:topic:t", br#"{"v":"1","payload":1}"#),
        ("cinder:topic:t", br#"{"v":1,"topic":"other","payload":1}"#),
        ("cinder:node:node-a", br#"{"v":1,"payload":1}"#),
        ("cinder:topic:t", large.as_bytes()),
        ("cinder:topic:t", deep.as_bytes()),
        ("cinder:topic:t", b"{\"v\":1,\"payload\":\"\xff\xfe\"}"),
    ];
    for (channel, payload) in bad {
        assert_eq!(server.publish(channel, payload).unwrap(), 1);
    }
    server
        .publish("cinder:topic:t", br#"{"v":1,"payload":"fine"}"#)
        .unwrap();

    // The valid message after them is the first thing delivered: every bad one was
    // handled (in order) and dropped.
    assert_eq!(
        inbox.next().await,
        Event::Message("t".into(), json!("fine"))
    );
    inbox.assert_empty();
    assert_eq!(a.stats().malformed, 10);
    assert!(a.health().is_up());

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let dropped: Vec<_> = logs
        .lines()
        .filter(|l| l.contains("dropped a malformed envelope"))
        .collect();
    assert_eq!(dropped.len(), 10, "{logs}");
    // The first one is a warning; the rest within the second are rate-limited to debug.
    assert!(dropped[0].contains("WARN"), "{}", dropped[0]);
    assert!(
        dropped[0].contains("not a version-1 envelope"),
        "{}",
        dropped[0]
    );
    assert!(
        dropped[2].contains("unsupported envelope version 2"),
        "{}",
        dropped[2]
    );
    assert!(dropped[7].contains("over the limit"), "{}", dropped[7]);
}
