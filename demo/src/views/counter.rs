//! `/counter`: the count, buttons by a step, and a patch link changing the step.

use cinder::{Assigns, LiveView, Mount, Params, Rendered, Result, Socket, Tracked, html};
use serde_json::Value;

/// A counter whose step comes from the URL (`?step=5`).
#[derive(Assigns)]
pub struct Counter {
    count: i64,
    step: i64,
}

impl LiveView for Counter {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Counter");
        Ok(Counter { count: 0, step: 1 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="counter">
  <h1 id="count">{@count}</h1>
  <button id="dec" phx-click="dec">-{@step}</button>
  <button id="inc" phx-click="inc">+{@step}</button>
  <button id="reset" phx-click="reset">Reset</button>
  <p>Step: <span id="step">{@step}</span>
    <a id="step-1" href="/counter" data-phx-link="patch" data-phx-link-state="push">1</a>
    <a id="step-5" href="/counter?step=5" data-phx-link="patch" data-phx-link-state="push">5</a>
  </p>
  <a id="home" href="/" data-phx-link="redirect" data-phx-link-state="push">All demos</a>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        let step = socket.step;
        match event {
            "inc" => socket.update_count(|c| *c += step),
            "dec" => socket.update_count(|c| *c -= step),
            "reset" => socket.set_count(0),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, params: &Params, _uri: &str) -> Result {
        let step = params
            .get("step")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        if step != socket.step {
            socket.set_step(step);
        }
        Ok(())
    }
}
