//! The helper attributes: `#[expose]`, `#[expose(name = "...")]`, `#[sub_router]`,
//! `#[sub_router(name = "...")]`, and `#[context]`, `#[args]`, `#[kwargs]` on parameters.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, LitStr, Meta, Path};

use crate::ctxt::Ctxt;

/// Whether `attr` is `#[name]` or `#[name(...)]`, plainly or under the path of rpc-core
/// (`#[rpc_core::name]`, or `#[my_rpc::name]` with `#[service(crate = "::my_rpc")]`).
pub(crate) fn is(attr: &Attribute, name: &str, krate: &Path) -> bool {
    let path = attr.path();
    if path.is_ident(name) {
        return true;
    }
    let segments: Vec<_> = path.segments.iter().collect();
    let Some((last, prefix)) = segments.split_last() else {
        return false;
    };
    last.ident == name
        && last.arguments.is_none()
        && prefix.len() == krate.segments.len()
        && prefix
            .iter()
            .zip(&krate.segments)
            .all(|(a, b)| a.ident == b.ident && a.arguments.is_none())
}

/// Whether `attr` is one of the helper attributes of `#[service]`.
pub(crate) fn is_helper(attr: &Attribute, krate: &Path) -> bool {
    ["expose", "sub_router", "context", "args", "kwargs"]
        .iter()
        .any(|name| is(attr, name, krate))
}

/// A wire name given with `name = "..."`.
#[derive(Clone)]
pub(crate) struct WireName {
    pub(crate) value: String,
    pub(crate) span: Span,
}

/// Parses the options of `#[expose]` or `#[sub_router]`: nothing, or `name = "..."`.
pub(crate) fn name_option(cx: &mut Ctxt, attr: &Attribute, what: &str) -> Option<WireName> {
    let list = match &attr.meta {
        Meta::Path(_) => return None,
        Meta::List(list) => list,
        Meta::NameValue(nv) => {
            cx.error_spanned_by(
                &nv.value,
                format!("write #[{what}(name = \"...\")] to set the name the peer calls"),
            );
            return None;
        }
    };
    let mut name: Option<WireName> = None;
    let result = list.parse_nested_meta(|meta| {
        if meta.path.is_ident("name") {
            let lit: LitStr = meta.value()?.parse()?;
            if name.is_some() {
                return Err(syn::Error::new_spanned(&meta.path, "`name` is given twice: keep one"));
            }
            let value = lit.value();
            if value.is_empty() {
                return Err(syn::Error::new_spanned(&lit, "the name cannot be empty: write a name such as \"spam\""));
            }
            if value.contains('/') {
                return Err(syn::Error::new_spanned(
                    &lit,
                    "the name cannot contain `/`, which separates path segments: write a single segment such as \"spam\"",
                ));
            }
            name = Some(WireName {
                value,
                span: lit.span(),
            });
            Ok(())
        } else {
            let option = meta
                .path
                .get_ident()
                .map_or_else(|| "this option".to_owned(), |i| format!("`{i}`"));
            Err(meta.error(format!(
                "unknown option {option}: write #[{what}] or #[{what}(name = \"...\")]"
            )))
        }
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
    name
}

/// Checks that a parameter attribute (`#[context]`, `#[args]`, `#[kwargs]`) has no options.
pub(crate) fn no_options(cx: &mut Ctxt, attr: &Attribute, what: &str) {
    if !matches!(attr.meta, Meta::Path(_)) {
        cx.error_spanned_by(
            &attr.meta,
            format!("#[{what}] takes no options: write #[{what}]"),
        );
    }
}

/// Parses the options of `#[service]`: nothing, or `crate = "path"` for a renamed dependency.
/// Returns the path under which generated code finds rpc-core (`::rpc_core` by default).
pub(crate) fn service_options(cx: &mut Ctxt, attr: TokenStream) -> Path {
    let default: Path = syn::parse_quote!(::rpc_core);
    if attr.is_empty() {
        return default;
    }
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let lit: LitStr = meta.value()?.parse()?;
            if krate.is_some() {
                return Err(meta.error("`crate` is given twice: keep one"));
            }
            krate = Some(lit.parse::<Path>().map_err(|_| {
                syn::Error::new_spanned(
                    &lit,
                    "write the path of the rpc-core dependency, such as \"::my_rpc\"",
                )
            })?);
            Ok(())
        } else {
            Err(meta.error(
                "unknown option: write #[service] or #[service(crate = \"path::to::rpc_core\")]",
            ))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, attr) {
        cx.syn_error(e);
    }
    krate.unwrap_or(default)
}
