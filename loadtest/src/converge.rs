//! Presence convergence, against a running gateway (the demo's `/chat/:room`, whose
//! page names the view-node serving it in `#node`): a view-node partitioned from Redis
//! through a [`Proxy`] long enough for the others to drop its presences, then healed;
//! timed until both sides list each other again.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::bail;
use cinder_protocol_client::{Client, Page, View};
use cinder_test_support::proxy::Proxy;

/// The longest any one wait of a measurement may take.
const STEP: Duration = Duration::from_secs(60);

#[expect(clippy::print_stdout, reason = "the tool's output is its figures")]
fn say(line: &str) {
    println!("{line}");
}

/// A joined page.
struct Joined {
    _client: Client,
    view: View,
}

/// The node a chat page names in `#node`.
fn node_of(html: &str) -> &str {
    html.split_once(r#"id="node">"#)
        .and_then(|(_, rest)| rest.split('<').next())
        .unwrap_or("")
}

/// Opens `url` until the page is served by a node `wanted` accepts.
async fn open_where(url: &str, wanted: impl Fn(&str) -> bool) -> anyhow::Result<Joined> {
    for _ in 0..64 {
        let page = Page::fetch(url).await?;
        if wanted(node_of(&page.html)) {
            let client = page.connect().await?;
            client.start_heartbeat(Duration::from_secs(30));
            let view = page.join(&client).await?;
            return Ok(Joined {
                _client: client,
                view,
            });
        }
    }
    bail!("no page of {url} landed on a wanted node")
}

fn room() -> String {
    format!("figures-{:08x}", rand::random::<u32>())
}

/// Starts a proxy to `redis` and prints `proxy listening on ADDR`; the caller starts a
/// view-node named `island` whose Redis is that address, behind the gateway `url`. Then
/// cuts, waits until the rest of the cluster dropped the island's presence, heals and
/// times the convergence.
pub(crate) async fn run(url: &str, redis: SocketAddr) -> anyhow::Result<()> {
    let proxy = Proxy::start(redis)?;
    say(&format!("proxy listening on {}", proxy.addr));
    let room = room();
    let island =
        open_where_patiently(&format!("{url}/chat/{room}?user=alice"), |n| n == "island").await?;
    let mainland = open_where(&format!("{url}/chat/{room}?user=bob"), |n| {
        n != "island" && !n.is_empty()
    })
    .await?;
    let both =
        |html: &str| html.contains(r#"id="online-alice""#) && html.contains(r#"id="online-bob""#);
    wait_html(&island.view, both).await?;
    wait_html(&mainland.view, both).await?;

    let cut = Instant::now();
    proxy.cut();
    wait_html(&mainland.view, |html| {
        !html.contains(r#"id="online-alice""#)
    })
    .await?;
    let dropped = cut.elapsed();
    let healed = Instant::now();
    proxy.heal();
    wait_html(&mainland.view, both).await?;
    let mainland_sees = healed.elapsed();
    wait_html(&island.view, both).await?;
    say(&format!(
        "partition: the others dropped the island's presence {dropped:.1?} after the cut; after the heal they list it again in {mainland_sees:.1?} and the island agrees at {:.1?}",
        healed.elapsed()
    ));
    Ok(())
}

/// Like [`open_where`], while the node may still be starting and registering.
async fn open_where_patiently(
    url: &str,
    wanted: impl Fn(&str) -> bool + Copy,
) -> anyhow::Result<Joined> {
    let deadline = Instant::now() + STEP;
    loop {
        match open_where(url, wanted).await {
            Ok(joined) => return Ok(joined),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn wait_html(view: &View, predicate: impl FnMut(&str) -> bool) -> anyhow::Result<()> {
    view.wait_for_within(STEP, predicate).await?;
    Ok(())
}
