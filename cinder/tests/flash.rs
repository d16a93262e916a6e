//! Flash over real frames: `put_flash` in a diff, `lv:clear-flash`, and the signed token a
//! `push_navigate` carries to the next join.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::sync::Arc;

use cinder::route::Pattern;
use cinder::session::Env;
use cinder::token::Signer;
use cinder::{Assigns, Flash, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::{Value, json};

mod support;

use support::{Frames, session_of};

const SECRET: &[u8] = b"flash test secret";

#[derive(Assigns)]
struct Notes {
    /// What `mount` read from `cx.flash`.
    mounted_with: String,
    flash: Flash,
    count: i64,
}

impl LiveView for Notes {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Notes {
            mounted_with: cx.flash.get("info").unwrap_or("none").to_owned(),
            flash: Flash::new(),
            count: 0,
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<div><p id="info">{@flash.get("info").unwrap_or_default()}</p><p id="error">{@flash.get("error").unwrap_or_default()}</p><span>{@count}</span><i>{@mounted_with}</i></div>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        match event {
            "put" => {
                socket.put_flash("info", "Saved");
                socket.put_flash("error", "Oops");
            }
            "inc" => socket.update_count(|c| *c += 1),
            "delete" => {
                socket.put_flash("info", "Deleted");
                socket.push_navigate("/notes");
            }
            "leave" => socket.push_navigate("/notes"),
            "away" => {
                socket.put_flash("info", "Bye");
                socket.redirect("/elsewhere");
            }
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn flash(assigns: &mut Tracked<Self>) -> Option<&mut Flash> {
        Some(assigns.flash_mut())
    }
}

type Client = Frames;

fn env() -> Arc<Env> {
    Arc::new(Env {
        route: Some(Pattern::new("/notes")),
        pubsub: None,
        presence: None,
        signer: Some(Signer::new(SECRET)),
    })
}

impl Frames {
    /// Joins with `payload` (plus `params`, `session` and `static`).
    async fn join_notes(mut payload: Value) -> (Client, Value) {
        payload["params"] = json!({});
        payload["session"] = json!("");
        payload["static"] = Value::Null;
        Frames::join::<Notes>("lv:phx-notes", payload, Some(env())).await
    }

    /// The response of a click's reply.
    async fn click(&mut self, event: &str, value: Value) -> Value {
        let reply = self
            .push(
                "event",
                json!({"type": "click", "event": event, "value": value}),
            )
            .await;
        assert_eq!(reply[4]["status"], "ok", "{reply}");
        reply[4]["response"].clone()
    }
}

#[tokio::test]
async fn put_flash_resends_only_the_flash() {
    let (mut client, reply) = Client::join_notes(json!({"url": "http://localhost/notes"})).await;
    assert_eq!(reply[4]["response"]["rendered"]["0"], "");
    let response = client.click("put", json!({"value": ""})).await;
    assert_eq!(response, json!({"diff": {"0": "Saved", "1": "Oops"}}));
    // The flash is tracked like any assign: other events leave it out.
    let response = client.click("inc", json!({"value": ""})).await;
    assert_eq!(response, json!({"diff": {"2": "1"}}));
}

#[tokio::test]
async fn lv_clear_flash_clears_the_key_or_everything() {
    let (mut client, _) = Client::join_notes(json!({"url": "http://localhost/notes"})).await;
    client.click("put", json!({})).await;
    let response = client
        .click("lv:clear-flash", json!({"key": "info", "value": ""}))
        .await;
    // Tracking is per field: both dynamics reading `@flash` are resent.
    assert_eq!(response, json!({"diff": {"0": "", "1": "Oops"}}));
    client.click("put", json!({})).await;
    let response = client.click("lv:clear-flash", json!({"value": ""})).await;
    assert_eq!(response, json!({"diff": {"0": "", "1": ""}}));
}

#[tokio::test]
async fn push_navigate_carries_the_flash_to_the_next_join() {
    let (mut client, _) = Client::join_notes(json!({"url": "http://localhost/notes"})).await;
    let response = client.click("delete", json!({})).await;
    assert_eq!(response["diff"], json!({"0": "Deleted", "1": ""}));
    let live_redirect = &response["live_redirect"];
    assert_eq!(live_redirect["to"], "/notes");
    assert_eq!(live_redirect["kind"], "push");
    let token = live_redirect["flash"].as_str().expect("a flash token");

    // The client leaves and joins again with the token as `flash`.
    let (_next, reply) = Client::join_notes(json!({
        "redirect": "http://localhost/notes",
        "flash": token,
    }))
    .await;
    let rendered = &reply[4]["response"]["rendered"];
    assert_eq!(reply[4]["status"], "ok");
    assert_eq!(rendered["0"], "Deleted", "the new view renders it");
    assert_eq!(rendered["1"], "");
    assert_eq!(rendered["3"], "Deleted", "mount sees it in cx.flash");
}

#[tokio::test]
async fn an_unchanged_flash_stays_behind() {
    let (mut client, _) = Client::join_notes(json!({"url": "http://localhost/notes"})).await;
    client.click("put", json!({})).await;
    let response = client.click("leave", json!({})).await;
    assert_eq!(
        response,
        json!({"live_redirect": {"to": "/notes", "kind": "push"}})
    );
}

#[tokio::test]
async fn redirect_carries_the_flash_too() {
    let (mut client, _) = Client::join_notes(json!({"url": "http://localhost/notes"})).await;
    let response = client.click("away", json!({})).await;
    assert_eq!(response["redirect"]["to"], "/elsewhere");
    let token = response["redirect"]["flash"].as_str().unwrap();
    let flash = Flash::verify(&Signer::new(SECRET), token);
    assert_eq!(flash.get("info"), Some("Bye"));
}

#[tokio::test]
async fn a_forged_or_foreign_flash_token_is_no_flash() {
    let mut flash = Flash::new();
    flash.put("info", "Forged");
    let foreign = flash.sign(&Signer::new(b"another cluster"));
    for token in [json!("garbage"), json!(foreign), json!(42)] {
        let (_client, reply) = Client::join_notes(json!({
            "redirect": "http://localhost/notes",
            "flash": token,
        }))
        .await;
        assert_eq!(reply[4]["status"], "ok", "{reply}");
        let rendered = &reply[4]["response"]["rendered"];
        assert_eq!(rendered["0"], "");
        assert_eq!(rendered["3"], "none");
    }
}

#[tokio::test]
async fn the_flash_cookie_a_redirect_left_reaches_the_page_and_its_first_mount() {
    let router = cinder::router::Router::new(SECRET).live::<Notes>("/notes");
    let mut flash = Flash::new();
    flash.put("info", "Bye");
    let token = flash.sign(&Signer::new(SECRET));

    let page = router.render("http://h/notes", "phx-f1", "csrf", Some(&token));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"<p id="info">Bye</p>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("<i>Bye</i>"), "the dead mount saw it");
    assert!(
        page.headers.contains(&(
            "set-cookie".into(),
            "__phoenix_flash__=; max-age=0; path=/".into()
        )),
        "the cookie is deleted: {:?}",
        page.headers
    );

    let session = session_of(&page.body);
    for (mounts, expected) in [(0, "Bye"), (1, "none")] {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let join = support::frame(json!(["1", "1", "lv:phx-f1", "phx_join", {
            "url": "http://h/notes", "session": session, "static": null,
            "params": {"_mounts": mounts},
        }]));
        let _handle = router.join(join, true, tx).expect("joined");
        let reply: Value = serde_json::from_str(&rx.recv().await.unwrap()).unwrap();
        assert_eq!(
            reply[4]["response"]["rendered"]["3"], expected,
            "mount {mounts}: {reply}"
        );
    }

    // A forged cookie is no flash, and is deleted all the same.
    let forged = router.render("http://h/notes", "phx-f2", "csrf", Some("forged.token"));
    assert!(forged.body.contains(r#"<p id="info"></p>"#));
    assert!(forged.headers.iter().any(|(name, _)| name == "set-cookie"));
    let plain = router.render("http://h/notes", "phx-f3", "csrf", None);
    assert!(!plain.headers.iter().any(|(name, _)| name == "set-cookie"));
}
