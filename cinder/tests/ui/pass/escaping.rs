//! Escaping by default, `cinder::Raw` to opt out, literal text kept verbatim, and raw-text
//! `<script>`/`<style>` bodies whose braces are not interpolations.

use cinder::{Assigns, Raw, Rendered, Tracked, html};

#[derive(Assigns)]
struct Post {
    title: String,
    body_html: String,
    quote: &'static str,
}

fn view(assigns: &Tracked<Post>) -> Rendered<'_> {
    html!(
        r#"<article title={@title}><h1>{@title}</h1><div>{Raw(@body_html.as_str())}</div><q>{@quote}</q>{Raw("<hr>")}<p>&amp; kept &lt;as written&gt;</p></article><style>p { color: red; } .a{b:c}</style><script>if (a < b) { go({x: 1}); } // </div></script>"#
    )
}

fn main() {
    let post = Tracked::new(Post {
        title: "<script>alert(\"x\")</script>".into(),
        body_html: "<b>bold</b> & <i>it</i>".into(),
        quote: "it's \"fine\" & <ok>",
    });
    assert_eq!(
        view(&post).to_html(),
        concat!(
            r#"<article title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">"#,
            r#"<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</h1>"#,
            r#"<div><b>bold</b> & <i>it</i></div>"#,
            r#"<q>it&#39;s &quot;fine&quot; &amp; &lt;ok&gt;</q><hr>"#,
            r#"<p>&amp; kept &lt;as written&gt;</p></article>"#,
            r#"<style>p { color: red; } .a{b:c}</style>"#,
            r#"<script>if (a < b) { go({x: 1}); } // </div></script>"#,
        )
    );
}
