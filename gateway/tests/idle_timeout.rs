//! A socket that sends nothing (no message, no heartbeat) for the idle timeout is closed
//! with 1001 `idle timeout` and its session ends upstream; one that heartbeats stays.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::time::Duration;

use support::{FakeNode, Seen, config, connect, start};

const IDLE: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_idle_timeout() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.idle_timeout = IDLE;
    let gateway = start(config).await?;
    let mut client = connect(gateway.addr).await?;
    let session = client.join_seen(&mut node, "phx-idle").await?;

    // Heartbeats, each well within the timeout, for two timeouts: the socket stays.
    let mut ticks = tokio::time::interval(IDLE / 5);
    for n in 0..10 {
        ticks.tick().await;
        client
            .send(&format!(r#"[null,"{n}","phoenix","heartbeat",{{}}]"#))
            .await?;
        assert_eq!(client.recv_json().await?[1], n.to_string());
    }

    // Then silence.
    assert_eq!(
        client.recv_close().await?,
        (1001, "idle timeout".to_owned())
    );
    assert_eq!(node.next().await?, Seen::Leave { session });
    Ok(())
}
