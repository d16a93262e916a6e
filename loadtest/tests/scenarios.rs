//! The load tester's scenarios, run as a user runs them (the binary, `--json -`) against
//! real view-nodes and a real gateway serving the demo in this process: the figures it
//! reports are the ones the servers produced.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

const TOKEN: &str = "scenarios-api-token";
const SECRET: &[u8] = b"scenarios-secret-of-at-least-32-bytes";

/// A gateway linked to `nodes` view-nodes of the demo, whose topics go through `redis`
/// (without one, each node's stay in it). Dropping a node's stopper drains that node.
struct Cluster {
    url: String,
    stops: Vec<Option<oneshot::Sender<()>>>,
    _gateway: oneshot::Sender<()>,
}

impl Cluster {
    async fn start(nodes: usize, redis: Option<String>) -> Cluster {
        let mut addrs = Vec::new();
        let mut stops = Vec::new();
        for i in 0..nodes {
            let (bound, addr) = oneshot::channel();
            let (stop, stopped) = oneshot::channel::<()>();
            let options = cinder_view_node::NodeOptions {
                name: Some(format!("scenarios-{}-{i}", std::process::id())),
                api_token: Some(TOKEN.to_owned()),
                redis: redis.clone(),
                ..cinder_view_node::NodeOptions::default()
            };
            tokio::spawn(async move {
                let listen = SocketAddr::from(([127, 0, 0, 1], 0));
                let ready = move |b: cinder_view_node::Bound| {
                    let _ = bound.send(b.grpc);
                };
                let stopped = async {
                    let _ = stopped.await;
                };
                cinder_view_node::serve(
                    listen,
                    SECRET,
                    options,
                    cinder_demo::routes,
                    ready,
                    stopped,
                )
                .await
            });
            addrs.push(addr.await.unwrap().to_string());
            stops.push(Some(stop));
        }
        let mut config =
            cinder_gateway::Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), addrs, SECRET);
        config.assets = cinder_demo::assets_dir();
        config.api_token = Some(TOKEN.to_owned());
        let gateway = cinder_gateway::bind(config).await.unwrap();
        let mut links = gateway.links();
        links.wait_until(|up| up == nodes).await;
        let url = format!("http://{}", gateway.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(gateway.serve(async {
            let _ = stopped.await;
        }));
        Cluster {
            url,
            stops,
            _gateway: stop,
        }
    }
}

/// Runs the load tester with `args` (off the runtime's threads) and returns its JSON.
async fn loadtest(args: Vec<String>) -> Value {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_cinder-loadtest"))
            .args(&args)
            .args(["--quiet", "--json", "-"])
            .env("CINDER_API_TOKEN", TOKEN)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn step(result: &Value) -> &Value {
    &result["steps"][0]
}

/// The gateway's `/metrics` page.
async fn metrics_of(url: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).await.unwrap();
    page
}

/// The value of the unlabelled metric `name` on a Prometheus page (0 when absent).
fn metric(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn click_and_fanout_count_what_the_servers_answered() {
    let redis = cinder_test_support::redis::RedisServer::start().unwrap();
    let cluster = Cluster::start(2, Some(redis.url())).await;

    let counter = format!("{}/counter", cluster.url);
    let click = loadtest(args(&[
        "click",
        "--url",
        &counter,
        "--sessions",
        "20",
        "--pages",
        "4",
        "--rate",
        "200",
        "--hold",
        "1s",
    ]))
    .await;
    let figures = step(&click);
    assert_eq!(figures["live"], 20, "{click}");
    assert!(figures["events"].as_u64().unwrap() >= 150, "{click}");
    assert!(figures["p50_ms"].as_f64().unwrap() > 0.0, "{click}");
    assert_eq!(click["errors"], serde_json::json!({}), "{click}");

    // Each of the 3 publishes reaches each of the 30 sessions once, over both nodes.
    let feed = format!("{}/feed/scenarios", cluster.url);
    let fanout = loadtest(args(&[
        "fanout",
        "--url",
        &feed,
        "--topic",
        "feed:scenarios",
        "--sessions",
        "30",
        "--pages",
        "30",
        "--rate",
        "2",
        "--hold",
        "1500ms",
    ]))
    .await;
    let figures = step(&fanout);
    assert_eq!(figures["events"], 3, "{fanout}");
    assert_eq!(figures["deliveries"], 90, "{fanout}");
    assert!(
        figures["delivery_max_ms"].as_f64().unwrap() > 0.0,
        "{fanout}"
    );
    assert_eq!(fanout["errors"], serde_json::json!({}), "{fanout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_times_every_delivery_in_the_room() {
    let cluster = Cluster::start(1, None).await;
    // 10 sessions in one room: each message reaches all ten.
    let room = format!("{}/chat/scenarios?user=load", cluster.url);
    let chat = loadtest(args(&[
        "chat",
        "--url",
        &room,
        "--sessions",
        "10",
        "--pages",
        "10",
        "--rate",
        "10",
        "--hold",
        "1s",
    ]))
    .await;
    let figures = step(&chat);
    let events = figures["events"].as_u64().unwrap();
    assert!(events >= 8, "{chat}");
    assert_eq!(
        figures["deliveries"].as_u64().unwrap(),
        events * 10,
        "{chat}"
    );
}

/// Runs `rollout` against `path` with 40 sessions and `rate` clicks a second, and drains
/// the cluster's first node once every session is joined (the `--during` command,
/// which the load tester runs then, touches a flag file the test waits for). Returns
/// the load tester's report.
async fn rollout_draining_the_first_node(cluster: &mut Cluster, path: &str, rate: &str) -> Value {
    let flag = std::env::temp_dir().join(format!(
        "rollout{}-{}",
        path.replace('/', "-"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&flag);
    let command = format!("touch {} && sleep 3", flag.display());
    let url = format!("{}{path}", cluster.url);
    let run = tokio::spawn(loadtest(args(&[
        "rollout",
        "--url",
        &url,
        "--sessions",
        "40",
        "--pages",
        "16",
        "--rate",
        rate,
        "--hold",
        "6s",
        "--during",
        &command,
    ])));
    for _ in 0..200 {
        if flag.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(flag.exists(), "the --during command never ran");
    drop(cluster.stops[0].take());
    let rollout = run.await.unwrap();
    let _ = std::fs::remove_file(&flag);
    rollout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_sessions_move_when_their_node_drains_under_load() {
    let mut cluster = Cluster::start(2, None).await;
    // Ten clicks a second on each session while the first node drains.
    let rollout = rollout_draining_the_first_node(&mut cluster, "/counter", "400").await;
    let metrics = metrics_of(&cluster.url).await;
    let moved = metric(&metrics, "cinder_gateway_sessions_moved_total");
    assert!(moved > 0.0, "no session was on the drained node: {rollout}");
    // The counter takes snapshots: its sessions moved without their clients noticing.
    // No channel failed, none joined again, and every click was answered once.
    let figures = step(&rollout);
    assert_eq!(rollout["errors"], serde_json::json!({}), "{rollout}");
    assert_eq!(figures["rejoined"], 0, "{rollout}");
    assert_eq!(figures["down"], 0, "{rollout}");
    assert_eq!(figures["live"], 40, "{rollout}");
    // A lost event would be an error above ("reply lost", "event while the view was
    // down"); the step ends on the clock, with the last reply or two possibly in flight.
    let replies: u64 = rollout["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["replies"].as_u64().unwrap())
        .sum();
    let events = figures["events"].as_u64().unwrap();
    assert!(
        replies <= events && events - replies <= 4,
        "{events} events, {replies} replies: {rollout}"
    );
    assert!(rollout["during"]["ended"].as_f64().is_some(), "{rollout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_sessions_of_a_view_that_does_not_move_join_again() {
    let mut cluster = Cluster::start(2, None).await;
    let rollout = rollout_draining_the_first_node(&mut cluster, "/clock", "0").await;
    // The clock takes no snapshots: its sessions on the drained node fail their channel
    // and join again elsewhere, as the official client does, after its back-off.
    let figures = step(&rollout);
    let rejoined = figures["rejoined"].as_u64().unwrap();
    assert!(
        rejoined > 0,
        "no session was on the drained node: {rollout}"
    );
    assert_eq!(
        rollout["errors"]["phx_error"].as_u64(),
        Some(rejoined),
        "{rollout}"
    );
    assert_eq!(figures["down"], 0, "{rollout}");
    assert_eq!(figures["live"], 40, "{rollout}");
    assert!(
        figures["outage_p50_ms"].as_f64().unwrap() >= 1000.0,
        "{rollout}"
    );
}
