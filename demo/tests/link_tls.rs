//! Links over TLS: a view-node started with `--tls-cert`/`--tls-key` serves its links and
//! renders over TLS only; a gateway started with `--link-tls-ca` (the CA that signed the
//! node's certificate) links to it and serves its pages, and a gateway without it cannot
//! render there. (Real processes; the certificate names `127.0.0.1`, the address the node
//! registers.)

mod support;

use cinder_test_support::redis::make_certificates;
use support::{RedisServer, gateway_args, gateway_with, get, view_node_args, wait_links};

#[test]
fn a_gateway_with_the_ca_links_over_tls_and_one_without_does_not() {
    let dir = std::env::temp_dir().join(format!("cinder-link-tls-{}", std::process::id()));
    make_certificates(&dir).expect("test certificates");
    let path = |file: &str| dir.join(file).to_str().expect("a UTF-8 path").to_owned();
    let redis = RedisServer::start().expect("redis-server");

    let (cert, key, ca) = (path("server.pem"), path("server.key"), path("ca.pem"));
    let _node = view_node_args(
        "tls-node",
        &redis.url(),
        &["--tls-cert", &cert, "--tls-key", &key],
        &[],
    );
    let tls = gateway_args("tls-gateway", &redis.url(), &["--link-tls-ca", &ca], &[]);
    wait_links(&tls, 1);
    let (status, page) = get(tls.addr, "/counter");
    assert_eq!(status, 200, "{page}");

    // Plain HTTP/2 to a TLS port: the link never comes up, so no page is served.
    let plain = gateway_with("plain-gateway", &redis.url(), &[]);
    let (status, _) = get(plain.addr, "/counter");
    assert_eq!(status, 503);
    let _ = std::fs::remove_dir_all(&dir);
}
