//! One allowed upload ([`UploadConfig`]): its entries as the client described them, their
//! errors, and the server side of each entry being received.

use std::fs::File;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::folder::TempPath;
use super::{UploadError, UploadOptions, text};

/// Entries kept past `max_entries`: enough to list what the user chose too many of.
pub(super) const EXTRA_ENTRIES: usize = 16;

/// The longest entry reference kept. The official client numbers its entries (`"0"`,
/// `"1"`…); a longer one is ignored, since every ref is rendered into the input's
/// attributes and named in the reply.
pub const MAX_ENTRY_REF_BYTES: usize = 64;

/// The longest file name and MIME type kept, in bytes; longer ones are cut (at a
/// character boundary). A file system's names stop at 255 bytes.
pub const MAX_CLIENT_TEXT_BYTES: usize = 255;

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

/// The server side of an entry that got a token: the secret, and once its channel is
/// joined, the file being written.
#[derive(Debug)]
pub(super) struct Receiving {
    pub(super) entry: String,
    pub(super) secret: String,
    /// The `join_ref` of the entry's joined `lvu:` channel.
    pub(super) channel: Option<String>,
    pub(super) path: Option<TempPath>,
    pub(super) file: Option<File>,
    pub(super) written: u64,
    /// When the channel last joined or received a chunk, while it is receiving.
    pub(super) active: Option<Instant>,
}

/// One allowed upload: its limits, the entries chosen so far and their errors.
#[derive(Debug)]
pub struct UploadConfig {
    pub(super) name: String,
    pub(super) reference: String,
    pub(super) options: UploadOptions,
    pub(super) entries: Vec<UploadEntry>,
    pub(super) errors: Vec<(String, UploadError)>,
    pub(super) receiving: Vec<Receiving>,
    /// Channels of entries gone (consumed or cancelled), for the session to close:
    /// `(entry ref, join_ref)`.
    pub(super) finished: Vec<(String, String)>,
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

    pub(super) fn errors_of(&self, reference: &str) -> Vec<UploadError> {
        self.errors
            .iter()
            .filter(|(r, _)| r == reference)
            .map(|(_, error)| *error)
            .collect()
    }

    pub(super) fn put_error(&mut self, reference: &str, error: UploadError) {
        if !self
            .errors
            .iter()
            .any(|(r, e)| r == reference && *e == error)
        {
            self.errors.push((reference.to_owned(), error));
        }
    }

    pub(super) fn refs(&self, keep: impl Fn(&UploadEntry) -> bool) -> String {
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
    /// session without bound; refs over [`MAX_ENTRY_REF_BYTES`] are ignored, names and
    /// types cut to [`MAX_CLIENT_TEXT_BYTES`].
    pub(super) fn put_entries(&mut self, described: &[Value]) {
        let new: Vec<&Value> = described
            .iter()
            .filter(|entry| {
                let reference = entry.get("ref").map(text).unwrap_or_default();
                !reference.is_empty()
                    && reference.len() <= MAX_ENTRY_REF_BYTES
                    && !self.entries.iter().any(|e| e.reference == reference)
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
            let client_name = cut(entry.get("name").map(text).unwrap_or_default());
            let client_type = cut(entry.get("type").map(text).unwrap_or_default());
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
    pub(super) fn preflight(&mut self, topic: &str, refs: &[String]) -> Value {
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
            let (token, secret) = super::token::issue(topic, &self.reference, &reference);
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

    pub(super) fn receiving(&mut self, entry_ref: &str) -> Option<&mut Receiving> {
        self.receiving.iter_mut().find(|r| r.entry == entry_ref)
    }
}

/// `text` cut to [`MAX_CLIENT_TEXT_BYTES`], at a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > MAX_CLIENT_TEXT_BYTES {
        let mut end = MAX_CLIENT_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
