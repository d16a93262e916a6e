//! Function components: props, an inner block and a named slot with attributes.

use cinder::{Assigns, Rendered, Slot, Tracked, html, render_slot};

#[derive(Assigns, Default)]
struct Card<'a> {
    title: &'a str,
    highlight: bool,
    inner_block: Slot<'a>,
    footer: Vec<Slot<'a>>,
}

fn card<'p>(assigns: &'p Card<'_>) -> Rendered<'p> {
    html!(
        r#"<div class="card" data-highlight={@highlight}><h2>{@title}</h2>{render_slot(&@inner_block)}<footer :for={f in &@footer} class={f.attr("class")}>{render_slot(f)}</footer></div>"#
    )
}

#[derive(Assigns, Default)]
struct Badge {
    label: String,
}

fn badge(assigns: &Badge) -> Rendered<'_> {
    html!("<span class=\"badge\">{@label}</span>")
}

#[derive(Assigns)]
struct Page {
    user: String,
    unread: u32,
}

fn view(assigns: &Tracked<Page>) -> Rendered<'_> {
    html!(
        r#"<main>
  <.card title="Inbox" highlight>
    Hello {@user}, <.badge label={@unread.to_string()} /><:footer class="small">{@unread} unread</:footer><:footer>bye</:footer>
  </.card>
  <.card title="Empty" />
</main>"#
    )
}

fn main() {
    let page = Tracked::new(Page {
        user: "Zoe".into(),
        unread: 3,
    });
    assert_eq!(
        view(&page).to_html(),
        concat!(
            "<main>\n  ",
            r#"<div class="card" data-highlight><h2>Inbox</h2>Hello Zoe, <span class="badge">3</span>"#,
            r#"<footer class="small">3 unread</footer><footer>bye</footer></div>"#,
            "\n  ",
            r#"<div class="card"><h2>Empty</h2></div>"#,
            "\n</main>",
        )
    );
}
