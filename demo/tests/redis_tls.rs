//! `rediss://`: a view-node and a gateway given only a Redis URL over TLS (a test CA they
//! trust through `SSL_CERT_FILE`) register, follow the member set, subscribe and link, and
//! a page loads through them. (Real processes and a real `redis-server --tls-port`.)

mod support;

use support::{RedisServer, STEP, eventually, gateway_with, get, view_node_with, wait_links};

#[test]
fn a_cluster_runs_over_rediss() {
    let dir = std::env::temp_dir().join(format!("cinder-redis-tls-{}", std::process::id()));
    let server = RedisServer::start_with_tls(&dir).expect("redis-server with TLS");
    let url = server.tls_url().expect("a TLS port");
    let ca = dir.join("ca.pem");
    let trust = [("SSL_CERT_FILE", ca.to_str().expect("a UTF-8 path"))];

    let _node = view_node_with("tls-node", &url, &trust);
    let gateway = gateway_with("tls-gateway", &url, &trust);
    // The gateway read the member over TLS, and the signed member checked.
    wait_links(&gateway, 1);
    // The node's topics and presence go over TLS too: it subscribed there.
    eventually("the node's subscriptions", STEP, || {
        server
            .channels("*")
            .is_ok_and(|channels| !channels.is_empty())
    });
    let (status, _) = get(gateway.addr, "/chat/lobby");
    assert_eq!(status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}
