//! A view-node's health as probes see it, on the `cinder-demo view-node` binary with a
//! real `redis-server`: `/healthz` answers while the process runs; `/readyz` and
//! `grpc.health.v1` say ready only once Redis is reachable, and not ready from the
//! first SIGTERM; `/metrics` carries the node's own metrics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use std::net::SocketAddr;

use cinder_test_support::redis::free_port;
use support::{RedisServer, STEP, eventually, get, view_node_args};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn client(node: SocketAddr) -> HealthClient<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{node}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

async fn check(node: SocketAddr, service: &str) -> ServingStatus {
    let mut client = client(node).await;
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    let status = client.check(request).await.unwrap().into_inner().status;
    ServingStatus::try_from(status).unwrap()
}

#[test]
fn a_view_node_is_ready_only_with_redis_and_not_from_the_drain_on() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let redis_port = free_port().unwrap();
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port().unwrap())
        .parse()
        .unwrap();
    let node = view_node_args(
        "health",
        &format!("redis://127.0.0.1:{redis_port}"),
        &[
            "--admin-listen",
            &admin.to_string(),
            "--drain-timeout-ms",
            "3000",
        ],
        &[],
    );

    // Redis is not there yet: alive, not ready.
    assert_eq!(get(admin, "/healthz").0, 200);
    assert_eq!(get(admin, "/readyz").0, 503);
    for service in ["", "cinder.v1.ViewNode"] {
        assert_eq!(
            runtime.block_on(check(node.addr, service)),
            ServingStatus::NotServing
        );
    }

    let _redis = RedisServer::start_on(redis_port).unwrap();
    eventually("/readyz 200", STEP, || get(admin, "/readyz").0 == 200);
    for service in ["", "cinder.v1.ViewNode"] {
        assert_eq!(
            runtime.block_on(check(node.addr, service)),
            ServingStatus::Serving
        );
    }
    let (status, metrics) = get(admin, "/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("cinder_redis_up 1"), "{metrics}");

    // A watcher sees the drain begin.
    runtime.block_on(async {
        let mut client = client(node.addr).await;
        let request = HealthCheckRequest {
            service: String::new(),
        };
        let mut watch = client.watch(request).await.unwrap().into_inner();
        let first = watch.message().await.unwrap().unwrap().status;
        assert_eq!(
            ServingStatus::try_from(first).unwrap(),
            ServingStatus::Serving
        );
        node.sigterm();
        let next = tokio::time::timeout(STEP, watch.message()).await.unwrap();
        let next = next.unwrap().unwrap().status;
        assert_eq!(
            ServingStatus::try_from(next).unwrap(),
            ServingStatus::NotServing
        );
    });
}
