//! When a view-node's link breaks, every channel routed there gets `phx_error` with
//! reason `node_down`, and the client's rejoin is placed on a node that is still up.
//! (The view-nodes here are test doubles; see `support/mod.rs`.)

mod support;

use serde_json::json;
use support::{FakeNode, config, connect, join_frame, start};

#[tokio::test]
async fn link_break_errors_channels_and_rejoin_lands_elsewhere() -> anyhow::Result<()> {
    let mut a = FakeNode::start("a").await?;
    let mut b = FakeNode::start("b").await?;
    let gateway = start(config(&[&a, &b])).await?;
    let mut client = connect(gateway.addr).await?;

    let reply = client.join("phx-down", "1").await?;
    let first = reply[4]["response"]["rendered"]["0"]
        .as_str()
        .unwrap()
        .to_owned();
    let (dead, alive) = if first == "a" {
        (&mut a, "b")
    } else {
        (&mut b, "a")
    };
    dead.kill().await?;

    assert_eq!(
        client.recv_json().await?,
        json!(["1", "1", "lv:phx-down", "phx_error", {"reason": "node_down"}])
    );

    // The client rejoins after its backoff, with a new join_ref.
    client.send(&join_frame("phx-down", "2")).await?;
    let reply = client.recv_json().await?;
    assert_eq!(reply[0], "2");
    assert_eq!(reply[4]["status"], "ok");
    assert_eq!(reply[4]["response"]["rendered"]["0"], alive);
    Ok(())
}
