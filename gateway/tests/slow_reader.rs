//! A client that stops reading while its view pushes is dropped within the write
//! timeout, and its session ends upstream (`Leave`), while a neighbour on the same link
//! keeps getting its frames. (The view-node here is a test double; see
//! `support/mod.rs`.)

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{FakeNode, STEP, Seen, config, connect, start};

const WRITE_TIMEOUT: Duration = Duration::from_millis(500);

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_in_bounded_time() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.write_timeout = WRITE_TIMEOUT;
    config.outbox_bytes = 1 << 20;
    let gateway = start(config).await?;

    let mut slow = connect(gateway.addr).await?;
    let slow_session = slow.join_seen(&mut node, "phx-slow").await?;
    let mut neighbour = connect(gateway.addr).await?;
    let neighbour_session = neighbour.join_seen(&mut node, "phx-neighbour").await?;

    // 400 frames of 64 KB: far more than the kernel's buffers and the outbox hold. The
    // slow client never reads again.
    let started = Instant::now();
    slow.send(
        &json!(["1", "2", "lv:phx-slow", "flood", {"frames": 400, "bytes": 64_000}]).to_string(),
    )
    .await?;
    assert!(matches!(node.next().await?, Seen::Frame { session, .. } if session == slow_session));

    // The neighbour is served meanwhile.
    neighbour
        .send(r#"["1","2","lv:phx-neighbour","event",{"type":"click","event":"a","value":{}}]"#)
        .await?;
    assert_eq!(neighbour.recv_json().await?[4]["status"], "ok");

    // The slow client's session ends: the gateway dropped its socket.
    loop {
        match node.next().await? {
            Seen::Leave { session } if session == slow_session => break,
            Seen::Frame { session, .. } if session == neighbour_session => {}
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    let took = started.elapsed();
    println!("stalled socket dropped {took:?} after its flood began");
    assert!(took < STEP, "took {took:?}");

    neighbour
        .send(r#"["1","3","lv:phx-neighbour","event",{"type":"click","event":"b","value":{}}]"#)
        .await?;
    assert_eq!(neighbour.recv_json().await?[4]["status"], "ok");
    Ok(())
}
