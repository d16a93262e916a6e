//! Uploads over real frames, as the official client drives them: entries recorded from
//! `phx-change`, `allow_upload` tokens, the `lvu:` channel with binary chunks, progress,
//! and the view consuming the file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use cinder::component::{ComponentSocket, LiveComponent, Myself, live_component};
use cinder::frame::Chunk;
use cinder::session::{Input, Outbox, SessionConfig, UploadChannel};
use cinder::upload::{LiveFileInput, live_file_input};
use cinder::{
    Assigns, Error, LiveView, Mount, Rendered, Result, Socket, Tracked, UploadEntry, UploadOptions,
    Uploads, html,
};
use serde_json::{Value, json};
use std::time::Duration;

mod support;

use support::{Frames, frame};

#[derive(Assigns)]
struct Avatar {
    uploads: Uploads,
    saved: Vec<String>,
    progress: Vec<String>,
}

impl LiveView for Avatar {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        let mut options = UploadOptions::new()
            .accept([".txt", "image/*"])
            .max_entries(2)
            .max_file_size(8);
        if let Some(ms) = cx.params.get("chunk_timeout_ms").and_then(Value::as_str) {
            options = options.chunk_timeout(Duration::from_millis(ms.parse().unwrap()));
        }
        Ok(Avatar {
            uploads: Uploads::new().allow("avatar", options),
            saved: Vec::new(),
            progress: Vec::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<form id="f" phx-change="validate" phx-submit="save"><.live_file_input upload={@uploads.get("avatar")} /></form><p id="saved">{@saved.join(";")}</p><p id="progress">{@progress.join(";")}</p>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        match event {
            "validate" => {}
            "cancel" => {
                let entry = value["ref"].as_str().unwrap_or_default();
                socket.uploads_mut().cancel("avatar", entry);
            }
            "save" => {
                let saved = socket.uploads_mut().consume("avatar", |path, entry| {
                    let body = std::fs::read_to_string(path).unwrap();
                    format!("{}={body}", entry.client_name)
                });
                socket.update_saved(|s| s.extend(saved));
            }
            other => return Err(Error::UnknownEvent(other.into())),
        }
        Ok(())
    }

    fn uploads(assigns: &mut Tracked<Self>) -> Option<&mut Uploads> {
        Some(assigns.uploads_mut())
    }

    fn handle_progress(socket: &mut Socket<Self>, name: &str, entry: UploadEntry) -> Result {
        let line = format!("{name}:{}:{}", entry.reference, entry.progress);
        socket.update_progress(|p| p.push(line));
        Ok(())
    }
}

/// The client's description of a file.
fn file(reference: &str, name: &str, size: u64, mime: &str) -> Value {
    json!({"path": "avatar", "ref": reference, "name": name, "relative_path": "",
           "size": size, "type": mime, "last_modified": 1_700_000_000_000_i64})
}

/// The upload's reference, read from the rendered input.
fn upload_ref(reply: &Value) -> String {
    let text = reply.to_string();
    let at = text.find("\"phx-").expect("an upload ref") + 1;
    let end = text[at..].find(['"', '\\']).unwrap();
    text[at..at + end].to_owned()
}

/// Sends a frame on an upload channel and returns the session's reply.
async fn upload_push(
    client: &mut Frames,
    msg_ref: &str,
    topic: &str,
    event: &str,
    payload: Value,
) -> Value {
    let f = frame(json!(["9", msg_ref, topic, event, payload]));
    client.handle.try_send(Input::Frame(Box::new(f))).unwrap();
    client.read().await
}

async fn chunk(client: &mut Frames, msg_ref: &str, topic: &str, bytes: &[u8]) -> Value {
    let chunk = Chunk {
        join_ref: Some("9".into()),
        msg_ref: Some(msg_ref.into()),
        topic: topic.into(),
        event: "chunk".into(),
        bytes: bytes.to_vec(),
    };
    client
        .handle
        .try_send(Input::Chunk(Box::new(chunk)))
        .unwrap();
    client.read().await
}

/// Whether a reply's diff sets the input's `data-phx-<name>` to `value`.
fn sets(reply: &Value, name: &str, value: &str) -> bool {
    let diff = response(reply)["diff"].to_string();
    diff.contains(&format!(r#"data-phx-{name}=\"{value}\""#))
}

fn response(reply: &Value) -> &Value {
    &reply[4]["response"]
}

/// Preflights one file as entry `0` and joins its `lvu:0` channel with the token;
/// returns the `allow_upload` reply.
async fn preflight_and_join(client: &mut Frames, reference: &str, file: Value) -> Value {
    let preflight = json!({"ref": reference, "entries": [file]});
    let reply = client.push("allow_upload", preflight).await;
    let token = response(&reply)["entries"]["0"].clone();
    let joined = upload_push(client, "20", "lvu:0", "phx_join", json!({"token": token})).await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    reply
}

#[tokio::test]
async fn a_file_goes_from_the_input_to_the_view() {
    let (mut client, join) =
        Frames::join::<Avatar>("lv:up", json!({"url": "http://h/up"}), None).await;
    let reference = upload_ref(&join);
    assert!(join.to_string().contains(r#"data-phx-active-refs=\""#));

    // Choosing two files: one accepted, one not.
    let files = [
        file("0", "a.txt", 5, "text/plain"),
        file("1", "b.exe", 3, "application/x-msdownload"),
    ];
    let change = json!({"type": "form", "event": "validate", "value": "",
                        "meta": {"_target": "avatar"}, "uploads": {&reference: files}});
    let reply = client.push("event", change).await;
    assert!(sets(&reply, "active-refs", "0,1"), "{reply}");
    assert!(sets(&reply, "error-refs", "1"), "{reply}");

    // The client preflights; only the valid entry gets a token.
    let preflight = json!({"ref": reference, "entries": files});
    let reply = client.push("allow_upload", preflight).await;
    let answer = response(&reply);
    assert_eq!(reply[4]["status"], "ok");
    assert_eq!(answer["ref"], json!(reference));
    assert_eq!(answer["config"]["chunk_size"], 64_000);
    assert_eq!(answer["errors"], json!({"1": ["not_accepted"]}));
    let token = answer["entries"]["0"].as_str().unwrap().to_owned();
    assert!(
        answer["diff"].to_string().contains(r#""0""#),
        "preflighted refs"
    );

    // A forged token, then the real one.
    let refused = upload_push(
        &mut client,
        "20",
        "lvu:1",
        "phx_join",
        json!({"token": token}),
    )
    .await;
    assert_eq!(
        refused,
        json!(["9", "20", "lvu:1", "phx_reply", {"status": "error", "response": {"reason": "invalid_token"}}])
    );
    let joined = upload_push(
        &mut client,
        "21",
        "lvu:0",
        "phx_join",
        json!({"token": token}),
    )
    .await;
    assert_eq!(
        joined,
        json!(["9", "21", "lvu:0", "phx_reply", {"status": "ok", "response": {}}])
    );
    let again = upload_push(
        &mut client,
        "22",
        "lvu:0",
        "phx_join",
        json!({"token": token}),
    )
    .await;
    assert_eq!(response(&again)["reason"], "already_registered");

    for (msg_ref, bytes) in [("23", &b"hel"[..]), ("24", b"lo")] {
        let ack = chunk(&mut client, msg_ref, "lvu:0", bytes).await;
        assert_eq!(
            ack,
            json!(["9", msg_ref, "lvu:0", "phx_reply", {"status": "ok", "response": {}}])
        );
    }
    let stray = chunk(&mut client, "25", "lvu:1", b"x").await;
    assert_eq!(response(&stray)["reason"], "disallowed");

    let progress =
        json!({"event": null, "ref": reference, "entry_ref": "0", "progress": 100, "cid": null});
    let reply = client.push("progress", progress).await;
    assert_eq!(reply[4]["status"], "ok");
    assert!(sets(&reply, "done-refs", "0"), "{reply}");
    assert!(
        reply.to_string().contains("avatar:0:100"),
        "handle_progress ran: {reply}"
    );

    let reply = client
        .push(
            "event",
            json!({"type": "click", "event": "cancel", "value": {"ref": "1"}}),
        )
        .await;
    assert!(
        response(&reply)["diff"].to_string().contains(r#""0""#),
        "active refs: 0"
    );

    let save = json!({"type": "form", "event": "save", "value": "", "meta": {}});
    let reply = client.push("event", save).await;
    let diff = response(&reply)["diff"].to_string();
    assert!(diff.contains("a.txt=hello"), "{diff}");
    // The consumed entry's channel is closed after the reply, as Phoenix does.
    assert_eq!(
        client.read().await,
        json!(["9", "9", "lvu:0", "phx_close", {}])
    );
}

#[tokio::test]
async fn a_file_growing_past_the_limit_is_refused() {
    let (mut client, join) =
        Frames::join::<Avatar>("lv:big", json!({"url": "http://h/up"}), None).await;
    let reference = upload_ref(&join);
    // The client claims 4 bytes, then sends more than max_file_size (8).
    preflight_and_join(&mut client, &reference, file("0", "a.txt", 4, "text/plain")).await;
    assert_eq!(
        response(&chunk(&mut client, "21", "lvu:0", b"12345").await),
        &json!({})
    );
    let refused = chunk(&mut client, "22", "lvu:0", b"67890").await;
    assert_eq!(
        refused,
        json!(["9", "22", "lvu:0", "phx_reply", {"status": "error",
               "response": {"reason": "file_size_limit_exceeded", "limit": 8}}])
    );

    // The client then reports the failure; the entry shows it and is not consumed.
    let failed = json!({"event": null, "ref": reference, "entry_ref": "0",
                        "progress": {"error": "file_size_limit_exceeded"}});
    let reply = client.push("progress", failed).await;
    assert!(
        response(&reply)["diff"].to_string().contains(r#""0""#),
        "error refs"
    );
    let save = json!({"type": "form", "event": "save", "value": "", "meta": {}});
    let reply = client.push("event", save).await;
    assert!(
        response(&reply)
            .get("diff")
            .is_none_or(|d| !d.to_string().contains("a.txt"))
    );
}

#[tokio::test]
async fn a_channel_idle_past_its_chunk_timeout_is_closed_and_its_entry_dropped() {
    let url = "http://h/up?chunk_timeout_ms=100";
    let (mut client, join) = Frames::join::<Avatar>("lv:idle", json!({"url": url}), None).await;
    let reference = upload_ref(&join);
    let file = file("0", "a.txt", 5, "text/plain");
    let reply = preflight_and_join(&mut client, &reference, file).await;
    assert_eq!(response(&reply)["config"]["chunk_timeout"], 100);
    assert_eq!(
        response(&chunk(&mut client, "21", "lvu:0", b"hel").await),
        &json!({})
    );

    // The client goes quiet: the entry leaves the page, then its channel is closed.
    let diff = client.read().await;
    assert_eq!(diff[3], "diff", "{diff}");
    assert!(
        diff[4].to_string().contains(r#"data-phx-active-refs=\"\""#),
        "no active entry: {diff}"
    );
    assert_eq!(
        client.read().await,
        json!(["9", "9", "lvu:0", "phx_close", {}])
    );
    // Nothing is left to write to or to consume.
    let late = chunk(&mut client, "22", "lvu:0", b"lo").await;
    assert_eq!(response(&late)["reason"], "disallowed");
    let save = json!({"type": "form", "event": "save", "value": "", "meta": {}});
    let reply = client.push("event", save).await;
    assert!(!reply.to_string().contains("a.txt="), "{reply}");
}

#[tokio::test]
async fn a_view_without_uploads_refuses_them() {
    #[derive(Assigns)]
    struct Plain {}
    impl LiveView for Plain {
        type Info = ();
        fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
            Ok(Plain {})
        }
        fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
            let _ = assigns;
            html!("<p>plain</p>")
        }
    }
    let (mut client, _) =
        Frames::join::<Plain>("lv:plain", json!({"url": "http://h/"}), None).await;
    let reply = client
        .push("allow_upload", json!({"ref": "phx-x", "entries": []}))
        .await;
    assert_eq!(response(&reply)["reason"], "this view allows no uploads");
    let join = upload_push(
        &mut client,
        "20",
        "lvu:0",
        "phx_join",
        json!({"token": "x.y"}),
    )
    .await;
    assert_eq!(response(&join)["reason"], "disallowed");
    // The session is still serving.
    let reply = client
        .push(
            "event",
            json!({"type": "click", "event": "nope", "value": {}}),
        )
        .await;
    assert_eq!(reply[4]["status"], "error");
}

#[test]
fn the_input_has_no_upload_without_a_config() {
    let props = LiveFileInput::default();
    assert_eq!(live_file_input(&props).to_html(), "");
}

/// The same upload inside a live component: its form targets the component
/// (`phx-target={myself}`), so every step carries the component's `cid`.
#[derive(Assigns)]
struct AvatarForm {
    uploads: Uploads,
    saved: Vec<String>,
}

impl LiveComponent for AvatarForm {
    type Props = ();

    fn mount(_props: &()) -> Result<Self> {
        let options = UploadOptions::new().accept([".txt"]).max_file_size(8);
        Ok(AvatarForm {
            uploads: Uploads::new().allow("avatar", options),
            saved: Vec::new(),
        })
    }

    fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_> {
        html!(
            r#"<form id="cf" phx-change="validate" phx-submit="save" phx-target={myself}><.live_file_input upload={@uploads.get("avatar")} /><p>{@saved.join(";")}</p></form>"#
        )
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, _value: Value) -> Result {
        match event {
            "validate" => {}
            "save" => {
                let saved = socket.uploads_mut().consume("avatar", |path, entry| {
                    let body = std::fs::read_to_string(path).unwrap();
                    format!("{}={body}", entry.client_name)
                });
                socket.update_saved(|s| s.extend(saved));
            }
            other => return Err(Error::UnknownEvent(other.into())),
        }
        Ok(())
    }

    fn uploads(assigns: &mut Tracked<Self>) -> Option<&mut Uploads> {
        Some(assigns.uploads_mut())
    }
}

#[derive(Assigns)]
struct Profile {}

impl LiveView for Profile {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Profile {})
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        let _ = assigns;
        html!(r#"<main>{live_component::<AvatarForm>("avatar-form", ())}</main>"#)
    }
}

#[tokio::test]
async fn a_live_component_receives_its_own_uploads() {
    let (mut client, join) =
        Frames::join::<Profile>("lv:comp", json!({"url": "http://h/profile"}), None).await;
    let reference = upload_ref(&join);
    let files = [file("0", "a.txt", 5, "text/plain")];
    let change = json!({"type": "form", "event": "validate", "value": "", "cid": 1,
                        "meta": {"_target": "avatar"}, "uploads": {&reference: files}});
    let reply = client.push("event", change).await;
    assert!(sets(&reply, "active-refs", "0"), "{reply}");

    let preflight = json!({"ref": reference, "entries": files, "cid": 1});
    let reply = client.push("allow_upload", preflight).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert!(
        response(&reply)["diff"]["c"]["1"].is_object(),
        "the component's diff: {reply}"
    );
    let token = response(&reply)["entries"]["0"]
        .as_str()
        .unwrap()
        .to_owned();

    let joined = upload_push(
        &mut client,
        "20",
        "lvu:0",
        "phx_join",
        json!({"token": token}),
    )
    .await;
    assert_eq!(response(&joined), &json!({}), "{joined}");
    let ack = chunk(&mut client, "21", "lvu:0", b"hello").await;
    assert_eq!(response(&ack), &json!({}), "{ack}");
    let progress =
        json!({"event": null, "ref": reference, "entry_ref": "0", "progress": 100, "cid": 1});
    let reply = client.push("progress", progress).await;
    assert!(sets(&reply, "done-refs", "0"), "{reply}");

    let save = json!({"type": "form", "event": "save", "value": "", "meta": {}, "cid": 1});
    let reply = client.push("event", save).await;
    assert!(reply.to_string().contains("a.txt=hello"), "{reply}");
    assert_eq!(
        client.read().await,
        json!(["9", "9", "lvu:0", "phx_close", {}])
    );

    // A view without uploads of its own still refuses a preflight without a cid.
    let preflight = json!({"ref": reference, "entries": [], "cid": null});
    let reply = client.push("allow_upload", preflight).await;
    assert_eq!(response(&reply)["reason"], "this view allows no uploads");
}

#[tokio::test]
async fn malformed_upload_steps_get_error_replies_and_the_session_goes_on() {
    let (mut client, join) =
        Frames::join::<Avatar>("lv:bad", json!({"url": "http://h/up"}), None).await;
    let reference = upload_ref(&join);

    for payload in [
        json!({}),
        json!({"ref": "phx-nope", "entries": []}),
        json!({"ref": 7, "entries": "x"}),
    ] {
        let reply = client.push("allow_upload", payload.clone()).await;
        assert_eq!(reply[4]["status"], "error", "{payload}: {reply}");
    }
    // Entries without refs, sizes or names are ignored or checked, never a panic.
    let odd = json!({"ref": reference, "entries": [{}, {"ref": "1", "size": -5}, {"ref": ""}]});
    let reply = client.push("allow_upload", odd).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    // An oversized ref is not kept (nor rendered back); an oversized name is cut.
    let long_ref = "r".repeat(100_000);
    let long_name = "é".repeat(50_000);
    let big = json!({"ref": reference, "entries": [
        {"ref": long_ref, "name": "a.png", "size": 1, "type": "image/png"},
        {"ref": "2", "name": long_name, "size": 1, "type": "image/png"},
    ]});
    let reply = client.push("allow_upload", big).await;
    let text = reply.to_string();
    assert!(!text.contains(&long_ref[..1000]), "the long ref came back");
    assert!(text.len() < 20_000, "{} bytes for two entries", text.len());

    for payload in [
        json!({}),
        json!({"ref": reference, "entry_ref": "9", "progress": 50}),
        json!({"ref": reference, "entry_ref": "1", "progress": "lots"}),
    ] {
        let reply = client.push("progress", payload.clone()).await;
        assert_eq!(reply[4]["status"], "ok", "{payload}: {reply}");
    }

    let no_token = upload_push(&mut client, "20", "lvu:1", "phx_join", json!({})).await;
    assert_eq!(response(&no_token)["reason"], "invalid_token", "{no_token}");
    let stray = upload_push(&mut client, "21", "lvu:1", "chunk", json!({})).await;
    assert_eq!(response(&stray)["reason"], "unmatched event", "{stray}");
    // A chunk on the view's own topic is no upload.
    let misplaced = chunk(&mut client, "22", "lv:bad", b"x").await;
    assert_eq!(response(&misplaced)["reason"], "disallowed", "{misplaced}");

    let change = json!({"type": "form", "event": "validate", "value": "", "meta": {}});
    let reply = client.push("event", change).await;
    assert_eq!(reply[4]["status"], "ok", "still serving: {reply}");
}

/// A fresh folder of its own under the system temp folder.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cinder-test-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The upload files in `dir`.
fn upload_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("cinder-upload-")
        })
        .count()
}

/// The process's upload folder is set once: nextest runs this test in a process of its
/// own.
#[tokio::test]
async fn a_channel_left_mid_upload_or_an_ended_session_leaves_no_file() {
    let dir = scratch("left").join("node-a");
    assert_eq!(cinder::upload::use_temp_dir(&dir).unwrap(), 0);

    let (mut client, join) =
        Frames::join::<Avatar>("lv:left", json!({"url": "http://h/up"}), None).await;
    let reference = upload_ref(&join);
    let preflight =
        preflight_and_join(&mut client, &reference, file("0", "a.txt", 5, "text/plain")).await;
    let token = response(&preflight)["entries"]["0"].clone();
    chunk(&mut client, "21", "lvu:0", b"hel").await;
    assert_eq!(upload_files(&dir), 1);
    // The client's uploader leaves on an error: the partial file goes with the channel.
    let left = upload_push(&mut client, "22", "lvu:0", "phx_leave", json!({})).await;
    assert_eq!(left[4]["status"], "ok", "{left}");
    assert_eq!(upload_files(&dir), 0, "a left channel's partial file");
    // Joining again with the entry's token starts the file afresh.
    let joined = upload_push(
        &mut client,
        "23",
        "lvu:0",
        "phx_join",
        json!({"token": token}),
    )
    .await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    chunk(&mut client, "24", "lvu:0", b"hel").await;
    assert_eq!(upload_files(&dir), 1);

    // The session ends with a file still open: the file goes with it.
    client.handle.try_send(Input::Shutdown).unwrap();
    assert_eq!(client.rx.recv().await, None, "the session ended");
    assert_eq!(upload_files(&dir), 0, "an ended session's file");
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn start_up_sweeps_what_a_killed_node_left_in_its_own_folder_only() {
    let root = scratch("sweep");
    let (mine, other) = (root.join("node-a"), root.join("node-b"));
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    for name in ["cinder-upload-aaa", "cinder-upload-bbb", "notes.txt"] {
        std::fs::write(mine.join(name), b"left").unwrap();
    }
    std::fs::write(other.join("cinder-upload-live"), b"live").unwrap();

    assert_eq!(cinder::upload::use_temp_dir(&mine).unwrap(), 2);
    assert_eq!(upload_files(&mine), 0);
    assert!(mine.join("notes.txt").exists(), "not an upload file");
    assert_eq!(upload_files(&other), 1, "another node's folder");
    // A second call changes nothing; another folder is refused.
    assert_eq!(cinder::upload::use_temp_dir(&mine).unwrap(), 0);
    assert!(cinder::upload::use_temp_dir(&other).is_err());
    assert_eq!(upload_files(&other), 1);

    assert_eq!(
        cinder::upload::node_temp_dir("10.0.0.1:7001/../x"),
        std::env::temp_dir()
            .join("cinder-uploads")
            .join("10.0.0.1_7001_.._x")
    );
    assert_eq!(
        cinder::upload::node_temp_dir(".."),
        std::env::temp_dir().join("cinder-uploads").join("__")
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// What a session hands its outbox, in order: frames and upload channel changes.
#[derive(Debug, PartialEq)]
enum Sent {
    Frame(Value),
    Upload(UploadChannel),
}

/// An outbox that records both, as the view-node's link forwards both to the gateway.
struct Recorder(tokio::sync::mpsc::UnboundedSender<Sent>);

impl Outbox for Recorder {
    async fn send(&mut self, frame: String) -> bool {
        let frame = serde_json::from_str(&frame).unwrap();
        self.0.send(Sent::Frame(frame)).is_ok()
    }

    async fn upload_channel(&mut self, change: UploadChannel) -> bool {
        self.0.send(Sent::Upload(change)).is_ok()
    }
}

#[tokio::test]
async fn the_outbox_learns_each_channel_before_its_token_and_its_end_after_its_close() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let join = frame(json!(["1", "1", "lv:up", "phx_join", {"url": "http://h/up"}]));
    let handle =
        cinder::session::spawn_in::<Avatar, _>(join, Recorder(tx), SessionConfig::default(), None);
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("something sent")
            .expect("open")
    };
    let push = |msg: Value| handle.try_send(Input::Frame(Box::new(frame(msg)))).unwrap();
    let Sent::Frame(joined) = next().await else {
        panic!("the join reply comes first");
    };
    let reference = upload_ref(&joined);

    let files = [
        file("0", "a.txt", 5, "text/plain"),
        file("1", "b.exe", 3, "x/y"),
    ];
    let change = json!({"type": "form", "event": "validate", "value": "",
                        "meta": {"_target": "avatar"}, "uploads": {&reference: files}});
    push(json!(["1", "2", "lv:up", "event", change]));
    assert!(matches!(next().await, Sent::Frame(_)));

    // Only the entry that gets a token is allowed, before the reply that carries it.
    push(json!(["1", "3", "lv:up", "allow_upload", {"ref": reference, "entries": files}]));
    let allowed = UploadChannel::Allowed {
        topic: "lvu:0".into(),
    };
    assert_eq!(next().await, Sent::Upload(allowed));
    let Sent::Frame(reply) = next().await else {
        panic!("the reply follows");
    };
    let token = response(&reply)["entries"]["0"].clone();

    // A refused join ends its channel, after the error reply.
    push(json!(["9", "20", "lvu:1", "phx_join", {"token": token}]));
    assert!(matches!(next().await, Sent::Frame(f) if f[4]["status"] == "error"));
    let closed = UploadChannel::Closed {
        topic: "lvu:1".into(),
        join_ref: "9".into(),
    };
    assert_eq!(next().await, Sent::Upload(closed));

    // A consumed entry's channel ends after its `phx_close`.
    push(json!(["9", "21", "lvu:0", "phx_join", {"token": token}]));
    assert!(matches!(next().await, Sent::Frame(f) if f[4]["status"] == "ok"));
    let chunk = Chunk {
        join_ref: Some("9".into()),
        msg_ref: Some("22".into()),
        topic: "lvu:0".into(),
        event: "chunk".into(),
        bytes: b"hello".to_vec(),
    };
    handle.try_send(Input::Chunk(Box::new(chunk))).unwrap();
    assert!(matches!(next().await, Sent::Frame(_)));
    let progress =
        json!({"event": null, "ref": reference, "entry_ref": "0", "progress": 100, "cid": null});
    push(json!(["1", "4", "lv:up", "progress", progress]));
    assert!(matches!(next().await, Sent::Frame(_)));
    push(
        json!(["1", "5", "lv:up", "event", {"type": "form", "event": "save", "value": "", "meta": {}}]),
    );
    assert!(matches!(next().await, Sent::Frame(f) if f[4]["status"] == "ok"));
    assert_eq!(
        next().await,
        Sent::Frame(json!(["9", "9", "lvu:0", "phx_close", {}]))
    );
    let closed = UploadChannel::Closed {
        topic: "lvu:0".into(),
        join_ref: "9".into(),
    };
    assert_eq!(next().await, Sent::Upload(closed));
}
