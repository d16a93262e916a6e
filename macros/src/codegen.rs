//! Template AST → Rust code: statics, dynamics and their change masks.
//!
//! A template becomes one `static` [`Template`](../cinder/rendered/struct.Template.html)
//! and a closure building its dynamics. Plain elements and text become statics;
//! `{expr}`, dynamic attributes, `:if` blocks, `:for` comprehensions and function
//! components become dynamics. In a tracked context (the body of `render`) each dynamic
//! is guarded by the bits of the assigns it reads; inside a `:for` body everything is
//! evaluated eagerly and the diff engine compares entries instead.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use cinder_template::{Attr, AttrValue, Component, Directives, Element, Node, Pos};

use crate::expr::{self, Reads};

/// A template error with its position in the template source.
#[derive(Debug)]
pub(crate) struct Error {
    pub(crate) message: String,
    pub(crate) pos: Pos,
}

type Result<T> = std::result::Result<T, Error>;

/// How dynamics are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Lazily, skipping dynamics whose assigns did not change.
    Tracked,
    /// At once, all of them (comprehension bodies).
    Eager,
}

struct Dynamic {
    /// An expression of type `cinder::Dynamic`.
    tokens: TokenStream,
    reads: Reads,
}

/// Compiles template nodes into an expression of type `cinder::Rendered`.
pub(crate) fn template(nodes: &[Node], mode: Mode) -> Result<(TokenStream, Reads)> {
    let mut builder = Builder {
        in_stream: false,
        mode,
        statics: Vec::new(),
        current: String::new(),
        dynamics: Vec::new(),
    };
    builder.nodes(nodes)?;
    let root = is_root(nodes);
    Ok(builder.finish(root))
}

/// Trims the whole template's leading and trailing whitespace, as HEEx does.
pub(crate) fn trim(nodes: Vec<Node>) -> Vec<Node> {
    // Text split around slots or comments arrives as neighbouring nodes: join them first.
    let mut nodes = nodes
        .into_iter()
        .fold(Vec::new(), |mut merged: Vec<Node>, node| {
            match (merged.last_mut(), node) {
                (Some(Node::Text(last)), Node::Text(text)) => last.push_str(&text),
                (_, node) => merged.push(node),
            }
            merged
        });
    if let Some(Node::Text(text)) = nodes.first_mut() {
        *text = text.trim_start().to_owned();
    }
    if let Some(Node::Text(text)) = nodes.last_mut() {
        *text = text.trim_end().to_owned();
    }
    nodes.retain(|n| !matches!(n, Node::Text(t) if t.is_empty()));
    nodes
}

/// One root tag and nothing else but whitespace: the client may tag it (`"r":1`).
fn is_root(nodes: &[Node]) -> bool {
    let mut tags = 0;
    for node in nodes {
        match node {
            Node::Text(text) if text.trim().is_empty() => {}
            Node::Element(e) if e.directives.if_.is_none() && e.directives.for_.is_none() => {
                tags += 1;
            }
            _ => return false,
        }
    }
    tags == 1
}

/// Records everything a template reads, for a dynamic that embeds it.
pub(crate) fn collect_reads(nodes: &[Node], reads: &mut Reads) {
    if let Ok((_, found)) = template(nodes, Mode::Eager) {
        reads.merge(&found);
    } else {
        reads.anything();
    }
}

struct Builder {
    mode: Mode,
    statics: Vec<String>,
    current: String,
    dynamics: Vec<Dynamic>,
    /// The children being compiled sit in a `phx-update="stream"` container: their
    /// `:for` iterates a `cinder::Stream`.
    in_stream: bool,
}

impl Builder {
    fn push_dynamic(&mut self, dynamic: Dynamic) {
        self.statics.push(std::mem::take(&mut self.current));
        self.dynamics.push(dynamic);
    }

    fn nodes(&mut self, nodes: &[Node]) -> Result<()> {
        for node in nodes {
            match node {
                Node::Text(text) => self.current.push_str(text),
                Node::Expr(e) => {
                    let (tokens, reads) = rust_expr(&e.code, e.pos)?;
                    let value = if is_place(&tokens) {
                        quote!(&(#tokens))
                    } else {
                        tokens
                    };
                    self.push_dynamic(Dynamic {
                        tokens: quote!(::cinder::__private::dynamic(#value)),
                        reads,
                    });
                }
                Node::Element(e) => self.element(e)?,
                Node::Component(c) => self.component(c)?,
            }
        }
        Ok(())
    }

    fn element(&mut self, element: &Element) -> Result<()> {
        if element.directives.for_.is_some() || element.directives.if_.is_some() {
            let plain = Element {
                directives: Directives::default(),
                ..element.clone()
            };
            let dynamic = directed(
                &element.directives,
                &[Node::Element(plain)],
                self.mode,
                self.in_stream,
            )?;
            self.push_dynamic(dynamic);
            return Ok(());
        }
        self.current.push('<');
        self.current.push_str(&element.tag);
        for attr in &element.attrs {
            self.attr(attr)?;
        }
        self.current.push('>');
        if element.void {
            return Ok(());
        }
        let stream = element.attrs.iter().any(|a| {
            a.name == "phx-update"
                && matches!(&a.value, AttrValue::Literal { text, .. } if text == "stream")
        });
        let outer = std::mem::replace(&mut self.in_stream, stream);
        self.nodes(&element.children)?;
        self.in_stream = outer;
        self.current.push_str("</");
        self.current.push_str(&element.tag);
        self.current.push('>');
        Ok(())
    }

    fn attr(&mut self, attr: &Attr) -> Result<()> {
        match &attr.value {
            AttrValue::Bare => {
                self.current.push(' ');
                self.current.push_str(&attr.name);
            }
            AttrValue::Literal { text, quote } => {
                self.current.push(' ');
                self.current.push_str(&attr.name);
                self.current.push('=');
                self.current.push(*quote);
                self.current.push_str(text);
                self.current.push(*quote);
            }
            AttrValue::Expr(e) => {
                let (tokens, reads) = rust_expr(&e.code, e.pos)?;
                let name = &attr.name;
                let tokens =
                    quote!(::cinder::Dynamic::Text(::cinder::__private::attr(#name, &(#tokens))));
                self.push_dynamic(Dynamic { tokens, reads });
            }
        }
        Ok(())
    }

    fn component(&mut self, component: &Component) -> Result<()> {
        if component.directives.for_.is_some() || component.directives.if_.is_some() {
            let plain = Component {
                directives: Directives::default(),
                ..component.clone()
            };
            let dynamic = directed(
                &component.directives,
                &[Node::Component(plain)],
                self.mode,
                self.in_stream,
            )?;
            self.push_dynamic(dynamic);
            return Ok(());
        }
        let dynamic = call(component, self.mode)?;
        self.push_dynamic(dynamic);
        Ok(())
    }

    fn finish(mut self, root: bool) -> (TokenStream, Reads) {
        self.statics.push(std::mem::take(&mut self.current));
        let mut reads = Reads::default();
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for s in &self.statics {
            hasher.update(s.as_bytes());
            hasher.update(&[0xff]);
        }
        for d in &self.dynamics {
            reads.merge(&d.reads);
            hasher.update(d.tokens.to_string().as_bytes());
            hasher.update(&[0xfe]);
        }
        let fingerprint = hasher.digest();
        let statics = &self.statics;
        let template = quote! {
            static __CINDER_TEMPLATE: ::cinder::Template = ::cinder::Template {
                statics: &[#(#statics),*],
                fingerprint: #fingerprint,
                root: #root,
            };
        };
        let tokens = match self.mode {
            Mode::Eager => {
                let dynamics = self.dynamics.iter().map(|d| &d.tokens);
                quote! {{
                    #template
                    ::cinder::Rendered::eager(&__CINDER_TEMPLATE, ::std::vec![#(#dynamics),*])
                }}
            }
            Mode::Tracked => {
                let tracked = self
                    .dynamics
                    .iter()
                    .any(|d| !d.reads.has_locals() && !d.reads.assigns.is_empty());
                let changed = if tracked {
                    quote!(let __cinder_changed: u64 = assigns.__cinder_changed(__cinder_track);)
                } else {
                    quote!()
                };
                let dynamics = self.dynamics.iter().map(guarded);
                quote! {{
                    #template
                    ::cinder::Rendered::new(&__CINDER_TEMPLATE, move |__cinder_track: bool| {
                        let _ = __cinder_track;
                        #changed
                        ::std::vec![#(#dynamics),*]
                    })
                }}
            }
        };
        (tokens, reads)
    }
}

/// A dynamic evaluated only when untracked or when an assign it reads changed (never
/// again, for one that reads no assign and no local).
fn guarded(dynamic: &Dynamic) -> TokenStream {
    let tokens = &dynamic.tokens;
    if dynamic.reads.has_locals() {
        return quote!(::core::option::Option::Some(#tokens));
    }
    // Reads nothing that can change: evaluated for a full render only.
    if dynamic.reads.assigns.is_empty() {
        return quote! {
            if !__cinder_track {
                ::core::option::Option::Some(#tokens)
            } else {
                ::core::option::Option::None
            }
        };
    }
    let bits = dynamic.reads.assigns.iter().map(|name| {
        let method = format_ident!("__cinder_bit_{}", name);
        quote!(assigns.#method())
    });
    quote! {
        if !__cinder_track || __cinder_changed & (0u64 #(| #bits)*) != 0 {
            ::core::option::Option::Some(#tokens)
        } else {
            ::core::option::Option::None
        }
    }
}

/// `:for` and/or `:if` around `body` (one element or component without directives).
fn directed(directives: &Directives, body: &[Node], mode: Mode, stream: bool) -> Result<Dynamic> {
    let mut reads = Reads::default();
    let (condition, mut condition_reads) = match &directives.if_ {
        Some(e) => {
            let (tokens, r) = rust_expr(&e.code, e.pos)?;
            (Some(tokens), r)
        }
        None => (None, Reads::default()),
    };
    let Some(each) = &directives.for_ else {
        // A lone `:if`: a nested template or nothing.
        let (rendered, r) = template(body, mode)?;
        reads.merge(&r);
        reads.merge(&condition_reads);
        let condition = condition.unwrap_or_else(|| quote!(true));
        let tokens = quote! {
            if #condition { ::cinder::Dynamic::Rendered(#rendered) } else { ::cinder::Dynamic::default() }
        };
        return Ok(Dynamic { tokens, reads });
    };
    let pattern: TokenStream = parse_tokens(&each.pattern, each.pos, "a :for pattern")?;
    let (iter, r) = rust_expr(&each.iter, each.pos)?;
    reads.merge(&r);
    let mut body_builder = Builder {
        in_stream: false,
        mode: Mode::Eager,
        statics: Vec::new(),
        current: String::new(),
        dynamics: Vec::new(),
    };
    body_builder.nodes(body)?;
    let mut body_reads = Reads::default();
    for d in &body_builder.dynamics {
        body_reads.merge(&d.reads);
    }
    let key = match &directives.key {
        Some(e) => {
            let (tokens, r) = rust_expr(&e.code, e.pos)?;
            body_reads.merge(&r);
            Some(tokens)
        }
        None => None,
    };
    // Names the pattern binds are the entry's own, not locals of the enclosing render.
    let bound = expr::bindings(&each.pattern);
    body_reads.locals.retain(|name| !bound.contains(name));
    condition_reads.locals.retain(|name| !bound.contains(name));
    reads.merge(&condition_reads);
    reads.merge(&body_reads);
    body_builder
        .statics
        .push(std::mem::take(&mut body_builder.current));
    let statics = &body_builder.statics;
    let root = is_root(body);
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(b"for");
    for s in statics {
        hasher.update(s.as_bytes());
        hasher.update(&[0xff]);
    }
    for d in &body_builder.dynamics {
        hasher.update(d.tokens.to_string().as_bytes());
    }
    let fingerprint = hasher.digest();
    let dynamics = body_builder.dynamics.iter().map(|d| &d.tokens);
    let push = match key {
        Some(key) => quote!(__cinder_list.push_keyed(&(#key), ::std::vec![#(#dynamics),*]);),
        None => quote!(__cinder_list.push(::std::vec![#(#dynamics),*]);),
    };
    let push = match condition {
        Some(condition) => quote!(if #condition { #push }),
        None => push,
    };
    let (start, items) = if stream {
        (
            quote! {
                let (__cinder_ops, __cinder_items) = (#iter).__cinder_take();
                let mut __cinder_list = ::cinder::Comprehension::stream(&__CINDER_TEMPLATE, __cinder_ops);
            },
            quote!(__cinder_items),
        )
    } else {
        (
            quote!(let mut __cinder_list = ::cinder::Comprehension::new(&__CINDER_TEMPLATE);),
            iter,
        )
    };
    let tokens = quote! {{
        static __CINDER_TEMPLATE: ::cinder::Template = ::cinder::Template {
            statics: &[#(#statics),*],
            fingerprint: #fingerprint,
            root: #root,
        };
        #start
        #[allow(for_loops_over_fallibles)]
        for #pattern in #items { #push }
        ::cinder::Dynamic::Comprehension(__cinder_list)
    }};
    Ok(Dynamic { tokens, reads })
}

/// A function component call: `<.card a={x}>inner<:footer>…</:footer></.card>` becomes
/// `card(&Card { a: x, inner_block: Slot, footer: vec![Slot], ..Default::default() })`.
fn call(component: &Component, mode: Mode) -> Result<Dynamic> {
    let mut reads = Reads::default();
    let path: Vec<&str> = component.name.split("::").collect();
    let function = parse_tokens(&component.name, component.pos, "a component name")?;
    let props_path = {
        let mut segments: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        if let Some(last) = segments.last_mut() {
            *last = pascal_case(last);
        }
        parse_tokens(&segments.join("::"), component.pos, "a component name")?
    };
    let mut fields = Vec::new();
    for attr in &component.attrs {
        let field = field_ident(&attr.name, attr.pos)?;
        let value = match &attr.value {
            AttrValue::Bare => quote!(true),
            AttrValue::Literal { text, .. } => quote!(::core::convert::Into::into(#text)),
            AttrValue::Expr(e) => {
                let (tokens, r) = rust_expr(&e.code, e.pos)?;
                reads.merge(&r);
                tokens
            }
        };
        fields.push(quote!(#field: #value));
    }
    if !component
        .inner
        .iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
    {
        let (rendered, r) = template(&trim(component.inner.clone()), mode)?;
        reads.merge(&r);
        fields.push(quote!(inner_block: ::cinder::Slot::new(move || #rendered)));
    }
    let mut names: Vec<&str> = component.slots.iter().map(|s| s.name.as_str()).collect();
    names.dedup();
    for name in names {
        let field = field_ident(name, component.pos)?;
        let mut entries = Vec::new();
        for slot in component.slots.iter().filter(|s| s.name == name) {
            if slot.directives.if_.is_some() || slot.directives.for_.is_some() {
                return Err(Error {
                    message: "directives on slots are not supported".into(),
                    pos: slot.pos,
                });
            }
            let (rendered, r) = template(&trim(slot.children.clone()), mode)?;
            reads.merge(&r);
            let mut entry = quote!(::cinder::Slot::new(move || #rendered));
            for attr in &slot.attrs {
                let attr_name = &attr.name;
                let value = match &attr.value {
                    AttrValue::Bare => quote!("true"),
                    AttrValue::Literal { text, .. } => quote!(#text),
                    AttrValue::Expr(e) => {
                        let (tokens, r) = rust_expr(&e.code, e.pos)?;
                        reads.merge(&r);
                        tokens
                    }
                };
                entry = quote!(#entry.with_attr(#attr_name, #value));
            }
            entries.push(entry);
        }
        fields.push(quote!(#field: ::std::vec![#(#entries),*]));
    }
    let tokens = quote! {{
        #[allow(clippy::needless_update)]
        let __cinder_props = #props_path { #(#fields,)* ..::core::default::Default::default() };
        ::cinder::__private::component(#function(&__cinder_props))
    }};
    Ok(Dynamic { tokens, reads })
}

fn pascal_case(name: &str) -> String {
    name.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn field_ident(name: &str, pos: Pos) -> Result<proc_macro2::Ident> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(Error {
            message: format!("component attribute {name} is not a Rust field name"),
            pos,
        });
    }
    Ok(syn::parse_str::<proc_macro2::Ident>(name)
        .unwrap_or_else(|_| proc_macro2::Ident::new_raw(name, Span::call_site())))
}

fn parse_tokens(code: &str, pos: Pos, what: &str) -> Result<TokenStream> {
    code.parse::<TokenStream>().map_err(|e| Error {
        message: format!("invalid {what}: {e}"),
        pos,
    })
}

/// Rewrites and validates one Rust expression of the template.
fn rust_expr(code: &str, pos: Pos) -> Result<(TokenStream, Reads)> {
    let (tokens, reads) = expr::rewrite(code).map_err(|message| Error { message, pos })?;
    syn::parse2::<syn::Expr>(tokens.clone()).map_err(|e| Error {
        message: format!("invalid Rust expression: {e}"),
        pos,
    })?;
    Ok((tokens, reads))
}

/// A path, field or index expression names a place: it is passed by reference so that
/// `{@name}` does not move a `String` out of the assigns.
fn is_place(tokens: &TokenStream) -> bool {
    fn place(expr: &syn::Expr) -> bool {
        match expr {
            syn::Expr::Path(_) | syn::Expr::Field(_) | syn::Expr::Index(_) => true,
            syn::Expr::Paren(p) => place(&p.expr),
            syn::Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)),
            _ => false,
        }
    }
    syn::parse2::<syn::Expr>(tokens.clone()).is_ok_and(|e| place(&e))
}
