//! `cinder-demo`'s settings (`cinder-runtime`'s command line): a bad one is refused
//! before the process listens, with one line naming the flag and its variable, and exit
//! code 2. A `CINDER_SECRET` under 32 bytes is refused as a view-node and embedded, a
//! missing one as a view-node; presence timings are checked against each other, and every
//! down period from twice the period works.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};

const SECRET: &str = "a cluster secret of at least 32 bytes";

fn demo(args: &[&str], secret: Option<&str>) -> std::io::Result<Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cinder-demo"));
    command
        .args(args)
        .env("PORT", "0")
        .env_remove("CINDER_SECRET");
    if let Some(secret) = secret {
        command.env("CINDER_SECRET", secret);
    }
    command.output()
}

fn assert_refused(output: &Output, line: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty(), "it announced itself");
    assert!(stderr.contains(line), "{stderr}");
}

#[test]
fn a_view_node_refuses_a_short_or_missing_secret() -> anyhow::Result<()> {
    let args = ["view-node", "--listen", "127.0.0.1:0"];
    assert_refused(
        &demo(&args, Some("change-me"))?,
        "CINDER_SECRET: the cluster secret is 9 bytes; it needs at least 32",
    );
    assert_refused(
        &demo(&args, Some(""))?,
        "CINDER_SECRET: the cluster secret is 0 bytes; it needs at least 32",
    );
    assert_refused(&demo(&args, None)?, "CINDER_SECRET is not set");
    Ok(())
}

#[test]
fn embedded_mode_refuses_a_short_secret() -> anyhow::Result<()> {
    assert_refused(
        &demo(&[], Some("change-me"))?,
        "CINDER_SECRET: the cluster secret is 9 bytes; it needs at least 32",
    );
    Ok(())
}

#[test]
fn a_bad_value_names_the_flag_and_the_variable() -> anyhow::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_cinder-demo"))
        .args(["view-node", "--listen", "127.0.0.1:0"])
        .env("CINDER_SECRET", SECRET)
        .env("CINDER_MAX_SESSIONS", "lots")
        .output()?;
    assert_refused(&output, "'--max-sessions <N>' (or CINDER_MAX_SESSIONS)");
    let output = Command::new(env!("CARGO_BIN_EXE_cinder-demo"))
        .args(["--listen", "nowhere"])
        .output()?;
    assert_refused(&output, "'--listen <ADDR>' (or CINDER_LISTEN)");
    Ok(())
}

#[test]
fn a_redis_url_that_does_not_parse_is_refused_before_listening() -> anyhow::Result<()> {
    let args = [
        "view-node",
        "--listen",
        "127.0.0.1:0",
        "--redis",
        "not a url",
    ];
    assert_refused(
        &demo(&args, Some(SECRET))?,
        "--redis (CINDER_REDIS_URL): invalid pubsub configuration",
    );
    Ok(())
}

#[test]
fn a_down_period_under_two_broadcast_periods_is_refused_with_the_minimum() -> anyhow::Result<()> {
    let args = [
        "view-node",
        "--listen",
        "127.0.0.1:0",
        "--presence-down-ms",
        "2000",
    ];
    assert_refused(
        &demo(&args, Some(SECRET))?,
        "--presence-down-ms (CINDER_PRESENCE_DOWN_MS) 2000 is under twice --presence-period-ms (CINDER_PRESENCE_PERIOD_MS) 1500: give at least 3000",
    );
    Ok(())
}

#[test]
fn a_short_down_period_with_the_default_period_starts() -> anyhow::Result<()> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cinder-demo"))
        .args(["view-node", "--listen", "127.0.0.1:0"])
        .env("CINDER_SECRET", SECRET)
        .env("CINDER_PRESENCE_DOWN_MS", "3000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout).read_line(&mut line)?;
    }
    child.kill()?;
    child.wait()?;
    assert!(line.starts_with("view-node listening on "), "{line:?}");
    Ok(())
}
