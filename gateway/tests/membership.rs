//! View-nodes found in the Redis registry: a gateway given only the registry places joins
//! on the registered nodes; once one leaves, new joins go only to the others, while the
//! session already there keeps being served on its link; a member not signed with the
//! cluster secret gets no page. (A real `redis-server`; the view-nodes are the test
//! doubles of `support/mod.rs`.)

mod support;
use cinder_test_support::redis;

use std::time::Duration;

use anyhow::Context as _;

use cinder_gateway::{Config, Membership, placement};
use cinder_pubsub::membership::{DEFAULT_PREFIX, MemberKey, Registration};
use redis::RedisServer;
use serde_json::json;
use support::{FakeNode, SECRET, STEP, connect, get, start};

/// Long enough that no key expires under a live registration on a busy machine.
const TTL: Duration = Duration::from_secs(2);

/// A view id that rendezvous hashing places on `on` among `addrs`.
fn id_placed_on(addrs: &[String], on: &str) -> anyhow::Result<String> {
    (0..10_000)
        .map(|i| format!("phx-member-{i}"))
        .find(|id| placement::place(addrs.iter().map(String::as_str), id) == Some(on))
        .with_context(|| format!("no id lands on {on}"))
}

/// The node name a join reply was rendered by.
fn rendered_by(reply: &serde_json::Value) -> anyhow::Result<&str> {
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    reply[4]["response"]["rendered"]["0"]
        .as_str()
        .with_context(|| format!("no rendered node in {reply}"))
}

#[tokio::test]
async fn joins_follow_the_registered_view_nodes() -> anyhow::Result<()> {
    let server = RedisServer::start()?;
    let mut nodes = Vec::new();
    let mut registrations = Vec::new();
    for name in ["a", "b", "c"] {
        let node = FakeNode::start(name).await?;
        registrations.push(Registration::start(
            &server.url(),
            DEFAULT_PREFIX,
            name,
            &node.host_port(),
            TTL,
            SECRET,
        )?);
        nodes.push(node);
    }
    let addrs: Vec<String> = nodes.iter().map(FakeNode::host_port).collect();

    let mut membership = Membership::new(server.url());
    membership.poll_interval = Duration::from_millis(50);
    let mut config = Config::new("127.0.0.1:0".parse()?, Vec::new(), SECRET.to_vec());
    config.membership = Some(membership);
    let mut gateway = start(config).await?;
    tokio::time::timeout(STEP, gateway.links.wait_until(|up| up == 3)).await?;

    // Each node holds the ids hashed to it over the three registered addresses.
    let ids = addrs
        .iter()
        .map(|addr| id_placed_on(&addrs, addr))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut client = connect(gateway.addr).await?;
    for (n, (id, node)) in ids.iter().zip(&nodes).enumerate() {
        let reply = client.join(id, &n.to_string()).await?;
        assert_eq!(rendered_by(&reply)?, node.name);
    }

    // Node b drains: out of placement at the gateway's next poll.
    registrations.remove(1).leave().await?;
    tokio::time::timeout(STEP, gateway.links.wait_until(|up| up == 2)).await?;
    let survivors = [addrs[0].clone(), addrs[2].clone()];
    let mut other = connect(gateway.addr).await?;
    for (n, id) in ids.iter().enumerate() {
        let expected = placement::place(survivors.iter().map(String::as_str), id).unwrap();
        let expected = &nodes[addrs.iter().position(|a| a == expected).unwrap()].name;
        let reply = other.join(id, &n.to_string()).await?;
        assert_eq!(rendered_by(&reply)?, expected);
        assert_ne!(
            rendered_by(&reply)?,
            "b",
            "{id} was placed on the node that left"
        );
    }

    // The session already on b stays there, served over its link.
    client
        .send(&format!(r#"["1","9","lv:{}","click",{{}}]"#, ids[1]))
        .await?;
    assert_eq!(
        client.recv_json().await?,
        json!(["1", "9", format!("lv:{}", ids[1]), "phx_reply",
            {"status": "ok", "response": {"echo": "click", "node": "b"}}])
    );
    Ok(())
}

#[tokio::test]
async fn static_nodes_stay_beside_registered_ones() -> anyhow::Result<()> {
    let server = RedisServer::start()?;
    let fixed = FakeNode::start("fixed").await?;
    let member = FakeNode::start("member").await?;
    let registration = Registration::start(
        &server.url(),
        DEFAULT_PREFIX,
        "member",
        &member.host_port(),
        TTL,
        SECRET,
    )?;

    let mut membership = Membership::new(server.url());
    membership.poll_interval = Duration::from_millis(50);
    let mut config = support::config(&[&fixed]);
    config.membership = Some(membership);
    let mut gateway = start(config).await?;
    tokio::time::timeout(STEP, gateway.links.wait_until(|up| up == 2)).await?;

    registration.leave().await?;
    tokio::time::timeout(STEP, gateway.links.wait_until(|up| up == 1)).await?;
    // Every join now lands on the static node, whatever its id.
    let mut client = connect(gateway.addr).await?;
    let id = id_placed_on(
        &[fixed.host_port(), member.host_port()],
        &member.host_port(),
    )?;
    let reply = client.join(&id, "1").await?;
    assert_eq!(rendered_by(&reply)?, "fixed");
    Ok(())
}

#[tokio::test]
async fn a_member_not_signed_with_the_cluster_secret_gets_no_page() -> anyhow::Result<()> {
    let server = RedisServer::start()?;
    let good = FakeNode::start("good").await?;
    let evil = FakeNode::start("evil").await?;
    // Written before the real member registers, so the read that finds it finds these too:
    // an unsigned address, as any Redis client could write, and one signed with another
    // secret.
    let forge = |name: &str, value: &str| -> anyhow::Result<()> {
        let key = format!("{DEFAULT_PREFIX}:member:{name}");
        server.command(&[b"SET", key.as_bytes(), value.as_bytes(), b"PX", b"60000"])?;
        server.command(&[b"SADD", b"cinder:members", name.as_bytes()])?;
        Ok(())
    };
    forge("evil", &evil.host_port())?;
    let other = MemberKey::derive(b"not this cluster's secret, 32 by");
    let far = u64::MAX / 2;
    forge(
        "evil-signed",
        &other.sign(DEFAULT_PREFIX, "evil-signed", &evil.host_port(), far),
    )?;
    let _registration = Registration::start(
        &server.url(),
        DEFAULT_PREFIX,
        "good",
        &good.host_port(),
        TTL,
        SECRET,
    )?;

    let mut membership = Membership::new(server.url());
    membership.poll_interval = Duration::from_millis(50);
    let mut config = Config::new("127.0.0.1:0".parse()?, Vec::new(), SECRET.to_vec());
    config.membership = Some(membership);
    let mut gateway = start(config).await?;
    tokio::time::timeout(STEP, gateway.links.wait_until(|up| up == 1)).await?;

    // Ids that rendezvous hashing would put on the forged address, were it a node.
    let addrs = [good.host_port(), evil.host_port()];
    let ids: Vec<String> = (0..10_000)
        .map(|i| format!("phx-forged-{i}"))
        .filter(|id| placement::place(addrs.iter().map(String::as_str), id) == Some(&addrs[1]))
        .take(8)
        .collect();
    let mut client = connect(gateway.addr).await?;
    for (n, id) in ids.iter().enumerate() {
        let reply = client.join(id, &n.to_string()).await?;
        assert_eq!(
            rendered_by(&reply)?,
            "good",
            "{id} was placed on a forged member"
        );
    }
    assert_eq!(gateway.links.up(), 1, "a forged member was linked to");

    let metrics = get(gateway.addr, "/metrics").await?.text();
    let rejected: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("cinder_membership_rejected_total "))
        .context("no cinder_membership_rejected_total")?
        .trim()
        .parse()?;
    assert!(rejected >= 2.0, "{rejected} rejections counted");
    Ok(())
}
