//! A page GET is forwarded to a view-node as a dead render: with a fresh `phx-` view id,
//! the path and query, the absolute URL, the request headers and the page's CSRF token;
//! the node's answer comes back, with the `_cinder_key` cookie set for a new browser.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use cinder_gateway::csrf::Csrf;
use support::{FakeNode, SECRET, Seen, config, http, start};

#[tokio::test]
async fn dead_render_is_forwarded_with_view_id_and_cookie() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;

    let page = http(
        gateway.addr,
        "GET",
        "/counter?step=5",
        &[
            ("user-agent", "test-agent"),
            ("x-cinder-csrf-token", "forged"),
        ],
    )
    .await?;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-node"), Some("a"));
    assert_eq!(page.header("content-type"), Some("application/json"));

    let set_cookie = page.header("set-cookie").unwrap();
    let value = set_cookie
        .strip_prefix("_cinder_key=")
        .and_then(|rest| rest.strip_suffix("; Path=/; HttpOnly; SameSite=Lax"))
        .unwrap();
    assert_eq!(value.len(), 22);

    let Seen::Render(request) = node.next().await? else {
        panic!("expected a render");
    };
    assert_eq!(request.path, "/counter?step=5");
    assert_eq!(
        request.url,
        format!("http://{}/counter?step=5", gateway.addr)
    );
    let id = request.view_id.strip_prefix("phx-").unwrap();
    assert_eq!(id.len(), 16);
    let header = |name: &str| {
        request
            .headers
            .iter()
            .filter(|h| h.name == name)
            .map(|h| h.value.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(header("user-agent"), ["test-agent"]);
    // The client's own copy is dropped; the gateway's token is bound to the new cookie.
    let tokens = header("x-cinder-csrf-token");
    assert_eq!(tokens.len(), 1);
    assert!(Csrf::new(SECRET).verify(tokens[0], Some(value), cinder_gateway::csrf::unix_now()));

    // A browser that has the cookie keeps it.
    let cookie = format!("_cinder_key={value}");
    let again = http(gateway.addr, "GET", "/", &[("cookie", &cookie)]).await?;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("set-cookie"), None);
    let Seen::Render(request) = node.next().await? else {
        panic!("expected a render");
    };
    assert_ne!(request.view_id, format!("phx-{id}"));
    Ok(())
}
