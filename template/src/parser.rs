//! The template parser: builds the node tree from text, expressions, comments and tags.

use crate::cursor::Cursor;
use crate::expr::braced;
use crate::tag::{NO_CURLY, OpenTag, TagKind, close_tag, is_raw_text, is_void, open_tag};
use crate::{Component, Element, Error, Node, Slot};

/// Parses a whole template into its top-level nodes.
pub(crate) fn parse(src: &str) -> Result<Vec<Node>, Error> {
    let mut parser = Parser {
        cur: Cursor::new(src),
    };
    Ok(parser.children(None, false)?.nodes)
}

/// The tag whose children are being parsed.
#[derive(Debug, Clone, Copy)]
struct Parent<'t> {
    kind: TagKind,
    name: &'t str,
    offset: usize,
}

impl<'t> Parent<'t> {
    fn of(tag: &'t OpenTag) -> Self {
        Self {
            kind: tag.kind,
            name: &tag.name,
            offset: tag.offset,
        }
    }
}

/// The children of a tag (or of the template root) as they are collected.
#[derive(Debug, Default)]
struct Children {
    /// Nodes in order (for a component: its inner block).
    nodes: Vec<Node>,
    /// Named slots (only ever filled for a component).
    slots: Vec<Slot>,
    /// Static text not yet pushed as a node.
    text: String,
}

impl Children {
    /// Pushes pending text as a [`Node::Text`].
    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.nodes.push(Node::Text(std::mem::take(&mut self.text)));
        }
    }

    fn push(&mut self, node: Node) {
        self.flush();
        self.nodes.push(node);
    }
}

/// Recursive-descent parser over a [`Cursor`].
#[derive(Debug)]
struct Parser<'a> {
    cur: Cursor<'a>,
}

impl Parser<'_> {
    /// Parses nodes up to and including `parent`'s closing tag (or to the end
    /// of input for the root). With `no_curly`, braces are plain text.
    fn children(&mut self, parent: Option<Parent<'_>>, no_curly: bool) -> Result<Children, Error> {
        let mut out = Children::default();
        loop {
            let at = self.cur.offset();
            match self.cur.peek() {
                None => {
                    let Some(parent) = parent else {
                        out.flush();
                        return Ok(out);
                    };
                    let message =
                        format!("unclosed tag {}", parent.kind.display(parent.name, false));
                    return Err(self.cur.error(message, parent.offset));
                }
                Some('<') if self.cur.starts_with("<!--") => {
                    let end = self
                        .cur
                        .rest()
                        .get(4..)
                        .and_then(|r| r.find("-->"))
                        .ok_or_else(|| self.cur.error("unclosed comment", at))?;
                    self.cur.seek(at + 4 + end + 3);
                    out.text.push_str(self.cur.slice(at, self.cur.offset()));
                }
                Some('<') if self.cur.starts_with("<!") => {
                    let end = self
                        .cur
                        .rest()
                        .find('>')
                        .ok_or_else(|| self.cur.error("unclosed <! declaration", at))?;
                    self.cur.seek(at + end + 1);
                    out.text.push_str(self.cur.slice(at, self.cur.offset()));
                }
                Some('<') if self.cur.starts_with("</") => {
                    self.close(parent)?;
                    out.flush();
                    return Ok(out);
                }
                Some('<')
                    if self
                        .cur
                        .peek_second()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '.' || c == ':') =>
                {
                    self.tag(parent, no_curly, &mut out)?;
                }
                Some('{') if !no_curly => {
                    let expr = braced(&mut self.cur)?;
                    out.push(Node::Expr(expr));
                }
                Some('}') if !no_curly => return Err(self.cur.error("unmatched }", at)),
                Some(c) => {
                    self.cur.bump();
                    let stop = |c| c == '<' || (!no_curly && (c == '{' || c == '}'));
                    self.cur.take_while(|c| !stop(c));
                    out.text.push(c);
                    out.text
                        .push_str(self.cur.slice(at + c.len_utf8(), self.cur.offset()));
                }
            }
        }
    }

    /// Consumes the closing tag at the cursor, which must close `parent`.
    fn close(&mut self, parent: Option<Parent<'_>>) -> Result<(), Error> {
        let tag = close_tag(&mut self.cur)?;
        let written = tag.kind.display(&tag.name, true);
        if tag.kind == TagKind::Element && is_void(&tag.name) {
            let message = format!(
                "void element {} cannot have a closing tag",
                tag.kind.display(&tag.name, false)
            );
            return Err(self.cur.error(message, tag.offset));
        }
        match parent {
            Some(p) if p.kind == tag.kind && p.name == tag.name => Ok(()),
            Some(p) => {
                let expected = p.kind.display(p.name, true);
                let message = format!("unexpected closing tag {written}, expected {expected}");
                Err(self.cur.error(message, tag.offset))
            }
            None => {
                let message = format!("unexpected closing tag {written}");
                Err(self.cur.error(message, tag.offset))
            }
        }
    }

    /// Parses the tag at the cursor (with its children) into `out`.
    fn tag(
        &mut self,
        parent: Option<Parent<'_>>,
        no_curly: bool,
        out: &mut Children,
    ) -> Result<(), Error> {
        let tag = open_tag(&mut self.cur)?;
        let pos = self.cur.pos(tag.offset);
        match tag.kind {
            TagKind::Element => {
                let void = is_void(&tag.name);
                let children = if tag.self_closing || void {
                    Vec::new()
                } else if is_raw_text(&tag.name) {
                    self.raw_text(&tag)?
                } else {
                    let no_curly = no_curly || tag.has_attr(NO_CURLY);
                    self.children(Some(Parent::of(&tag)), no_curly)?.nodes
                };
                out.push(Node::Element(Element {
                    tag: tag.name,
                    attrs: tag.attrs,
                    directives: tag.directives,
                    children,
                    self_closing: tag.self_closing,
                    void,
                    pos,
                }));
            }
            TagKind::Component => {
                let children = if tag.self_closing {
                    Children::default()
                } else {
                    self.children(Some(Parent::of(&tag)), no_curly)?
                };
                out.push(Node::Component(Component {
                    name: tag.name,
                    attrs: tag.attrs,
                    directives: tag.directives,
                    inner: children.nodes,
                    slots: children.slots,
                    self_closing: tag.self_closing,
                    pos,
                }));
            }
            TagKind::Slot => {
                if parent.is_none_or(|p| p.kind != TagKind::Component) {
                    let message = format!(
                        "slot {} must be a direct child of a component",
                        tag.kind.display(&tag.name, false)
                    );
                    return Err(self.cur.error(message, tag.offset));
                }
                let children = if tag.self_closing {
                    Vec::new()
                } else {
                    self.children(Some(Parent::of(&tag)), no_curly)?.nodes
                };
                out.flush();
                out.slots.push(Slot {
                    name: tag.name,
                    attrs: tag.attrs,
                    directives: tag.directives,
                    children,
                    pos,
                });
            }
        }
        Ok(())
    }

    /// Reads the raw text content of `tag` (`<script>`, `<style>`) up to and
    /// including its closing tag.
    fn raw_text(&mut self, tag: &OpenTag) -> Result<Vec<Node>, Error> {
        let start = self.cur.offset();
        let rest = self.cur.rest();
        let closing = rest.match_indices("</").find_map(|(i, _)| {
            let after = rest.get(i + 2..)?;
            let name = after.get(..tag.name.len())?;
            let tail = after.get(tag.name.len()..)?;
            let gap = tail.len() - tail.trim_start().len();
            (name.eq_ignore_ascii_case(&tag.name) && tail.trim_start().starts_with('>'))
                .then_some((i, i + 2 + tag.name.len() + gap + 1))
        });
        let Some((text_end, tag_end)) = closing else {
            let message = format!("unclosed tag {}", tag.kind.display(&tag.name, false));
            return Err(self.cur.error(message, tag.offset));
        };
        let text = self.cur.slice(start, start + text_end);
        self.cur.seek(start + tag_end);
        Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![Node::Text(text.to_owned())]
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Attr, AttrValue, Component, Element, Expr, Node, Pos, parse};

    fn text(s: &str) -> Node {
        Node::Text(s.to_owned())
    }

    fn element(node: &Node) -> &Element {
        match node {
            Node::Element(e) => e,
            other => panic!("expected an element, got {other:?}"),
        }
    }

    fn component(node: &Node) -> &Component {
        match node {
            Node::Component(c) => c,
            other => panic!("expected a component, got {other:?}"),
        }
    }

    fn expr(node: &Node) -> &Expr {
        match node {
            Node::Expr(e) => e,
            other => panic!("expected an expression, got {other:?}"),
        }
    }

    fn only(src: &str) -> Node {
        let mut nodes = parse(src).unwrap();
        assert_eq!(nodes.len(), 1, "{nodes:?}");
        nodes.remove(0)
    }

    fn attr<'e>(attrs: &'e [Attr], name: &str) -> &'e AttrValue {
        &attrs.iter().find(|a| a.name == name).unwrap().value
    }

    fn literal(text: &str, quote: char) -> AttrValue {
        AttrValue::Literal {
            text: text.to_owned(),
            quote,
        }
    }

    #[test]
    fn empty_template() {
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn text_is_verbatim() {
        let src = "  Hello,\n\tworld! &amp; a < b > c\r\n  \n";
        assert_eq!(parse(src).unwrap(), vec![text(src)]);
    }

    #[test]
    fn whitespace_around_and_inside_elements_is_kept() {
        let src = "\n<ul>\n  <li>One</li>\n  <li> Two </li>\n</ul>\n";
        let nodes = parse(src).unwrap();
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0], text("\n"));
        assert_eq!(nodes[2], text("\n"));
        let ul = element(&nodes[1]);
        assert_eq!(ul.children.len(), 5);
        assert_eq!(ul.children[0], text("\n  "));
        assert_eq!(element(&ul.children[1]).children, vec![text("One")]);
        assert_eq!(ul.children[2], text("\n  "));
        assert_eq!(element(&ul.children[3]).children, vec![text(" Two ")]);
        assert_eq!(ul.children[4], text("\n"));
    }

    #[test]
    fn comments_and_doctype_are_text() {
        let src = "<!DOCTYPE html>\n<!-- a <b>{not}</b> } -->x";
        assert_eq!(parse(src).unwrap(), vec![text(src)]);
    }

    #[test]
    fn lone_angle_bracket_is_text() {
        assert_eq!(parse("1 < 2 <= 3 <").unwrap(), vec![text("1 < 2 <= 3 <")]);
    }

    #[test]
    fn interpolation_keeps_code_and_position() {
        let nodes = parse("Hi\n  {@name }!").unwrap();
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0], text("Hi\n  "));
        assert_eq!(
            expr(&nodes[1]),
            &Expr {
                code: "@name ".to_owned(),
                pos: Pos {
                    line: 2,
                    column: 4,
                    offset: 6
                }
            }
        );
        assert_eq!(nodes[2], text("!"));
    }

    #[test]
    fn interpolation_with_nested_braces_strings_and_comments() {
        let code = r##" if x { "}" } else { r#"{"# } /* } */ // }
        "##;
        let src = format!("<p>{{{code}}}</p>");
        let p = element(&only(&src)).clone();
        assert_eq!(expr(&p.children[0]).code, code);
    }

    #[test]
    fn interpolation_with_chars_and_lifetimes() {
        let code = " f::<'a>(if c == '}' { '{' } else { '\\'' }) ";
        let src = format!("{{{code}}}");
        assert_eq!(expr(&only(&src)).code, code);
    }

    #[test]
    fn attributes_of_all_kinds() {
        let src = "<input disabled type=\"text\" value='it\"s' phx-click={on_click(1)} xml:lang=\"en\" @click.x=\"a\" data_1 = \"b\">";
        let input = element(&only(src)).clone();
        let names: Vec<_> = input.attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "disabled",
                "type",
                "value",
                "phx-click",
                "xml:lang",
                "@click.x",
                "data_1"
            ]
        );
        assert_eq!(attr(&input.attrs, "disabled"), &AttrValue::Bare);
        assert_eq!(attr(&input.attrs, "type"), &literal("text", '"'));
        assert_eq!(attr(&input.attrs, "value"), &literal("it\"s", '\''));
        assert_eq!(attr(&input.attrs, "data_1"), &literal("b", '"'));
        let AttrValue::Expr(e) = attr(&input.attrs, "phx-click") else {
            panic!("expected an expression");
        };
        assert_eq!(e.code, "on_click(1)");
        assert_eq!(e.pos.column, src.find("on_click").unwrap() + 1);
        assert_eq!(
            input.attrs[1].pos,
            Pos {
                line: 1,
                column: 17,
                offset: 16
            }
        );
    }

    #[test]
    fn literal_attribute_is_raw() {
        let input = element(&only("<a title=\"{x} &amp;\n }\">x</a>")).clone();
        assert_eq!(attr(&input.attrs, "title"), &literal("{x} &amp;\n }", '"'));
    }

    #[test]
    fn attribute_expression_with_braces() {
        let div = element(&only("<div class={if a { \"}\" } else { \"b\" }}></div>")).clone();
        let AttrValue::Expr(e) = attr(&div.attrs, "class") else {
            panic!("expected an expression");
        };
        assert_eq!(e.code, "if a { \"}\" } else { \"b\" }");
    }

    #[test]
    fn void_and_self_closing_elements() {
        let nodes = parse("<br><img src=\"a\"/><hr /><div/><span class=\"x\" />").unwrap();
        let flags: Vec<_> = nodes
            .iter()
            .map(|n| {
                let e = element(n);
                (e.tag.as_str(), e.void, e.self_closing, e.children.len())
            })
            .collect();
        assert_eq!(
            flags,
            [
                ("br", true, false, 0),
                ("img", true, true, 0),
                ("hr", true, true, 0),
                ("div", false, true, 0),
                ("span", false, true, 0),
            ]
        );
    }

    #[test]
    fn void_element_followed_by_siblings() {
        let p = element(&only("<p>a<br>b<input name=\"x\">c</p>")).clone();
        assert_eq!(p.children.len(), 5);
        assert_eq!(p.children[2], text("b"));
        assert_eq!(p.children[4], text("c"));
    }

    #[test]
    fn tag_names_are_case_sensitive() {
        let svg = element(&only("<svg><foreignObject></foreignObject></svg>")).clone();
        assert_eq!(element(&svg.children[0]).tag, "foreignObject");
        assert!(parse("<Div></div>").is_err());
    }

    #[test]
    fn nested_elements_and_positions() {
        let src = "<div>\n  <p>\n    <b>x</b>\n  </p>\n</div>";
        let div = element(&only(src)).clone();
        let p = element(&div.children[1]).clone();
        assert_eq!(
            p.pos,
            Pos {
                line: 2,
                column: 3,
                offset: 8
            }
        );
        let b = element(&p.children[1]);
        assert_eq!((b.pos.line, b.pos.column), (3, 5));
    }

    #[test]
    fn script_and_style_are_raw_text() {
        let js = "\n  if (a < b) { x = {y: 1}; } // </div>\n";
        let src = format!("<script type=\"module\">{js}</script >");
        let script = element(&only(&src)).clone();
        assert_eq!(script.children, vec![text(js)]);
        let css = "p { color: red } }";
        let style = element(&only(&format!("<style>{css}</style>"))).clone();
        assert_eq!(style.children, vec![text(css)]);
        assert_eq!(element(&only("<script></script>")).children, vec![]);
    }

    #[test]
    fn no_curly_interpolation_attribute() {
        let src = "<div phx-no-curly-interpolation class={c}>{a} <b>{b}}</b> }</div>{d}";
        let nodes = parse(src).unwrap();
        assert_eq!(nodes.len(), 2);
        let div = element(&nodes[0]);
        assert!(matches!(attr(&div.attrs, "class"), AttrValue::Expr(_)));
        assert_eq!(div.children[0], text("{a} "));
        assert_eq!(element(&div.children[1]).children, vec![text("{b}}")]);
        assert_eq!(div.children[2], text(" }"));
        assert_eq!(expr(&nodes[1]).code, "d");
    }

    #[test]
    fn if_directive() {
        let div = element(&only("<div :if={@show} id=\"a\"></div>")).clone();
        assert_eq!(div.directives.if_.as_ref().unwrap().code, "@show");
        assert_eq!(div.directives.if_.as_ref().unwrap().pos.column, 11);
        assert_eq!(div.attrs.len(), 1, "directives are not attributes");
        assert!(div.directives.for_.is_none() && div.directives.key.is_none());
    }

    #[test]
    fn for_and_key_directives() {
        let src =
            "<tr :for={ (i, row) in @rows.iter().enumerate() } :key={row.id}><td>{i}</td></tr>";
        let tr = element(&only(src)).clone();
        let f = tr.directives.for_.unwrap();
        assert_eq!(f.pattern, "(i, row)");
        assert_eq!(f.iter, "@rows.iter().enumerate()");
        assert_eq!(f.pos.offset, src.find(" (i,").unwrap());
        assert_eq!(tr.directives.key.unwrap().code, "row.id");
        assert!(tr.attrs.is_empty());
    }

    #[test]
    fn key_may_come_before_for() {
        let li = element(&only("<li :key={x} :for={x in xs} />")).clone();
        assert_eq!(li.directives.for_.unwrap().pattern, "x");
    }

    #[test]
    fn component_with_inner_block() {
        let src = "<.button class=\"x\" phx-click={go}>Go <b>now</b></.button>";
        let c = component(&only(src)).clone();
        assert_eq!(c.name, "button");
        assert!(!c.self_closing);
        assert_eq!(c.attrs.len(), 2);
        assert_eq!(c.inner.len(), 2);
        assert_eq!(c.inner[0], text("Go "));
        assert!(c.slots.is_empty());
    }

    #[test]
    fn self_closing_component_with_path_and_directives() {
        let c = component(&only("<.ui::icon name=\"x\" :if={on} />")).clone();
        assert_eq!(c.name, "ui::icon");
        assert!(c.self_closing);
        assert!(c.inner.is_empty());
        assert_eq!(c.directives.if_.unwrap().code, "on");
    }

    #[test]
    fn component_with_named_slots() {
        let src = "<.card>\n  <:header class=\"h\">Title</:header>\n  Body {x}\n  <:footer />\n  <:header>Again</:header>\n</.card>";
        let c = component(&only(src)).clone();
        let names: Vec<_> = c.slots.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["header", "footer", "header"]);
        assert_eq!(c.slots[0].children, vec![text("Title")]);
        assert_eq!(attr(&c.slots[0].attrs, "class"), &literal("h", '"'));
        assert_eq!((c.slots[0].pos.line, c.slots[0].pos.column), (2, 3));
        assert!(c.slots[1].children.is_empty());
        assert_eq!(
            c.inner,
            vec![
                text("\n  "),
                text("\n  Body "),
                Node::Expr(expr(&c.inner[2]).clone()),
                text("\n  "),
                text("\n  "),
                text("\n"),
            ]
        );
        assert_eq!(expr(&c.inner[2]).code, "x");
    }

    #[test]
    fn slot_with_for_and_nested_component() {
        let src = "<.table rows={@rows}><:col :for={c in cols} label={c.label}><.cell><:x/></.cell></:col></.table>";
        let table = component(&only(src)).clone();
        let col = &table.slots[0];
        assert_eq!(col.directives.for_.as_ref().unwrap().iter, "cols");
        assert_eq!(col.attrs[0].name, "label");
        let cell = component(&col.children[0]);
        assert_eq!(cell.slots[0].name, "x");
    }

    #[test]
    fn unicode_text_and_columns() {
        let nodes = parse("héllo {wörld}").unwrap();
        assert_eq!(nodes[0], text("héllo "));
        assert_eq!(
            expr(&nodes[1]).pos,
            Pos {
                line: 1,
                column: 8,
                offset: 8
            }
        );
    }
}
