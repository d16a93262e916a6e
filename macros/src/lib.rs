//! Procedural macros for Cinder: `html!`, `html_file!` and `#[derive(Assigns)]`.
//!
//! - `assigns` — the derive: field bits and change-tracking setters.
//! - `expr` — `@name` rewriting and what each expression reads.
//! - `codegen` — template AST into statics, dynamics and change masks.
//!
//! Parsing the template text is `cinder-template`'s job; this crate only generates code.
//! Template errors become compile errors naming the template's line and column.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{LitStr, parse_macro_input};

mod assigns;
mod codegen;
mod expr;

/// Compiles a HEEx-like template into a `cinder::Rendered`. `@name` reads
/// `assigns.name`, so a variable named `assigns` must be in scope when the template
/// uses assigns.
#[proc_macro]
pub fn html(input: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(input as LitStr);
    expand(&lit.value(), lit.span(), None).into()
}

/// Like `html!`, reading the template from a file relative to the crate's root
/// (`CARGO_MANIFEST_DIR`).
#[proc_macro]
pub fn html_file(input: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(input as LitStr);
    let relative = lit.value();
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let path = std::path::Path::new(&root).join(&relative);
    let source = match std::fs::read_to_string(&path) {
        Ok(source) => source,
        Err(err) => {
            let message = format!("cannot read template {}: {err}", path.display());
            return syn::Error::new(lit.span(), message)
                .to_compile_error()
                .into();
        }
    };
    let expanded = expand(&source, lit.span(), Some(&relative));
    let full = path.display().to_string();
    quote!({
        // Rebuild when the template file changes.
        const _: &str = include_str!(#full);
        #expanded
    })
    .into()
}

fn expand(source: &str, span: Span, file: Option<&str>) -> proc_macro2::TokenStream {
    let located = |message: &str, line: usize, column: usize| {
        let place = match file {
            Some(file) => format!("{file}:{line}:{column}"),
            None => format!("line {line}, column {column}"),
        };
        syn::Error::new(span, format!("template error at {place}: {message}")).to_compile_error()
    };
    let nodes = match cinder_template::parse(source) {
        Ok(nodes) => nodes,
        Err(err) => return located(&err.message, err.pos.line, err.pos.column),
    };
    match codegen::template(&codegen::trim(nodes), codegen::Mode::Tracked) {
        Ok((tokens, _)) => tokens,
        Err(err) => located(&err.message, err.pos.line, err.pos.column),
    }
}

/// Derives change tracking for a view's state or a component's props.
///
/// Generates one bit per field and, for structs without generics, a trait
/// `<Name>Assigns` with `set_<field>` / `update_<field>` / `<field>_mut` on
/// `cinder::Tracked<Name>` (reached through `Socket`), which mark the field changed.
#[proc_macro_derive(Assigns)]
pub fn derive_assigns(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    assigns::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
