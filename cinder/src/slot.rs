//! Slots: template content a caller hands to a function component.
//!
//! `<.card>inner</.card>` passes `inner` as the `inner_block` field of the component's
//! props; `<:footer label="x">…</:footer>` pushes a [`Slot`] onto its `footer` field.
//! The component renders one with `{render_slot(&@inner_block)}`.

use std::fmt;

use crate::rendered::{Dynamic, Rendered};

type Render<'a> = Box<dyn Fn() -> Rendered<'a> + 'a>;

/// Caller-provided content, with the attributes written on the slot tag.
#[derive(Default)]
pub struct Slot<'a> {
    render: Option<Render<'a>>,
    attrs: Vec<(&'static str, String)>,
}

impl<'a> Slot<'a> {
    /// A slot rendering `render`'s template.
    pub fn new(render: impl Fn() -> Rendered<'a> + 'a) -> Self {
        Slot {
            render: Some(Box::new(render)),
            attrs: Vec::new(),
        }
    }

    /// Adds an attribute written on the slot tag (`<:col label="Name">`).
    #[must_use]
    pub fn with_attr(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.attrs.push((name, value.to_string()));
        self
    }

    /// The value of an attribute written on the slot tag.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the caller gave any content.
    pub fn is_empty(&self) -> bool {
        self.render.is_none()
    }
}

impl fmt::Debug for Slot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("attrs", &self.attrs)
            .finish_non_exhaustive()
    }
}

/// Renders a slot's content (nothing for an empty slot).
///
/// The content is evaluated at once: a component's output lives only as long as its
/// props, and the slot belongs to them.
pub fn render_slot<'b>(slot: &Slot<'_>) -> Dynamic<'b> {
    match &slot.render {
        Some(render) => Dynamic::Rendered(render().into_owned()),
        None => Dynamic::default(),
    }
}
