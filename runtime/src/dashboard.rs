//! `/dashboard`: the running cluster, live, rendered by Cinder itself.
//!
//! Every gateway and view-node beats once a second ([`cinder_telemetry::beat`]); the
//! dashboard subscribes to the beats topic, so it hears every process of the cluster
//! whichever node it runs on, and with no Prometheus to run. A process not heard from
//! for 3 s shows as down (a `kill -9` included), and is forgotten after a minute.
//!
//! It is a view like any other: one subscription and one timer per session. Beats are
//! folded in as they come (nothing renders then); the timer renders once a second, and
//! the tables are keyed comprehensions, so a tick sends only the figures that changed.
//!
//! **Access.** The runtime mounts it in embedded mode always, and on a view-node only
//! when `CINDER_DASHBOARD_TOKEN` (or the variable `--dashboard-token-env` names) is set.
//! With a token, a visitor must present it: `?token=…` in the URL, or the form the page
//! shows, which puts it there so that a reconnect (a node's restart) stays signed in.

mod cluster;
mod show;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cinder::pubsub::Message;
use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use cinder_proto::credential::constant_time_eq;
use cinder_telemetry::beat::{self, Beat, Count, Tier};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize as _;
use serde_json::Value;

use self::cluster::{Cluster, Process, Series, Totals};
use self::show::{bytes, grouped, latency, rate, spark, uptime};

/// Where the runtime mounts it.
pub const PATH: &str = "/dashboard";
/// How often a session renders.
const TICK: Duration = Duration::from_secs(1);
/// What a token keeps as is in the URL's query: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The longest token a visitor may send.
const MAX_TOKEN_BYTES: usize = 1024;

/// Who may open the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// Anyone reaching the port (embedded mode without a token).
    Open,
    /// Whoever presents this token.
    Token(String),
}

/// The process's guard: one app per process, so one dashboard.
static GUARD: OnceLock<Guard> = OnceLock::new();

/// Adds the dashboard at [`PATH`] to `router`, behind `guard` (the first guard set in
/// the process holds). A route of the app's own at the same path comes first.
pub fn mount(router: Router, guard: Guard) -> Router {
    if let Err(guard) = GUARD.set(guard)
        && GUARD.get() != Some(&guard)
    {
        tracing::warn!("a dashboard guard is already set in this process; it stays");
    }
    router.live::<Dashboard>(PATH)
}

fn admits(token: Option<&str>) -> bool {
    match GUARD.get() {
        Some(Guard::Open) => true,
        Some(Guard::Token(expected)) => token.is_some_and(|token| {
            token.len() <= MAX_TOKEN_BYTES
                && constant_time_eq(token.as_bytes(), expected.as_bytes())
        }),
        None => false,
    }
}

/// What a dashboard session hears.
#[derive(Debug)]
pub enum Heard {
    /// A beat, as published.
    Beat(Arc<Value>),
    /// Time to render.
    Tick,
}

impl From<Message> for Heard {
    fn from(message: Message) -> Self {
        Heard::Beat(message.payload)
    }
}

/// A figure with its last minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    id: &'static str,
    label: &'static str,
    value: String,
    spark: String,
}

/// A gateway's row.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRow {
    name: String,
    addr: String,
    state: &'static str,
    uptime: String,
    sockets: String,
    messages: String,
    rss: String,
    cpu: String,
    links: Vec<LinkCell>,
    spark: String,
}

/// One of a gateway's links.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkCell {
    node: String,
    state: String,
    queue: String,
}

/// A view-node's row.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    name: String,
    addr: String,
    state: &'static str,
    uptime: String,
    sessions: String,
    parked: String,
    events: String,
    p50: String,
    p99: String,
    diffs: String,
    rss: String,
    cpu: String,
    redis: &'static str,
    topics: String,
    messages: String,
    spark: String,
}

/// The dashboard.
#[derive(Assigns)]
pub struct Dashboard {
    /// The view-node this session runs on.
    node: String,
    authorized: bool,
    refused: bool,
    cards: Vec<Card>,
    gateways: Vec<GatewayRow>,
    nodes: Vec<NodeRow>,
    views: Vec<Count>,
    presence: Vec<Count>,
    cluster: Box<Cluster>,
}

impl LiveView for Dashboard {
    type Info = Heard;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Cluster dashboard");
        let token = cx.params.get("token").and_then(Value::as_str);
        let authorized = admits(token);
        if authorized && cx.connected {
            cx.subscribe(beat::TOPIC);
            cx.send_after(TICK, Heard::Tick);
        }
        Ok(Dashboard {
            node: cx.node.to_owned(),
            authorized,
            refused: false,
            cards: Vec::new(),
            gateways: Vec::new(),
            nodes: Vec::new(),
            views: Vec::new(),
            presence: Vec::new(),
            cluster: Box::default(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r##"<main id="dashboard" class="dashboard">
  <h1>Cluster</h1>
  <p :if={@authorized} id="served-by" class="muted">This page's session runs on <b>{@node}</b>.</p>
  <form :if={!@authorized} id="dashboard-login" phx-submit="login">
    <label for="dashboard-token">Dashboard token</label>
    <input id="dashboard-token" type="password" name="token" autocomplete="current-password">
    <button type="submit">Open</button>
    <p :if={@refused} id="token-refused" class="error">That token is not the dashboard's.</p>
  </form>
  <p :if={@authorized && @nodes.is_empty()} id="waiting">Waiting for the first beats…</p>
  <section :if={@authorized} class="cards" id="totals">
    <div :for={card in &@cards} :key={card.id} class="card" id={card.id}>
      <span class="label">{card.label}</span>
      <strong class="value">{card.value}</strong>
      <svg class="spark" viewBox="0 0 59 28" preserveAspectRatio="none" aria-hidden="true"><polyline points={card.spark}/></svg>
    </div>
  </section>
  <section :if={@authorized}>
    <h2>View-nodes</h2>
    <div class="scroll"><table class="data" id="nodes">
      <thead><tr><th>Node</th><th>State</th><th>Up</th><th>Sessions</th><th>Parked</th><th>Events/s</th><th>p50</th><th>p99</th><th>Diffs/s</th><th>Memory</th><th>CPU</th><th>Redis</th><th>Topics</th><th>Msgs/s</th><th>Events, 1 min</th></tr></thead>
      <tbody>
        <tr :for={n in &@nodes} :key={n.name} class="node" data-name={n.name} data-state={n.state}>
          <td>{n.name}<br><small>{n.addr}</small></td>
          <td><span class={format!("badge {}", n.state)}>{n.state}</span></td>
          <td>{n.uptime}</td><td class="sessions">{n.sessions}</td><td>{n.parked}</td><td>{n.events}</td>
          <td>{n.p50}</td><td>{n.p99}</td><td>{n.diffs}</td><td>{n.rss}</td><td>{n.cpu}</td>
          <td>{n.redis}</td><td>{n.topics}</td><td>{n.messages}</td>
          <td><svg class="spark" viewBox="0 0 59 28" preserveAspectRatio="none" aria-hidden="true"><polyline points={n.spark}/></svg></td>
        </tr>
      </tbody>
    </table></div>
    <h2>Gateways</h2>
    <div class="scroll"><table class="data" id="gateways">
      <thead><tr><th>Gateway</th><th>State</th><th>Up</th><th>Sockets</th><th>Msgs in/s</th><th>Memory</th><th>CPU</th><th>Links</th><th>Msgs in, 1 min</th></tr></thead>
      <tbody>
        <tr :for={g in &@gateways} :key={g.name} class="gateway" data-name={g.name} data-state={g.state}>
          <td>{g.name}<br><small>{g.addr}</small></td>
          <td><span class={format!("badge {}", g.state)}>{g.state}</span></td>
          <td>{g.uptime}</td><td class="sockets">{g.sockets}</td><td>{g.messages}</td><td>{g.rss}</td><td>{g.cpu}</td>
          <td><span :for={l in &g.links} :key={l.node} class={format!("link {}", l.state)} title={format!("{} queued", l.queue)}>{l.node} {l.state}, {l.queue}</span></td>
          <td><svg class="spark" viewBox="0 0 59 28" preserveAspectRatio="none" aria-hidden="true"><polyline points={g.spark}/></svg></td>
        </tr>
      </tbody>
    </table></div>
    <div class="columns">
      <div>
        <h2>Sessions per view <small>(parked included)</small></h2>
        <table class="data" id="views">
          <tbody><tr :for={v in &@views} :key={v.name} data-view={v.name}><td>{v.name}</td><td class="count">{v.count}</td></tr></tbody>
        </table>
      </div>
      <div>
        <h2>Presence per topic</h2>
        <p :if={@presence.is_empty()} class="muted">No presence is tracked.</p>
        <table class="data" id="presence">
          <tbody><tr :for={p in &@presence} :key={p.name} data-topic={p.name}><td>{p.name}</td><td class="count">{p.count}</td></tr></tbody>
        </table>
      </div>
    </div>
  </section>
</main>"##
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        if event != "login" {
            return Err(cinder::Error::UnknownEvent(event.to_owned()));
        }
        if socket.authorized {
            return Ok(());
        }
        let token = value.get("token").and_then(Value::as_str).unwrap_or("");
        if !admits(Some(token)) {
            socket.set_refused(true);
            return Ok(());
        }
        // The token goes into the URL, so a rejoin after a reconnect mounts signed in.
        let query = utf8_percent_encode(token, UNRESERVED);
        socket.set_authorized(true);
        socket.set_refused(false);
        socket.effects().subscribe(beat::TOPIC);
        socket.send_after(TICK, Heard::Tick);
        socket
            .effects()
            .navigate(cinder::socket::Navigation::Patch {
                to: format!("{PATH}?token={query}"),
                replace: true,
            });
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, heard: Heard) -> Result {
        match heard {
            Heard::Beat(payload) => {
                if let Ok(beat) = Beat::deserialize(payload.as_ref()) {
                    socket.cluster_mut().hear(beat, Instant::now());
                }
            }
            Heard::Tick => {
                socket.send_after(TICK, Heard::Tick);
                let now = Instant::now();
                let totals = socket.cluster_mut().tick(now);
                let cluster = &socket.cluster;
                let cards = cards(cluster, &totals);
                let gateways = cluster
                    .tier(Tier::Gateway)
                    .map(|p| gateway_row(p, now))
                    .collect();
                let nodes = cluster
                    .tier(Tier::ViewNode)
                    .map(|p| node_row(p, now))
                    .collect();
                let views = cluster.views(now);
                let presence = cluster.presence(now);
                socket.set_cards(cards);
                socket.set_gateways(gateways);
                socket.set_nodes(nodes);
                socket.set_views(views);
                socket.set_presence(presence);
            }
        }
        Ok(())
    }
}

fn cards(cluster: &Cluster, totals: &Totals) -> Vec<Card> {
    let card = |id, label, value: String, series: &Series| Card {
        id,
        label,
        value,
        spark: spark(series.values()),
    };
    vec![
        card(
            "card-sockets",
            "Sockets",
            grouped(totals.sockets),
            &cluster.sockets,
        ),
        card(
            "card-sessions",
            "Sessions",
            grouped(totals.sessions),
            &cluster.sessions,
        ),
        card(
            "card-events",
            "Events/s",
            rate(totals.events),
            &cluster.events,
        ),
        card(
            "card-p99",
            "p99 (worst node)",
            latency(totals.p99),
            &cluster.p99,
        ),
        card(
            "card-diffs",
            "Diff bytes/s",
            bytes(totals.diff_bytes),
            &cluster.diff_bytes,
        ),
        card(
            "card-messages",
            "PubSub msgs/s",
            rate(totals.messages),
            &cluster.messages,
        ),
    ]
}

fn common(process: &Process, now: Instant) -> (&'static str, String, String, String) {
    let beat = &process.beat;
    (
        process.state(now),
        uptime(beat.at_ms.saturating_sub(beat.started_ms)),
        bytes(beat.resident_bytes as f64),
        format!("{:.0}%", process.rates.cpu),
    )
}

fn gateway_row(process: &Process, now: Instant) -> GatewayRow {
    let (state, uptime, rss, cpu) = common(process, now);
    let gateway = process.beat.gateway.clone().unwrap_or_default();
    GatewayRow {
        name: process.beat.name.clone(),
        addr: process.beat.addr.clone(),
        state,
        uptime,
        sockets: grouped(gateway.sockets),
        messages: rate(process.rates.events),
        rss,
        cpu,
        links: gateway
            .links
            .into_iter()
            .map(|link| LinkCell {
                queue: bytes(link.queue_bytes as f64),
                node: link.node,
                state: link.state,
            })
            .collect(),
        spark: spark(process.events.values()),
    }
}

fn node_row(process: &Process, now: Instant) -> NodeRow {
    let (state, uptime, rss, cpu) = common(process, now);
    let node = process.beat.node.clone().unwrap_or_default();
    let rates = &process.rates;
    NodeRow {
        name: process.beat.name.clone(),
        addr: process.beat.addr.clone(),
        state,
        uptime,
        sessions: grouped(cluster::connected(&node)),
        parked: grouped(node.parked),
        events: rate(rates.events),
        p50: latency(rates.p50),
        p99: latency(rates.p99),
        diffs: bytes(rates.diff_bytes),
        rss,
        cpu,
        redis: match node.redis_up {
            None => "–",
            Some(true) => "up",
            Some(false) => "down",
        },
        topics: grouped(node.topics),
        messages: rate(rates.messages),
        spark: spark(process.events.values()),
    }
}
