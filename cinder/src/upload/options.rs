//! What an upload allows ([`UploadOptions`]) and why an entry is refused
//! ([`UploadError`]).

use std::time::Duration;

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

/// The limits of one upload, given to [`Uploads::allow`](super::Uploads::allow). The defaults are Phoenix's:
/// any type, one file of at most 8 MB, sent in 64 KB chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    pub(super) accept: Vec<String>,
    pub(super) max_entries: usize,
    pub(super) max_file_size: u64,
    pub(super) chunk_size: usize,
    pub(super) chunk_timeout_ms: u64,
    pub(super) auto_upload: bool,
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

    pub(super) fn accepts(&self, name: &str, mime: &str) -> bool {
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
