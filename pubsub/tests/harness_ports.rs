//! The test harness itself: a `redis-server` that could not bind its port is not
//! mistaken for the one another test already runs there, so no two tests ever share a
//! Redis (and its channels, members and presence) by accident.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use cinder_test_support::redis as harness;

use harness::RedisServer;

#[test]
fn a_port_taken_by_another_server_is_refused_not_shared() {
    let first = RedisServer::start().unwrap();
    let error = RedisServer::start_on(first.port()).expect_err("the port is taken");
    assert!(
        format!("{error:#}").contains("exited"),
        "refused because our server exited: {error:#}"
    );
    // A fresh start elsewhere still works.
    let second = RedisServer::start().unwrap();
    assert_ne!(second.port(), first.port());
}
