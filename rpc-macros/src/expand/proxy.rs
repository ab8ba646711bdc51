//! The typed proxy's methods: one async method per exposed method.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Path, Visibility};

use crate::ast::{is_option, unraw, ArgKind, Method, Ret};

/// `async fn add(&self, a: impl IntoArg<i64>, ...) -> Result<i64, Error>` with visibility `vis`,
/// inside a block that has `__rpc`.
pub(super) fn method(method: &Method, vis: &Visibility, krate: &Path) -> TokenStream {
    let ident = &method.ident;
    let wire = &method.wire;
    let docs = &method.docs;
    let fallback_doc = format!("Calls `{wire}` on the peer.");
    let doc = if docs.is_empty() {
        quote!(#[doc = #fallback_doc])
    } else {
        quote!(#(#docs)*)
    };
    let on_wire: Vec<_> = method
        .args
        .iter()
        .filter(|a| a.kind != ArgKind::Context)
        .collect();
    // Every parameter takes what converts into its type: the type itself, or, where it is a
    // proxy, a `ServiceRef` to a service of the caller's.
    let params = on_wire.iter().map(|a| {
        let name = a.ident.as_ref().expect("checked: parameters have names");
        let ty = &a.ty;
        quote!(#name: impl #krate::IntoArg<#ty>)
    });
    // Each argument is added in order; an `Option` parameter that is `None` is left out so that
    // the peer applies its default (`ProxyArgs` lays out the rest).
    let mut add = Vec::new();
    // With only required parameters (no `Option` to leave out, no `#[args]`/`#[kwargs]`) and
    // few enough of them, the arguments go as a tuple of references: serialized directly, not
    // through `ProxyArgs`' type-erased list (same bytes, no allocation, no dynamic dispatch).
    let mut plain = Vec::new();
    let mut all_plain = true;
    for a in &method.args {
        let name = a.ident.as_ref().expect("checked: parameters have names");
        let ty = &a.ty;
        match a.kind {
            ArgKind::Context => {}
            ArgKind::Wire => {
                let wire_name = unraw(name);
                add.push(if is_option(ty) {
                    all_plain = false;
                    quote!(.opt(#wire_name, &#name))
                } else {
                    plain.push(quote!(&#name));
                    quote!(.arg(#wire_name, &#name))
                });
            }
            ArgKind::RestArgs => {
                all_plain = false;
                add.push(quote!(.rest(&#name)?));
            }
            ArgKind::RestKwargs => {
                all_plain = false;
                add.push(quote!(.rest_kwargs(&#name)?));
            }
        }
    }
    // The arities `Args` is implemented for.
    let plain = (all_plain && plain.len() <= 12).then_some(plain);
    // The reply must deserialize only for a caller of this method: a bound under a binder is
    // checked where the method is called, not here, so that a service whose results are only
    // `Serialize` still compiles and serves.
    let (ret, bound) = match &method.ret {
        Ret::Unit => (quote!(()), quote!()),
        Ret::Plain(ty) | Ret::Result { ok: ty, .. } => {
            let bound = quote_spanned! {ty.span()=>
                where for<'__rpc> #ty: __rpc::serde::de::DeserializeOwned
            };
            (quote!(#ty), bound)
        }
    };
    let body = match plain {
        Some(plain) => quote! {
            __rpc::proxy_call_args(&self.proxy, #wire, (#(#plain,)*)).await
        },
        None => quote! {
            let __rpc_args = __rpc::ProxyArgs::new() #(#add)*;
            __rpc::proxy_call(&self.proxy, #wire, __rpc_args).await
        },
    };
    quote! {
        #doc
        #vis async fn #ident(&self, #(#params),*) -> __rpc::Result<#ret, #krate::Error>
        #bound
        {
            #body
        }
    }
}
