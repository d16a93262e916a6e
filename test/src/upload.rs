//! Uploads in view tests, as the browser's client does them (Phoenix's `file_input` and
//! `render_upload`): [`Live::choose_files`] sends the form's `phx-change` with the
//! files' descriptions, [`Live::upload`] preflights them (`allow_upload`), sends each
//! accepted file over its `lvu:` channel in binary chunks and reports progress after
//! each chunk. Then the test submits the form as usual.

use cinder_protocol_client::Reply;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::live::Live;

/// A file a test chooses in a live file input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadFile {
    /// The file's name (`photo.png`).
    pub name: String,
    /// Its MIME type (`image/png`; may be empty).
    pub mime: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl UploadFile {
    /// A file named `name` of type `mime` holding `bytes`.
    pub fn new(
        name: impl Into<String>,
        mime: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
    ) -> Self {
        UploadFile {
            name: name.into(),
            mime: mime.into(),
            bytes: bytes.into(),
        }
    }
}

/// The files chosen on a page and not yet uploaded, with the refs the browser would
/// give them (a counter per page).
#[derive(Debug, Default)]
pub(crate) struct Chosen {
    next_ref: u64,
    files: Vec<ChosenFile>,
}

impl Chosen {
    /// A new view: the files chosen on the old one are gone (the refs count on, as the
    /// browser's counter lives as long as the page).
    pub(crate) fn forget_files(&mut self) {
        self.files.clear();
    }
}

#[derive(Debug)]
struct ChosenFile {
    /// The upload's reference (the input's `data-phx-upload-ref`).
    upload_ref: String,
    entry_ref: String,
    file: UploadFile,
}

impl ChosenFile {
    /// The entry as the client describes it in `allow_upload`.
    fn describe(&self) -> Value {
        json!({
            "ref": self.entry_ref,
            "name": self.file.name,
            "relative_path": "",
            "size": self.file.bytes.len(),
            "type": self.file.mime,
            "last_modified": 0,
        })
    }
}

/// What one [`Live::upload`] did, entry by entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uploaded {
    /// The files that arrived whole, by name.
    pub sent: Vec<String>,
    /// The files the server refused, by name, with the reason (`"failed preflight"` when
    /// `allow_upload` gave them no token; otherwise the upload channel's reason, such as
    /// `file_size_limit_exceeded`).
    pub refused: Vec<(String, String)>,
    /// Each progress report sent, as `(entry ref, percent)`, in order.
    pub progress: Vec<(String, u64)>,
}

impl Live {
    /// Chooses `files` in the live file input named `input` of the form `form` (a
    /// selector), as a user picking them: the form's `phx-change` is sent with the files'
    /// descriptions under `uploads`, so the view lists them and their errors. Files with
    /// no bytes are skipped, as the browser does.
    ///
    /// # Errors
    /// As [`Live::click`]; [`Error::NoElement`] without such an input,
    /// [`Error::MissingAttribute`] when it is not a live file input or the form has no
    /// `phx-change`.
    pub async fn choose_files(
        &mut self,
        form: &str,
        input: &str,
        files: impl IntoIterator<Item = UploadFile>,
    ) -> Result<String> {
        let selector = format!(r#"input[name="{input}"]"#);
        let element = self.element(&selector)?;
        let upload_ref = element
            .attr("data-phx-upload-ref")
            .ok_or_else(|| Error::MissingAttribute {
                selector: selector.clone(),
                attribute: "data-phx-upload-ref (a live file input)".into(),
            })?
            .to_owned();
        for file in files.into_iter().filter(|f| !f.bytes.is_empty()) {
            let entry_ref = self.chosen.next_ref.to_string();
            self.chosen.next_ref += 1;
            self.chosen.files.push(ChosenFile {
                upload_ref: upload_ref.clone(),
                entry_ref,
                file,
            });
        }
        let entries: Vec<Value> = self
            .chosen
            .files
            .iter()
            .filter(|f| f.upload_ref == upload_ref)
            .map(|f| {
                let mut entry = f.describe();
                entry["path"] = Value::String(input.to_owned());
                entry
            })
            .collect();
        let mut uploads = serde_json::Map::new();
        uploads.insert(upload_ref, Value::Array(entries));
        self.form_change(form, "", input, Value::Object(uploads))
            .await
    }

    /// Uploads the files chosen in the input named `input`: `allow_upload`, then for
    /// each file given a token its `lvu:` channel, its chunks and a `progress` report
    /// after each (diffs merged as they come). Returns what happened to each file; the
    /// view's HTML is [`Live::html`]. Submit the form afterwards, as the browser does.
    ///
    /// # Errors
    /// As [`Live::click`]; [`Error::Client`] when a reply does not come.
    pub async fn upload(&mut self, input: &str) -> Result<Uploaded> {
        let selector = format!(r#"input[name="{input}"]"#);
        let upload_ref = self
            .element(&selector)?
            .attr("data-phx-upload-ref")
            .unwrap_or_default()
            .to_owned();
        let (files, kept) = std::mem::take(&mut self.chosen.files)
            .into_iter()
            .partition(|f| f.upload_ref == upload_ref);
        self.chosen.files = kept;
        let files: Vec<ChosenFile> = files;
        let mut done = Uploaded::default();
        if files.is_empty() {
            return Ok(done);
        }
        let entries: Vec<Value> = files.iter().map(ChosenFile::describe).collect();
        let preflight = json!({"ref": upload_ref, "entries": entries, "cid": null});
        let reply = self.push_reply("allow_upload", preflight).await?;
        let chunk_size = reply.response["config"]["chunk_size"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(64_000);
        for chosen in files {
            let token = reply.response["entries"][&chosen.entry_ref].as_str();
            let Some(token) = token else {
                let reason = "failed preflight".to_owned();
                done.refused.push((chosen.file.name, reason));
                continue;
            };
            match self
                .send_file(&chosen, token, chunk_size, &mut done.progress)
                .await?
            {
                None => done.sent.push(chosen.file.name),
                Some(reason) => done.refused.push((chosen.file.name, reason)),
            }
        }
        Ok(done)
    }

    /// One file over its channel. Returns the reason it was refused, if it was.
    async fn send_file(
        &mut self,
        chosen: &ChosenFile,
        token: &str,
        chunk_size: usize,
        progress: &mut Vec<(String, u64)>,
    ) -> Result<Option<String>> {
        let topic = format!("lvu:{}", chosen.entry_ref);
        let client = self.client().clone();
        let join_ref = client.next_ref();
        let joined = client
            .request(Some(&join_ref), &topic, "phx_join", json!({"token": token}))
            .await?;
        if !joined.is_ok() {
            return self.fail(chosen, reason(&joined)).await;
        }
        let size = chosen.file.bytes.len() as u64;
        let (mut sent, mut reported) = (0_u64, 0_u64);
        for chunk in chosen.file.bytes.chunks(chunk_size) {
            let ack = client
                .request_binary(&join_ref, &topic, "chunk", chunk)
                .await?;
            if !ack.is_ok() {
                let _ = client
                    .request(Some(&join_ref), &topic, "phx_leave", json!({}))
                    .await;
                return self.fail(chosen, reason(&ack)).await;
            }
            sent += chunk.len() as u64;
            let percent = sent * 100 / size;
            if percent > reported {
                reported = percent;
                progress.push((chosen.entry_ref.clone(), percent));
                self.report(chosen, json!(percent)).await?;
            }
        }
        Ok(None)
    }

    /// Tells the view an entry failed, as the browser does, and returns the reason.
    async fn fail(&mut self, chosen: &ChosenFile, reason: String) -> Result<Option<String>> {
        self.report(chosen, json!({ "error": reason })).await?;
        Ok(Some(reason))
    }

    async fn report(&mut self, chosen: &ChosenFile, progress: Value) -> Result<Reply> {
        let payload = json!({
            "event": null,
            "ref": chosen.upload_ref,
            "entry_ref": chosen.entry_ref,
            "progress": progress,
            "cid": null,
        });
        self.push_reply("progress", payload).await
    }
}

/// The `reason` of an error reply.
fn reason(reply: &Reply) -> String {
    reply.response["reason"]
        .as_str()
        .unwrap_or("refused")
        .to_owned()
}
