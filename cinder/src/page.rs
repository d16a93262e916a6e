//! The HTML page around a dead render: the layout, the container and its tokens.

use crate::html::escape;

/// What a layout receives.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The page title the view set in `mount` (`put_title`), if any.
    pub title: Option<&'a str>,
    /// The CSRF token the socket must present (`<meta name="csrf-token">`).
    pub csrf_token: &'a str,
    /// The live view's container, `<div id=… data-phx-main data-phx-session=…>…</div>`.
    pub container: &'a str,
}

/// Renders a whole page around a live view's container.
pub type Layout = fn(&Page<'_>) -> String;

/// The default layout: the pinned client bundles and the page's `app.js`, served by the
/// gateway under `/assets/`.
pub fn default_layout(page: &Page<'_>) -> String {
    document(page, "", page.container)
}

/// A whole page for a layout to build on: the head every live page needs (charset,
/// viewport, the CSRF meta tag, the title, the pinned client bundles and `app.js`),
/// then `head` (stylesheets…), then `body`, which must hold `page.container`.
pub fn document(page: &Page<'_>, head: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf}">
<title>{title}</title>
{head}<script defer src="/assets/phoenix.min.js"></script>
<script defer src="/assets/phoenix_live_view.min.js"></script>
<script defer src="/assets/app.js"></script>
</head>
<body>
{body}
</body>
</html>
"#,
        csrf = escape(page.csrf_token),
        title = escape(page.title.unwrap_or("Cinder")),
    )
}

/// The root container of a live view (protocol §2.1): the client finds it by
/// `data-phx-session`, joins `lv:<id>`, and never patches its own attributes.
pub fn container(id: &str, session: &str, static_token: &str, inner: &str) -> String {
    format!(
        r#"<div id="{id}" data-phx-main data-phx-session="{session}" data-phx-static="{static_token}">{inner}</div>"#,
        id = escape(id),
        session = escape(session),
        static_token = escape(static_token),
    )
}
