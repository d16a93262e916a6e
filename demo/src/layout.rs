//! The page around every demo view: `cinder::page::document` with the demo's
//! stylesheet, a header naming Cinder with a nav to every demo, the connection state and
//! a progress bar for live navigation.
//!
//! The header is outside the live container, so the server never patches it: a live
//! navigation leaves it as it is. What changes in it is done in the browser by
//! `client/app.js` (which link is `aria-current`, `#connection`'s state, `#topbar`) and
//! by `client/app.css` (the dot's colour and `#connection-lost`, both read from the
//! classes the official client puts on the container).

use cinder::html::escape;
use cinder::page::{Page, document};

/// A header link: its id, where it goes and its text.
struct NavLink {
    id: &'static str,
    href: &'static str,
    label: &'static str,
}

/// Every demo, in the order the header lists them. `/dashboard` is served by the
/// cluster dashboard; until a router mounts it, its link leads to a 404.
const NAV: &[NavLink] = &[
    NavLink {
        id: "nav-home",
        href: "/",
        label: "Home",
    },
    NavLink {
        id: "nav-counter",
        href: "/counter",
        label: "Counter",
    },
    NavLink {
        id: "nav-form",
        href: "/form",
        label: "Form",
    },
    NavLink {
        id: "nav-chat",
        href: "/chat/lobby?user=guest",
        label: "Chat",
    },
    NavLink {
        id: "nav-clock",
        href: "/clock",
        label: "Clock",
    },
    NavLink {
        id: "nav-feed",
        href: "/feed/news",
        label: "Feed",
    },
    NavLink {
        id: "nav-todos",
        href: "/todos",
        label: "Todos",
    },
    NavLink {
        id: "nav-upload",
        href: "/upload",
        label: "Upload",
    },
    NavLink {
        id: "nav-dashboard",
        href: "/dashboard",
        label: "Dashboard",
    },
];

/// The demo's stylesheet, served by the gateway from `client/app.css`.
const STYLESHEET: &str = "<link rel=\"stylesheet\" href=\"/assets/app.css\">\n";

/// The demo's layout (`Router::layout`): `cinder::page::document`'s head with the
/// stylesheet, and the header, the container and a footer.
pub fn page(page: &Page<'_>) -> String {
    let nav: String = NAV
        .iter()
        .map(|link| {
            format!(
                r#"<a id="{id}" href="{href}" data-phx-link="redirect" data-phx-link-state="push">{label}</a>"#,
                id = link.id,
                href = escape(link.href),
                label = link.label,
            )
        })
        .collect();
    let body = format!(
        r#"<div id="topbar" aria-hidden="true"></div>
<header class="site-header">
<div class="site-header-inner">
<a class="brand" href="/" data-phx-link="redirect" data-phx-link-state="push"><span class="brand-mark" aria-hidden="true"></span>Cinder</a>
<nav id="nav" aria-label="Demos">{nav}</nav>
<span id="connection" data-state="connecting" role="status" title="Connecting…"><span class="connection-label">Connecting…</span></span>
</div>
</header>
<div id="connection-lost" role="alert">Reconnecting…</div>
<div class="shell">
{container}
</div>
<footer class="site-footer">Cinder: Phoenix LiveView in Rust, driven by the official phoenix_live_view client.</footer>"#,
        container = page.container,
    );
    document(page, STYLESHEET, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render() -> String {
        page(&Page {
            title: Some("Counter <1>"),
            csrf_token: "tok\"en",
            container: r#"<div id="phx-1" data-phx-main>x</div>"#,
        })
    }

    #[test]
    fn keeps_the_default_layouts_head_and_container() {
        let html = render();
        assert!(html.contains(r#"<meta name="csrf-token" content="tok&quot;en">"#));
        assert!(html.contains("<title>Counter &lt;1&gt;</title>"));
        assert!(html.contains(r#"<div id="phx-1" data-phx-main>x</div>"#));
        let scripts: Vec<_> = [
            "/assets/phoenix.min.js",
            "/assets/phoenix_live_view.min.js",
            "/assets/app.js",
        ]
        .iter()
        .map(|src| html.find(&format!(r#"<script defer src="{src}">"#)))
        .collect();
        assert!(
            scripts.windows(2).all(|w| w[0].is_some() && w[0] < w[1]),
            "{scripts:?}"
        );
        assert!(html.contains(r#"<link rel="stylesheet" href="/assets/app.css">"#));
    }

    #[test]
    fn links_every_demo_live() {
        let html = render();
        for link in NAV {
            let anchor = format!(
                r#"<a id="{}" href="{}" data-phx-link="redirect" data-phx-link-state="push">"#,
                link.id,
                escape(link.href)
            );
            assert!(html.contains(&anchor), "{anchor}");
        }
    }
}
