//! Sessions reduced to their snapshot while idle (`LiveView::HIBERNATE_AFTER`): the next
//! input wakes the session, which pushes the whole page once and then handles the input
//! as if it had never slept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::time::Duration;

use cinder::frame::ClientFrame;
use cinder::session::{self, Input, SessionConfig, SessionHandle};
use cinder::snapshot::Snapshots;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod support;

#[derive(Assigns, Serialize, Deserialize)]
struct Sleepy {
    count: i64,
    items: Vec<String>,
}

impl LiveView for Sleepy {
    type Info = i64;
    const HIBERNATE_AFTER: Option<Duration> = Some(Duration::from_millis(50));

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Sleepy {
            count: 0,
            items: (0..3).map(|i| format!("item {i}")).collect(),
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p><ul><li :for={item in &@items}>{item}</li></ul>"#)
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: Value) -> Result {
        socket.update_count(|c| *c += 1);
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, add: i64) -> Result {
        socket.update_count(|c| *c += add);
        Ok(())
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> Value {
    let frame = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&frame).unwrap()
}

fn click(handle: &SessionHandle, msg_ref: u32) {
    let frame = support::frame(json!(["1", msg_ref.to_string(), "lv:phx-h", "event", {
        "type": "click", "event": "inc", "value": {},
    }]));
    handle.try_send(Input::Frame(Box::new(frame))).unwrap();
}

#[tokio::test]
async fn an_idle_session_sleeps_and_its_next_input_wakes_it_as_it_was() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let join = ClientFrame::parse(
        r#"["1","1","lv:phx-h","phx_join",{"url":"http://h/s","params":{},"session":"s","static":null}]"#,
    )
    .unwrap();
    let handle = session::spawn_in::<Sleepy, _>(join, tx, SessionConfig::default(), None);
    assert_eq!(next(&mut rx).await[4]["status"], "ok");
    for n in 0..3 {
        click(&handle, n + 2);
        assert_eq!(
            next(&mut rx).await[4]["response"]["diff"]["0"],
            (n + 1).to_string()
        );
    }

    // Idle past 50 ms: asleep. A click wakes it: first the whole page, as it was...
    tokio::time::sleep(Duration::from_millis(200)).await;
    click(&handle, 10);
    let push = next(&mut rx).await;
    assert_eq!(push[3], "diff", "{push}");
    assert!(push[4].get("s").is_some(), "a whole render: {push}");
    assert_eq!(push[4]["0"], "3", "{push}");
    // ... then the click's reply, a diff against that page.
    let reply = next(&mut rx).await;
    assert_eq!(reply[1], "10");
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "4"}), "{reply}");

    // A message wakes it too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    handle.try_send(Input::Info(Box::new(10_i64))).unwrap();
    assert_eq!(next(&mut rx).await[4]["0"], "4", "the wake's whole page");
    let push = next(&mut rx).await;
    assert_eq!(push[4], json!({"0": "14"}), "{push}");
}
