//! `/upload`: the form `#upload-form` with a live file input named `avatar` (two files
//! at most, 1 MB each, images and text). Each chosen file is listed with its progress
//! (`#entry-<ref>`); a refused one shows why in `#upload-error`; after the submit,
//! `#uploaded` lists each stored file as `name (size bytes)`. A chosen image shows a
//! preview (`#phx-preview-<ref>`) before it is sent.

use cinder::upload::{
    LiveFileInput, LiveImgPreview, UploadEntry, UploadError, live_file_input, live_img_preview,
};
use cinder::{
    Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, UploadOptions, Uploads, html,
};
use serde_json::Value;

/// The largest file accepted, in bytes.
const MAX_FILE_SIZE: u64 = 1_000_000;

/// The upload form and what it stored.
#[derive(Assigns)]
pub struct Upload {
    uploads: Uploads,
    /// `name (size bytes)` of each file received, in order.
    uploaded: Vec<String>,
}

impl LiveView for Upload {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Upload");
        let avatar = UploadOptions::new()
            .accept(["image/*", "text/*", ".png", ".jpg", ".jpeg", ".gif", ".txt"])
            .max_entries(2)
            .max_file_size(MAX_FILE_SIZE);
        Ok(Upload {
            uploads: Uploads::new().allow("avatar", avatar),
            uploaded: Vec::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="upload">
  <h1>Upload</h1>
  <p class="lead">Up to two files, 1 MB each: images (previewed before they are sent) and text.</p>
  <form class="panel" id="upload-form" phx-change="validate" phx-submit="save">
    <.live_file_input upload={@uploads.get("avatar")} />
    <button id="upload-submit" type="submit">Upload</button>
  </form>
  <ul id="entries">
    <li :for={entry in @uploads.entries("avatar")} :key={entry.reference.clone()} id={format!("entry-{}", entry.reference)}>
      <span class="name">{entry.client_name}</span>
      {preview(entry)}
      <progress value={entry.progress.to_string()} max="100"></progress>
      <span class="progress">{entry.progress}</span>%
      <button type="button" class="cancel" phx-click="cancel" phx-value-ref={entry.reference}>Cancel</button>
    </li>
  </ul>
  <p id="upload-error">{errors(&@uploads)}</p>
  <ul id="uploaded"><li :for={file in &@uploaded}>{file}</li></ul>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        match event {
            // Chosen files are recorded before this runs; the template shows them.
            "validate" => {}
            "cancel" => {
                let entry = value.get("ref").and_then(Value::as_str).unwrap_or_default();
                socket.uploads_mut().cancel("avatar", entry);
            }
            "save" => {
                let stored = socket.uploads_mut().consume("avatar", |path, entry| {
                    let size = std::fs::metadata(path).map_or(0, |m| m.len());
                    format!("{} ({size} bytes)", entry.client_name)
                });
                socket.update_uploaded(|uploaded| uploaded.extend(stored));
            }
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn uploads(assigns: &mut Tracked<Self>) -> Option<&mut Uploads> {
        Some(assigns.uploads_mut())
    }
}

/// A chosen image's preview (`#phx-preview-<ref>`), drawn by the browser from the file
/// itself; other files get none.
fn preview(entry: &UploadEntry) -> Rendered<'_> {
    if entry.client_type.starts_with("image/") {
        html!(r#"<.live_img_preview entry={Some(entry)} class="preview" />"#)
    } else {
        html!("")
    }
}

/// Why files were refused, one sentence each.
fn errors(uploads: &Uploads) -> String {
    let Some(avatar) = uploads.get("avatar") else {
        return String::new();
    };
    let mut reasons: Vec<String> = avatar.errors().into_iter().map(reason).collect();
    for entry in avatar.entries() {
        for error in avatar.entry_errors(entry) {
            reasons.push(format!("{}: {}", entry.client_name, reason(error)));
        }
    }
    reasons.join(" ")
}

fn reason(error: UploadError) -> String {
    match error {
        UploadError::TooLarge => "too large (1 MB at most)".to_owned(),
        UploadError::TooManyFiles => "too many files (2 at most)".to_owned(),
        UploadError::NotAccepted => "not accepted (images and text only)".to_owned(),
        UploadError::ExternalClientFailure => "the upload failed".to_owned(),
        UploadError::WriterError => "the server could not store it".to_owned(),
    }
}
