//! `cinder-demo` refuses a `CINDER_SECRET` under 32 bytes, as a view-node and embedded,
//! with one line naming the variable and the minimum, before it listens. A view-node
//! without the variable is refused too.

use std::process::{Command, Output};

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
    assert!(!output.status.success(), "it started: {stderr}");
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
    assert_refused(&demo(&args, None)?, "a view-node needs CINDER_SECRET");
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
