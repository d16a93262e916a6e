//! `/clock`: the server pushes the time every second.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};

/// A clock ticking on the server.
#[derive(Assigns)]
pub struct Clock {
    now: String,
}

/// A tick of the clock.
#[derive(Debug)]
pub struct Tick;

fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

impl LiveView for Clock {
    type Info = Tick;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Clock");
        if cx.connected {
            cx.send_after(Duration::from_secs(1), Tick);
        }
        Ok(Clock { now: now() })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="clock">
  <h1>Clock</h1>
  <section class="panel clock-face"><p>The server's time: <time id="now">{@now}</time></p></section>
  <p class="meta">Pushed by the server every second: no event from the browser.</p>
</main>"#
        )
    }

    fn handle_info(socket: &mut Socket<Self>, _tick: Tick) -> Result {
        socket.send_after(Duration::from_secs(1), Tick);
        socket.set_now(now());
        Ok(())
    }
}
