//! `/counter`: the count, buttons by a step, a patch link changing the step, the
//! `Reset` flash that a click on it clears (`lv:clear-flash`), and `#reload`: a full
//! redirect to `/counter` carrying the flash `Reloaded`. The session parks through a
//! reconnect (`PARK`) and moves to another node when its own drains (`snapshot`):
//! `#mounts` counts the page's mounts, and stays 1 when the count survives either. The
//! join takes over what the dead render mounted (`ADOPT_DEAD_RENDER`): one mount per
//! page.

use cinder::snapshot::Snapshots;
use cinder::{Assigns, Flash, LiveView, Mount, Params, Rendered, Result, Socket, Tracked, html};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A counter whose step comes from the URL (`?step=5`).
#[derive(Assigns, Serialize, Deserialize)]
pub struct Counter {
    count: i64,
    step: i64,
    flash: Flash,
    /// How many times the page mounted this view, this mount included.
    mounts: u64,
}

impl LiveView for Counter {
    type Info = ();
    const PARK: bool = true;
    const ADOPT_DEAD_RENDER: bool = true;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Counter");
        Ok(Counter {
            count: 0,
            step: 1,
            flash: Flash::new(),
            mounts: cx.mounts + 1,
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        // The flash comes last, so the dynamics above keep their numbers (and diffs).
        html!(
            r#"<main id="counter">
  <section class="panel counter-panel">
  <p class="eyebrow">Count</p>
  <h1 id="count">{@count}</h1>
  <div class="actions">
  <button id="dec" phx-click="dec">-{@step}</button>
  <button id="inc" phx-click="inc">+{@step}</button>
  </div>
  <div class="actions">
  <button class="secondary" id="reset" phx-click="reset">Reset</button>
  <button class="secondary" id="reload" phx-click="reload">Reload</button>
  </div>
  <p class="step">Step: <span id="step">{@step}</span>
    <a id="step-1" href="/counter" data-phx-link="patch" data-phx-link-state="push">1</a>
    <a id="step-5" href="/counter?step=5" data-phx-link="patch" data-phx-link-state="push">5</a>
  </p>
  </section>
  <a id="home" href="/" data-phx-link="redirect" data-phx-link-state="push">All demos</a>
  <p :if={@flash.get("info").is_some()} id="flash-info" phx-click="lv:clear-flash" phx-value-key="info">{@flash.get("info").unwrap_or_default()}</p>
  <p class="meta">Mounted <span id="mounts">{@mounts}</span> times</p>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        let step = socket.step;
        match event {
            "inc" => socket.update_count(|c| *c += step),
            "dec" => socket.update_count(|c| *c -= step),
            "reset" => {
                socket.set_count(0);
                socket.put_flash("info", "Reset");
            }
            // A full page load; the flash crosses it in the client's flash cookie.
            "reload" => {
                socket.put_flash("info", "Reloaded");
                socket.redirect("/counter");
            }
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn flash(assigns: &mut Tracked<Self>) -> Option<&mut Flash> {
        Some(assigns.flash_mut())
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
