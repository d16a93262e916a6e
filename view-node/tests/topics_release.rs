//! A topics API subscriber that goes away releases its topics at once (issue 11, item 7):
//! the node's registry returns to what it held, with no message needed to find the sink
//! gone. Real gRPC on 127.0.0.1:0 over the in-process pubsub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cinder::router::Router;
use cinder_proto::v1::SubscribeRequest;
use cinder_proto::v1::topics_client::TopicsClient;
use cinder_pubsub::Local;
use cinder_view_node::Server;

const TOKEN: &str = "topics test token";

/// Polls `condition` for at most 10 s: the server learns of the caller's departure from
/// the HTTP/2 stream reset, which sends no signal a test can await.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_subscriber_that_goes_away_releases_its_topics() {
    let pubsub = Arc::new(Local::new());
    let router: Router = Router::new(b"test secret").pubsub(pubsub.clone());
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
        .api_token(Some(TOKEN.to_owned()));
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    let mut client = TopicsClient::connect(format!("http://{addr}"))
        .await
        .unwrap();

    let baseline = pubsub.topic_count();
    for round in 0..20 {
        let mut request = tonic::Request::new(SubscribeRequest {
            topics: vec![format!("feed:a{round}"), format!("feed:b{round}")],
        });
        let bearer = format!("Bearer {TOKEN}").parse().unwrap();
        request.metadata_mut().insert("authorization", bearer);
        let stream = client.subscribe(request).await.unwrap().into_inner();
        assert_eq!(pubsub.topic_count(), baseline + 2, "subscribed");
        drop(stream);
        eventually("the topics' release", || pubsub.topic_count() == baseline).await;
    }
}
