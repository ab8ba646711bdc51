//! Procedural macros of `rpc-core`. Use them through `rpc_core::service`.

use proc_macro::TokenStream;

/// See `rpc_core::service`.
#[proc_macro_attribute]
pub fn service(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
