//! Code generation. Runs only on input that passed the checks.

mod impl_;
mod proxy;
mod struct_;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::Item;

use crate::ctxt::Ctxt;

/// `#[service]` on any item.
pub(crate) fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    if !attr.is_empty() {
        cx.error_spanned_by(&attr, "#[service] takes no options: write #[service]");
    }
    let parsed: Item = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            cx.syn_error(e);
            return emit(cx, item);
        }
    };
    match parsed {
        Item::Struct(s) => struct_::expand(cx, s),
        Item::Impl(i) => impl_::expand(cx, i),
        other => {
            let at = match &other {
                Item::Enum(e) => e.enum_token.span(),
                Item::Fn(f) => f.sig.fn_token.span(),
                Item::Trait(t) => t.trait_token.span(),
                Item::Mod(m) => m.mod_token.span(),
                Item::Union(u) => u.union_token.span(),
                Item::Type(t) => t.type_token.span(),
                other => other.span(),
            };
            cx.error_at(
                at,
                "#[service] goes on a struct and on its impl block: write `#[service] struct MyService { ... }` and `#[service] impl MyService { ... }`",
            );
            emit(cx, other.into_token_stream())
        }
    }
}

/// The user's item followed by the errors (so that one mistake does not cause more).
fn emit(cx: Ctxt, item: TokenStream) -> TokenStream {
    let errors = cx.into_compile_errors();
    quote! { #item #errors }
}

/// `#[expose]` or `#[sub_router]` used where no `#[service]` strips it.
pub(crate) fn misplaced(name: &str, attr: TokenStream, item: TokenStream) -> TokenStream {
    let message = match name {
        "expose" => "#[expose] works only inside a #[service] impl block: add #[service] to the impl block",
        _ => "#[sub_router] works only on a field of a #[service] struct: add #[service] to the struct",
    };
    // The call site of an attribute macro is the attribute itself.
    let _ = attr;
    let span = proc_macro2::Span::call_site();
    let error = syn::Error::new(span, message).to_compile_error();
    quote! { #error #item }
}
