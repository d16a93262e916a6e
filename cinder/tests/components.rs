//! Live components over real frames: a keyed list of stateful components joins with
//! `"c"`, an event with `cid` re-renders only its component, the destroy handshake drops
//! an instance's state, and an unknown cid gets an error reply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use cinder::component::{ComponentSocket, LiveComponent, Myself, live_component};
use cinder::{Assigns, Flash, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::{Value, json};

mod support;

use support::Frames;

/// One row: a label from the parent and a counter of its own.
#[derive(Assigns)]
struct Row {
    label: String,
    clicks: u32,
    /// How many times `mount` ran for this instance (always 1 while it lives).
    mounts: u32,
}

impl LiveComponent for Row {
    type Props = String;

    fn mount(label: &String) -> Result<Self> {
        Ok(Row {
            label: label.clone(),
            clicks: 0,
            mounts: 1,
        })
    }

    fn update(socket: &mut ComponentSocket<Self>, label: String) -> Result {
        socket.set_label(label);
        Ok(())
    }

    fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_> {
        html!(
            r#"<li><b>{@label}</b> <button phx-click="click" phx-target={myself}>{@clicks}</button><i>{@mounts}</i></li>"#
        )
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, _value: Value) -> Result {
        match event {
            "click" => socket.update_clicks(|c| *c += 1),
            "flash" => socket.put_flash("info", "Clicked"),
            "boom" => panic!("a component bug"),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }
}

#[derive(Assigns)]
struct Board {
    rows: Vec<(u32, String)>,
    flash: Flash,
}

impl LiveView for Board {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Board {
            rows: vec![(1, "one".into()), (2, "two".into()), (3, "three".into())],
            flash: Flash::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<div><p id="flash">{@flash.get("info").unwrap_or_default()}</p><ul><span :for={(id, label) in &@rows} :key={id}>{live_component::<Row>(id.to_string(), label.clone())}</span></ul></div>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        match event {
            "remove" => {
                let id = value["id"].as_u64().unwrap() as u32;
                socket.update_rows(|rows| rows.retain(|(i, _)| *i != id));
            }
            "rename" => socket.update_rows(|rows| rows[0].1 = "uno".into()),
            "restore" => socket.update_rows(|rows| rows.push((2, "two".into()))),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn flash(assigns: &mut Tracked<Self>) -> Option<&mut Flash> {
        Some(assigns.flash_mut())
    }
}

type Client = Frames;

impl Frames {
    async fn join_board() -> (Client, Value) {
        let payload = json!({"url": "http://h/board", "params": {}, "session": "", "static": null});
        let (client, reply) = Frames::join::<Board>("lv:phx-board", payload, None).await;
        assert_eq!(reply[4]["status"], "ok", "{reply}");
        (client, reply[4]["response"]["rendered"].clone())
    }

    /// The response of a successful push.
    async fn ok(&mut self, event: &str, payload: Value) -> Value {
        let reply = self.push(event, payload).await;
        assert_eq!(reply[4]["status"], "ok", "{reply}");
        reply[4]["response"].clone()
    }

    async fn click(&mut self, event: &str, value: Value, cid: Option<u32>) -> Value {
        let mut payload = json!({"type": "click", "event": event, "value": value});
        if let Some(cid) = cid {
            payload["cid"] = json!(cid);
        }
        self.ok("event", payload).await
    }
}

#[tokio::test]
async fn join_renders_each_component_under_c() {
    let (_client, rendered) = Client::join_board().await;
    // The keyed list holds the cids; each component's tree is under "c", the first one
    // with its statics and the others sharing them ("s": +1).
    assert_eq!(rendered["1"]["k"]["0"]["0"], json!(1), "{rendered}");
    assert_eq!(rendered["1"]["k"]["1"]["0"], json!(2));
    assert_eq!(rendered["1"]["k"]["2"]["0"], json!(3));
    let c = &rendered["c"];
    assert_eq!(c["1"]["0"], "one", "{c}");
    assert_eq!(c["1"]["r"], 1);
    assert!(c["1"]["s"].is_array());
    // `phx-target={myself}` renders each instance's own cid.
    assert_eq!(c["1"]["1"], r#" phx-target="1""#);
    assert_eq!(c["3"]["1"], r#" phx-target="3""#);
    assert_eq!(c["3"]["0"], "three");
}

#[tokio::test]
async fn an_event_with_a_cid_changes_only_that_component() {
    let (mut client, _) = Client::join_board().await;
    let response = client.click("click", json!({"value": ""}), Some(2)).await;
    assert_eq!(response, json!({"diff": {"c": {"2": {"2": "1"}}}}));
    let response = client.click("click", json!({"value": ""}), Some(2)).await;
    assert_eq!(response, json!({"diff": {"c": {"2": {"2": "2"}}}}));
    // The parent's own render keeps every instance's state and re-sends only what
    // changed: the renamed row's label.
    let response = client.click("rename", json!({}), None).await;
    assert_eq!(response, json!({"diff": {"c": {"1": {"0": "uno"}}}}));
    // A component's put_flash shows in its view, next to its own diff (nothing here).
    let response = client.click("flash", json!({}), Some(3)).await;
    assert_eq!(response, json!({"diff": {"0": "Clicked"}}));
}

#[tokio::test]
async fn a_removed_component_is_destroyed_by_the_handshake() {
    let (mut client, _) = Client::join_board().await;
    client.click("click", json!({}), Some(2)).await;
    let response = client.click("remove", json!({"id": 2}), None).await;
    let diff = &response["diff"];
    assert_eq!(diff["1"]["k"]["kc"], 2, "{diff}");
    assert!(diff.get("c").is_none(), "{diff}");
    assert_eq!(
        client.ok("cids_will_destroy", json!({"cids": [2]})).await,
        json!({})
    );
    let response = client.ok("cids_destroyed", json!({"cids": [2]})).await;
    assert_eq!(response, json!({"cids": [2]}));
    // Gone: its cid is unknown now.
    let reply = client
        .push(
            "event",
            json!({"type": "click", "event": "click", "value": {}, "cid": 2}),
        )
        .await;
    assert_eq!(reply[4]["status"], "error", "{reply}");
    // Its state went with it: rendered again, row 2 mounts afresh under a new cid.
    let response = client.click("restore", json!({}), None).await;
    let c = &response["diff"]["c"];
    assert_eq!(c["4"]["0"], "two", "{c}");
    assert_eq!(c["4"]["2"], "0", "{c}");
    // Destroying again deletes nothing, and an unmarked cid is kept.
    assert_eq!(
        client.ok("cids_destroyed", json!({"cids": [2, 1]})).await,
        json!({"cids": []})
    );
    let response = client.click("click", json!({}), Some(1)).await;
    assert_eq!(response, json!({"diff": {"c": {"1": {"2": "1"}}}}));
}

#[tokio::test]
async fn a_component_rendered_again_before_destroyed_is_kept() {
    let (mut client, _) = Client::join_board().await;
    assert_eq!(
        client.ok("cids_will_destroy", json!({"cids": [3]})).await,
        json!({})
    );
    // The parent renders row 3 again (its list changed): the mark is lifted.
    client.click("rename", json!({}), None).await;
    let response = client.ok("cids_destroyed", json!({"cids": [3]})).await;
    assert_eq!(response, json!({"cids": []}));
    let response = client.click("click", json!({}), Some(3)).await;
    assert_eq!(response, json!({"diff": {"c": {"3": {"2": "1"}}}}));
}

#[tokio::test]
async fn an_unknown_cid_gets_an_error_reply() {
    let (mut client, _) = Client::join_board().await;
    let reply = client
        .push(
            "event",
            json!({"type": "click", "event": "click", "value": {}, "cid": 99}),
        )
        .await;
    assert_eq!(reply[4]["status"], "error", "{reply}");
    assert_eq!(reply[4]["response"], json!({"reason": "unknown component"}));
    // The session goes on.
    let response = client.click("click", json!({}), Some(1)).await;
    assert_eq!(response, json!({"diff": {"c": {"1": {"2": "1"}}}}));
}

#[tokio::test]
async fn a_component_panic_ends_only_its_session() {
    let (mut client, _) = Client::join_board().await;
    let (mut other, _) = Client::join_board().await;
    let reply = client
        .push(
            "event",
            json!({"type": "click", "event": "boom", "value": {}, "cid": 1}),
        )
        .await;
    assert_eq!(reply[3], "phx_error", "{reply}");
    let response = other.click("click", json!({}), Some(1)).await;
    assert_eq!(response, json!({"diff": {"c": {"1": {"2": "1"}}}}));
}

#[test]
fn a_dead_render_mounts_components_for_that_render() {
    let html = Board::render(&Tracked::new(Board {
        rows: vec![(7, "seven".into())],
        flash: Flash::new(),
    }))
    .to_html();
    assert!(
        html.contains(
            r#"<li><b>seven</b> <button phx-click="click" phx-target="0">0</button><i>1</i></li>"#
        ),
        "{html}"
    );
}

/// A component whose `update` greets: an event to the client and a message to its view.
#[derive(Assigns)]
struct Greeter {
    name: String,
    /// What `connected()` said in `update`.
    live: bool,
}

impl LiveComponent for Greeter {
    type Props = String;

    fn mount(name: &String) -> Result<Self> {
        Ok(Greeter {
            name: name.clone(),
            live: false,
        })
    }

    fn update(socket: &mut ComponentSocket<Self>, name: String) -> Result {
        socket.push_event("greeted", json!({ "name": name }));
        socket.send_parent(name.clone());
        socket.set_name(name);
        let live = socket.connected();
        socket.set_live(live);
        Ok(())
    }

    fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_> {
        html!(
            r#"<b phx-click="leave" phx-target={myself}>{@name} {if @live { "live" } else { "dead" }}</b>"#
        )
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, _value: Value) -> Result {
        match event {
            "leave" => socket.push_navigate("/elsewhere"),
            "patch" => socket.push_patch("/hall?page=2"),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }
}

#[derive(Assigns)]
struct Hall {
    greeted: Vec<String>,
    page: String,
}

impl LiveView for Hall {
    type Info = String;

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Hall {
            greeted: Vec::new(),
            page: String::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<div>{live_component::<Greeter>("g", "ada".to_owned())}<p>{@greeted.join(",")}</p><i>{@page}</i></div>"#
        )
    }

    fn handle_info(socket: &mut Socket<Self>, name: String) -> Result {
        socket.update_greeted(|g| g.push(name));
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, params: &cinder::Params, _uri: &str) -> Result {
        let page = params.get("page").and_then(Value::as_str).unwrap_or("1");
        socket.set_page(page.to_owned());
        Ok(())
    }
}

#[tokio::test]
async fn effects_of_update_and_navigation_from_components_reach_the_client() {
    let payload = json!({"url": "http://h/hall", "params": {}, "session": "", "static": null});
    let (mut client, reply) = Frames::join::<Hall>("lv:phx-hall", payload, None).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert!(
        reply.to_string().contains(r#""live""#),
        "connected in a session: {reply}"
    );
    let dead = Hall::render(&Tracked::new(Hall {
        greeted: Vec::new(),
        page: String::new(),
    }))
    .to_html();
    assert!(
        dead.contains("ada dead"),
        "not connected in a dead render: {dead}"
    );

    // The update's event follows the join as a diff, then the view's message lands.
    let events = client.read().await;
    assert_eq!(events[3], "diff", "{events}");
    assert_eq!(
        events[4]["e"],
        json!([["greeted", {"name": "ada"}]]),
        "{events}"
    );
    let info = client.read().await;
    assert_eq!(info[3], "diff", "{info}");
    assert!(info[4].to_string().contains("ada"), "{info}");

    // A component's push_patch patches its view's URL.
    let patch = json!({"type": "click", "event": "patch", "value": {}, "cid": 1});
    let pushed = client.push("event", patch).await;
    assert_eq!(pushed[3], "live_patch", "{pushed}");
    assert_eq!(pushed[4]["to"], "/hall?page=2");
    let reply = client.read().await;
    assert!(
        reply[4]["response"]["diff"].to_string().contains('2'),
        "{reply}"
    );

    // A component's push_navigate answers its event with the live redirect.
    let leave = json!({"type": "click", "event": "leave", "value": {}, "cid": 1});
    let reply = client.push("event", leave).await;
    assert_eq!(
        reply[4]["response"]["live_redirect"]["to"], "/elsewhere",
        "{reply}"
    );
}
