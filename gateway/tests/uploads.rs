//! Upload channels (`lvu:<entry ref>`) ride on their view's session: the join is routed
//! by the view topic its token names, chunks and frames follow the same session key, a
//! leave drops only the channel, and a token naming no view of this socket is refused.
//! (The view-node here is a test double; see `support/harness.rs`.)

#[path = "support/harness.rs"]
mod harness;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use harness::{FakeNode, Seen, config, connect, start};
use serde_json::json;

/// An entry token as the view-node mints it: the claims in the clear, then a secret.
fn token(view_topic: &str) -> String {
    let claims = json!({"topic": view_topic, "conf": "phx-u", "entry": "0"}).to_string();
    format!("{}.secret", URL_SAFE_NO_PAD.encode(claims))
}

fn upload_join(join_ref: &str, topic: &str, token: &str) -> String {
    json!([join_ref, join_ref, topic, "phx_join", {"token": token}]).to_string()
}

fn chunk(join_ref: &str, msg_ref: &str, topic: &str, bytes: &[u8]) -> Vec<u8> {
    let mut frame = vec![0];
    for field in [join_ref, msg_ref, topic, "chunk"] {
        frame.push(u8::try_from(field.len()).unwrap_or(u8::MAX));
    }
    for field in [join_ref, msg_ref, topic, "chunk"] {
        frame.extend_from_slice(field.as_bytes());
    }
    frame.extend_from_slice(bytes);
    frame
}

#[tokio::test]
async fn upload_channels_follow_their_views_session() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;
    client.join("phx-up", "1").await?;
    let Seen::Join { session, .. } = node.next().await? else {
        panic!("expected a join");
    };

    let join = upload_join("2", "lvu:0", &token("lv:phx-up"));
    client.send(&join).await?;
    assert_eq!(
        node.next().await?,
        Seen::Frame {
            session,
            frame: join
        }
    );
    let reply = client.recv_json().await?;
    assert_eq!(reply[2], "lvu:0");
    assert_eq!(reply[4]["status"], "ok");

    let bytes = chunk("2", "3", "lvu:0", &[1, 2, 255]);
    client.send_binary(bytes.clone()).await?;
    assert_eq!(node.next().await?, Seen::Binary { session, bytes });

    // Leaving the channel drops its route only.
    let leave = json!(["2", "4", "lvu:0", "phx_leave", {}]).to_string();
    client.send(&leave).await?;
    assert_eq!(
        node.next().await?,
        Seen::Frame {
            session,
            frame: leave
        }
    );
    assert_eq!(client.recv_json().await?[4]["status"], "ok");
    client
        .send_binary(chunk("2", "5", "lvu:0", b"late"))
        .await?;
    assert_eq!(
        client.recv_json().await?,
        json!(["2", "5", "lvu:0", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}])
    );
    let event = json!(["1", "6", "lv:phx-up", "event", {}]).to_string();
    client.send(&event).await?;
    assert_eq!(
        node.next().await?,
        Seen::Frame {
            session,
            frame: event
        }
    );
    Ok(())
}

#[tokio::test]
async fn a_token_naming_no_view_of_this_socket_is_refused() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;
    client.join("phx-mine", "1").await?;
    node.next().await?;

    for bad in [
        token("lv:phx-someone-else"),
        "garbage".to_owned(),
        "e30.x".to_owned(),
    ] {
        client.send(&upload_join("2", "lvu:0", &bad)).await?;
        assert_eq!(
            client.recv_json().await?,
            json!(["2", "2", "lvu:0", "phx_reply", {"status": "error", "response": {"reason": "invalid_token"}}]),
            "token {bad:?}"
        );
    }
    // Nothing reached the node, and the view is still served.
    let event = json!(["1", "3", "lv:phx-mine", "event", {}]).to_string();
    client.send(&event).await?;
    assert!(matches!(node.next().await?, Seen::Frame { frame, .. } if frame == event));
    Ok(())
}

#[tokio::test]
async fn a_dead_node_errors_the_view_and_its_upload_channels() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;
    client.join("phx-up", "1").await?;
    node.next().await?;
    client
        .send(&upload_join("2", "lvu:0", &token("lv:phx-up")))
        .await?;
    node.next().await?;
    client.recv_json().await?;

    node.kill().await?;
    let mut errored = Vec::new();
    for _ in 0..2 {
        let frame = client.recv_json().await?;
        assert_eq!(frame[3], "phx_error", "{frame}");
        errored.push(frame[2].as_str().unwrap_or_default().to_owned());
    }
    errored.sort();
    assert_eq!(errored, ["lv:phx-up", "lvu:0"]);
    Ok(())
}
