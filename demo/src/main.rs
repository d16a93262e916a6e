//! `cinder-demo`: the demo in embedded mode (default), or as a view-node.
//!
//! - `cinder-demo` — gateway + view-node on `http://127.0.0.1:$PORT` (default 4000), no
//!   Redis. `CINDER_SECRET` sets the token secret (random otherwise).
//! - `cinder-demo view-node --listen 127.0.0.1:7001` — a view-node for `cinder-gateway`;
//!   needs `CINDER_SECRET`, the same on every process of the cluster, of at least 32 bytes
//!   (`openssl rand -base64 32`); a shorter one is refused at start. In a cluster:
//!   `--redis redis://127.0.0.1:6379` (topics, presence and membership through Redis),
//!   `--name NAME` (unique and stable; default: the advertised address), `--advertise
//!   HOST:PORT` (what gateways dial; default: the listening address),
//!   `--presence-period-ms` and `--presence-down-ms` (presence broadcast period and how
//!   long a silent node's presences stay; Phoenix's 1500 and 30000 by default),
//!   `--tls-cert FILE --tls-key FILE` (PEM: serve links and renders over TLS, for gateways
//!   on other hosts, started with `--link-tls-ca`).
//!   `--max-sessions N` caps the sessions it hosts (joins past it are refused
//!   `overloaded`; default 100,000). Upload files go to `<temp>/cinder-uploads/<name>`,
//!   emptied at start-up of what a killed run left.
//!
//! `CINDER_API_TOKEN` opens the topics API (`cinder.v1.Topics` on the view-node's port,
//! `POST /api/topics/<topic>` on the gateway) to callers presenting it as a bearer token.
//!
//! SIGINT or SIGTERM stops the process; a view-node first leaves the member set and
//! presence (a drain).

use std::net::SocketAddr;

use anyhow::{Context, bail};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let service = match args.first().map(String::as_str) {
        Some("view-node") => "cinder-view-node",
        _ => "cinder-demo",
    };
    let _telemetry = cinder_telemetry::init(service);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    match args.first().map(String::as_str) {
        None => {
            let port: u16 = std::env::var("PORT")
                .ok()
                .map(|p| p.parse())
                .transpose()?
                .unwrap_or(4000);
            let secret = match std::env::var("CINDER_SECRET") {
                Ok(secret) => strong(secret)?,
                Err(_) => rand::random::<[u8; 32]>().to_vec(),
            };
            let listen = SocketAddr::from(([127, 0, 0, 1], port));
            let ready = |addr: SocketAddr| announce(&format!("listening on http://{addr}"));
            cinder_demo::embedded(listen, &secret, ready, shutdown).await
        }
        Some("view-node") => {
            let listen: SocketAddr = flag(&args, "--listen")
                .unwrap_or("127.0.0.1:7001")
                .parse()
                .context("--listen takes HOST:PORT")?;
            let secret =
                std::env::var("CINDER_SECRET").context("a view-node needs CINDER_SECRET")?;
            let secret = strong(secret)?;
            let options = node_options(&args)?;
            let ready = |addr: SocketAddr| announce(&format!("view-node listening on {addr}"));
            cinder_demo::view_node(listen, &secret, options, ready, shutdown).await
        }
        Some(other) => {
            bail!("unknown command {other:?}; use no argument (embedded) or `view-node`")
        }
    }
}

fn node_options(args: &[String]) -> anyhow::Result<cinder_demo::NodeOptions> {
    let millis = |name: &str| -> anyhow::Result<Option<u64>> {
        flag(args, name)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("{name} takes milliseconds"))
            })
            .transpose()
    };
    let period = millis("--presence-period-ms")?;
    let down = millis("--presence-down-ms")?;
    let max_sessions = flag(args, "--max-sessions")
        .map(|v| v.parse().context("--max-sessions takes a count"))
        .transpose()?;
    let presence = (period.is_some() || down.is_some()).then(|| {
        let mut config = cinder::presence::Config::default();
        if let Some(period) = period {
            config.broadcast_period_ms = period;
            config.down_period_ms = period * u64::from(config.max_silent_periods) * 2;
        }
        if let Some(down) = down {
            config.down_period_ms = down;
        }
        // A short down period needs idle heartbeats often enough to fit in it.
        let fit = config.down_period_ms / config.broadcast_period_ms.max(1);
        let fit = u32::try_from(fit.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .max(1);
        config.max_silent_periods = config.max_silent_periods.min(fit);
        config
    });
    Ok(cinder_demo::NodeOptions {
        redis: flag(args, "--redis").map(str::to_owned),
        name: flag(args, "--name").map(str::to_owned),
        advertise: flag(args, "--advertise").map(str::to_owned),
        presence,
        api_token: std::env::var("CINDER_API_TOKEN").ok(),
        max_sessions,
        tls: tls(args)?,
    })
}

/// `--tls-cert FILE --tls-key FILE` (PEM): both or neither.
fn tls(args: &[String]) -> anyhow::Result<Option<tonic::transport::Identity>> {
    match (flag(args, "--tls-cert"), flag(args, "--tls-key")) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let cert = std::fs::read(cert).with_context(|| format!("--tls-cert {cert}"))?;
            let key = std::fs::read(key).with_context(|| format!("--tls-key {key}"))?;
            Ok(Some(tonic::transport::Identity::from_pem(cert, key)))
        }
        _ => bail!("--tls-cert and --tls-key go together"),
    }
}

/// `CINDER_SECRET`'s bytes, refused in one line if shorter than the cluster's minimum.
fn strong(secret: String) -> anyhow::Result<Vec<u8>> {
    if let Err(weak) = cinder_proto::credential::check_secret(secret.as_bytes()) {
        bail!("CINDER_SECRET: {weak}");
    }
    Ok(secret.into_bytes())
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The one line scripts wait for.
#[expect(
    clippy::print_stdout,
    reason = "the listening line is the binary's interface"
)]
fn announce(line: &str) {
    println!("{line}");
}
