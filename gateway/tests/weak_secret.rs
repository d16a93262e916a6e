//! A cluster secret under 32 bytes is refused: `bind` fails with `WeakSecret`, and the
//! binary exits at once with one line naming the variable and the minimum, before it
//! listens. (An empty secret is refused the same way.)

use std::process::Command;

use cinder_gateway::{Config, Error};

#[tokio::test]
async fn bind_refuses_a_short_or_empty_secret() -> anyhow::Result<()> {
    for secret in [&b""[..], b"change-me", &[7u8; 31]] {
        let config = Config::new("127.0.0.1:0".parse()?, vec!["127.0.0.1:1".into()], secret);
        match cinder_gateway::bind(config).await {
            Err(Error::WeakSecret(weak)) => assert_eq!(weak.len, secret.len()),
            other => anyhow::bail!("a {}-byte secret was not refused: {other:?}", secret.len()),
        }
    }
    let config = Config::new(
        "127.0.0.1:0".parse()?,
        vec!["127.0.0.1:1".into()],
        [7u8; 32],
    );
    assert!(
        cinder_gateway::bind(config).await.is_ok(),
        "32 bytes are enough"
    );
    Ok(())
}

#[test]
fn the_binary_refuses_a_short_secret_in_one_line() -> anyhow::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_cinder-gateway"))
        .args(["--listen", "127.0.0.1:0", "--view-node", "127.0.0.1:1"])
        .args(["--secret-env", "TEST_GATEWAY_SECRET"])
        .env("TEST_GATEWAY_SECRET", "change-me")
        .output()?;
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "it announced itself");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("TEST_GATEWAY_SECRET: the cluster secret is 9 bytes; it needs at least 32"),
        "{stderr}"
    );
    Ok(())
}
