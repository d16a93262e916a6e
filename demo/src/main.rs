//! `cinder-demo`: the demo in embedded mode (default), or as a view-node.
//!
//! - `cinder-demo` — gateway + view-node on `http://127.0.0.1:$PORT` (default 4000), no
//!   Redis. `CINDER_SECRET` sets the token secret (random otherwise).
//! - `cinder-demo view-node --listen 127.0.0.1:7001` — a view-node for `cinder-gateway`;
//!   needs `CINDER_SECRET`, the same on every process of the cluster.

use std::net::SocketAddr;

use anyhow::{Context, bail};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match args.first().map(String::as_str) {
        None => {
            let port: u16 = std::env::var("PORT")
                .ok()
                .map(|p| p.parse())
                .transpose()?
                .unwrap_or(4000);
            let secret = match std::env::var("CINDER_SECRET") {
                Ok(secret) => secret.into_bytes(),
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
            let ready = |addr: SocketAddr| announce(&format!("view-node listening on {addr}"));
            cinder_demo::view_node(listen, secret.as_bytes(), ready, shutdown).await
        }
        Some(other) => {
            bail!("unknown command {other:?}; use no argument (embedded) or `view-node`")
        }
    }
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
