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
//! An entry token is `base64url(JSON) "." secret`: the JSON names the view's topic (the
//! gateway routes the `lvu:` join by it) and the entry; the random secret is known only
//! to the session that issued it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tracing::debug;

use crate::{Assigns, Rendered, html};

/// Entries kept past `max_entries`: enough to list what the user chose too many of.
const EXTRA_ENTRIES: usize = 16;

/// How every upload temp file's name starts; the start-up sweep removes only these.
const TEMP_PREFIX: &str = "cinder-upload-";

/// The process's upload folder, once [`use_temp_dir`] has set it.
static TEMP_DIR: OnceLock<PathBuf> = OnceLock::new();

/// The upload folder of the node named `node`: `<system temp>/cinder-uploads/<node>`,
/// with every character of the name outside `[A-Za-z0-9._-]` as `_`.
pub fn node_temp_dir(node: &str) -> PathBuf {
    let name: String = node
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            // A name of dots alone would climb out of the folder.
            '.' if !node.chars().all(|c| c == '.') => c,
            _ => '_',
        })
        .collect();
    let name = if name.is_empty() {
        "_".to_owned()
    } else {
        name
    };
    std::env::temp_dir().join("cinder-uploads").join(name)
}

/// Makes `dir` the folder this process writes upload files to, creating it (readable by
/// this user only), and removes the upload files a previous run left there: a node
/// killed with `SIGKILL` deletes none of its own. Returns how many it removed.
///
/// Call it once at start-up, before the first session, with a folder no other live node
/// uses ([`node_temp_dir`] of a name unique in the cluster). Later calls change nothing
/// and remove nothing; with another folder they fail.
pub fn use_temp_dir(dir: impl Into<PathBuf>) -> std::io::Result<usize> {
    let dir = dir.into();
    if let Some(current) = TEMP_DIR.get() {
        return if *current == dir {
            Ok(0)
        } else {
            Err(std::io::Error::other(format!(
                "the upload folder is already {}",
                current.display()
            )))
        };
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    // A link planted in a shared temp folder would point the sweep elsewhere.
    if !std::fs::symlink_metadata(&dir)?.is_dir() {
        return Err(std::io::Error::other(format!(
            "{} is not a folder",
            dir.display()
        )));
    }
    let mut removed = 0;
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX));
        if ours && entry.file_type()?.is_file() && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if TEMP_DIR.set(dir.clone()).is_err() && TEMP_DIR.get() != Some(&dir) {
        return Err(std::io::Error::other("the upload folder was set meanwhile"));
    }
    if removed > 0 {
        tracing::info!(removed, dir = %dir.display(), "removed upload files left by a previous run");
    }
    Ok(removed)
}

/// Why an entry (or a whole upload) was refused, as Phoenix names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    /// The file is larger than `max_file_size`.
    TooLarge,
    /// More files than `max_entries` were chosen.
    TooManyFiles,
    /// Neither the file's extension nor its type is in the accept list.
    NotAccepted,
    /// The client reported a failure while uploading.
    ExternalClientFailure,
    /// The server could not store the file.
    WriterError,
}

impl UploadError {
    /// The error's name on the wire and in Phoenix (`too_large`…).
    pub fn as_str(self) -> &'static str {
        match self {
            UploadError::TooLarge => "too_large",
            UploadError::TooManyFiles => "too_many_files",
            UploadError::NotAccepted => "not_accepted",
            UploadError::ExternalClientFailure => "external_client_failure",
            UploadError::WriterError => "writer_error",
        }
    }
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The limits of one upload, given to [`Uploads::allow`]. The defaults are Phoenix's:
/// any type, one file of at most 8 MB, sent in 64 KB chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    accept: Vec<String>,
    max_entries: usize,
    max_file_size: u64,
    chunk_size: usize,
    chunk_timeout_ms: u64,
    auto_upload: bool,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            accept: Vec::new(),
            max_entries: 1,
            max_file_size: 8_000_000,
            chunk_size: 64_000,
            chunk_timeout_ms: 10_000,
            auto_upload: false,
        }
    }
}

impl UploadOptions {
    /// The defaults.
    pub fn new() -> Self {
        UploadOptions::default()
    }

    /// Accepts only these extensions (`.png`) and MIME types (`text/plain`, `image/*`);
    /// they also become the input's `accept` attribute. Empty accepts anything.
    #[must_use]
    pub fn accept<S: Into<String>>(mut self, accept: impl IntoIterator<Item = S>) -> Self {
        self.accept = accept.into_iter().map(Into::into).collect();
        self
    }

    /// At most this many files at once (more than one renders `multiple`).
    #[must_use]
    pub fn max_entries(mut self, max: usize) -> Self {
        self.max_entries = max.max(1);
        self
    }

    /// Files of at most this many bytes.
    #[must_use]
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The size of the chunks the client sends.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// How long an upload channel may go without a chunk before it is closed and its
    /// entry dropped (default 10 s; the client waits as long for each chunk's reply).
    #[must_use]
    pub fn chunk_timeout(mut self, timeout: Duration) -> Self {
        self.chunk_timeout_ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self
    }

    /// Uploads start as soon as files are chosen, not on submit.
    #[must_use]
    pub fn auto_upload(mut self, auto: bool) -> Self {
        self.auto_upload = auto;
        self
    }

    fn accepts(&self, name: &str, mime: &str) -> bool {
        if self.accept.is_empty() {
            return true;
        }
        let name = name.to_ascii_lowercase();
        let mime = mime.to_ascii_lowercase();
        self.accept.iter().any(|accepted| {
            let accepted = accepted.to_ascii_lowercase();
            if accepted.starts_with('.') {
                name.ends_with(&accepted)
            } else if let Some(family) = accepted.strip_suffix("/*") {
                mime.split_once('/').is_some_and(|(kind, _)| kind == family)
            } else {
                mime == accepted
            }
        })
    }
}

/// One file the client chose, as it described it, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadEntry {
    /// The client's reference for the file (`"0"`, `"1"`…), unique on its page.
    pub reference: String,
    /// The reference of the upload it belongs to ([`UploadConfig::reference`]), which
    /// is also its input's default `id`.
    pub upload_reference: String,
    /// The file's name on the client.
    pub client_name: String,
    /// The size the client announced, in bytes.
    pub client_size: u64,
    /// The MIME type the client announced (may be empty).
    pub client_type: String,
    /// The client's last-modified time, in milliseconds since the epoch.
    pub client_last_modified: Option<i64>,
    /// Percent uploaded, 0 to 100.
    pub progress: u8,
    /// Whether the client asked to upload it (`allow_upload`).
    pub preflighted: bool,
    /// Whether it arrived whole.
    pub done: bool,
    /// Whether it passed the checks (size, type).
    pub valid: bool,
}

/// A temporary file, deleted when dropped.
#[derive(Debug)]
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The server side of an entry that got a token: the secret, and once its channel is
/// joined, the file being written.
#[derive(Debug)]
struct Receiving {
    entry: String,
    secret: String,
    /// The `join_ref` of the entry's joined `lvu:` channel.
    channel: Option<String>,
    path: Option<TempPath>,
    file: Option<File>,
    written: u64,
    /// When the channel last joined or received a chunk, while it is receiving.
    active: Option<Instant>,
}

/// One allowed upload: its limits, the entries chosen so far and their errors.
#[derive(Debug)]
pub struct UploadConfig {
    name: String,
    reference: String,
    options: UploadOptions,
    entries: Vec<UploadEntry>,
    errors: Vec<(String, UploadError)>,
    receiving: Vec<Receiving>,
    /// Channels of entries gone (consumed or cancelled), for the session to close:
    /// `(entry ref, join_ref)`.
    finished: Vec<(String, String)>,
}

impl UploadConfig {
    /// The upload's name: the input's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The upload's reference (`phx-…`), the input's `data-phx-upload-ref` and default id.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// Its limits.
    pub fn options(&self) -> &UploadOptions {
        &self.options
    }

    /// The entries chosen, in the order the client listed them.
    pub fn entries(&self) -> &[UploadEntry] {
        &self.entries
    }

    /// The errors of the upload as a whole (`too_many_files`).
    pub fn errors(&self) -> Vec<UploadError> {
        self.errors_of(&self.reference)
    }

    /// The errors of one entry.
    pub fn entry_errors(&self, entry: &UploadEntry) -> Vec<UploadError> {
        self.errors_of(&entry.reference)
    }

    /// Every error, of the upload and of its entries.
    pub fn all_errors(&self) -> impl Iterator<Item = UploadError> + '_ {
        self.errors.iter().map(|(_, error)| *error)
    }

    fn errors_of(&self, reference: &str) -> Vec<UploadError> {
        self.errors
            .iter()
            .filter(|(r, _)| r == reference)
            .map(|(_, error)| *error)
            .collect()
    }

    fn put_error(&mut self, reference: &str, error: UploadError) {
        if !self
            .errors
            .iter()
            .any(|(r, e)| r == reference && *e == error)
        {
            self.errors.push((reference.to_owned(), error));
        }
    }

    fn refs(&self, keep: impl Fn(&UploadEntry) -> bool) -> String {
        let mut out = String::new();
        for entry in self.entries.iter().filter(|e| keep(e)) {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&entry.reference);
        }
        out
    }

    /// Records the entries a client described (`phx-change`'s `uploads`, or
    /// `allow_upload`), once each: new ones are checked for size and type, and choosing
    /// more than `max_entries` files is an error of the upload. A single-file upload
    /// replaces its entry when another file is chosen. At most [`EXTRA_ENTRIES`] entries
    /// past `max_entries` are kept (to show as too many), so a client cannot grow a
    /// session without bound.
    fn put_entries(&mut self, described: &[Value]) {
        let new: Vec<&Value> = described
            .iter()
            .filter(|entry| {
                let reference = entry.get("ref").map(text).unwrap_or_default();
                !reference.is_empty() && !self.entries.iter().any(|e| e.reference == reference)
            })
            .collect();
        if self.options.max_entries == 1
            && new.len() == 1
            && let [old] = self.entries.as_slice()
        {
            let reference = old.reference.clone();
            self.cancel(&reference);
        }
        let room = (self.options.max_entries + EXTRA_ENTRIES).saturating_sub(self.entries.len());
        for entry in new.into_iter().take(room) {
            let client_name = entry.get("name").map(text).unwrap_or_default();
            let client_type = entry.get("type").map(text).unwrap_or_default();
            let client_size = entry.get("size").and_then(Value::as_u64).unwrap_or(0);
            let mut entry = UploadEntry {
                reference: entry.get("ref").map(text).unwrap_or_default(),
                upload_reference: self.reference.clone(),
                client_last_modified: entry.get("last_modified").and_then(Value::as_i64),
                progress: 0,
                preflighted: false,
                done: false,
                valid: true,
                client_name,
                client_size,
                client_type,
            };
            if entry.client_size > self.options.max_file_size {
                entry.valid = false;
                self.put_error(&entry.reference, UploadError::TooLarge);
            }
            if !self.options.accepts(&entry.client_name, &entry.client_type) {
                entry.valid = false;
                self.put_error(&entry.reference, UploadError::NotAccepted);
            }
            self.entries.push(entry);
        }
        let reference = self.reference.clone();
        if self.entries.len() > self.options.max_entries {
            self.put_error(&reference, UploadError::TooManyFiles);
        } else {
            self.errors
                .retain(|(r, e)| !(*r == reference && *e == UploadError::TooManyFiles));
        }
    }

    /// Removes an entry, its errors and its file. Returns whether it existed.
    pub fn cancel(&mut self, entry_ref: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.reference != entry_ref);
        self.errors.retain(|(r, _)| r != entry_ref);
        let finished = &mut self.finished;
        self.receiving.retain_mut(|r| {
            if r.entry != entry_ref {
                return true;
            }
            if let Some(join_ref) = r.channel.take() {
                finished.push((r.entry.clone(), join_ref));
            }
            false
        });
        if self.entries.len() <= self.options.max_entries {
            let reference = self.reference.clone();
            self.errors
                .retain(|(r, e)| !(*r == reference && *e == UploadError::TooManyFiles));
        }
        self.entries.len() != before
    }

    /// The `allow_upload` reply for the entries `refs` (without its diff): tokens for
    /// the valid ones among the first `max_entries`, errors for the others.
    fn preflight(&mut self, topic: &str, refs: &[String]) -> Value {
        let mut tokens = Map::new();
        let mut errors = Map::new();
        let max = self.options.max_entries;
        for index in 0..self.entries.len().min(max) {
            let entry = &self.entries[index];
            if entry.preflighted || !refs.contains(&entry.reference) {
                continue;
            }
            let reference = entry.reference.clone();
            if !entry.valid {
                let reasons: Vec<Value> = self
                    .errors_of(&reference)
                    .into_iter()
                    .map(|e| Value::from(e.as_str()))
                    .collect();
                errors.insert(reference, Value::Array(reasons));
                continue;
            }
            self.entries[index].preflighted = true;
            let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
            let claims = json!({"topic": topic, "conf": self.reference, "entry": reference});
            let token = format!("{}.{secret}", URL_SAFE_NO_PAD.encode(claims.to_string()));
            self.receiving.retain(|r| r.entry != reference);
            self.receiving.push(Receiving {
                entry: reference.clone(),
                secret,
                channel: None,
                path: None,
                file: None,
                written: 0,
                active: None,
            });
            tokens.insert(reference, Value::String(token));
        }
        json!({
            "ref": self.reference,
            "config": {
                "max_file_size": self.options.max_file_size,
                "max_entries": self.options.max_entries,
                "chunk_size": self.options.chunk_size,
                "chunk_timeout": self.options.chunk_timeout_ms,
            },
            "entries": tokens,
            "errors": errors,
        })
    }

    fn receiving(&mut self, entry_ref: &str) -> Option<&mut Receiving> {
        self.receiving.iter_mut().find(|r| r.entry == entry_ref)
    }
}

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
        let (claims, secret) = token.split_once('.').ok_or("invalid_token")?;
        let claims: Value = URL_SAFE_NO_PAD
            .decode(claims)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or("invalid_token")?;
        if claims.get("topic").and_then(Value::as_str) != Some(topic)
            || claims.get("entry").and_then(Value::as_str) != Some(entry_ref)
        {
            return Err("invalid_token");
        }
        let config = self.owning(entry_ref).ok_or("disallowed")?;
        let receiving = config.receiving(entry_ref).ok_or("disallowed")?;
        if !constant_time_eq(receiving.secret.as_bytes(), secret.as_bytes()) {
            return Err("invalid_token");
        }
        if receiving.path.is_some() {
            return Err("already_registered");
        }
        let dir = TEMP_DIR.get().cloned().unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!(
            "{TEMP_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>())
        ));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|_| "writer_error")?;
        receiving.path = Some(TempPath(path));
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON value as text: strings as they are, numbers written out (refs may be either).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The props of [`live_file_input`].
#[derive(Assigns, Default)]
pub struct LiveFileInput<'a> {
    /// The upload to render (`@uploads.get("avatar")`); nothing renders without one.
    pub upload: Option<&'a UploadConfig>,
    /// The input's `id` (default: the upload's reference).
    pub id: &'a str,
    /// The input's `class`.
    pub class: &'a str,
}

/// Renders the live file input the client drives uploads from, like Phoenix's
/// `live_file_input/1`: `<.live_file_input upload={@uploads.get("avatar")} />`.
pub fn live_file_input<'p>(assigns: &'p LiveFileInput<'_>) -> Rendered<'p> {
    let Some(upload) = assigns.upload else {
        return html!("");
    };
    let id = if assigns.id.is_empty() {
        upload.reference()
    } else {
        assigns.id
    };
    let accept = (!upload.options.accept.is_empty()).then(|| upload.options.accept.join(","));
    let class = (!assigns.class.is_empty()).then_some(assigns.class);
    let active = upload.refs(|_| true);
    let done = upload.refs(|e| e.done);
    let preflighted = upload.refs(|e| e.preflighted);
    let errored = upload.refs(|e| !e.valid);
    html!(
        r#"<input id={id} type="file" name={upload.name()} accept={accept} class={class} data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore" data-phx-upload-ref={upload.reference()} data-phx-active-refs={active} data-phx-done-refs={done} data-phx-preflighted-refs={preflighted} data-phx-error-refs={errored} data-phx-auto-upload={upload.options.auto_upload} multiple={upload.options.max_entries > 1}/>"#
    )
}

/// The props of [`live_img_preview`].
#[derive(Assigns, Default)]
pub struct LiveImgPreview<'a> {
    /// The chosen file to preview; nothing renders without one.
    pub entry: Option<&'a UploadEntry>,
    /// The image's `id` (default: `phx-preview-<entry ref>`).
    pub id: &'a str,
    /// The image's `class`.
    pub class: &'a str,
}

/// Renders a preview of a chosen image before it is uploaded, like Phoenix's
/// `live_img_preview/1`: `<.live_img_preview entry={Some(entry)} />`. The client's
/// `Phoenix.LiveImgPreview` hook points its `src` at the file in the browser; nothing
/// is sent. It finds the file through the input whose `id` is the upload's reference,
/// which is [`live_file_input`]'s default.
pub fn live_img_preview<'p>(assigns: &'p LiveImgPreview<'_>) -> Rendered<'p> {
    let Some(entry) = assigns.entry else {
        return html!("");
    };
    let id = if assigns.id.is_empty() {
        format!("phx-preview-{}", entry.reference)
    } else {
        assigns.id.to_owned()
    };
    let class = (!assigns.class.is_empty()).then_some(assigns.class);
    html!(
        r#"<img id={id} class={class} data-phx-upload-ref={entry.upload_reference} data-phx-entry-ref={entry.reference} data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore"/>"#
    )
}

#[cfg(test)]
mod tests {
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
