//! File uploads, as Phoenix LiveView's `allow_upload`: a live file input, the `lvu:`
//! upload channels and the files they leave on the server.
//!
//! A view keeps an [`Uploads`] field, built in `mount` with [`Uploads::allow`], and hands
//! it to the session through [`LiveView::uploads`](crate::LiveView::uploads). The
//! template renders the input with [`live_file_input`]. Then, for the official client:
//!
//! 1. Choosing files sends the form's `phx-change` event with an `uploads` key; the
//!    session records the entries (checking size, type and count) before the view's
//!    `handle_event` runs, so the template can list them and their errors.
//! 2. On submit (or at once with `auto_upload`), the client sends `allow_upload`; the
//!    session answers with the chunk size and one token per valid entry.
//! 3. Per entry, the client joins `lvu:<entry ref>` with that token and sends the file
//!    as binary `chunk` pushes; the session writes them to a temporary file, refusing a
//!    file that grows past `max_file_size`.
//! 4. The client reports `progress` on the view's topic; at 100 the entry is done and
//!    [`LiveView::handle_progress`](crate::LiveView::handle_progress) runs.
//! 5. The view takes the finished files with [`Uploads::consume`]; a temporary file is
//!    deleted after its consumer returns, when its entry is cancelled, and when the
//!    session ends.
//!
//! A channel that receives no chunk for `chunk_timeout` (10 s by default, counted from
//! its join) is closed (`phx_close`) and its entry dropped with its file, as Phoenix's
//! upload channel stops on its chunk timer: an abandoned upload holds no disk.
//!
//! A channel the client leaves before its file is whole (the client's uploader leaves on
//! an error) loses its file at once; a whole file stays for the view to consume until
//! the session ends. Files live in the process's upload folder ([`use_temp_dir`]: one
//! per node, so that the sweep at start-up removes what a node killed with `SIGKILL`
//! left, and never another node's live files); without one, in the system temp folder.
//!
//! The module's parts: `options` (limits and errors), `config` (one upload's entries and
//! what is being received), `token` (entry tokens), `folder` (where files live) and
//! `components` (the HTML).

mod components;
mod config;
mod folder;
mod options;
mod token;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use tracing::debug;

pub use components::{LiveFileInput, LiveImgPreview, live_file_input, live_img_preview};
pub use config::{MAX_CLIENT_TEXT_BYTES, MAX_ENTRY_REF_BYTES, UploadConfig, UploadEntry};
pub use folder::{node_temp_dir, use_temp_dir};
pub use options::{UploadError, UploadOptions};

/// The view's uploads, by name. Keep one in a view field and return it from
/// [`LiveView::uploads`](crate::LiveView::uploads).
#[derive(Debug, Default)]
pub struct Uploads {
    configs: Vec<UploadConfig>,
    /// Whether the session has a wake-up pending for the channels' chunk timeouts.
    timer_armed: bool,
}

impl Uploads {
    /// No uploads.
    pub fn new() -> Self {
        Uploads::default()
    }

    /// Allows an upload named `name` (the file input's `name`) with `options`.
    #[must_use]
    pub fn allow(mut self, name: impl Into<String>, options: UploadOptions) -> Self {
        let name = name.into();
        self.configs.retain(|c| c.name != name);
        self.configs.push(UploadConfig {
            reference: format!("phx-{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 9]>())),
            name,
            options,
            entries: Vec::new(),
            errors: Vec::new(),
            receiving: Vec::new(),
            finished: Vec::new(),
        });
        self
    }

    /// The upload channels whose entries are gone since the last call, as `(topic,
    /// join_ref)`: the session closes them (`phx_close`), as Phoenix ends an upload
    /// channel once its entry is consumed or cancelled.
    pub(crate) fn take_finished(&mut self) -> Vec<(String, String)> {
        self.configs
            .iter_mut()
            .flat_map(|c| c.finished.drain(..))
            .map(|(entry, join_ref)| (format!("lvu:{entry}"), join_ref))
            .collect()
    }

    /// Whether any upload has entries (chosen, in flight or done but not consumed).
    pub(crate) fn has_entries(&self) -> bool {
        self.configs.iter().any(|c| !c.entries.is_empty())
    }

    /// Stops allowing `name`; its files are deleted.
    pub fn disallow(&mut self, name: &str) {
        self.configs.retain(|c| c.name != name);
    }

    /// The upload named `name`.
    pub fn get(&self, name: &str) -> Option<&UploadConfig> {
        self.configs.iter().find(|c| c.name == name)
    }

    /// The entries of `name` (none for an unknown name).
    pub fn entries(&self, name: &str) -> &[UploadEntry] {
        self.get(name).map_or(&[], UploadConfig::entries)
    }

    /// Cancels the entry `entry_ref` of `name` (Phoenix's `cancel_upload`).
    pub fn cancel(&mut self, name: &str, entry_ref: &str) -> bool {
        self.get_mut(name).is_some_and(|c| c.cancel(entry_ref))
    }

    /// Hands each finished file of `name` to `consume` with its temporary path, then
    /// deletes the file and removes the entry (Phoenix's `consume_uploaded_entries`).
    /// Entries still uploading stay.
    pub fn consume<T>(
        &mut self,
        name: &str,
        mut consume: impl FnMut(&Path, &UploadEntry) -> T,
    ) -> Vec<T> {
        let Some(config) = self.get_mut(name) else {
            return Vec::new();
        };
        let mut results = Vec::new();
        let done: Vec<UploadEntry> = config.entries.iter().filter(|e| e.done).cloned().collect();
        for entry in done {
            if let Some(path) = config
                .receiving(&entry.reference)
                .and_then(|r| r.path.as_ref())
            {
                results.push(consume(&path.0, &entry));
            }
            config.cancel(&entry.reference);
        }
        results
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut UploadConfig> {
        self.configs.iter_mut().find(|c| c.name == name)
    }

    fn by_ref(&mut self, reference: &str) -> Option<&mut UploadConfig> {
        self.configs.iter_mut().find(|c| c.reference == reference)
    }

    /// Whether one of these uploads issued a token for the entry `entry_ref`.
    pub(crate) fn owns(&self, entry_ref: &str) -> bool {
        self.configs
            .iter()
            .any(|c| c.receiving.iter().any(|r| r.entry == entry_ref))
    }

    fn owning(&mut self, entry_ref: &str) -> Option<&mut UploadConfig> {
        self.configs
            .iter_mut()
            .find(|c| c.receiving.iter().any(|r| r.entry == entry_ref))
    }

    /// Records the entries of a form event's `uploads` (`{upload ref: [entry…]}`).
    pub(crate) fn put_form_entries(&mut self, uploads: &Map<String, Value>) {
        for (reference, entries) in uploads {
            if let (Some(config), Some(entries)) = (self.by_ref(reference), entries.as_array()) {
                config.put_entries(entries);
            }
        }
    }

    /// Answers `allow_upload` (`{ref, entries}`): the reply without its diff.
    pub(crate) fn allow_upload(&mut self, topic: &str, payload: &Value) -> Result<Value, String> {
        let reference = payload.get("ref").map(text).unwrap_or_default();
        let config = self
            .by_ref(&reference)
            .ok_or_else(|| format!("no upload {reference:?}"))?;
        let entries = payload
            .get("entries")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        config.put_entries(entries);
        let refs: Vec<String> = entries
            .iter()
            .filter_map(|e| e.get("ref").map(text))
            .collect();
        Ok(config.preflight(topic, &refs))
    }

    /// Applies a `progress` report (`{ref, entry_ref, progress}`, the progress a percent
    /// or `{"error": reason}`). Returns the upload's name and the entry, for
    /// `handle_progress`, when it changed.
    pub(crate) fn progress(&mut self, payload: &Value) -> Option<(String, UploadEntry)> {
        let reference = payload.get("ref").map(text)?;
        let entry_ref = payload.get("entry_ref").map(text)?;
        let config = self.by_ref(&reference)?;
        let index = config
            .entries
            .iter()
            .position(|e| e.reference == entry_ref)?;
        match payload.get("progress") {
            Some(Value::Number(percent)) => {
                let percent = u8::try_from(percent.as_u64()?.min(100)).ok()?;
                if percent == 100 {
                    let size = config.entries[index].client_size;
                    // The channel is finished with the file either way.
                    let complete = config.receiving(&entry_ref).is_some_and(|r| {
                        r.file = None;
                        r.path.is_some() && r.written == size
                    });
                    if !complete {
                        config.entries[index].valid = false;
                        config.put_error(&entry_ref, UploadError::WriterError);
                        return Some((config.name.clone(), config.entries[index].clone()));
                    }
                    config.entries[index].done = true;
                }
                let entry = &mut config.entries[index];
                entry.progress = entry.progress.max(percent);
            }
            Some(Value::Object(_)) => {
                config.entries[index].valid = false;
                config.put_error(&entry_ref, UploadError::ExternalClientFailure);
            }
            _ => return None,
        }
        Some((config.name.clone(), config.entries[index].clone()))
    }

    /// Admits the `lvu:<entry_ref>` join of a view on `topic` presenting `token`, and
    /// opens the entry's temporary file. The error is the reason the client reads.
    pub(crate) fn join(
        &mut self,
        topic: &str,
        entry_ref: &str,
        token: &str,
        join_ref: &str,
    ) -> Result<(), &'static str> {
        let secret = token::claimed_secret(token, topic, entry_ref)?;
        let config = self.owning(entry_ref).ok_or("disallowed")?;
        let receiving = config.receiving(entry_ref).ok_or("disallowed")?;
        if !token::matches(&receiving.secret, secret) {
            return Err("invalid_token");
        }
        if receiving.path.is_some() {
            return Err("already_registered");
        }
        let (path, file) = folder::create().map_err(|_| "writer_error")?;
        receiving.path = Some(path);
        receiving.channel = Some(join_ref.to_owned());
        receiving.file = Some(file);
        receiving.active = Some(Instant::now());
        Ok(())
    }

    /// Ends the `lvu:<entry_ref>` channel. A whole file stays for the view to consume;
    /// a partial one is deleted (the client left on an error), and a new join of the
    /// channel starts the file afresh.
    pub(crate) fn leave(&mut self, entry_ref: &str) {
        let Some(config) = self.owning(entry_ref) else {
            return;
        };
        let done = config
            .entries
            .iter()
            .any(|e| e.reference == entry_ref && e.done);
        if let Some(receiving) = config.receiving(entry_ref) {
            receiving.file = None;
            if !done {
                receiving.path = None;
                receiving.written = 0;
            }
        }
    }

    /// Appends a chunk to the entry's file.
    pub(crate) fn write(&mut self, entry_ref: &str, chunk: &[u8]) -> Result<(), ChunkError> {
        let config = self.owning(entry_ref).ok_or(ChunkError::Disallowed)?;
        let limit = config.options.max_file_size;
        let receiving = config.receiving(entry_ref).ok_or(ChunkError::Disallowed)?;
        let Some(file) = receiving.file.as_mut() else {
            return Err(ChunkError::Disallowed);
        };
        let written = receiving.written.saturating_add(chunk.len() as u64);
        if written > limit {
            receiving.file = None;
            return Err(ChunkError::TooLarge(limit));
        }
        if file.write_all(chunk).is_err() {
            receiving.file = None;
            if let Some(index) = config.entries.iter().position(|e| e.reference == entry_ref) {
                config.entries[index].valid = false;
            }
            config.put_error(entry_ref, UploadError::WriterError);
            return Err(ChunkError::Writer);
        }
        receiving.written = written;
        receiving.active = Some(Instant::now());
        Ok(())
    }

    /// Drops the entries whose channel has received nothing for its `chunk_timeout` at
    /// `now` (their channels queue for closing, like a cancel's). Returns whether any
    /// was dropped.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        let mut dropped = false;
        for config in &mut self.configs {
            let timeout = Duration::from_millis(config.options.chunk_timeout_ms);
            let idle: Vec<String> = config
                .receiving
                .iter()
                .filter(|r| r.file.is_some() && r.active.is_some_and(|at| now >= at + timeout))
                .map(|r| r.entry.clone())
                .collect();
            for entry in idle {
                debug!(%entry, "upload channel idle past its chunk timeout: dropped");
                dropped |= config.cancel(&entry);
            }
        }
        dropped
    }

    /// When the next receiving channel's chunk timeout falls, if the session should
    /// arm a timer for it (none is pending); the session reports the timer's firing
    /// with [`Uploads::timer_fired`].
    pub(crate) fn arm_timer(&mut self) -> Option<Instant> {
        if self.timer_armed {
            return None;
        }
        let next = self
            .configs
            .iter()
            .flat_map(|c| {
                let timeout = Duration::from_millis(c.options.chunk_timeout_ms);
                c.receiving
                    .iter()
                    .filter(|r| r.file.is_some())
                    .filter_map(move |r| r.active.map(|at| at + timeout))
            })
            .min()?;
        self.timer_armed = true;
        Some(next)
    }

    /// The timer armed by [`Uploads::arm_timer`] fired.
    pub(crate) fn timer_fired(&mut self) {
        self.timer_armed = false;
    }
}

/// Why a chunk was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkError {
    /// No joined channel for this entry.
    Disallowed,
    /// The file would exceed this many bytes.
    TooLarge(u64),
    /// Writing failed; the entry has the error.
    Writer,
}

impl ChunkError {
    /// The error reply's response.
    pub(crate) fn response(self) -> String {
        match self {
            ChunkError::Disallowed => r#"{"reason":"disallowed"}"#.to_owned(),
            ChunkError::TooLarge(limit) => {
                format!(r#"{{"reason":"file_size_limit_exceeded","limit":{limit}}}"#)
            }
            ChunkError::Writer => r#"{"reason":"writer_error"}"#.to_owned(),
        }
    }
}

/// A JSON value as text: strings as they are, numbers written out (refs may be either).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::config::EXTRA_ENTRIES;
    use super::*;

    fn described(reference: &str, name: &str, size: u64, mime: &str) -> Value {
        json!({"ref": reference, "name": name, "size": size, "type": mime, "last_modified": 1})
    }

    fn avatar() -> Uploads {
        Uploads::new().allow(
            "avatar",
            UploadOptions::new()
                .accept([".txt", "image/*"])
                .max_entries(2)
                .max_file_size(10),
        )
    }

    #[test]
    fn checks_size_type_and_count() {
        let mut uploads = avatar();
        let config = uploads.get_mut("avatar").unwrap();
        config.put_entries(&[
            described("0", "a.png", 3, "image/png"),
            described("1", "b.TXT", 11, ""),
            described("2", "c.exe", 1, "application/octet-stream"),
        ]);
        assert_eq!(config.entries().len(), 3);
        assert_eq!(config.errors(), [UploadError::TooManyFiles]);
        let errors: Vec<_> = config
            .entries()
            .iter()
            .map(|e| config.entry_errors(e))
            .collect();
        assert_eq!(
            errors,
            [
                vec![],
                vec![UploadError::TooLarge],
                vec![UploadError::NotAccepted]
            ]
        );
        assert!(config.cancel("2"));
        assert!(config.errors().is_empty());

        // A flood of entries is cut off past the extra room.
        let flood: Vec<Value> = (10..1000)
            .map(|i| described(&i.to_string(), "x.txt", 1, "text/plain"))
            .collect();
        config.put_entries(&flood);
        assert_eq!(config.entries().len(), 2 + EXTRA_ENTRIES);
        assert_eq!(config.errors(), [UploadError::TooManyFiles]);
    }

    #[test]
    fn preflight_issues_tokens_for_valid_entries_only() {
        let mut uploads = avatar();
        let reference = uploads.get("avatar").unwrap().reference().to_owned();
        let payload = json!({"ref": reference, "entries": [
            described("0", "a.png", 3, "image/png"),
            described("1", "b.png", 30, "image/png"),
        ]});
        let reply = uploads.allow_upload("lv:phx-1", &payload).unwrap();
        assert_eq!(reply["config"]["max_entries"], 2);
        assert_eq!(reply["errors"], json!({"1": ["too_large"]}));
        let token = reply["entries"]["0"].as_str().unwrap().to_owned();
        assert!(reply["entries"].get("1").is_none());

        assert_eq!(
            uploads.join("lv:phx-2", "0", &token, "9"),
            Err("invalid_token")
        );
        assert_eq!(
            uploads.join("lv:phx-1", "1", &token, "9"),
            Err("invalid_token")
        );
        let forged = format!("{}.x", token.split_once('.').unwrap().0);
        assert_eq!(
            uploads.join("lv:phx-1", "0", &forged, "9"),
            Err("invalid_token")
        );
        assert_eq!(uploads.join("lv:phx-1", "0", &token, "9"), Ok(()));
        assert_eq!(
            uploads.join("lv:phx-1", "0", &token, "9"),
            Err("already_registered")
        );

        assert_eq!(uploads.write("0", b"abc"), Ok(()));
        assert_eq!(uploads.write("1", b"abc"), Err(ChunkError::Disallowed));
        let done = json!({"ref": reference, "entry_ref": "0", "progress": 100});
        let (name, entry) = uploads.progress(&done).unwrap();
        assert_eq!((name.as_str(), entry.done), ("avatar", true));

        let mut kept = None;
        let read = uploads.consume("avatar", |path, entry| {
            kept = Some(path.to_owned());
            (entry.client_name.clone(), std::fs::read(path).unwrap())
        });
        assert_eq!(read, [("a.png".to_owned(), b"abc".to_vec())]);
        assert!(!kept.unwrap().exists(), "consumed files are deleted");
        assert_eq!(
            uploads.take_finished(),
            [("lvu:0".to_owned(), "9".to_owned())],
            "the consumed entry's channel is to be closed"
        );
        assert!(uploads.take_finished().is_empty());
        assert_eq!(
            uploads.entries("avatar").len(),
            1,
            "the invalid entry stays"
        );
    }

    #[test]
    fn refuses_files_that_grow_past_the_limit() {
        let mut uploads = avatar();
        let reference = uploads.get("avatar").unwrap().reference().to_owned();
        let payload =
            json!({"ref": reference, "entries": [described("0", "a.png", 3, "image/png")]});
        let reply = uploads.allow_upload("lv:x", &payload).unwrap();
        let token = reply["entries"]["0"].as_str().unwrap();
        uploads.join("lv:x", "0", token, "9").unwrap();
        assert_eq!(uploads.write("0", &[1; 8]), Ok(()));
        assert_eq!(uploads.write("0", &[1; 8]), Err(ChunkError::TooLarge(10)));
        assert_eq!(
            ChunkError::TooLarge(10).response(),
            r#"{"reason":"file_size_limit_exceeded","limit":10}"#
        );
        let short = json!({"ref": reference, "entry_ref": "0", "progress": 100});
        let (_, entry) = uploads.progress(&short).unwrap();
        assert!(!entry.done && !entry.valid, "a short file is not done");
    }

    #[test]
    fn a_channel_times_out_only_while_receiving_and_each_chunk_restarts_its_clock() {
        let timeout = Duration::from_secs(10);
        let mut uploads = Uploads::new().allow(
            "avatar",
            UploadOptions::new()
                .max_entries(2)
                .max_file_size(100)
                .chunk_timeout(timeout),
        );
        let reference = uploads.get("avatar").unwrap().reference().to_owned();
        let files = [
            described("0", "a.txt", 4, "text/plain"),
            described("1", "b.txt", 4, "text/plain"),
        ];
        let reply = uploads
            .allow_upload("lv:x", &json!({"ref": reference, "entries": files}))
            .unwrap();
        // Nothing joined yet: nothing to time.
        assert_eq!(uploads.arm_timer(), None);
        let start = Instant::now();
        for entry in ["0", "1"] {
            let token = reply["entries"][entry].as_str().unwrap();
            uploads.join("lv:x", entry, token, "9").unwrap();
        }
        let joined = uploads.arm_timer().expect("a deadline once joined");
        assert!(joined >= start + timeout);
        assert_eq!(uploads.arm_timer(), None, "one timer at a time");

        // Entry 1 arrives whole (progress 100 closes its file); entry 0 gets a chunk
        // later, which moves its deadline.
        uploads.write("1", b"done").unwrap();
        let finished = json!({"ref": reference, "entry_ref": "1", "progress": 100});
        assert!(uploads.progress(&finished).unwrap().1.done);
        std::thread::sleep(Duration::from_millis(2));
        let chunked = Instant::now();
        uploads.write("0", b"ab").unwrap();
        uploads.timer_fired();
        let deadline = uploads.arm_timer().unwrap();
        assert!(deadline >= chunked + timeout && deadline > joined);

        uploads.timer_fired();
        assert!(!uploads.expire(deadline - Duration::from_millis(1)));
        assert!(uploads.expire(deadline));
        let names: Vec<&str> = uploads
            .entries("avatar")
            .iter()
            .map(|e| e.client_name.as_str())
            .collect();
        assert_eq!(
            names,
            ["b.txt"],
            "the idle entry is gone, the done one stays"
        );
        assert_eq!(
            uploads.take_finished(),
            [("lvu:0".to_owned(), "9".to_owned())]
        );
        assert_eq!(uploads.arm_timer(), None, "nothing is receiving any more");
    }

    #[test]
    fn renders_the_input_the_client_reads() {
        let mut uploads = avatar();
        let reference = uploads.get("avatar").unwrap().reference().to_owned();
        uploads
            .get_mut("avatar")
            .unwrap()
            .put_entries(&[described("0", "a.png", 3, "image/png")]);
        let props = LiveFileInput {
            upload: uploads.get("avatar"),
            ..Default::default()
        };
        let html = live_file_input(&props).to_html();
        assert_eq!(
            html,
            format!(
                r#"<input id="{reference}" type="file" name="avatar" accept=".txt,image/*" data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore" data-phx-upload-ref="{reference}" data-phx-active-refs="0" data-phx-done-refs="" data-phx-preflighted-refs="" data-phx-error-refs="" multiple>"#
            )
        );
    }

    #[test]
    fn renders_the_preview_the_client_hook_reads() {
        let mut uploads = avatar();
        let reference = uploads.get("avatar").unwrap().reference().to_owned();
        let config = uploads.get_mut("avatar").unwrap();
        config.put_entries(&[described("0", "a.png", 3, "image/png")]);
        let entry = config.entries().first().unwrap();
        let props = LiveImgPreview {
            entry: Some(entry),
            class: "thumb",
            ..Default::default()
        };
        assert_eq!(
            live_img_preview(&props).to_html(),
            format!(
                r#"<img id="phx-preview-0" class="thumb" data-phx-upload-ref="{reference}" data-phx-entry-ref="0" data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore">"#
            )
        );
        assert_eq!(live_img_preview(&LiveImgPreview::default()).to_html(), "");
    }
}
