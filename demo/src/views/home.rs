//! `/`: links to every demo, navigated live.

use cinder::{Assigns, LiveView, Mount, Rendered, Result, Tracked, html};

/// The index page.
#[derive(Assigns)]
pub struct Home {}

impl LiveView for Home {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Cinder demos");
        Ok(Home {})
    }

    fn render(_assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="home">
  <h1>Cinder demos</h1>
  <ul>
    <li><a id="to-counter" href="/counter" data-phx-link="redirect" data-phx-link-state="push">Counter</a></li>
    <li><a id="to-form" href="/form" data-phx-link="redirect" data-phx-link-state="push">Form</a></li>
    <li><a id="to-chat" href="/chat/lobby?user=guest" data-phx-link="redirect" data-phx-link-state="push">Chat</a></li>
    <li><a id="to-clock" href="/clock" data-phx-link="redirect" data-phx-link-state="push">Clock</a></li>
    <li><a id="to-feed" href="/feed/news" data-phx-link="redirect" data-phx-link-state="push">Feed</a></li>
  </ul>
</main>"#
        )
    }
}
