//! Beats over real gRPC on 127.0.0.1:0: a gateway's beat handed to a view-node
//! (`ViewNode/Beat`, behind the link credential) is published on the beats topic; one
//! that is not a gateway's beat, or too large, is refused and published nowhere; the
//! topics API cannot publish on the beats topic; and a running node beats by itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use cinder::router::Router;
use cinder_proto::credential::LinkKey;
use cinder_proto::v1::BeatRequest;
use cinder_proto::v1::view_node_client::ViewNodeClient;
use cinder_pubsub::{Delivery, Local, PubSub};
use cinder_telemetry::beat::{self, Beat, GatewayBeat, State, Tier};
use cinder_view_node::{NodeOptions, Server};
use serde_json::Value;
use tokio::sync::mpsc;
use tonic::Code;

const SECRET: &[u8] = b"beats test secret of at least 32 bytes";
const STEP: Duration = Duration::from_secs(10);

fn listen(pubsub: &Arc<dyn PubSub>) -> mpsc::UnboundedReceiver<Value> {
    let (seen, beats) = mpsc::unbounded_channel();
    pubsub.subscribe(
        beat::TOPIC,
        Box::new(move |message| {
            let _ = seen.send((*message.payload).clone());
            Delivery::Delivered
        }),
    );
    beats
}

#[tokio::test]
async fn a_gateways_beat_is_published_and_anything_else_refused() {
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let mut beats = listen(&pubsub);
    let router = Router::new(SECRET).pubsub(pubsub.clone());
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client =
        ViewNodeClient::with_interceptor(channel, LinkKey::derive(SECRET).credential());
    let send = |json: Vec<u8>| {
        let mut client = client.clone();
        async move { client.beat(BeatRequest { json }).await.map(drop) }
    };

    let mut gateway = Beat::now(Tier::Gateway, "gw:1", "127.0.0.1:1", 1, State::Ready);
    gateway.gateway = Some(GatewayBeat {
        sockets: 3,
        ..GatewayBeat::default()
    });
    send(serde_json::to_vec(&gateway).unwrap()).await.unwrap();
    let heard = tokio::time::timeout(STEP, beats.recv())
        .await
        .unwrap()
        .unwrap();
    let heard: Beat = serde_json::from_value(heard).unwrap();
    assert_eq!(heard, gateway);

    let node = Beat::now(Tier::ViewNode, "forged", "127.0.0.1:2", 1, State::Ready);
    let refused = [
        serde_json::to_vec(&node).unwrap(),
        b"{\"not\":\"a beat\"}".to_vec(),
        vec![b' '; beat::MAX_BEAT_BYTES + 1],
    ];
    for json in refused {
        let status = send(json).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    }
    // Without the credential, nothing reaches the node.
    let mut raw = ViewNodeClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let json = serde_json::to_vec(&gateway).unwrap();
    let status = raw.beat(BeatRequest { json }).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    client
        .beat(BeatRequest { json: Vec::new() })
        .await
        .unwrap_err();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(beats.try_recv().is_err(), "a refused beat was published");
}

#[tokio::test]
async fn a_running_node_beats_with_its_sessions_and_says_when_it_stops() {
    let (bound, ready) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (pubsub_of, pubsub) = tokio::sync::oneshot::channel::<Arc<dyn PubSub>>();
    let options = NodeOptions {
        name: Some("node-under-test".to_owned()),
        ..NodeOptions::default()
    };
    let node = tokio::spawn(cinder_view_node::serve(
        "127.0.0.1:0".parse().unwrap(),
        SECRET,
        options,
        move |router| {
            let _ = pubsub_of.send(router.pubsub_handle());
            router
        },
        move |b| {
            let _ = bound.send(b);
        },
        async {
            let _ = stopped.await;
        },
    ));
    let pubsub = pubsub.await.unwrap();
    let mut beats = listen(&pubsub);
    ready.await.unwrap();
    let first: Beat = serde_json::from_value(
        tokio::time::timeout(STEP, beats.recv())
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (first.tier, first.name.as_str(), first.state),
        (Tier::ViewNode, "node-under-test", State::Ready)
    );
    assert!(first.resident_bytes > 0);
    let figures = first.node.expect("a node's figures");
    assert_eq!(figures.redis_up, None);
    stop.send(()).unwrap();
    node.await.unwrap().unwrap();
    let mut last = None;
    while let Ok(value) = beats.try_recv() {
        last = Some(serde_json::from_value::<Beat>(value).unwrap().state);
    }
    assert_eq!(last, Some(State::Stopped));
}
