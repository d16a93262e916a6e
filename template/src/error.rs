//! The parse error type: a message plus the position it points at.

use std::fmt;

use crate::Pos;

/// A template parse error: what went wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Human-readable description, e.g. `unclosed tag <div>`.
    pub message: String,
    /// Position of the offending spot in the template source.
    pub pos: Pos,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.pos.line, self.pos.column
        )
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use crate::parse;

    /// Parses `src`, expecting an error; returns (message, line, column).
    fn err(src: &str) -> (String, usize, usize) {
        let e = parse(src).unwrap_err();
        (e.message, e.pos.line, e.pos.column)
    }

    fn check(src: &str, message: &str, line: usize, column: usize) {
        assert_eq!(
            err(src),
            (message.to_owned(), line, column),
            "source: {src:?}"
        );
    }

    #[test]
    fn display_includes_line_and_column() {
        let e = parse("<p>\n  }</p>").unwrap_err();
        assert_eq!(e.to_string(), "unmatched } (line 2, column 3)");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().starts_with("unmatched }"));
    }

    #[test]
    fn unclosed_tags() {
        check("<div>\n  <p>x</p>\n", "unclosed tag <div>", 1, 1);
        check("<a>\n <div class=\"x\"\n", "unclosed tag <div>", 2, 2);
        check("x\n<.card>\n <:a>", "unclosed tag <:a>", 3, 2);
        check("<.card>\n", "unclosed tag <.card>", 1, 1);
        check(
            "\n  <script>let a = 1;</scrip>",
            "unclosed tag <script>",
            2,
            3,
        );
        check("<div>\n</div", "unclosed tag </div>", 2, 1);
    }

    #[test]
    fn mismatched_closing_tags() {
        check(
            "<div>\n  <b>x</b></span>\n</div>",
            "unexpected closing tag </span>, expected </div>",
            2,
            11,
        );
        check("text\n  </p>", "unexpected closing tag </p>", 2, 3);
        check(
            "<.card>\n</.modal>",
            "unexpected closing tag </.modal>, expected </.card>",
            2,
            1,
        );
        check(
            "<.card><:a>\n</:b></.card>",
            "unexpected closing tag </:b>, expected </:a>",
            2,
            1,
        );
    }

    #[test]
    fn void_element_closing_tag() {
        check(
            "<p>\n  <br></br>\n</p>",
            "void element <br> cannot have a closing tag",
            2,
            7,
        );
    }

    #[test]
    fn expression_errors() {
        check(
            "<p>\n  {foo(\"}\"</p>",
            "unclosed expression, missing }",
            2,
            3,
        );
        check("a\n b {}", "empty expression {}", 2, 4);
        check("a\n{ \n\t }", "empty expression {}", 2, 1);
        check("<p class={}>", "empty expression {}", 1, 10);
        check("<p class={x", "unclosed expression, missing }", 1, 10);
        check("a\n  b } c", "unmatched }", 2, 5);
    }

    #[test]
    fn directive_errors() {
        check("<div\n  :foo={x}>", "unknown directive :foo", 2, 3);
        check("<li :key={x.id}></li>", ":key requires :for", 1, 5);
        check(
            "<li\n :for={ items }></li>",
            ":for expects {pattern in iterator}",
            2,
            8,
        );
        check(
            "<li :if=\"yes\"></li>",
            "directive :if needs a {expression} value",
            1,
            5,
        );
        check(
            "<li :for></li>",
            "directive :for needs a {expression} value",
            1,
            5,
        );
        check(
            "<li :if={a} :if={b}></li>",
            "duplicate attribute :if",
            1,
            13,
        );
    }

    #[test]
    fn attribute_errors() {
        check(
            "<div class=\"a\"\n     class={b}></div>",
            "duplicate attribute class",
            2,
            6,
        );
        check(
            "<div\n  title=\"abc>\n</div>",
            "unclosed attribute value",
            2,
            9,
        );
        check(
            "<div title=x></div>",
            "invalid value for attribute title, expected \"text\", 'text' or {expression}",
            1,
            12,
        );
        check(
            "<div \"x\"></div>",
            "unexpected `\"` in tag <div>, expected an attribute name, > or />",
            1,
            6,
        );
    }

    #[test]
    fn slot_outside_component() {
        check(
            "<div>\n  <:footer>x</:footer>\n</div>",
            "slot <:footer> must be a direct child of a component",
            2,
            3,
        );
        check(
            "<:footer />",
            "slot <:footer> must be a direct child of a component",
            1,
            1,
        );
        check(
            "<.card><:a>\n <:b /></:a></.card>",
            "slot <:b> must be a direct child of a component",
            2,
            2,
        );
        check(
            "<.card><p><:a /></p></.card>",
            "slot <:a> must be a direct child of a component",
            1,
            11,
        );
    }

    #[test]
    fn invalid_tag_names() {
        check("<p>\n  <.1x></.1x>", "invalid tag name", 2, 5);
        check("<div%>", "invalid tag name", 1, 2);
        check("<.ui::>", "invalid tag name", 1, 3);
        check("<:>", "invalid tag name", 1, 3);
        check("</ div>", "invalid tag name", 1, 3);
    }

    #[test]
    fn unclosed_comment() {
        check("<p>\n  <!-- never ends </p>", "unclosed comment", 2, 3);
        check("<!DOCTYPE html", "unclosed <! declaration", 1, 1);
    }
}
