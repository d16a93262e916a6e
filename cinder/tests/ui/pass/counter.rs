//! A counter view implementing `cinder::LiveView`: mount, render, events and setters.

use cinder::{Assigns, LiveView, Mount, Params, Rendered, Result, Socket, Tracked, html};

#[derive(Assigns)]
pub struct Counter {
    count: i64,
    step: i64,
}

impl LiveView for Counter {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Counter { count: 0, step: 2 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<h1 id="count">{@count}</h1><button id="inc" phx-click="inc" phx-value-step={@step}>+</button>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: serde_json::Value) -> Result {
        match event {
            "inc" => {
                let step = socket.step;
                socket.update_count(|c| *c += step);
            }
            "reset" => socket.set_count(0),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }
}

fn main() {
    let params = Params::new();
    let mut cx = Mount::<Counter>::new(&params, "http://localhost/counter", false);
    let view = Counter::mount(&mut cx).unwrap();
    let mut socket = Socket::new(view);
    assert_eq!(
        Counter::render(&socket.assigns).to_html(),
        r#"<h1 id="count">0</h1><button id="inc" phx-click="inc" phx-value-step="2">+</button>"#
    );

    socket.assigns.clear();
    Counter::handle_event(&mut socket, "inc", serde_json::Value::Null).unwrap();
    Counter::handle_event(&mut socket, "inc", serde_json::Value::Null).unwrap();
    assert_eq!(socket.count, 4);
    // Only `count` (bit 0) was marked changed by the generated setter.
    assert_eq!(socket.changed(), 0b01);
    assert_eq!(
        Counter::render(&socket.assigns).to_html(),
        r#"<h1 id="count">4</h1><button id="inc" phx-click="inc" phx-value-step="2">+</button>"#
    );

    Counter::handle_event(&mut socket, "reset", serde_json::Value::Null).unwrap();
    assert_eq!(socket.count, 0);
    assert!(Counter::handle_event(&mut socket, "nope", serde_json::Value::Null).is_err());
    assert_eq!(<Counter as cinder::Assigns>::FIELDS, &["count", "step"]);
}
