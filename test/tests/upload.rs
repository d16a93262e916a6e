//! The demo's `/upload` driven as the browser's client does it: files chosen (listed with
//! their errors), preflighted, sent in chunks over their `lvu:` channels with progress,
//! then the form submitted and the stored files listed with their real sizes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use cinder_test::UploadFile;

mod support;

fn file(name: &str, mime: &str, size: usize) -> UploadFile {
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    UploadFile::new(name, mime, bytes)
}

#[tokio::test]
async fn two_files_upload_in_chunks_with_progress() {
    let app = support::demo().await;
    let mut live = app.live("/upload").await.unwrap();
    let files = [
        file("photo.png", "image/png", 150_000),
        file("notes.txt", "text/plain", 1_000),
    ];
    live.choose_files("#upload-form", "avatar", files)
        .await
        .unwrap();
    assert!(
        live.element("#entry-0")
            .unwrap()
            .text()
            .contains("photo.png")
    );
    assert!(
        live.element("#entry-1")
            .unwrap()
            .text()
            .contains("notes.txt")
    );
    assert_eq!(live.element("#upload-error").unwrap().text(), "");
    // The image has a preview pointing the client's hook at its input and entry.
    let preview = live.element("#phx-preview-0").unwrap();
    let input = live.element(r#"input[name="avatar"]"#).unwrap();
    assert_eq!(preview.attr("data-phx-upload-ref"), input.attr("id"));
    assert_eq!(preview.attr("data-phx-entry-ref"), Some("0"));
    assert_eq!(
        preview.attr("data-phx-hook"),
        Some("Phoenix.LiveImgPreview")
    );
    assert!(
        live.element("#phx-preview-1").is_err(),
        "no preview of text"
    );

    let uploaded = live.upload("avatar").await.unwrap();
    assert_eq!(uploaded.sent, ["photo.png", "notes.txt"]);
    assert!(uploaded.refused.is_empty());
    // 150,000 bytes in 64,000-byte chunks: three reports, growing to 100.
    let photo: Vec<u64> = uploaded
        .progress
        .iter()
        .filter(|(r, _)| r == "0")
        .map(|(_, p)| *p)
        .collect();
    assert_eq!(photo, [42, 85, 100]);
    assert_eq!(
        live.element(r#"progress[value="100"]"#)
            .unwrap()
            .attr("max"),
        Some("100"),
        "the page shows the finished progress"
    );

    live.submit_form("#upload-form", "").await.unwrap();
    assert_eq!(
        live.element("#uploaded").unwrap().text(),
        "photo.png (150000 bytes)notes.txt (1000 bytes)"
    );
    assert!(!live.has_element("#entry-0"), "consumed entries are gone");
}

#[tokio::test]
async fn refused_files_show_why_and_are_not_sent() {
    let app = support::demo().await;
    let mut live = app.live("/upload").await.unwrap();
    live.choose_files(
        "#upload-form",
        "avatar",
        [file("big.png", "image/png", 1_500_000)],
    )
    .await
    .unwrap();
    assert_eq!(
        live.element("#upload-error").unwrap().text(),
        "big.png: too large (1 MB at most)"
    );
    let uploaded = live.upload("avatar").await.unwrap();
    assert_eq!(
        uploaded.refused,
        [("big.png".to_owned(), "failed preflight".to_owned())]
    );
    assert!(uploaded.sent.is_empty() && uploaded.progress.is_empty());

    live.click_element(r#"button.cancel[phx-value-ref="0"]"#)
        .await
        .unwrap();
    assert_eq!(live.element("#upload-error").unwrap().text(), "");

    live.choose_files(
        "#upload-form",
        "avatar",
        [file("tool.exe", "application/x-msdownload", 10)],
    )
    .await
    .unwrap();
    assert_eq!(
        live.element("#upload-error").unwrap().text(),
        "tool.exe: not accepted (images and text only)"
    );
}

#[tokio::test]
async fn a_third_file_is_too_many() {
    let app = support::demo().await;
    let mut live = app.live("/upload").await.unwrap();
    let files = ["a", "b", "c"].map(|n| file(&format!("{n}.txt"), "text/plain", 3));
    live.choose_files("#upload-form", "avatar", files)
        .await
        .unwrap();
    assert_eq!(
        live.element("#upload-error").unwrap().text(),
        "too many files (2 at most)"
    );
    live.click_element(r#"button.cancel[phx-value-ref="2"]"#)
        .await
        .unwrap();
    assert_eq!(live.element("#upload-error").unwrap().text(), "");
}
