//! Live components through cinder-test: a click on an element whose `phx-target` is a
//! component's `myself` reaches that component, and the merged HTML shows its new render.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use cinder::component::{ComponentSocket, LiveComponent, Myself, live_component};
use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Tracked, html};
use cinder_test::TestApp;
use serde_json::Value;

#[derive(Assigns)]
struct Counter {
    id: u32,
    count: u32,
}

impl LiveComponent for Counter {
    type Props = u32;

    fn mount(id: &u32) -> Result<Self> {
        Ok(Counter { id: *id, count: 0 })
    }

    fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_> {
        html!(
            r#"<div id={format!("counter-{}", @id)}><span id={format!("count-{}", @id)}>{@count}</span><button id={format!("inc-{}", @id)} phx-click="inc" phx-target={myself}>+</button></div>"#
        )
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, _value: Value) -> Result {
        match event {
            "inc" => socket.update_count(|c| *c += 1),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }
}

#[derive(Assigns)]
struct Counters {
    ids: Vec<u32>,
}

impl LiveView for Counters {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Counters { ids: vec![1, 2] })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main><section :for={id in &@ids} :key={id}>{live_component::<Counter>(id.to_string(), *id)}</section></main>"#
        )
    }
}

#[tokio::test]
async fn a_click_with_a_component_target_reaches_the_component() {
    let app = TestApp::start(|router: Router| router.live::<Counters>("/counters"))
        .await
        .unwrap();
    let dead = app.get("/counters").await.unwrap();
    assert_eq!(dead.element("#count-2").unwrap().text(), "0");

    let mut live = app.live("/counters").await.unwrap();
    live.click_element("#inc-2").await.unwrap();
    live.click_element("#inc-2").await.unwrap();
    assert_eq!(live.element("#count-2").unwrap().text(), "2");
    assert_eq!(live.element("#count-1").unwrap().text(), "0");
    // Only the clicked component's count travelled.
    assert_eq!(
        live.last_diff(),
        Some(&serde_json::json!({"c": {"2": {"2": "2"}}}))
    );
}
