//! Rust expressions inside templates: `@name` rewriting and change-tracking analysis.
//!
//! `@count` becomes `assigns.count` and records the assign `count`. An expression also
//! reads *locals* when it names a variable that is not an assign; such a dynamic cannot
//! be change-tracked and is evaluated on every render of its template, as in HEEx.
//! Nested `html!` invocations are left for their own expansion, but their assigns and
//! locals count for the enclosing dynamic.

use std::collections::BTreeSet;
use std::str::FromStr;

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// What one expression reads.
#[derive(Debug, Default, Clone)]
pub(crate) struct Reads {
    pub(crate) assigns: BTreeSet<String>,
    /// Names taken for local variables; `"*"` stands for "anything".
    pub(crate) locals: BTreeSet<String>,
}

impl Reads {
    pub(crate) fn merge(&mut self, other: &Reads) {
        self.assigns.extend(other.assigns.iter().cloned());
        self.locals.extend(other.locals.iter().cloned());
    }

    /// Whether the expression reads anything but assigns.
    pub(crate) fn has_locals(&self) -> bool {
        !self.locals.is_empty()
    }

    pub(crate) fn anything(&mut self) {
        self.locals.insert("*".to_owned());
    }
}

/// The variable names a `:for` pattern binds.
pub(crate) fn bindings(pattern: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Ok(tokens) = TokenStream::from_str(pattern) {
        collect_idents(tokens, &mut names);
    }
    names
}

fn collect_idents(tokens: TokenStream, names: &mut BTreeSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(i) => {
                names.insert(i.to_string());
            }
            TokenTree::Group(g) => collect_idents(g.stream(), names),
            _ => {}
        }
    }
}

/// Parses `code`, rewriting `@name`, and reports what it reads.
pub(crate) fn rewrite(code: &str) -> Result<(TokenStream, Reads), String> {
    let tokens = TokenStream::from_str(code).map_err(|e| format!("invalid Rust tokens: {e}"))?;
    let mut reads = Reads::default();
    let out = walk(tokens, &mut reads, true);
    Ok((out, reads))
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
    "usize", "f32", "f64", "bool", "char", "str", "assigns",
];

fn walk(tokens: TokenStream, reads: &mut Reads, rewrite: bool) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let next = tokens.get(i + 1);
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '@' && !is_binding(prev) => {
                if let Some(TokenTree::Ident(name)) = next {
                    reads.assigns.insert(name.to_string());
                    if rewrite {
                        out.push(TokenTree::Ident(Ident::new("assigns", Span::call_site())));
                        out.push(TokenTree::Punct(Punct::new('.', Spacing::Alone)));
                        out.push(TokenTree::Ident(name.clone()));
                    } else {
                        out.push(tokens[i].clone());
                        out.push(TokenTree::Ident(name.clone()));
                    }
                    i += 2;
                    continue;
                }
                out.push(tokens[i].clone());
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let is_macro = matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '!');
                if is_macro && name == "html" {
                    // Leave a nested template to its own expansion, but learn what it reads.
                    out.push(tokens[i].clone());
                    if let (Some(bang), Some(TokenTree::Group(g))) = (next, tokens.get(i + 2)) {
                        out.push(bang.clone());
                        nested_template(g, reads);
                        out.push(TokenTree::Group(g.clone()));
                        i += 3;
                        continue;
                    }
                } else {
                    if name == "assigns" {
                        // Handing all assigns to a helper: it may read any of them.
                        reads.anything();
                    } else if is_local(&name, prev, next) {
                        reads.locals.insert(name);
                    }
                    out.push(tokens[i].clone());
                }
            }
            TokenTree::Group(g) => {
                let inner = walk(g.stream(), reads, rewrite);
                let mut group = Group::new(g.delimiter(), inner);
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Learns what a nested `html!("…")` reads, from its template text.
fn nested_template(group: &Group, reads: &mut Reads) {
    let Ok(lit) = syn::parse2::<syn::LitStr>(group.stream()) else {
        // Not a literal: assume it reads anything.
        reads.anything();
        return;
    };
    match cinder_template::parse(&lit.value()) {
        Ok(nodes) => crate::codegen::collect_reads(&nodes, reads),
        Err(_) => reads.anything(),
    }
}

/// `x @ pattern` binds `x`; `@` after a keyword (`if @show`) is an assign.
fn is_binding(prev: Option<&TokenTree>) -> bool {
    matches!(prev, Some(TokenTree::Ident(i)) if !KEYWORDS.contains(&i.to_string().as_str()))
}

/// A lowercase identifier in value position that is not a path segment, method, field
/// name, macro or keyword is taken to be a local variable.
fn is_local(name: &str, prev: Option<&TokenTree>, next: Option<&TokenTree>) -> bool {
    let first = name.chars().next().unwrap_or('A');
    if !(first.is_lowercase() || first == '_') || KEYWORDS.contains(&name) || name == "_" {
        return false;
    }
    if let Some(TokenTree::Punct(p)) = prev
        && (p.as_char() == '.' || (p.as_char() == ':' && p.spacing() == Spacing::Alone))
    {
        return false;
    }
    match next {
        Some(TokenTree::Punct(p)) if p.as_char() == '!' => false,
        Some(TokenTree::Punct(p)) if p.as_char() == ':' => false,
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_assigns_and_spots_locals() {
        let (tokens, reads) = rewrite("format!(\"{}\", @count + 1)").unwrap();
        assert_eq!(
            tokens.to_string(),
            "format ! (\"{}\" , assigns . count + 1)"
        );
        assert!(reads.assigns.contains("count") && !reads.has_locals());

        let (_, reads) = rewrite("@items.iter().map(|i| i.len()).sum::<usize>()").unwrap();
        assert!(reads.has_locals(), "closure parameters are locals");

        let (_, reads) = rewrite("row.name").unwrap();
        assert_eq!(reads.locals.iter().collect::<Vec<_>>(), ["row"]);
        assert!(bindings("(i, row)").contains("row"));

        let (_, reads) = rewrite("std::cmp::max(@a, @b)").unwrap();
        assert_eq!(reads.assigns.len(), 2);
        assert!(!reads.has_locals());
    }

    #[test]
    fn leaves_pattern_bindings() {
        let (tokens, _) = rewrite("match @n { x @ 1..=3 => x, _ => 0 }").unwrap();
        assert!(tokens.to_string().contains("x @ 1"));
        assert!(tokens.to_string().starts_with("match assigns . n"));
        let (tokens, reads) = rewrite("if @show { 1 } else { 2 }").unwrap();
        assert!(tokens.to_string().starts_with("if assigns . show"));
        assert!(!reads.has_locals());
    }

    #[test]
    fn handing_assigns_to_a_helper_reads_everything() {
        let (_, reads) = rewrite("badge(assigns)").unwrap();
        assert!(reads.has_locals());
    }
}
