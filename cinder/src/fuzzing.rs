//! Entry points for the fuzz targets in `fuzz/` (the `fuzzing` feature only): the steps
//! a session takes on an upload channel's frames (`allow_upload`, the `lvu:` join, each
//! chunk, `progress`, the leave), which are otherwise crate-private. Each one calls the
//! real method; the session's own wrapping (`catch_unwind`, replies) is not repeated.

use std::time::Instant;

use serde_json::Value;

use crate::upload::{UploadEntry, Uploads};

/// `allow_upload` (`{ref, entries}`): the reply without its diff, or the error reason.
pub fn allow_upload(uploads: &mut Uploads, topic: &str, payload: &Value) -> Result<Value, String> {
    uploads.allow_upload(topic, payload)
}

/// The `phx_join` of `lvu:<entry_ref>` presenting `token`; the error is the reason.
pub fn join(
    uploads: &mut Uploads,
    topic: &str,
    entry_ref: &str,
    token: &str,
    join_ref: &str,
) -> Result<(), &'static str> {
    uploads.join(topic, entry_ref, token, join_ref)
}

/// One chunk on `lvu:<entry_ref>`; the error is the reply's response.
pub fn chunk(uploads: &mut Uploads, entry_ref: &str, bytes: &[u8]) -> Result<(), String> {
    uploads.write(entry_ref, bytes).map_err(|e| e.response())
}

/// A `progress` report; the entry when it changed.
pub fn progress(uploads: &mut Uploads, payload: &Value) -> Option<UploadEntry> {
    uploads.progress(payload).map(|(_, entry)| entry)
}

/// The `phx_leave` of `lvu:<entry_ref>`.
pub fn leave(uploads: &mut Uploads, entry_ref: &str) {
    uploads.leave(entry_ref);
}

/// The chunk timer firing at `now`; whether an idle channel was dropped.
pub fn expire(uploads: &mut Uploads, now: Instant) -> bool {
    uploads.expire(now)
}

/// The channels of entries gone, for the session to close: `(entry ref, join_ref)`.
pub fn take_finished(uploads: &mut Uploads) -> Vec<(String, String)> {
    uploads.take_finished()
}
