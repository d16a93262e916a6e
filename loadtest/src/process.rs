//! Cluster processes a scenario starts itself (view-nodes, gateways): each a child of
//! the load tester, known by the address its listening line announces, killed if the
//! scenario ends first.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// How long a process may take to announce itself.
const START: Duration = Duration::from_secs(30);

/// A running child process.
pub(crate) struct Process {
    /// What its listening line named, `HOST:PORT`.
    pub(crate) addr: String,
    child: Child,
}

impl Process {
    /// Runs `program` with `args` and the variables `envs`, and waits for its stdout
    /// line starting with `announce`; the rest of that line is its address.
    pub(crate) async fn start(
        program: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        announce: &str,
    ) -> anyhow::Result<Self> {
        let mut child = Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix(announce) {
                    return anyhow::Ok(addr.trim().to_owned());
                }
            }
            bail!("{} exited before announcing itself", program.display())
        };
        let addr = tokio::time::timeout(START, wait)
            .await
            .with_context(|| format!("{} did not announce itself", program.display()))??;
        // Keep reading, so a chatty child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { addr, child })
    }

    /// Sends the signal `name` (`TERM`, `INT`).
    pub(crate) fn signal(&self, name: &str) -> anyhow::Result<()> {
        let pid = self.child.id().context("the process has exited")?;
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -{name} {pid} failed");
        Ok(())
    }

    /// Waits up to `limit` for the process to exit.
    pub(crate) async fn exit_within(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .with_context(|| format!("still running after {limit:?}"))?
            .context("waiting for the process")
    }
}
