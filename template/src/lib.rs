//! Crate root of `cinder-template`: parses HEEx-like templates with Rust expressions into an AST.
//!
//! The entry point is [`parse`], which turns template source into a list of
//! [`Node`]s. Static text is kept byte-for-byte so that a code generator can
//! reproduce it exactly; expressions are kept as verbatim Rust source text.
//!
//! ```
//! use cinder_template::{parse, Node};
//!
//! let nodes = parse("<p class=\"x\">Hello {name}!</p>")?;
//! let Node::Element(p) = &nodes[0] else { unreachable!() };
//! assert_eq!(p.tag, "p");
//! assert_eq!(p.children.len(), 3);
//! # Ok::<(), cinder_template::Error>(())
//! ```

mod ast;
mod cursor;
mod error;
mod expr;
mod parser;
mod pos;
mod tag;

pub use ast::{Attr, AttrValue, Component, Directives, Element, Expr, For, Node, Slot};
pub use error::Error;
pub use pos::Pos;

/// Parses template source into its top-level nodes.
///
/// # Errors
///
/// Returns an [`Error`] carrying a message and the [`Pos`] of the offending
/// spot when the template is malformed (unclosed or mismatched tags, bad
/// expressions, unknown directives, duplicate attributes, ...).
pub fn parse(src: &str) -> Result<Vec<Node>, Error> {
    parser::parse(src)
}
