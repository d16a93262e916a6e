//! The drain on SIGTERM that a rolling update relies on, on the real binary: `/readyz`
//! turns 503 at once while the gateway goes on serving held and new sockets; after the
//! serve window the listener is closed and the sockets are closed with 1012, spread over
//! the close window; the process exits once none is left. A second SIGTERM exits at
//! once. The library's drain ([`cinder_gateway::Gateway::serve_until_drained`]) counts
//! its closes in `cinder_gateway_closes_total{reason="drain"}`. The binary ends its links
//! cleanly before it exits, so the view-nodes see no reset.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::time::{Duration, Instant};

use cinder_gateway::Drain;
use futures_util::StreamExt as _;
use support::{Client, FakeNode, GatewayProcess, STEP, Seen, config, connect, get, get_until};
use tokio_tungstenite::tungstenite::Message;

/// Opens a socket and joins `lv:<id>` on it.
async fn joined(addr: std::net::SocketAddr, id: &str) -> anyhow::Result<Client> {
    let mut client = connect(addr).await?;
    let reply = client.join(id, "1").await?;
    anyhow::ensure!(reply[4]["status"] == "ok", "join refused: {reply}");
    Ok(client)
}

async fn heartbeat(client: &mut Client, msg_ref: &str) -> anyhow::Result<()> {
    client
        .send(&format!(r#"[null,"{msg_ref}","phoenix","heartbeat",{{}}]"#))
        .await?;
    assert_eq!(
        client.recv().await?,
        format!(r#"[null,"{msg_ref}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#)
    );
    Ok(())
}

#[tokio::test]
async fn readyz_turns_503_at_once_while_sockets_keep_working() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut gateway = GatewayProcess::start(
        &["--listen", "127.0.0.1:0", "--view-node", &node.host_port()],
        &[
            ("CINDER_DRAIN_SERVE_MS", "60000"),
            ("CINDER_DRAIN_DEADLINE_MS", "60000"),
        ],
    )
    .await?;
    assert_eq!(get(gateway.addr, "/readyz").await?.status, 200);
    let mut held = joined(gateway.addr, "phx-held").await?;

    gateway.signal("TERM")?;
    let ready = get_until(gateway.addr, "/readyz", |r| r.status != 200).await?;
    assert_eq!((ready.status, ready.text()), (503, "draining\n".to_owned()));
    let metrics = get(gateway.addr, "/metrics").await?.text();
    assert!(
        metrics.lines().any(|l| l == "cinder_gateway_draining 1"),
        "{metrics}"
    );

    // The held socket and its view still work, and new clients are still served.
    heartbeat(&mut held, "7").await?;
    held.send(r#"["1","8","lv:phx-held","event",{"type":"click","event":"inc","value":{}}]"#)
        .await?;
    let reply = held.recv_json().await?;
    assert_eq!(reply[4]["response"]["echo"], "event", "{reply}");
    let mut late = joined(gateway.addr, "phx-late").await?;
    heartbeat(&mut late, "2").await?;
    assert_eq!(get(gateway.addr, "/healthz").await?.status, 200);

    gateway.signal("INT")?;
    gateway.exit_within(STEP).await?;
    Ok(())
}

#[tokio::test]
async fn sockets_are_closed_over_the_close_window_then_the_process_exits() -> anyhow::Result<()> {
    const SERVE: Duration = Duration::from_millis(300);
    const CLOSE: Duration = Duration::from_millis(1500);
    let node = FakeNode::start("a").await?;
    let mut gateway = GatewayProcess::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--view-node",
            &node.host_port(),
            "--drain-serve-ms",
            "300",
            "--drain-close-ms",
            "1500",
        ],
        &[],
    )
    .await?;
    let mut clients = Vec::new();
    for i in 0..20 {
        clients.push(joined(gateway.addr, &format!("phx-{i}")).await?);
    }

    let signalled = Instant::now();
    gateway.signal("TERM")?;
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let mut first_tx = Some(first_tx);
    let mut closes = futures_util::stream::FuturesUnordered::new();
    for mut client in clients {
        closes.push(async move {
            let close = client.recv_close().await;
            (close, Instant::now())
        });
    }
    let addr = gateway.addr;
    let collect = async {
        let mut seen = Vec::new();
        while let Some((close, at)) = closes.next().await {
            if let Some(tx) = first_tx.take() {
                let _ = tx.send(());
            }
            seen.push((close?, at));
        }
        anyhow::Ok(seen)
    };
    // Once the first socket is closed, the listener is: new clients go elsewhere.
    let refused = async {
        first_rx.await?;
        anyhow::Ok(tokio::net::TcpStream::connect(addr).await.is_err())
    };
    let (seen, refused) = tokio::join!(collect, refused);
    let seen = seen?;
    assert!(
        refused?,
        "the gateway still accepts during the close window"
    );

    for ((code, reason), _) in &seen {
        assert_eq!((*code, reason.as_str()), (1012, "service restart"));
    }
    let first = seen.iter().map(|(_, at)| *at).min().unwrap();
    let last = seen.iter().map(|(_, at)| *at).max().unwrap();
    assert!(
        first - signalled >= SERVE,
        "a socket closed {:?} after SIGTERM, within the serve window",
        first - signalled
    );
    assert!(
        last - first >= CLOSE / 2,
        "the closes came within {:?}, not spread over {CLOSE:?}",
        last - first
    );
    assert!(
        last - signalled <= SERVE + CLOSE + Duration::from_secs(3),
        "the last close came {:?} after SIGTERM",
        last - signalled
    );
    let status = gateway.exit_within(STEP).await?;
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < Drain::DEFAULT_DEADLINE,
        "exited at the deadline only"
    );
    Ok(())
}

#[tokio::test]
async fn a_second_sigterm_exits_at_once() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut gateway = GatewayProcess::start(
        &["--view-node", &node.host_port()],
        &[
            ("CINDER_LISTEN", "127.0.0.1:0"),
            ("CINDER_DRAIN_SERVE_MS", "60000"),
            ("CINDER_DRAIN_CLOSE_MS", "60000"),
            ("CINDER_DRAIN_DEADLINE_MS", "120000"),
        ],
    )
    .await?;
    let mut held = joined(gateway.addr, "phx-held").await?;
    gateway.signal("TERM")?;
    get_until(gateway.addr, "/readyz", |r| r.status == 503).await?;

    let signalled = Instant::now();
    gateway.signal("TERM")?;
    let status = gateway.exit_within(STEP).await?;
    assert!(status.success(), "{status}");
    assert!(signalled.elapsed() < STEP);
    // Gone without the drain's close frame.
    let end = tokio::time::timeout(STEP, held.ws.next()).await?;
    assert!(
        !matches!(end, Some(Ok(Message::Close(Some(ref frame)))) if u16::from(frame.code) == 1012),
        "{end:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_library_drain_closes_every_socket_and_counts_them() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.drain = Drain {
        serve: Duration::from_millis(100),
        close: Duration::from_millis(300),
        deadline: Duration::from_secs(20),
    };
    let gateway = cinder_gateway::bind(config).await?;
    let addr = gateway.local_addr();
    let mut links = gateway.links();
    let (drain, drained) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(gateway.serve_until_drained(async {
        let _ = drained.await;
    }));
    tokio::time::timeout(STEP, links.wait_until(|up| up == 1)).await?;
    let mut clients = Vec::new();
    for i in 0..3 {
        clients.push(joined(addr, &format!("phx-{i}")).await?);
    }

    let _ = drain.send(());
    for client in &mut clients {
        assert_eq!(client.recv_close().await?.0, 1012);
    }
    drop(clients);
    tokio::time::timeout(STEP, serving).await???;
    let metrics = cinder_gateway::prometheus().render();
    for line in [
        r#"cinder_gateway_closes_total{reason="drain"} 3"#,
        "cinder_gateway_draining 1",
        "cinder_gateway_sockets 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in\n{metrics}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_view_nodes_see_the_links_close_cleanly_before_the_exit() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let mut gateway = GatewayProcess::start(
        &["--listen", "127.0.0.1:0", "--view-node", &node.host_port()],
        &[
            ("CINDER_DRAIN_SERVE_MS", "0"),
            ("CINDER_DRAIN_CLOSE_MS", "0"),
        ],
    )
    .await?;
    gateway.signal("TERM")?;
    gateway.exit_within(STEP).await?;
    loop {
        if let Seen::LinkEnded { clean } = node.next().await? {
            assert!(clean, "the link was reset, not closed");
            break;
        }
    }
    Ok(())
}
