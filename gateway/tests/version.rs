//! Only the V2 serializer is spoken: an upgrade without `vsn=2.0.0` is refused with 400.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, refused_status, start};

#[tokio::test]
async fn wrong_or_missing_vsn_is_refused_with_400() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;

    for query in ["", "?vsn=1.0.0", "?_csrf_token=x"] {
        let url = format!("ws://{}/live/websocket{query}", gateway.addr);
        let Err(error) = tokio_tungstenite::connect_async(url).await else {
            panic!("must be refused");
        };
        assert_eq!(refused_status(&error), Some(400), "{query:?}");
    }
    let url = format!("ws://{}/live/websocket?_mounts=0&vsn=2.0.0", gateway.addr);
    tokio_tungstenite::connect_async(url).await?;
    Ok(())
}
