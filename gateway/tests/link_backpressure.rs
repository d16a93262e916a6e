//! The link to a view-node is bounded in bytes, and the client that fills it is the one
//! that waits: while the node reads nothing, a flooding client's bytes in the queue stop
//! at its allowance (`socket_up_bytes`; the gateway stops reading its socket), nobody is
//! closed, and a neighbour's message is queued and served as soon as the node reads
//! again, behind only the flooder's allowance. (The view-node here is a test double; see
//! `support/mod.rs`.)

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use support::{FakeNode, STEP, Seen, config, connect, get, start};

const ALLOWANCE: usize = 64 << 10;
/// One flood message: about 1 KB.
const MESSAGE: usize = 1_000;

/// The link queue's bytes for `node`, from `/metrics`.
async fn queued(addr: SocketAddr, node: &FakeNode) -> anyhow::Result<f64> {
    let metrics = get(addr, "/metrics").await?.text();
    let label = format!(
        r#"cinder_gateway_link_queue_bytes{{node="{}"}} "#,
        node.host_port()
    );
    let line = metrics
        .lines()
        .find_map(|line| line.strip_prefix(label.as_str()))
        .context("no link queue gauge")?;
    Ok(line.trim().parse()?)
}

#[tokio::test]
async fn the_client_that_fills_the_link_queue_is_the_one_that_waits() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.socket_up_bytes = ALLOWANCE;
    config.link_queue_bytes = 16 << 20;
    config.rate_per_sec = 1_000_000;
    config.rate_burst = 1_000_000;
    let gateway = start(config).await?;

    let mut flooder = connect(gateway.addr).await?;
    let flooder_session = flooder.join_seen(&mut node, "phx-flood").await?;
    let mut neighbour = connect(gateway.addr).await?;
    let neighbour_session = neighbour.join_seen(&mut node, "phx-neighbour").await?;

    node.pause();
    // 20,000 messages of 1 KB: more than the old queue's 8,192 messages, far more than
    // the allowance. Sent from a task: the flooder's writes block once the gateway
    // stops reading it.
    let pad = "x".repeat(MESSAGE);
    let flood = tokio::spawn(async move {
        for n in 0..20_000 {
            let event = format!(
                r#"["1","{n}","lv:phx-flood","event",{{"type":"click","event":"x","value":"{pad}"}}]"#
            );
            flooder.send(&event).await?;
        }
        anyhow::Ok(flooder)
    });

    // The queue holds the flooder's allowance (what the link's stream took before the
    // node stopped reading is not counted), and stays there.
    let reached = async {
        while queued(gateway.addr, &node).await? < ALLOWANCE as f64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(STEP, reached)
        .await
        .context("the queue never filled")??;

    // The neighbour is read and served by the gateway meanwhile, and its event queued.
    neighbour
        .send(r#"["1","2","lv:phx-neighbour","event",{"type":"click","event":"n","value":{}}]"#)
        .await?;
    neighbour
        .send(r#"[null,"3","phoenix","heartbeat",{}]"#)
        .await?;
    assert_eq!(neighbour.recv_json().await?[1], "3");
    let held = queued(gateway.addr, &node).await?;
    println!("link queue while the node reads nothing: {held} bytes");
    assert!(
        held < (ALLOWANCE + 2 * (MESSAGE + 256)) as f64,
        "the flooder holds more than its allowance: {held} bytes"
    );
    assert!(!flood.is_finished(), "the flooder was not held back");

    // The node reads again: the neighbour's event comes behind at most the flooder's
    // allowance and what the link's stream had taken.
    node.resume();
    let mut before = 0;
    loop {
        match node.next().await? {
            Seen::Frame { session, .. } if session == flooder_session => before += 1,
            Seen::Frame { session, .. } if session == neighbour_session => break,
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    println!("flooder messages ahead of the neighbour's: {before}");
    assert!(before < 1_000, "{before} flooder messages went first");
    assert_eq!(neighbour.recv_json().await?[4]["status"], "ok");
    drop(flood);
    Ok(())
}
