//! The cluster's figures, against running gateways (the demo's `/chat/:room` and
//! `/feed/:name`, whose pages name the view-node serving them in `#node`… for chat).
//!
//! - [`crossnode`]: a chat message sent on one gateway and view-node, timed until the
//!   `diff` push reaches a client of another gateway served by another view-node.
//! - [`converge`]: a view-node partitioned from Redis through a [`Proxy`] long enough
//!   for the others to drop its presences, then healed; timed until both sides list
//!   each other again.

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
    page: Page,
    _client: Client,
    view: View,
}

async fn open(url: String) -> anyhow::Result<Joined> {
    let page = Page::fetch(&url).await?;
    let client = page.connect().await?;
    client.start_heartbeat(Duration::from_secs(30));
    let view = page.join(&client).await?;
    Ok(Joined {
        page,
        _client: client,
        view,
    })
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
                page,
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

/// Waits for a push on `view` whose payload mentions `marker`.
async fn push_with(view: &View, marker: &str) -> anyhow::Result<Instant> {
    loop {
        let push = view.next_push_within(STEP).await?;
        if push.payload.to_string().contains(marker) {
            return Ok(Instant::now());
        }
    }
}

/// `messages` chat messages from `from` (a gateway's base URL) to a client on `to`
/// served by another view-node, one at a time.
pub(crate) async fn crossnode(from: &str, to: &str, messages: u64) -> anyhow::Result<()> {
    let room = room();
    let alice = open(format!("{from}/chat/{room}?user=alice")).await?;
    let alice_node = node_of(&alice.page.html).to_owned();
    let bob = open_where(&format!("{to}/chat/{room}?user=bob"), |n| n != alice_node).await?;
    let bob_node = node_of(&bob.page.html).to_owned();
    let mut samples = Vec::new();
    for i in 0..messages + 100 {
        let marker = format!("m{i}x");
        let sent = Instant::now();
        let form = format!("body={marker}");
        let submit = alice.view.submit("send", &form);
        let (reply, arrived) = tokio::join!(submit, push_with(&bob.view, &marker));
        reply?;
        // The first 100 warm the path up.
        if i >= 100 {
            samples.push(arrived? - sent);
        }
    }
    samples.sort();
    say(&format!(
        "chat message {alice_node} → Redis → {bob_node}, client to client across gateways ({messages} messages): p50 {:?}, p99 {:?}, max {:?}",
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default(),
    ));
    Ok(())
}

/// Starts a proxy to `redis` and prints `proxy listening on ADDR`; the caller starts a
/// view-node named `island` whose Redis is that address, behind the gateway `url`. Then
/// cuts, waits until the rest of the cluster dropped the island's presence, heals and
/// times the convergence.
pub(crate) async fn converge(url: &str, redis: SocketAddr) -> anyhow::Result<()> {
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

/// The sample at quantile `p` of `sorted`.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list"
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
