//! The topics API for services outside Cinder (`cinder.v1.Topics`, see
//! `proto/cinder/v1/topics.proto`): publish to the topics views subscribe to, subscribe
//! to the topics views broadcast on. Served by every view-node next to the link, through
//! the node's own pubsub, so a message published here reaches every node of the cluster.
//!
//! Every call needs `authorization: Bearer <token>`: the node's API token. A node
//! started without one refuses every call with `UNAVAILABLE`.
//!
//! # Namespaces
//!
//! The API reaches app topics only. Internal topics, those of presence
//! ([`cinder_presence::TOPIC_PREFIX`], `presence:<shard>` and the node-direct
//! `presence:<shard>:<node>`), are refused with `PERMISSION_DENIED` on publish and
//! subscribe: a token holder could otherwise read every presence of the cluster or
//! forge one. The beats topic ([`cinder_telemetry::beat::TOPIC`]) is closed the same
//! way: a forged beat would show a process that does not exist. (Membership lives in Redis keys and node-direct messages on
//! `<prefix>:node:<node>` channels; no topic name reaches either.)
//!
//! A session tells presence from app messages by the payload's `event`
//! (`{"event": "presence_diff", …}` from `subscribe_presence`, `{"event": "gap", …}`
//! from `subscribe_with_gaps`), so a published payload naming one of those
//! [`cinder::topics::FRAMEWORK_EVENTS`] is refused too: it would be taken for the framework's own. A
//! session's app subscriptions drop such a message on receipt as well, whoever
//! published it (a view's broadcast, a Redis client).

use std::pin::Pin;
use std::sync::Arc;

use cinder::topics::framework_event;
use cinder_proto::credential::constant_time_eq;
use cinder_proto::v1::topics_server::{Topics, TopicsServer};
use cinder_proto::v1::{PublishRequest, PublishResponse, SubscribeRequest, TopicMessage};
use cinder_pubsub::{Delivery, PubSub, SubscriptionId};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Longest topic name accepted.
pub const MAX_TOPIC_BYTES: usize = 256;
/// Largest payload accepted (the Redis backend's default envelope limit).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Most topics one `Subscribe` call may name.
pub const MAX_TOPICS: usize = 256;
/// Topic prefixes of the framework's own traffic, closed to the API.
pub const INTERNAL_PREFIXES: [&str; 2] =
    [cinder_presence::TOPIC_PREFIX, cinder_telemetry::beat::TOPIC];
/// Messages that may wait for a slow subscriber before newer ones are dropped.
const SUBSCRIBER_BUFFER: usize = 1024;

/// The `Topics` service over a node's pubsub.
#[derive(Clone)]
pub struct TopicsApi {
    pubsub: Arc<dyn PubSub>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for TopicsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicsApi")
            .field("enabled", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl TopicsApi {
    /// The API over `pubsub`, open to callers presenting `token` (`None`: closed).
    pub fn new(pubsub: Arc<dyn PubSub>, token: Option<String>) -> Self {
        TopicsApi {
            pubsub,
            token: token.filter(|t| !t.is_empty()).map(Arc::from),
        }
    }

    /// The tonic service.
    pub fn into_service(self) -> TopicsServer<TopicsApi> {
        TopicsServer::new(self)
    }

    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Some(token) = &self.token else {
            return Err(Status::unavailable(
                "the topics API is off: start the view-node with CINDER_API_TOKEN",
            ));
        };
        let given = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
            _ => Err(Status::unauthenticated("missing or wrong bearer token")),
        }
    }
}

fn check_topic(topic: &str) -> Result<(), Status> {
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
        return Err(Status::invalid_argument(format!(
            "a topic is 1 to {MAX_TOPIC_BYTES} bytes"
        )));
    }
    if let Some(prefix) = INTERNAL_PREFIXES.iter().find(|p| topic.starts_with(**p)) {
        return Err(Status::permission_denied(format!(
            "topics starting with {prefix:?} are internal"
        )));
    }
    Ok(())
}

/// Refuses a payload the framework's own messages could be mistaken for.
fn check_payload(payload: &serde_json::Value) -> Result<(), Status> {
    match framework_event(payload) {
        Some(event) => Err(Status::permission_denied(format!(
            "the event {event:?} is the framework's"
        ))),
        None => Ok(()),
    }
}

type MessageStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<TopicMessage, Status>> + Send>>;

#[tonic::async_trait]
impl Topics for TopicsApi {
    async fn publish(
        &self,
        request: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        self.authorize(&request)?;
        let PublishRequest { topic, payload } = request.into_inner();
        check_topic(&topic)?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(Status::invalid_argument(format!(
                "the payload is over {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        let payload: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| Status::invalid_argument(format!("the payload is not JSON: {e}")))?;
        check_payload(&payload)?;
        let delivered = self
            .pubsub
            .try_publish(&topic, payload)
            .map_err(|e| Status::unavailable(format!("not published to the cluster: {e}")))?;
        Ok(Response::new(PublishResponse {
            local_subscribers: delivered as u64,
        }))
    }

    type SubscribeStream = MessageStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<MessageStream>, Status> {
        self.authorize(&request)?;
        let topics = request.into_inner().topics;
        if topics.is_empty() || topics.len() > MAX_TOPICS {
            return Err(Status::invalid_argument(format!(
                "name 1 to {MAX_TOPICS} topics"
            )));
        }
        for topic in &topics {
            check_topic(topic)?;
        }
        let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER);
        let mut subscription = Subscription {
            messages: ReceiverStream::new(rx),
            pubsub: self.pubsub.clone(),
            topics: Vec::with_capacity(topics.len()),
        };
        for topic in topics {
            let tx = tx.clone();
            let id = self.pubsub.subscribe(
                &topic,
                Box::new(move |message| {
                    let item = TopicMessage {
                        topic: message.topic.to_string(),
                        payload: message.payload.to_string(),
                    };
                    match tx.try_send(Ok(item)) {
                        Ok(()) => Delivery::Delivered,
                        Err(mpsc::error::TrySendError::Full(_)) => Delivery::Dropped,
                        Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Gone,
                    }
                }),
            );
            subscription.topics.push((topic, id));
        }
        Ok(Response::new(Box::pin(subscription)))
    }
}

/// A caller's `Subscribe` stream. Tonic drops it when the caller goes away, and that
/// unsubscribes its topics at once: left to the sinks, a topic would stay in the node's
/// registry (and, with Redis, subscribed) until a message found the sink gone.
struct Subscription {
    messages: ReceiverStream<Result<TopicMessage, Status>>,
    pubsub: Arc<dyn PubSub>,
    topics: Vec<(String, SubscriptionId)>,
}

impl tokio_stream::Stream for Subscription {
    type Item = Result<TopicMessage, Status>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        Pin::new(&mut self.messages).poll_next(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        for (topic, id) in self.topics.drain(..) {
            self.pubsub.unsubscribe(&topic, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_topics_are_refused_app_topics_pass() {
        for topic in ["presence:0", "presence:3:node-a", "presence:"] {
            let refused = check_topic(topic).unwrap_err();
            assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{topic}");
        }
        for topic in ["chat:lobby", "feed:presence:x", "Presence:0"] {
            assert!(check_topic(topic).is_ok(), "{topic}");
        }
        let long = "x".repeat(MAX_TOPIC_BYTES + 1);
        assert_eq!(
            check_topic(&long).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn framework_events_are_refused_in_payloads() {
        for event in cinder::topics::FRAMEWORK_EVENTS {
            let payload = serde_json::json!({"event": event, "payload": {}});
            let refused = check_payload(&payload).unwrap_err();
            assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        }
        assert!(check_payload(&serde_json::json!({"event": "news", "body": "x"})).is_ok());
        assert!(check_payload(&serde_json::json!(["presence_diff"])).is_ok());
    }
}
