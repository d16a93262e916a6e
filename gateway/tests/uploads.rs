//! Upload channels (`lvu:<entry ref>`) ride on their view's session: the join is routed
//! to the session the view-node said allowed the channel (the gateway reads no token),
//! chunks and frames follow the same session key, a leave drops only the channel, and a
//! join on a channel no session of this socket allowed is refused. (The view-node here
//! is a test double; see `support/mod.rs`.)

mod support;

use serde_json::json;
use support::{Client, FakeNode, Seen, TestGateway, binary_push, config, connect, start};

/// An upload channel's join. The token is opaque to the gateway: any text does.
fn upload_join(join_ref: &str, topic: &str) -> String {
    json!([join_ref, join_ref, topic, "phx_join", {"token": "opaque"}]).to_string()
}

/// Has the view `view` (joined with `join_ref`) allow the upload entries `entries`: the
/// node double answers with one `UploadAllowed` per entry, then the reply.
async fn allow(
    client: &mut Client,
    node: &mut FakeNode,
    join_ref: &str,
    view: &str,
    entries: &[&str],
) -> anyhow::Result<()> {
    let allow = json!([join_ref, "a", format!("lv:{view}"), "allow_upload", {"entries": entries}]);
    client.send(&allow.to_string()).await?;
    assert!(matches!(node.next().await?, Seen::Frame { .. }));
    assert_eq!(client.recv_json().await?[4]["status"], "ok");
    Ok(())
}

fn chunk(join_ref: &str, msg_ref: &str, topic: &str, bytes: &[u8]) -> Vec<u8> {
    binary_push(join_ref, msg_ref, topic, "chunk", bytes)
}

/// A gateway linked to one node double, and a client that joined the view
/// `lv:phx-up` (join ref `1`) on it.
struct Joined {
    node: FakeNode,
    client: Client,
    /// The view's session on the node.
    session: u64,
    gateway: TestGateway,
}

impl Joined {
    async fn start() -> anyhow::Result<Joined> {
        let mut node = FakeNode::start("a").await?;
        let gateway = start(config(&[&node])).await?;
        let mut client = connect(gateway.addr).await?;
        let session = client.join_seen(&mut node, "phx-up").await?;
        Ok(Joined {
            node,
            client,
            session,
            gateway,
        })
    }

    /// Has the view allow the upload channel `topic`, then opens it; the node admits it.
    async fn open_upload(&mut self, join_ref: &str, topic: &str) -> anyhow::Result<()> {
        let entry = topic.strip_prefix("lvu:").unwrap_or_default();
        allow(&mut self.client, &mut self.node, "1", "phx-up", &[entry]).await?;
        let join = upload_join(join_ref, topic);
        self.client.send(&join).await?;
        assert_eq!(
            self.node.next().await?,
            Seen::Frame {
                session: self.session,
                frame: join
            }
        );
        let reply = self.client.recv_json().await?;
        assert_eq!(
            (&reply[2], &reply[4]["status"]),
            (&json!(topic), &json!("ok"))
        );
        Ok(())
    }
}

#[tokio::test]
async fn upload_channels_follow_their_views_session() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    joined.open_upload("2", "lvu:0").await?;
    let (node, client, session) = (&mut joined.node, &mut joined.client, joined.session);

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
    assert_unrouted(client, "2", "5", "lvu:0").await?;
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
async fn an_upload_channel_the_node_closes_loses_its_route() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    joined.open_upload("2", "lvu:0").await?;
    joined.open_upload("3", "lvu:1").await?;
    let (node, client) = (&mut joined.node, &mut joined.client);

    // The double closes a channel whose entry was "consumed".
    client.send(r#"["2","4","lvu:0","consume",{}]"#).await?;
    assert!(matches!(node.next().await?, Seen::Frame { .. }));
    assert_eq!(
        client.recv_json().await?,
        json!(["2", "2", "lvu:0", "phx_close", {}])
    );
    assert_unrouted(client, "2", "5", "lvu:0").await?;
    // The other channel and the view keep their routes.
    let bytes = chunk("3", "6", "lvu:1", b"more");
    client.send_binary(bytes.clone()).await?;
    assert!(matches!(node.next().await?, Seen::Binary { bytes: seen, .. } if seen == bytes));
    let event = json!(["1", "7", "lv:phx-up", "event", {}]).to_string();
    client.send(&event).await?;
    assert!(matches!(node.next().await?, Seen::Frame { frame, .. } if frame == event));
    Ok(())
}

#[tokio::test]
async fn a_channel_no_session_of_this_socket_allowed_is_refused() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;
    client.join("phx-mine", "1").await?;
    node.next().await?;
    // Another socket's view allows `lvu:0`: that allows nothing here.
    let mut other = connect(gateway.addr).await?;
    other.join("phx-other", "1").await?;
    node.next().await?;
    allow(&mut other, &mut node, "1", "phx-other", &["0"]).await?;

    for topic in ["lvu:0", "lvu:1"] {
        client.send(&upload_join("2", topic)).await?;
        assert_eq!(
            client.recv_json().await?,
            json!(["2", "2", topic, "phx_reply", {"status": "error", "response": {"reason": "invalid_token"}}]),
        );
    }
    // Nothing reached the node, and the view is still served.
    let event = json!(["1", "3", "lv:phx-mine", "event", {}]).to_string();
    client.send(&event).await?;
    assert!(matches!(node.next().await?, Seen::Frame { frame, .. } if frame == event));
    Ok(())
}

#[tokio::test]
async fn allowed_channels_are_capped_and_go_with_their_view() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_channels = 4;
    let gateway = start(config).await?;
    let mut client = connect(gateway.addr).await?;
    client.join("phx-up", "1").await?;
    node.next().await?;

    // Six allowed on a cap of four: the two oldest are forgotten.
    allow(
        &mut client,
        &mut node,
        "1",
        "phx-up",
        &["0", "1", "2", "3", "4", "5"],
    )
    .await?;
    for topic in ["lvu:0", "lvu:1"] {
        client.send(&upload_join("2", topic)).await?;
        assert_eq!(
            client.recv_json().await?[4]["response"]["reason"],
            "invalid_token"
        );
    }
    client.send(&upload_join("3", "lvu:5")).await?;
    assert!(matches!(node.next().await?, Seen::Frame { .. }));
    assert_eq!(client.recv_json().await?[4]["status"], "ok");

    // The view rejoins: its allowed channels went with the old session.
    let first = client.join("phx-up", "4").await?;
    let second = client.recv_json().await?;
    assert_eq!(
        (&first[3], &second[3]),
        (&json!("phx_close"), &json!("phx_reply"))
    );
    client.send(&upload_join("5", "lvu:4")).await?;
    assert_eq!(
        client.recv_json().await?[4]["response"]["reason"],
        "invalid_token"
    );
    Ok(())
}

#[tokio::test]
async fn a_dead_node_errors_the_view_and_its_upload_channels() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    joined.open_upload("2", "lvu:0").await?;
    let (node, client) = (&mut joined.node, &mut joined.client);

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

/// The reply the gateway gives itself to a chunk on a topic with no route.
fn unmatched(join_ref: &str, msg_ref: &str, topic: &str) -> serde_json::Value {
    json!([join_ref, msg_ref, topic, "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}])
}

/// Sends a chunk on `topic` and checks that the gateway answers it itself: the topic
/// has no route (any more).
async fn assert_unrouted(
    client: &mut Client,
    join_ref: &str,
    msg_ref: &str,
    topic: &str,
) -> anyhow::Result<()> {
    client
        .send_binary(chunk(join_ref, msg_ref, topic, b"late"))
        .await?;
    assert_eq!(
        client.recv_json().await?,
        unmatched(join_ref, msg_ref, topic)
    );
    Ok(())
}

#[tokio::test]
async fn a_rejoined_upload_channel_replaces_its_route_without_a_leave() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    // A `Leave` upstream would show before the second join's frame (and end the view's
    // session); `open_upload` checks the node sees the join frame next.
    for join_ref in ["2", "3"] {
        joined.open_upload(join_ref, "lvu:0").await?;
    }
    let (node, client, session) = (&mut joined.node, &mut joined.client, joined.session);

    // One leave ends the channel: no second route was left behind by the rejoin.
    let leave = json!(["3", "4", "lvu:0", "phx_leave", {}]).to_string();
    client.send(&leave).await?;
    assert_eq!(
        node.next().await?,
        Seen::Frame {
            session,
            frame: leave
        }
    );
    client.recv_json().await?;
    assert_unrouted(client, "3", "5", "lvu:0").await?;
    Ok(())
}

#[tokio::test]
async fn a_view_closed_by_the_node_takes_its_upload_channels_along() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    joined.open_upload("2", "lvu:0").await?;
    let (node, client) = (&mut joined.node, &mut joined.client);

    // The double answers a view's `phx_leave` with a reply and then `Closed`.
    client
        .send(r#"["1","3","lv:phx-up","phx_leave",{}]"#)
        .await?;
    node.next().await?;
    assert_eq!(client.recv_json().await?[4]["status"], "ok");

    // `Closed` follows the reply on the link: probe the view until the gateway answers
    // for itself (each probe waits on its own reply; the harness timeout bounds this).
    let probe = r#"["1","4","lv:phx-up","event",{}]"#;
    loop {
        client.send(probe).await?;
        let reply = client.recv_json().await?;
        if reply == unmatched("1", "4", "lv:phx-up") {
            break;
        }
        assert_eq!(reply[4]["status"], "ok", "{reply}");
        assert!(matches!(node.next().await?, Seen::Frame { .. }));
    }
    // The view's routes went at once, so the channel's is gone too.
    assert_unrouted(client, "2", "5", "lvu:0").await?;
    Ok(())
}

#[tokio::test]
async fn rejoining_the_view_drops_its_upload_channels() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    joined.open_upload("2", "lvu:0").await?;
    let (node, client, old) = (&mut joined.node, &mut joined.client, joined.session);

    client.send(&support::join_frame("phx-up", "3")).await?;
    assert_eq!(
        client.recv_json().await?,
        json!(["1", "1", "lv:phx-up", "phx_close", {}])
    );
    // The old session is left once, then the view is joined anew.
    assert_eq!(node.next().await?, Seen::Leave { session: old });
    let Seen::Join { session: new, .. } = node.next().await? else {
        panic!("expected the rejoin");
    };
    assert_ne!(new, old);
    assert_eq!(client.recv_json().await?[4]["status"], "ok");

    assert_unrouted(client, "2", "4", "lvu:0").await?;
    Ok(())
}

#[tokio::test]
async fn closing_the_socket_leaves_a_view_with_upload_channels_once() -> anyhow::Result<()> {
    let mut joined = Joined::start().await?;
    for (join_ref, topic) in [("2", "lvu:0"), ("3", "lvu:1")] {
        joined.open_upload(join_ref, topic).await?;
    }
    let (node, client, session) = (&mut joined.node, &mut joined.client, joined.session);

    client.ws.close(None).await?;
    assert_eq!(node.next().await?, Seen::Leave { session });
    // The socket's leaves are queued together when it ends, so a second one for the
    // channels would arrive before this other client's join.
    let mut other = connect(joined.gateway.addr).await?;
    other.join("phx-other", "1").await?;
    let seen = node.next().await?;
    assert!(matches!(seen, Seen::Join { .. }), "{seen:?}");
    Ok(())
}
