//! One click is one trace: a gateway and a view-node, as processes with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, export their spans over OTLP/gRPC to a receiver in
//! this test (the collector's generated `TraceService`, decoding the real export
//! requests; no collector binary runs here). The view-node's span of a chat message
//! must be the child of the gateway's span of it, in the same trace.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod support;

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use support::{Chatter, RedisServer, STEP, eventually, gateway_with, view_node_with, wait_links};
use tokio_stream::wrappers::TcpListenerStream;

/// One received span: its service, name, trace, id and parent.
#[derive(Clone, Debug)]
struct Received {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref()?.value.as_ref())
                .map_or_else(String::new, |value| match value {
                    any_value::Value::StringValue(name) => name.clone(),
                    other => format!("{other:?}"),
                });
            for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(Received {
                    service: service.clone(),
                    name: span.name,
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    parent_span_id: span.parent_span_id,
                });
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Receiver {
    /// The gateway's span and the view-node's child span of one chat message, if both
    /// arrived.
    fn message_trace(&self) -> Option<(Received, Received)> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|s| s.service == "cinder-view-node" && s.name == "session.message")
            .find_map(|child| {
                let parent = spans.iter().find(|s| {
                    s.service == "cinder-gateway"
                        && s.name == "gateway.forward"
                        && s.span_id == child.parent_span_id
                })?;
                Some((parent.clone(), child.clone()))
            })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_message_is_one_trace_across_gateway_and_view_node() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let receiver = Receiver::default();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver.clone()))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        // Export within 50 ms rather than the SDK's 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ];
    let redis = RedisServer::start().unwrap();
    let _node = view_node_with("n1", &redis.url(), &env);
    let gateway = gateway_with("g1", &redis.url(), &env);
    wait_links(&gateway, 1);

    let alice = Chatter::open(&gateway, "lobby", "alice").await;
    alice.say("traced").await;
    alice.wait_message("alice: traced").await;

    let found = {
        let receiver = receiver.clone();
        tokio::task::spawn_blocking(move || {
            eventually("the message's spans", STEP, || {
                receiver.message_trace().is_some()
            });
            receiver.message_trace()
        })
        .await
        .unwrap()
    };
    let (gateway_span, node_span) = found.unwrap();
    assert_eq!(gateway_span.trace_id, node_span.trace_id);
    assert_eq!(gateway_span.trace_id.len(), 16);
    assert!(gateway_span.trace_id.iter().any(|b| *b != 0));
}
