//! The typed proxy's methods: one async method per exposed method.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use crate::ast::{last_segment, unraw, ArgKind, Method, Ret, ServiceImpl};

/// `impl CalcProxy { pub async fn add(&self, a: i64, b: i64) -> Result<i64, RpcError> }`.
pub(super) fn expand(model: &ServiceImpl) -> TokenStream {
    let mut proxy_path = model.self_path.clone();
    let last = proxy_path
        .segments
        .last_mut()
        .expect("a path has a segment");
    last.ident = format_ident!("{}Proxy", unraw(&last.ident), span = last.ident.span());
    let methods = model.methods.iter().map(method);
    quote! {
        impl #proxy_path {
            #(#methods)*
        }
    }
}

fn method(method: &Method) -> TokenStream {
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
    let params = on_wire.iter().map(|a| {
        let name = a.ident.as_ref().expect("checked: parameters have names");
        let ty = &a.ty;
        if names_a_proxy(ty) {
            // The service receives a proxy: the caller passes a reference to its own service.
            quote!(#name: impl ::rpc_core::IntoArg<#ty>)
        } else {
            quote!(#name: #ty)
        }
    });
    let named: Vec<_> = method
        .wire_args()
        .map(|a| {
            let name = a.ident.as_ref().expect("checked: parameters have names");
            let ty = &a.ty;
            if names_a_proxy(ty) {
                quote_spanned!(ty.span()=> ::rpc_core::__private::proxy_ref_arg::<#ty, _>(#name))
            } else {
                quote_spanned!(ty.span()=> ::rpc_core::__private::proxy_arg::<#ty>(#name))
            }
        })
        .collect();
    let rest_args = method.args.iter().find(|a| a.kind == ArgKind::RestArgs);
    let rest_kwargs = method.args.iter().find(|a| a.kind == ArgKind::RestKwargs);

    let args = match rest_args {
        None if named.len() <= 12 => quote!((#(#named,)*)),
        _ => {
            let rest = match rest_args {
                Some(a) => {
                    let name = a.ident.as_ref().expect("checked: parameters have names");
                    quote!(&#name)
                }
                None => quote!(&()),
            };
            quote! {
                ::rpc_core::__private::args_with_rest(
                    {
                        let mut __rpc_named = ::rpc_core::__private::Vec::new();
                        #(__rpc_named.push(::rpc_core::__private::to_value(&#named)?);)*
                        __rpc_named
                    },
                    #rest,
                )?
            }
        }
    };
    let kwargs = match rest_kwargs {
        None => quote!(::rpc_core::NoKwargs),
        Some(a) => {
            let name = a.ident.as_ref().expect("checked: parameters have names");
            quote!(::rpc_core::__private::kwargs_with_rest(::rpc_core::__private::Vec::new(), &#name)?)
        }
    };
    let (ret, call) = match &method.ret {
        Ret::Unit => (
            quote!(()),
            quote!(::rpc_core::__private::proxy_call::<(), _, _>),
        ),
        Ret::Plain(ty) | Ret::Result { ok: ty, .. } => {
            let ret = proxy_return(ty);
            let call = quote_spanned!(ty.span()=> ::rpc_core::__private::proxy_call::<#ret, _, _>);
            (ret, call)
        }
    };
    quote! {
        #doc
        pub async fn #ident(&self, #(#params),*) -> ::core::result::Result<#ret, ::rpc_core::RpcError> {
            #call(
                ::rpc_core::TypedProxy::proxy(self),
                #wire,
                #args,
                #kwargs,
            )
            .await
        }
    }
}

/// Whether a parameter type is a proxy (`Proxy`, or a generated `FooProxy`), by its last segment.
fn names_a_proxy(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident.to_string().ends_with("Proxy"))
}

/// What the caller gets for a returned type: the type itself, except that a service reference
/// arrives as a proxy.
fn proxy_return(ty: &Type) -> TokenStream {
    if last_segment(ty).is_some_and(|s| s.ident == "ServiceRef") {
        quote_spanned!(ty.span()=> ::rpc_core::Proxy)
    } else {
        quote!(#ty)
    }
}
