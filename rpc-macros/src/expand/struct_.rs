//! `#[service]` on a struct: sub-router look-up and the typed proxy type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemStruct;

use crate::ast::{unraw, ServiceStruct};
use crate::check;
use crate::ctxt::Ctxt;

pub(super) fn expand(mut cx: Ctxt, mut item: ItemStruct) -> TokenStream {
    let model = ServiceStruct::from_syn(&mut cx, &mut item);
    if let Some(model) = &model {
        check::check_struct(&mut cx, model);
    }
    let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    let model = match model {
        Some(model) if cx.is_ok() => model,
        // Still expand (without sub-routers), so that the impl block does not fail too.
        Some(model) if !generic => {
            let fallback = ServiceStruct {
                sub_routers: Vec::new(),
                ..model
            };
            let expanded = expand_valid(&item, &fallback);
            return super::emit(cx, expanded);
        }
        _ => return super::emit(cx, quote!(#item)),
    };
    expand_valid(&item, &model)
}

fn expand_valid(item: &ItemStruct, model: &ServiceStruct) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let proxy = format_ident!("{}Proxy", unraw(ident), span = ident.span());
    let arms = model.sub_routers.iter().map(|s| {
        let wire = &s.wire;
        let field = &s.ident;
        let ty = &s.ty;
        quote_spanned! {ty.span()=>
            #wire => ::core::option::Option::Some(
                ::rpc_core::__private::as_service::<#ty>(&self.#field)
            ),
        }
    });
    let names = model.sub_routers.iter().map(|s| &s.wire);
    let accessors = model.sub_routers.iter().map(|s| {
        let wire = &s.wire;
        let field = &s.ident;
        let ty = &s.ty;
        let doc = format!("The typed proxy of the sub-router `{wire}`.");
        let ret = quote_spanned!(ty.span()=> <#ty as ::rpc_core::TypedService>::Proxy);
        quote! {
            #[doc = #doc]
            pub fn #field(&self) -> #ret {
                ::core::convert::From::from(self.proxy.get(#wire))
            }
        }
    });
    let proxy_doc = format!(
        "The typed proxy of [`{}`]: one async method per exposed method, one accessor per sub-router.",
        unraw(ident)
    );

    quote! {
        #item

        #[doc = #proxy_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #proxy {
            proxy: ::rpc_core::Proxy,
        }

        const _: () = {
            #[automatically_derived]
            impl ::rpc_core::__private::ServiceStruct for #ident {
                fn __sub_router(&self, name: &str) -> ::core::option::Option<&dyn ::rpc_core::Service> {
                    match name {
                        #(#arms)*
                        _ => ::core::option::Option::None,
                    }
                }

                fn __sub_router_names() -> &'static [&'static str] {
                    &[#(#names),*]
                }
            }

            #[automatically_derived]
            impl ::rpc_core::TypedService for #ident {
                type Proxy = #proxy;
            }

            #[automatically_derived]
            impl ::core::convert::From<::rpc_core::Proxy> for #proxy {
                fn from(proxy: ::rpc_core::Proxy) -> Self {
                    #proxy { proxy }
                }
            }

            #[automatically_derived]
            impl ::rpc_core::TypedProxy for #proxy {
                fn proxy(&self) -> &::rpc_core::Proxy {
                    &self.proxy
                }
            }

            #[automatically_derived]
            impl<'de> ::rpc_core::__private::serde::Deserialize<'de> for #proxy {
                fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: ::rpc_core::__private::serde::Deserializer<'de>,
                {
                    ::core::result::Result::map(
                        <::rpc_core::Proxy as ::rpc_core::__private::serde::Deserialize<'de>>::deserialize(deserializer),
                        |proxy| #proxy { proxy },
                    )
                }
            }

            impl #proxy {
                #(#accessors)*
            }
        };
    }
}
