//! A frame that is not V2 JSON framing closes that socket with 1007 "malformed frame";
//! another client of the same gateway notices nothing.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, start};

#[tokio::test]
async fn malformed_json_closes_only_the_offender() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut bystander = connect(gateway.addr).await?;
    bystander.join("phx-by", "1").await?;

    for bad in [
        "this is not json",
        r#"{"topic":"phoenix"}"#,
        r#"["1","1","phoenix","heartbeat"]"#,
        r#"[1,"1","phoenix","heartbeat",{}]"#,
    ] {
        let mut offender = connect(gateway.addr).await?;
        offender.send(bad).await?;
        assert_eq!(
            offender.recv_close().await?,
            (1007, "malformed frame".to_owned()),
            "{bad}"
        );
    }

    bystander
        .send(r#"[null,"9","phoenix","heartbeat",{}]"#)
        .await?;
    assert_eq!(
        bystander.recv().await?,
        r#"[null,"9","phoenix","phx_reply",{"status":"ok","response":{}}]"#
    );
    bystander
        .send(r#"["1","2","lv:phx-by","event",{}]"#)
        .await?;
    assert_eq!(bystander.recv_json().await?[4]["status"], "ok");
    Ok(())
}
