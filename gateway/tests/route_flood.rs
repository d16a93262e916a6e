//! Routes per socket are bounded: an upload channel (`lvu:`) whose join the view-node
//! refuses loses its route at once, a join past `max_channels` gets the error reply
//! `too_many_channels`, and a join naming an overlong topic gets `invalid_topic`; the
//! socket goes on each time. (The view-node here is a test double; see
//! `support/mod.rs`.)

mod support;

use serde_json::{Value, json};
use support::{Client, FakeNode, Seen, binary_push, config, connect, start};

/// An upload channel's join; `refuse` makes the node double refuse it.
fn upload_join(join_ref: &str, topic: &str, refuse: bool) -> String {
    json!([join_ref, join_ref, topic, "phx_join", {"token": "opaque", "refuse": refuse}])
        .to_string()
}

/// Has the view `lv:phx-up` allow the upload channel `topic` (the node double answers
/// with `UploadAllowed`, then the reply).
async fn allow(client: &mut Client, node: &mut FakeNode, topic: &str) -> anyhow::Result<()> {
    let entry = topic.strip_prefix("lvu:").unwrap_or_default();
    let allow = json!(["1", "a", "lv:phx-up", "allow_upload", {"entries": [entry]}]);
    client.send(&allow.to_string()).await?;
    assert!(matches!(node.next().await?, Seen::Frame { .. }));
    assert_eq!(reply_status(client, "lv:phx-up").await?["status"], "ok");
    Ok(())
}

async fn reply_status(client: &mut Client, topic: &str) -> anyhow::Result<Value> {
    let reply = client.recv_json().await?;
    assert_eq!(reply[2], json!(topic), "{reply}");
    Ok(reply[4].clone())
}

async fn heartbeat(client: &mut Client) -> anyhow::Result<()> {
    client
        .send(r#"[null,"hb","phoenix","heartbeat",{}]"#)
        .await?;
    assert_eq!(
        client.recv().await?,
        r#"[null,"hb","phoenix","phx_reply",{"status":"ok","response":{}}]"#
    );
    Ok(())
}

#[tokio::test]
async fn refused_upload_joins_leave_no_route_and_channels_are_capped() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_channels = 4;
    config.rate_per_sec = 100_000;
    config.rate_burst = 100_000;
    let gateway = start(config).await?;
    let mut client = connect(gateway.addr).await?;
    let session = client.join_seen(&mut node, "phx-up").await?;

    // A flood of allowed channels whose joins the node refuses: far more than the cap,
    // every one answered.
    for n in 0..500 {
        let topic = format!("lvu:{n}");
        let join_ref = (n + 2).to_string();
        allow(&mut client, &mut node, &topic).await?;
        client.send(&upload_join(&join_ref, &topic, true)).await?;
        let status = reply_status(&mut client, &topic).await?;
        assert_eq!(status["status"], "error", "{status}");
    }
    // The refused channels have no route left: a chunk on one is unmatched here instead
    // of reaching the node.
    client
        .send_binary(binary_push("2", "9", "lvu:0", "chunk", b"data"))
        .await?;
    let status = reply_status(&mut client, "lvu:0").await?;
    assert_eq!(status["response"]["reason"], "unmatched topic", "{status}");

    // The view and three channels fill the cap; the next join is refused here.
    for n in 0..3 {
        let topic = format!("lvu:ok{n}");
        allow(&mut client, &mut node, &topic).await?;
        client.send(&upload_join("600", &topic, false)).await?;
        assert_eq!(reply_status(&mut client, &topic).await?["status"], "ok");
    }
    allow(&mut client, &mut node, "lvu:ok3").await?;
    client.send(&upload_join("700", "lvu:ok3", false)).await?;
    let status = reply_status(&mut client, "lvu:ok3").await?;
    assert_eq!(
        status,
        json!({"status": "error", "response": {"reason": "too_many_channels"}})
    );
    // The same for a view.
    client.send(&support::join_frame("phx-two", "800")).await?;
    let status = reply_status(&mut client, "lv:phx-two").await?;
    assert_eq!(status["response"]["reason"], "too_many_channels");

    // The socket goes on, and the view still serves.
    heartbeat(&mut client).await?;
    client
        .send(r#"["1","900","lv:phx-up","event",{"type":"click","event":"inc","value":{}}]"#)
        .await?;
    assert_eq!(
        reply_status(&mut client, "lv:phx-up").await?["status"],
        "ok"
    );
    // Every frame the node saw was on the view's own session.
    while let Ok(Ok(seen)) = tokio::time::timeout(std::time::Duration::ZERO, node.next()).await {
        match seen {
            Seen::Frame { session: s, .. } => assert_eq!(s, session),
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn joins_naming_overlong_topics_are_refused() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_topic_bytes = 64;
    let gateway = start(config).await?;
    let mut client = connect(gateway.addr).await?;
    client.join("phx-up", "1").await?;

    let long_upload = format!("lvu:{}", "9".repeat(100));
    client.send(&upload_join("2", &long_upload, false)).await?;
    let status = reply_status(&mut client, &long_upload).await?;
    assert_eq!(status["response"]["reason"], "invalid_topic");

    let long_view = "x".repeat(100);
    client.send(&support::join_frame(&long_view, "3")).await?;
    let status = reply_status(&mut client, &format!("lv:{long_view}")).await?;
    assert_eq!(status["response"]["reason"], "invalid_topic");

    heartbeat(&mut client).await?;
    Ok(())
}
