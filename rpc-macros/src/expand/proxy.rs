//! The typed proxy's methods: one async method per exposed method.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::{is_option, unraw, ArgKind, Method, Ret, ServiceImpl};

/// `impl CalcProxy { pub async fn add(&self, a: impl IntoArg<i64>, ...) -> Result<i64, Error> }`.
pub(super) fn expand(model: &ServiceImpl, krate: &Path) -> TokenStream {
    let mut proxy_path = model.self_path.clone();
    let last = proxy_path
        .segments
        .last_mut()
        .expect("a path has a segment");
    last.ident = format_ident!("{}Proxy", unraw(&last.ident), span = last.ident.span());
    let methods = model.methods.iter().map(|m| method(m, krate));
    quote! {
        impl #proxy_path {
            #(#methods)*
        }
    }
}

pub(super) fn method(method: &Method, krate: &Path) -> TokenStream {
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
    // Each argument is bound to its parameter's type (the error on the user's type if it does
    // not fit), then added in order; an `Option` parameter that is `None` is left out so that
    // the peer applies its default (`ProxyArgs` lays out the rest).
    let mut bind = Vec::new();
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
                bind.push(quote_spanned! {ty.span()=>
                    let #name = #krate::__private::proxy_arg::<#ty, _>(#name);
                });
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
    // The reply must deserialize only for a caller of this method: a bound under a binder is
    // checked where the method is called, not here, so that a service whose results are only
    // `Serialize` still compiles and serves.
    // The arities `Args` is implemented for.
    let plain = (all_plain && plain.len() <= 12).then_some(plain);
    let fun = if plain.is_some() {
        quote!(proxy_call_args)
    } else {
        quote!(proxy_call)
    };
    let (ret, call, bound) = match &method.ret {
        Ret::Unit => (quote!(()), quote!(#krate::__private::#fun::<()>), quote!()),
        Ret::Plain(ty) | Ret::Result { ok: ty, .. } => {
            let call = quote_spanned!(ty.span()=> #krate::__private::#fun::<#ty>);
            let bound = quote_spanned! {ty.span()=>
                where for<'__rpc> #ty: #krate::__private::serde::de::DeserializeOwned
            };
            (quote!(#ty), call, bound)
        }
    };
    let args = match plain {
        Some(plain) if plain.is_empty() => quote!(()),
        Some(plain) => quote!((#(#plain,)*)),
        None => quote!(#krate::__private::ProxyArgs::new() #(#add)*),
    };
    quote! {
        #doc
        pub async fn #ident(&self, #(#params),*) -> ::core::result::Result<#ret, #krate::Error>
        #bound
        {
            #(#bind)*
            #call(
                #krate::TypedProxy::proxy(self),
                #wire,
                #args,
            )
            .await
        }
    }
}
