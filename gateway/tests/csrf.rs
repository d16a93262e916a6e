//! The CSRF check at connect: a `_csrf_token` minted by a dead render for the browser's
//! `_cinder_key` cookie makes its joins reach the node with `csrf_ok = true`; a wrong
//! token or a missing cookie still connects, but its joins carry `csrf_ok = false`.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, Seen, config, connect_with, get, start};

async fn join_flag(node: &mut FakeNode, client: &mut support::Client) -> anyhow::Result<bool> {
    client.join("phx-csrf", "1").await?;
    loop {
        if let Seen::Join { csrf_ok, .. } = node.next().await? {
            return Ok(csrf_ok);
        }
    }
}

#[tokio::test]
async fn csrf_verdict_reaches_the_node() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;

    // A page load gives the cookie and, through the node, the token.
    let page = get(gateway.addr, "/").await?;
    let set_cookie = page.header("set-cookie").unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let body: serde_json::Value = serde_json::from_slice(&page.body)?;
    let token = body["csrf"].as_str().unwrap().to_owned();
    assert!(matches!(node.next().await?, Seen::Render(_)));

    let query = format!("_csrf_token={token}");
    let (mut good, _) = connect_with(gateway.addr, &query, &[("cookie", &cookie)]).await?;
    assert!(join_flag(&mut node, &mut good).await?);

    let (mut wrong, _) =
        connect_with(gateway.addr, "_csrf_token=1.AAAA", &[("cookie", &cookie)]).await?;
    assert!(!join_flag(&mut node, &mut wrong).await?);

    let (mut cookieless, _) = connect_with(gateway.addr, &query, &[]).await?;
    assert!(!join_flag(&mut node, &mut cookieless).await?);

    let (mut other_cookie, _) = connect_with(
        gateway.addr,
        &query,
        &[("cookie", "_cinder_key=someone-else")],
    )
    .await?;
    assert!(!join_flag(&mut node, &mut other_cookie).await?);
    Ok(())
}
