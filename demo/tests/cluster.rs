//! The cluster as processes: a real `redis-server`, three `cinder-demo view-node`s and two
//! `cinder-gateway`s that find the nodes in Redis, spoken to by the Rust protocol client
//! through the demo's `/chat/:room` (messages through the pubsub, `#online` from
//! presence, `#node` naming the view-node that serves the page).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod support;

use std::time::{Duration, Instant};

use cinder_protocol_client::Status;
use support::{
    Chatter, PRESENCE_DOWN_MS, Process, Proxy, RedisServer, gateway, online_of, view_node,
    wait_links,
};

/// Redis, three view-nodes, two gateways linked to all three.
struct Cluster {
    redis: RedisServer,
    nodes: Vec<Process>,
    gateways: Vec<Process>,
}

impl Cluster {
    fn start() -> Cluster {
        let redis = RedisServer::start().unwrap();
        let nodes = ["n1", "n2", "n3"]
            .iter()
            .map(|name| view_node(name, &redis.url()))
            .collect();
        let gateways: Vec<Process> = ["g1", "g2"]
            .iter()
            .map(|name| gateway(name, &redis.url()))
            .collect();
        for gateway in &gateways {
            wait_links(gateway, 3);
        }
        Cluster {
            redis,
            nodes,
            gateways,
        }
    }

    fn node(&mut self, name: &str) -> &mut Process {
        self.nodes.iter_mut().find(|n| n.name == name).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_crosses_gateways_and_view_nodes_and_presence_agrees() {
    let cluster = Cluster::start();
    let [g1, g2] = [&cluster.gateways[0], &cluster.gateways[1]];
    let alice = Chatter::open(g1, "lobby", "alice").await;
    let bob = Chatter::open_away_from(g2, "lobby", "bob", &[&alice.node()]).await;
    assert_ne!(alice.node(), bob.node());

    alice.say("hello from g1").await;
    bob.wait_message("alice: hello from g1").await;
    bob.say("hi from g2").await;
    alice.wait_message("bob: hi from g2").await;

    alice.wait_online(&["alice", "bob"]).await;
    bob.wait_online(&["alice", "bob"]).await;

    // A third user on the third node: every page agrees on the list.
    let carol = Chatter::open_away_from(g1, "lobby", "carol", &[&alice.node(), &bob.node()]).await;
    for chatter in [&alice, &bob, &carol] {
        chatter.wait_online(&["alice", "bob", "carol"]).await;
    }
    // Leaving removes carol everywhere.
    carol.view.leave().await.unwrap();
    alice.wait_online(&["alice", "bob"]).await;
    bob.wait_online(&["alice", "bob"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_view_node_s_clients_mount_on_live_nodes_and_its_presences_leave() {
    let mut cluster = Cluster::start();
    let alice = Chatter::open(&cluster.gateways[0], "lobby", "alice").await;
    let doomed = alice.node();
    let bob = Chatter::open_away_from(&cluster.gateways[1], "lobby", "bob", &[&doomed]).await;
    // carol lives on the same node as alice and will not come back.
    let carol = Chatter::open_on(&cluster.gateways[1], "lobby", "carol", &doomed).await;
    bob.wait_online(&["alice", "bob", "carol"]).await;

    cluster.node(&doomed).kill();
    // The gateway tells alice's channel at once; her client rejoins on a live node.
    alice.wait_errored().await;
    let alice = alice.rejoin().await;
    assert_ne!(alice.node(), doomed);
    // carol's presence goes once the dead node's down period has passed; alice stays
    // (her new session tracks her again).
    let started = Instant::now();
    bob.wait_online(&["alice", "bob"]).await;
    alice.wait_online(&["alice", "bob"]).await;
    assert!(
        started.elapsed() >= Duration::from_millis(PRESENCE_DOWN_MS / 2),
        "carol left after {:?}, before the down period",
        started.elapsed()
    );
    drop(carol);

    alice.say("still here").await;
    bob.wait_message("alice: still here").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_restart_resubscribes_fires_gaps_and_causes_no_leaves() {
    let mut cluster = Cluster::start();
    let alice = Chatter::open(&cluster.gateways[0], "lobby", "alice").await;
    let bob = Chatter::open_away_from(&cluster.gateways[1], "lobby", "bob", &[&alice.node()]).await;
    bob.wait_online(&["alice", "bob"]).await;
    alice.wait_online(&["alice", "bob"]).await;

    cluster.redis.kill();
    std::thread::sleep(Duration::from_millis(300));
    cluster.redis.restart().unwrap();

    // Both sessions hear that they may have missed messages.
    alice
        .wait_html("a gap notice", |html| html.contains(r#"id="gap""#))
        .await;
    bob.wait_html("a gap notice", |html| html.contains(r#"id="gap""#))
        .await;
    // No leave storm: through twice the down period, nobody left anybody's list.
    let until = Instant::now() + Duration::from_millis(2 * PRESENCE_DOWN_MS);
    let both = online_of(&alice.view.html());
    while Instant::now() < until {
        assert_eq!(online_of(&alice.view.html()), both, "alice's list changed");
        assert_eq!(online_of(&bob.view.html()), both, "bob's list changed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Subscriptions are back: messages flow both ways.
    alice.say("after the restart").await;
    bob.wait_message("alice: after the restart").await;
    bob.say("heard you").await;
    alice.wait_message("bob: heard you").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_view_node_cut_off_from_redis_converges_after_heal() {
    let redis = RedisServer::start().unwrap();
    let proxy = Proxy::start(([127, 0, 0, 1], redis.port()).into()).unwrap();
    let proxied = format!("redis://{}", proxy.addr);
    let _island = view_node("island", &proxied);
    let _mainland = view_node("mainland", &redis.url());
    let gw = gateway("g1", &redis.url());
    wait_links(&gw, 2);
    let alice = Chatter::open_on(&gw, "lobby", "alice", "island").await;
    let bob = Chatter::open_on(&gw, "lobby", "bob", "mainland").await;
    alice.wait_online(&["alice", "bob"]).await;
    bob.wait_online(&["alice", "bob"]).await;

    proxy.cut();
    // The mainland stops hearing the island and, after the down period, hides its
    // presences; the island, knowing its own link is down, keeps its list.
    bob.wait_online(&["bob"]).await;
    assert_eq!(online_of(&alice.view.html()), online_of(&bob_and_alice()));

    proxy.heal();
    alice.wait_online(&["alice", "bob"]).await;
    bob.wait_online(&["alice", "bob"]).await;
    // And the topic works across the healed link.
    bob.say("welcome back").await;
    alice.wait_message("bob: welcome back").await;
}

/// Adds `Authorization: Bearer <token>` to a gRPC call.
fn bearer<T>(request: &mut tonic::Request<T>, token: &str) {
    let value = format!("Bearer {token}").parse().unwrap();
    request.metadata_mut().insert("authorization", value);
}

/// `#online` listing alice and bob, as `online_of` reads it.
fn bob_and_alice() -> String {
    r#"<ul id="online"><li id="online-alice">alice</li><li id="online-bob">bob</li></ul>"#
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drained_view_node_hands_its_chats_over_and_leaves_placement() {
    let mut cluster = Cluster::start();
    let alice = Chatter::open(&cluster.gateways[0], "lobby", "alice").await;
    let drained = alice.node();
    let bob = Chatter::open_away_from(&cluster.gateways[1], "lobby", "bob", &[&drained]).await;
    bob.wait_online(&["alice", "bob"]).await;
    alice.say("before").await;
    bob.wait_message("alice: before").await;

    let started = Instant::now();
    cluster.node(&drained).terminate();
    // The drain waits one presence period after the sessions moved, then leaves.
    assert!(
        started.elapsed() < Duration::from_millis(PRESENCE_DOWN_MS),
        "took {:?}",
        started.elapsed()
    );
    // alice's session moved (the chat takes snapshots): same channel, another node, and
    // no error on the way.
    alice
        .wait_html("alice served by a node left", |html| {
            let node = support::served_by(html);
            !node.is_empty() && node != drained
        })
        .await;
    assert_eq!(alice.view.status(), Status::Joined);
    // The room still has her, and what she says reaches it.
    bob.wait_online(&["alice", "bob"]).await;
    alice.say("after").await;
    bob.wait_message("alice: after").await;
    // New pages are placed on the two nodes left.
    for _ in 0..20 {
        let page = cinder_protocol_client::Page::fetch(&format!(
            "http://{}/chat/lobby?user=dave",
            cluster.gateways[0].addr
        ))
        .await
        .unwrap();
        assert_ne!(support::served_by(&page.html), drained);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_services_publish_over_http_and_grpc_and_subscribe_over_grpc() {
    use cinder_proto::v1::topics_client::TopicsClient;
    use cinder_proto::v1::{PublishRequest, SubscribeRequest};
    use support::{API_TOKEN, post};

    let cluster = Cluster::start();
    let alice = Chatter::open(&cluster.gateways[0], "news", "alice").await;

    // A subscriber on one view-node's topics API.
    let node = format!("http://{}", cluster.nodes[2].addr);
    let mut client = TopicsClient::connect(node).await.unwrap();
    let mut request = tonic::Request::new(SubscribeRequest {
        topics: vec!["chat:news".to_owned()],
    });
    bearer(&mut request, API_TOKEN);
    let mut feed = client.subscribe(request).await.unwrap().into_inner();

    // Over HTTP, through the other gateway.
    let body = r#"{"id":"svc-1","user":"service","body":"over http"}"#;
    let (status, _) = post(
        cluster.gateways[1].addr,
        "/api/topics/chat%3Anews",
        API_TOKEN,
        body,
    );
    assert_eq!(status, 202);
    alice.wait_message("service: over http").await;
    let first = tokio::time::timeout(support::STEP, feed.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.topic, "chat:news");
    let payload: serde_json::Value = serde_json::from_str(&first.payload).unwrap();
    assert_eq!(payload["body"], "over http");

    // Over gRPC.
    let mut request = tonic::Request::new(PublishRequest {
        topic: "chat:news".to_owned(),
        payload: r#"{"id":"svc-2","user":"service","body":"over grpc"}"#.to_owned(),
    });
    bearer(&mut request, API_TOKEN);
    client.publish(request).await.unwrap();
    alice.wait_message("service: over grpc").await;

    // A user's message reaches the outside subscriber too.
    alice.say("hello services").await;
    let deadline = Instant::now() + support::STEP;
    loop {
        let message = tokio::time::timeout(support::STEP, feed.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if message.payload.contains("hello services") {
            break;
        }
        assert!(Instant::now() < deadline);
    }

    // Refusals: a wrong token, a body that is not JSON.
    let (status, _) = post(
        cluster.gateways[0].addr,
        "/api/topics/chat:news",
        "wrong",
        body,
    );
    assert_eq!(status, 401);
    let (status, _) = post(
        cluster.gateways[0].addr,
        "/api/topics/chat:news",
        API_TOKEN,
        "{nope",
    );
    assert_eq!(status, 400);
    let mut request = tonic::Request::new(PublishRequest {
        topic: "chat:news".to_owned(),
        payload: "{}".to_owned(),
    });
    bearer(&mut request, "wrong");
    let refused = client.publish(request).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}

/// The same chat on a Redis Cluster (three masters, three replicas): the processes get
/// the nodes' URLs as a comma list, topics go over sharded pubsub, presence over its
/// topics' shards, membership in one slot.
#[tokio::test(flavor = "multi_thread")]
async fn chat_and_presence_cross_view_nodes_on_a_redis_cluster() {
    use support::{API_TOKEN, post};
    let redis = cinder_test_support::redis_cluster::RedisCluster::start().unwrap();
    let urls = redis.urls();
    let _nodes: Vec<Process> = ["c1", "c2", "c3"]
        .iter()
        .map(|name| view_node(name, &urls))
        .collect();
    let gateways: Vec<Process> = ["cg1", "cg2"]
        .iter()
        .map(|name| gateway(name, &urls))
        .collect();
    for gateway in &gateways {
        wait_links(gateway, 3);
    }
    let [g1, g2] = [&gateways[0], &gateways[1]];
    let alice = Chatter::open(g1, "lobby", "alice").await;
    let bob = Chatter::open_away_from(g2, "lobby", "bob", &[&alice.node()]).await;
    assert_ne!(alice.node(), bob.node());
    alice.say("hello over the shards").await;
    bob.wait_message("alice: hello over the shards").await;
    let carol = Chatter::open_away_from(g1, "lobby", "carol", &[&alice.node(), &bob.node()]).await;
    for chatter in [&alice, &bob, &carol] {
        chatter.wait_online(&["alice", "bob", "carol"]).await;
    }
    carol.view.leave().await.unwrap();
    alice.wait_online(&["alice", "bob"]).await;
    bob.wait_online(&["alice", "bob"]).await;

    // The topics API publishes on the cluster as well.
    let body = r#"{"id":"svc-c","user":"service","body":"over the cluster api"}"#;
    let (status, _) = post(g2.addr, "/api/topics/chat:lobby", API_TOKEN, body);
    assert_eq!(status, 202);
    alice.wait_message("service: over the cluster api").await;
    bob.wait_message("service: over the cluster api").await;
}
