//! Only GET and HEAD are served: other methods get 405 with `Allow`, and HEAD gets the
//! headers of the GET without a body.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, http, start};

#[tokio::test]
async fn other_methods_get_405() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;

    for method in ["POST", "PUT", "DELETE"] {
        let reply = http(gateway.addr, method, "/counter", &[]).await?;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    }

    let head = http(gateway.addr, "HEAD", "/counter", &[]).await?;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("x-node"), Some("a"));
    assert!(head.body.is_empty());
    Ok(())
}
