//! The oracle process of the oracle tests (`cinder/tests/oracle*.rs`,
//! `protocol-client/tests/oracle.rs`): `node client/dist/oracle.cjs` (the official
//! `phoenix_live_view` 1.2.12 client's `Rendered` class, see `client/README.md`) driven
//! over its line protocol: `join` or `diff`, each followed by `html`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// How long one oracle reply may take before the test gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the official client made of a `join` or `diff`: the HTML after it, or the error
/// it threw (message and stack), after which its state is unknown and the oracle must be
/// replaced.
pub type Reply = Result<String, String>;

/// The built oracle, beside this crate in the repository.
fn oracle_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client/dist/oracle.cjs")
}

/// One `node client/dist/oracle.cjs` process, driven line by line.
pub struct Oracle {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Oracle {
    /// Starts the oracle, its stderr (where the client logs what it throws on) going to
    /// `stderr`. Its absence is an error (failing the test), never a skip.
    pub fn spawn(stderr: Stdio) -> Result<Oracle, String> {
        let path = oracle_path();
        if !path.is_file() {
            return Err(format!(
                "the LiveView client oracle {} is missing; build it with \
                 `cd client && npm ci && npm run build:oracle` (CI does this before `cargo test`)",
                path.display()
            ));
        }
        let mut child = Command::new("node")
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run `node {}`: {e}; the oracle test needs Node.js (>= 20) on PATH",
                    path.display()
                )
            })?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or("the oracle's stdout is not piped")?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Oracle {
            child,
            stdin,
            lines,
        })
    }

    /// Joins with a server render (a JSON object, sent verbatim). The error is the oracle
    /// process failing, not the client.
    pub fn join(&mut self, rendered: &str) -> Result<Reply, String> {
        self.step(&format!(r#"{{"op":"join","rendered":{rendered}}}"#))
    }

    /// Applies a server diff (a JSON object, sent verbatim). The error is the oracle
    /// process failing, not the client.
    pub fn diff(&mut self, diff: &str) -> Result<Reply, String> {
        self.step(&format!(r#"{{"op":"diff","diff":{diff}}}"#))
    }

    /// The whole view's HTML as the client holds it, without normalization: the
    /// attributes the client adds (`data-phx-component`…) are still there.
    pub fn raw_html(&mut self) -> Result<String, String> {
        let reply = self.ask(r#"{"op":"html","raw":true}"#)?;
        match reply.get("html").and_then(serde_json::Value::as_str) {
            Some(html) => Ok(html.to_owned()),
            None => Err(format!("the client failed: {reply}")),
        }
    }

    /// What the last join or diff patched into the DOM (stream entries included, which
    /// the client's tree drops once rendered): its HTML and the `stream` operations.
    pub fn patch(&mut self) -> Result<(String, serde_json::Value), String> {
        let mut reply = self.ask(r#"{"op":"patch"}"#)?;
        match reply.get("html").and_then(serde_json::Value::as_str) {
            Some(html) => Ok((html.to_owned(), reply["streams"].take())),
            None => Err(format!("unexpected oracle reply {reply}")),
        }
    }

    /// Sends `op` and reads its one-line answer.
    fn ask(&mut self, op: &str) -> Result<serde_json::Value, String> {
        self.send(op)?;
        let line = self
            .lines
            .recv_timeout(REPLY_TIMEOUT)
            .map_err(|e| format!("the oracle did not answer: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("unreadable oracle reply {line:?}: {e}"))
    }

    /// Sends `op` then `html`, and reads the first answer: the HTML, or the error of `op`
    /// (an error may be followed by another line: the caller then replaces the oracle).
    fn step(&mut self, op: &str) -> Result<Reply, String> {
        self.send(op)?;
        self.send(r#"{"op":"html"}"#)?;
        let line = match self.lines.recv_timeout(REPLY_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return Err("the oracle did not answer".into()),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.try_wait().ok().flatten();
                return Err(format!("the oracle exited ({status:?})"));
            }
        };
        let reply: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("unreadable oracle reply {line:?}: {e}"))?;
        if let Some(html) = reply.get("html").and_then(serde_json::Value::as_str) {
            return Ok(Ok(html.to_owned()));
        }
        match reply.get("error").and_then(serde_json::Value::as_str) {
            Some(error) => Ok(Err(error.to_owned())),
            None => Err(format!("unexpected oracle reply {line}")),
        }
    }

    fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("oracle stdin closed")?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to the oracle failed: {e}"))
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        // Closing stdin ends the oracle; kill it if it lingers.
        drop(self.stdin.take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
