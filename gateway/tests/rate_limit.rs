//! A client that sends faster than its token bucket allows is closed with 1008 "rate
//! limit exceeded"; it got answers for the messages within its burst.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, start};

#[tokio::test]
async fn flooding_closes_with_1008() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    // No refill: exactly the burst gets through, however slow the machine.
    config.rate_per_sec = 0;
    config.rate_burst = 5;
    let gateway = start(config).await?;
    let mut client = connect(gateway.addr).await?;

    for i in 0..50 {
        client
            .send(&format!(r#"[null,"{i}","phoenix","heartbeat",{{}}]"#))
            .await?;
    }
    let (replies, close) = client.recv_until_close().await?;
    assert_eq!(close, (1008, "rate limit exceeded".to_owned()));
    assert_eq!(replies.len(), 5, "{replies:?}");
    assert_eq!(
        replies[0],
        r#"[null,"0","phoenix","phx_reply",{"status":"ok","response":{}}]"#
    );
    Ok(())
}
