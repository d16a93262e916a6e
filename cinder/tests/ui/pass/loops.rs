//! `:for` with and without `:key`, with a pattern, with `:if` alongside.

use cinder::{Assigns, Rendered, Tracked, html};

struct Item {
    id: u32,
    label: String,
    done: bool,
}

#[derive(Assigns)]
struct List {
    title: &'static str,
    items: Vec<Item>,
    tags: Vec<&'static str>,
}

fn view(assigns: &Tracked<List>) -> Rendered<'_> {
    html!(
        r#"<section>
  <h2>{@title}</h2>
  <ul><li :for={item in &@items} :key={item.id} id={format!("item-{}", item.id)}>{item.label.as_str()}</li></ul>
  <ol><li :for={(i, tag) in @tags.iter().enumerate()}>{i}: {*tag}</li></ol>
  <p :for={item in &@items} :if={item.done}>done: {item.label.as_str()}</p>
</section>"#
    )
}

fn main() {
    let list = Tracked::new(List {
        title: "Todo",
        items: vec![
            Item { id: 7, label: "write".into(), done: true },
            Item { id: 9, label: "<test>".into(), done: false },
        ],
        tags: vec!["a", "b"],
    });
    assert_eq!(
        view(&list).to_html(),
        concat!(
            "<section>\n",
            "  <h2>Todo</h2>\n",
            r#"  <ul><li id="item-7">write</li><li id="item-9">&lt;test&gt;</li></ul>"#,
            "\n",
            "  <ol><li>0: a</li><li>1: b</li></ol>\n",
            "  <p>done: write</p>\n",
            "</section>",
        )
    );

    let empty = Tracked::new(List {
        title: "Empty",
        items: vec![],
        tags: vec![],
    });
    assert_eq!(
        view(&empty).to_html(),
        "<section>\n  <h2>Empty</h2>\n  <ul></ul>\n  <ol></ol>\n  \n</section>"
    );
}
