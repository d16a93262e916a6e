//! The upload chunk path: what a client's `allow_upload`, `lvu:` joins, binary chunks,
//! `progress` reports and leaves do to a view's uploads, in any order, through the same
//! steps the session takes (chunks arrive as binary frames and go through
//! `Chunk::parse`).
//!
//! Holds: no sequence panics; an entry never takes more than `max_file_size` bytes
//! from the chunks since its join; a finished entry's file is exactly the size the
//! client announced; when the uploads are dropped, no temporary file is left behind.
#![no_main]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cinder::frame::Chunk;
use cinder::fuzzing as channel;
use cinder::{UploadOptions, Uploads};
use cinder_protocol_client::Frame;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Small, so that the fuzzer reaches the limit with a few chunks.
const MAX_FILE_SIZE: u64 = 256;
/// The view's topic the tokens are bound to.
const TOPIC: &str = "lv:phx-fuzz";

fuzz_target!(|data: &[u8]| {
    let dir = temp_dir();
    let _ = run(&mut Unstructured::new(data));
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
});

/// One view's uploads driven by the operations `input` names.
fn run(input: &mut Unstructured<'_>) -> Result<()> {
    let options = UploadOptions::new()
        .max_entries(2)
        .max_file_size(MAX_FILE_SIZE);
    let mut uploads = Uploads::new().allow("avatar", options);
    let reference = uploads
        .get("avatar")
        .map(|c| c.reference().to_owned())
        .unwrap_or_default();
    // Tokens issued, by entry ref, and bytes accepted since each entry's join.
    let mut tokens: Vec<(String, String)> = Vec::new();
    let mut written: HashMap<String, u64> = HashMap::new();
    while !input.is_empty() {
        match input.int_in_range(0..=8u8)? {
            0 => {
                let count = input.int_in_range(0..=3u8)?;
                let mut entries = Vec::new();
                for _ in 0..count {
                    entries.push(json!({
                        "ref": input.int_in_range(0..=3u8)?.to_string(),
                        "name": "file.bin",
                        "size": input.int_in_range(0..=2 * MAX_FILE_SIZE)?,
                        "type": "application/octet-stream",
                    }));
                }
                let payload = json!({"ref": reference, "entries": entries});
                if let Ok(reply) = channel::allow_upload(&mut uploads, TOPIC, &payload)
                    && let Some(issued) = reply["entries"].as_object()
                {
                    for (entry, token) in issued {
                        let token = token.as_str().unwrap_or_default().to_owned();
                        tokens.push((entry.clone(), token));
                    }
                }
            }
            1 => {
                let text: &str = input.arbitrary()?;
                if let Ok(payload) = serde_json::from_str::<Value>(text) {
                    let _ = channel::allow_upload(&mut uploads, TOPIC, &payload);
                }
            }
            2 => {
                let (entry, mut token) = pick(input, &tokens)?;
                if input.arbitrary::<bool>()? {
                    token = input.arbitrary::<String>()?;
                }
                if channel::join(&mut uploads, TOPIC, &entry, &token, "9").is_ok() {
                    written.insert(entry, 0);
                }
            }
            3 => {
                let (entry, _) = pick(input, &tokens)?;
                let len = input.int_in_range(0..=128usize)?;
                let bytes = input.bytes(len)?;
                let Ok(frame) =
                    Frame::encode_binary("9", "1", &format!("lvu:{entry}"), "chunk", bytes)
                else {
                    continue;
                };
                let chunk = Chunk::parse(&frame).expect("a client chunk parses");
                let entry_ref = chunk.topic.strip_prefix("lvu:").unwrap_or_default();
                if channel::chunk(&mut uploads, entry_ref, &chunk.bytes).is_ok() {
                    let total = written.entry(entry).or_default();
                    *total += chunk.bytes.len() as u64;
                    assert!(*total <= MAX_FILE_SIZE, "{total} bytes taken");
                }
            }
            4 => {
                let (entry, _) = pick(input, &tokens)?;
                let progress = if input.arbitrary::<bool>()? {
                    json!(input.int_in_range(0..=120u8)?)
                } else {
                    json!({"error": "failed"})
                };
                let payload = json!({"ref": reference, "entry_ref": entry, "progress": progress});
                let _ = channel::progress(&mut uploads, &payload);
            }
            5 => {
                let (entry, _) = pick(input, &tokens)?;
                channel::leave(&mut uploads, &entry);
            }
            6 => {
                let (entry, _) = pick(input, &tokens)?;
                uploads.cancel("avatar", &entry);
            }
            7 => {
                let later = Duration::from_secs(input.int_in_range(0..=20u64)?);
                channel::expire(&mut uploads, Instant::now() + later);
                let _ = channel::take_finished(&mut uploads);
            }
            _ => {
                for (len, size) in uploads.consume("avatar", |path: &Path, entry| {
                    let len = std::fs::metadata(path).map(|m| m.len()).ok();
                    (len, entry.client_size)
                }) {
                    assert_eq!(len, Some(size), "a finished file has the announced size");
                    assert!(size <= MAX_FILE_SIZE);
                }
            }
        }
    }
    Ok(())
}

/// An entry ref and token: one issued, or (sometimes) an arbitrary one.
fn pick(input: &mut Unstructured<'_>, tokens: &[(String, String)]) -> Result<(String, String)> {
    if tokens.is_empty() || input.ratio(1, 8)? {
        return Ok((input.int_in_range(0..=3u8)?.to_string(), String::new()));
    }
    Ok(input.choose(tokens)?.clone())
}

/// A temporary directory of this process's own, made the process's `TMPDIR`, so that
/// what is left in it is what the uploads left.
fn temp_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cinder-fuzz-upload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        // SAFETY: set once, before any upload reads it; libFuzzer runs the target on
        // one thread.
        unsafe { std::env::set_var("TMPDIR", &dir) };
        dir
    })
}
