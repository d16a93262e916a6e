//! A message over `max_frame_bytes` closes the socket with 1009 before the gateway reads
//! it; one at the limit passes.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, start};

fn heartbeat_of_len(len: usize) -> String {
    let head = r#"[null,"1","phoenix","heartbeat",{"pad":""#;
    let tail = r#""}]"#;
    format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
}

#[tokio::test]
async fn oversized_message_closes_with_1009() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_frame_bytes = 4096;
    let gateway = start(config).await?;

    let mut client = connect(gateway.addr).await?;
    client.send(&heartbeat_of_len(4096)).await?;
    assert_eq!(client.recv_json().await?[3], "phx_reply");

    client.send(&heartbeat_of_len(4097)).await?;
    assert_eq!(
        client.recv_close().await?,
        (1009, "message too big".to_owned())
    );
    Ok(())
}
