//! Procedural macros of `rpc-core`: `#[service]` and its helper attributes.
//!
//! Use them through `rpc_core` (`rpc_core::service`), which documents what they generate; the
//! generated code names `rpc_core::__private`, so this crate is not useful on its own.
//!
//! The stages: `ast` (the typed model, with the helper attributes taken off), `attr` (their
//! options, and `#[service(crate = "...")]`), `check` (rules across items), `expand` (code
//! generation, one file per form: `struct_`, `impl_`, `trait_`, and `proxy` for the typed
//! proxy's methods). Generated code is small on purpose: each exposed method is one call of a
//! generic helper of `rpc_core::__private` (`answer`, `answer_later`), which `docs/architecture.md`
//! ("The macro interface") describes.
//!
//! `tests/expand/service.expanded.rs` is the expansion of a representative service, compared by
//! the test in `src/expand/snapshot.rs`: a change to generated code shows there in review.
//! Rewrite it after a deliberate change with
//! `UPDATE_EXPAND=1 cargo test -p rpc-macros expansion_matches_the_snapshot`.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;

/// Makes a struct or its impl block a service. See `rpc_core::service`.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::service(attr.into(), item.into()).into()
}

/// Exposes a method of a `#[service]` impl block. Only meaningful inside one, where
/// `#[service]` removes it; anywhere else it is an error.
#[proc_macro_attribute]
pub fn expose(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced("expose", attr.into(), item.into()).into()
}

/// Marks a field of a `#[service]` struct as a child service. Only meaningful inside one, where
/// `#[service]` removes it; anywhere else it is an error.
#[proc_macro_attribute]
pub fn sub_router(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced("sub_router", attr.into(), item.into()).into()
}
