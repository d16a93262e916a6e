//! The binary's settings: `--help` documents every flag with its `CINDER_` variable, a
//! gateway configured by variables alone serves (and keeps their socket cap), and a bad value ends the process with
//! one line naming the flag and its variable, and exit code 2.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::process::Command;

use support::{FakeNode, GatewayProcess, STEP, get};

/// Every flag and its variable: the list the deploy files are checked against.
const SETTINGS: &[(&str, &str)] = &[
    ("--listen", "CINDER_LISTEN"),
    ("--view-node", "CINDER_VIEW_NODES"),
    ("--redis", "CINDER_REDIS_URL"),
    ("--link-tls-ca", "CINDER_LINK_TLS_CA"),
    ("--assets", "CINDER_ASSETS"),
    ("--allowed-origin", "CINDER_ALLOWED_ORIGINS"),
    ("--rate-per-sec", "CINDER_RATE_PER_SEC"),
    ("--max-sockets", "CINDER_MAX_SOCKETS"),
    ("--max-tcp-connections", "CINDER_MAX_TCP_CONNECTIONS"),
    (
        "--max-connections-per-address",
        "CINDER_MAX_CONNECTIONS_PER_ADDRESS",
    ),
    ("--renders-per-sec", "CINDER_RENDERS_PER_SEC"),
    ("--render-burst", "CINDER_RENDER_BURST"),
    ("--trust-forwarded-for", "CINDER_TRUST_FORWARDED_FOR"),
    ("--header-timeout-ms", "CINDER_HEADER_TIMEOUT_MS"),
    ("--body-timeout-ms", "CINDER_BODY_TIMEOUT_MS"),
    ("--max-channels", "CINDER_MAX_CHANNELS"),
    ("--max-topic-bytes", "CINDER_MAX_TOPIC_BYTES"),
    ("--idle-timeout-ms", "CINDER_IDLE_TIMEOUT_MS"),
    ("--write-timeout-ms", "CINDER_WRITE_TIMEOUT_MS"),
    ("--tcp-keepalive-secs", "CINDER_TCP_KEEPALIVE_SECS"),
    ("--socket-up-bytes", "CINDER_SOCKET_UP_BYTES"),
    ("--link-queue-bytes", "CINDER_LINK_QUEUE_BYTES"),
    ("--outbox-bytes", "CINDER_OUTBOX_BYTES"),
    ("--drain-serve-ms", "CINDER_DRAIN_SERVE_MS"),
    ("--drain-close-ms", "CINDER_DRAIN_CLOSE_MS"),
    ("--drain-deadline-ms", "CINDER_DRAIN_DEADLINE_MS"),
];

fn gateway() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cinder-gateway"));
    command.env(
        "CINDER_SECRET",
        std::str::from_utf8(support::SECRET).unwrap_or(""),
    );
    command
}

#[test]
fn help_documents_every_flag_with_its_variable() -> anyhow::Result<()> {
    let output = gateway().arg("--help").output()?;
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout)?;
    // Each flag's entry: the flag, its description, then its variable.
    for (flag, variable) in SETTINGS {
        let entry: Vec<&str> = help
            .lines()
            .skip_while(|line| {
                let line = line.trim_start();
                !(line == *flag || line.starts_with(&format!("{flag} ")))
            })
            .take_while(|line| !line.is_empty())
            .collect();
        assert!(!entry.is_empty(), "{flag} is not in --help:\n{help}");
        let entry = entry.join("\n");
        assert!(entry.contains(&format!("[env: {variable}")), "{entry}");
        assert!(entry.lines().count() >= 3, "{flag} has no description");
    }
    for named in [
        "--secret-env",
        "CINDER_SECRET",
        "--api-token-env",
        "CINDER_API_TOKEN",
    ] {
        assert!(help.contains(named), "{named} is not in --help");
    }
    Ok(())
}

#[test]
fn a_bad_value_names_the_flag_and_its_variable() -> anyhow::Result<()> {
    let from_flag = gateway()
        .args(["--view-node", "127.0.0.1:1", "--drain-serve-ms", "soon"])
        .output()?;
    let from_variable = gateway()
        .args(["--view-node", "127.0.0.1:1"])
        .env("CINDER_IDLE_TIMEOUT_MS", "-5")
        .output()?;
    for (output, flag, variable) in [
        (from_flag, "--drain-serve-ms", "CINDER_DRAIN_SERVE_MS"),
        (from_variable, "--idle-timeout-ms", "CINDER_IDLE_TIMEOUT_MS"),
    ] {
        assert_eq!(output.status.code(), Some(2));
        assert!(output.stdout.is_empty());
        let stderr = String::from_utf8(output.stderr)?;
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: invalid value")
                && first.contains(flag)
                && first.contains(variable),
            "{stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{stderr}"
        );
    }

    // Checked at bind, still named as a setting.
    let address = gateway()
        .args(["--listen", "127.0.0.1:0", "--view-node", "nonsense"])
        .output()?;
    assert_eq!(address.status.code(), Some(2));
    let stderr = String::from_utf8(address.stderr)?;
    assert!(
        stderr.starts_with("error: --view-node (or CINDER_VIEW_NODES): invalid view-node address"),
        "{stderr}"
    );

    let nothing = gateway().output()?;
    assert_eq!(nothing.status.code(), Some(2));
    let stderr = String::from_utf8(nothing.stderr)?;
    assert!(
        stderr.starts_with(
            "error: no view-nodes: give --view-node (CINDER_VIEW_NODES) or --redis (CINDER_REDIS_URL)"
        ),
        "{stderr}"
    );

    let unset = gateway()
        .args(["--view-node", "127.0.0.1:1"])
        .env_remove("CINDER_SECRET")
        .output()?;
    assert_eq!(unset.status.code(), Some(2));
    let stderr = String::from_utf8(unset.stderr)?;
    assert!(
        stderr.starts_with("error: CINDER_SECRET is not set"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn a_gateway_configured_by_variables_alone_serves() -> anyhow::Result<()> {
    let a = FakeNode::start("a").await?;
    let b = FakeNode::start("b").await?;
    let nodes = format!("{},{}", a.host_port(), b.host_port());
    let mut gateway = GatewayProcess::start(
        &[],
        &[
            ("CINDER_LISTEN", "127.0.0.1:0"),
            ("CINDER_VIEW_NODES", &nodes),
            ("CINDER_TRUST_FORWARDED_FOR", "true"),
            ("CINDER_MAX_SOCKETS", "1"),
        ],
    )
    .await?;
    assert_ne!(gateway.addr.port(), 0);
    // One socket is the cap the variable set: the second upgrade gets 503.
    let _first = support::connect(gateway.addr).await?;
    let second = support::connect_with(gateway.addr, "", &[]).await;
    let refused = second.err().and_then(|e| support::refused_status(&e));
    assert_eq!(refused, Some(503));
    let metrics = support::get_until(gateway.addr, "/metrics", |m| {
        m.text().lines().any(|l| l == "cinder_gateway_links_up 2")
    })
    .await?;
    assert_eq!(metrics.status, 200);
    assert_eq!(get(gateway.addr, "/readyz").await?.status, 200);
    gateway.signal("INT")?;
    gateway.exit_within(STEP).await?;
    Ok(())
}
