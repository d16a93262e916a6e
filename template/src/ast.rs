//! The template AST: nodes, elements, components, slots, attributes and directives.

use crate::Pos;

/// One node of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Verbatim static text, including comments, doctype and whitespace.
    Text(String),
    /// A `{...}` interpolation in body text.
    Expr(Expr),
    /// An HTML element such as `<div>`.
    Element(Element),
    /// A function component such as `<.button>`.
    Component(Component),
}

/// A Rust expression written between braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// The code between the braces, verbatim (not trimmed).
    pub code: String,
    /// Position of the first char of `code` (just after the `{`).
    pub pos: Pos,
}

/// An HTML element: `<tag attrs>children</tag>`, `<tag ... />` or a void element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Tag name, case as written.
    pub tag: String,
    /// Attributes in source order, directives excluded.
    pub attrs: Vec<Attr>,
    /// The `:if` / `:for` / `:key` directives on the tag.
    pub directives: Directives,
    /// Child nodes (empty for self-closing and void elements).
    pub children: Vec<Node>,
    /// Written as `<tag ... />`.
    pub self_closing: bool,
    /// An HTML void element (no closing tag), e.g. `<br>`.
    pub void: bool,
    /// Position of the opening `<`.
    pub pos: Pos,
}

/// An attribute on an element, component or slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Attribute name as written, e.g. `phx-click`.
    pub name: String,
    /// The attribute's value.
    pub value: AttrValue,
    /// Position of the first char of the name.
    pub pos: Pos,
}

/// The value of an [`Attr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A bare boolean attribute: `disabled`.
    Bare,
    /// A quoted literal: `name="text"` or `name='text'`.
    Literal {
        /// The raw text between the quotes, as written.
        text: String,
        /// The quote char used: `"` or `'`.
        quote: char,
    },
    /// A dynamic value: `name={expr}`.
    Expr(Expr),
}

/// The directives (`:if`, `:for`, `:key`) carried by a tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directives {
    /// `:if={expr}`: render only when the expression is true.
    pub if_: Option<Expr>,
    /// `:for={pattern in iter}`: render once per item.
    pub for_: Option<For>,
    /// `:key={expr}`: identity of each `:for` item (requires `:for`).
    pub key: Option<Expr>,
}

/// A parsed `:for={pattern in iter}` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct For {
    /// The loop pattern, trimmed, e.g. `(i, row)`.
    pub pattern: String,
    /// The iterator expression, trimmed, e.g. `rows.iter().enumerate()`.
    pub iter: String,
    /// Position of the first char of the directive's code (just after `{`).
    pub pos: Pos,
}

/// A function component: `<.name attrs>inner</.name>` or `<.name attrs />`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Component name without the leading dot, e.g. `button` or `ui::card`.
    pub name: String,
    /// Attributes in source order, directives excluded.
    pub attrs: Vec<Attr>,
    /// The `:if` / `:for` / `:key` directives on the tag.
    pub directives: Directives,
    /// Children that are not named slots (the inner block), in order.
    pub inner: Vec<Node>,
    /// Named slots in source order (a slot name may repeat).
    pub slots: Vec<Slot>,
    /// Written as `<.name ... />`.
    pub self_closing: bool,
    /// Position of the opening `<`.
    pub pos: Pos,
}

/// A named slot: `<:name attrs>children</:name>`, a direct child of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Slot name without the leading colon.
    pub name: String,
    /// Attributes in source order, directives excluded.
    pub attrs: Vec<Attr>,
    /// The `:if` / `:for` / `:key` directives on the tag.
    pub directives: Directives,
    /// Child nodes (empty when self-closing).
    pub children: Vec<Node>,
    /// Position of the opening `<`.
    pub pos: Pos,
}
