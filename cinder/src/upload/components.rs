//! The upload's HTML: [`live_file_input`] and [`live_img_preview`], as Phoenix's
//! components render them for the official client.

use crate::{Assigns, Rendered, html};

use super::{UploadConfig, UploadEntry};

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
