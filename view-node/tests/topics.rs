//! The topics API over real gRPC on 127.0.0.1:0 keeps to app topics: presence's own
//! topics and the beats topic cannot be published to or subscribed to, and a payload dressed as presence
//! traffic (`{"event": "presence_diff", …}`) is refused, so no app-topic message can be
//! taken for the framework's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cinder::router::Router;
use cinder_proto::v1::topics_client::TopicsClient;
use cinder_proto::v1::{PublishRequest, SubscribeRequest};
use cinder_pubsub::{Delivery, Local, PubSub};
use cinder_view_node::Server;
use tokio::sync::mpsc;
use tonic::Code;
use tonic::transport::Channel;

const TOKEN: &str = "topics test token";
const STEP: Duration = Duration::from_secs(10);

async fn start(pubsub: Arc<dyn PubSub>) -> SocketAddr {
    let router: Router = Router::new(b"test secret").pubsub(pubsub);
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
        .api_token(Some(TOKEN.to_owned()));
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

fn authorized<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let bearer = format!("Bearer {TOKEN}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    request
}

async fn publish(client: &mut TopicsClient<Channel>, topic: &str, payload: &str) -> Code {
    let request = authorized(PublishRequest {
        topic: topic.to_owned(),
        payload: payload.to_owned(),
    });
    match client.publish(request).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test]
async fn presence_topics_are_closed_to_publish_and_subscribe() {
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let addr = start(pubsub.clone()).await;
    let mut client = TopicsClient::connect(format!("http://{addr}"))
        .await
        .unwrap();

    for topic in [
        "presence:0",
        "presence:3:node-a",
        cinder_telemetry::beat::TOPIC,
    ] {
        let code = publish(&mut client, topic, r#"{"forged":true}"#).await;
        assert_eq!(code, Code::PermissionDenied, "publish to {topic}");
        let request = authorized(SubscribeRequest {
            topics: vec!["chat:lobby".to_owned(), topic.to_owned()],
        });
        let refused = client.subscribe(request).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "subscribe to {topic}"
        );
    }
    // The bound on a topic's length holds.
    let long = "t".repeat(cinder_view_node::topics::MAX_TOPIC_BYTES + 1);
    assert_eq!(
        publish(&mut client, &long, "{}").await,
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn a_forged_presence_diff_on_an_app_topic_never_reaches_its_subscribers() {
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let addr = start(pubsub.clone()).await;
    let mut client = TopicsClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let (seen, mut received) = mpsc::unbounded_channel();
    pubsub.subscribe(
        "chat:lobby",
        Box::new(move |message| {
            let _ = seen.send(message.payload.to_string());
            Delivery::Delivered
        }),
    );

    for event in ["presence_diff", "presence_state", "gap"] {
        let forged = format!(
            r#"{{"event":"{event}","payload":{{"joins":{{"mallory":{{"metas":[{{}}]}}}},"leaves":{{}}}}}}"#
        );
        let code = publish(&mut client, "chat:lobby", &forged).await;
        assert_eq!(code, Code::PermissionDenied, "{event}");
    }
    let real = r#"{"id":"1","user":"service","body":"hello"}"#;
    assert_eq!(publish(&mut client, "chat:lobby", real).await, Code::Ok);

    // Delivery is in order: the first message the subscriber gets is the real one.
    let first = tokio::time::timeout(STEP, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(first.contains("hello"), "got {first}");
}
