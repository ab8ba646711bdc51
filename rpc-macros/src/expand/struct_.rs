//! `#[service]` on a struct: `Service` with the sub-routers, and the typed proxy type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemStruct, Path};

use crate::ast::{unraw, ServiceStruct};
use crate::check;
use crate::ctxt::Ctxt;

pub(super) fn expand(mut cx: Ctxt, mut item: ItemStruct, krate: &Path) -> TokenStream {
    let model = ServiceStruct::from_syn(&mut cx, &mut item, krate);
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
            let expanded = expand_valid(&item, &fallback, krate);
            return super::emit(cx, expanded);
        }
        _ => return super::emit(cx, quote!(#item)),
    };
    expand_valid(&item, &model, krate)
}

fn expand_valid(item: &ItemStruct, model: &ServiceStruct, krate: &Path) -> TokenStream {
    let ident = &model.ident;
    let type_name = unraw(ident);
    // Spanned on the struct's name: a type of that name that exists already is reported there.
    let proxy = format_ident!("{}Proxy", type_name, span = ident.span());
    let arms: Vec<_> = model
        .sub_routers
        .iter()
        .map(|s| {
            let (wire, field, ty) = (&s.wire, &s.ident, &s.ty);
            quote_spanned! {ty.span()=>
                #wire => __rpc::Some(__rpc::as_service::<#ty>(&self.#field)),
            }
        })
        .collect();
    let sub_router = if arms.is_empty() {
        quote! {
            fn sub_router(&self, _: &str) -> __rpc::Option<&dyn #krate::Service> {
                __rpc::None
            }
        }
    } else {
        quote! {
            fn sub_router(&self, name: &str) -> __rpc::Option<&dyn #krate::Service> {
                match name {
                    #(#arms)*
                    _ => __rpc::None,
                }
            }
        }
    };
    let wires = model.sub_routers.iter().map(|s| &s.wire);
    let fields = model.sub_routers.iter().map(|s| unraw(&s.ident));
    // The trait's defaults say "no sub-routers".
    let names = (!model.sub_routers.is_empty()).then(|| {
        quote! {
            const SUB_ROUTERS: &'static [&'static str] = &[#(#wires),*];
            const SUB_ROUTER_FIELDS: &'static [&'static str] = &[#(#fields),*];
        }
    });
    let accessors = model.sub_routers.iter().map(|s| {
        let ty = &s.ty;
        // On the field: an exposed method of the same name is reported here too.
        let child = quote_spanned!(ty.span()=> <#ty as #krate::TypedService>::Proxy);
        accessor(&s.ident, &s.wire, &child, &model.vis)
    });
    let proxy_doc = format!(
        "The typed proxy of [`{type_name}`]: one async method per exposed method, one accessor per sub-router."
    );
    let proxy_def = proxy_type(&proxy, &model.vis, &proxy_doc, krate);
    let proxy_impls = proxy_impls(&proxy, krate, quote!(#(#accessors)*));
    let private = super::private(krate);

    quote! {
        #item

        #proxy_def

        const _: () = {
            #private

            #[automatically_derived]
            impl __rpc::ServiceStruct for #ident {
                #names
            }

            #[automatically_derived]
            impl #krate::Service for #ident {
                fn type_name(&self) -> __rpc::Cow<'_, str> {
                    __rpc::Cow::Borrowed(#type_name)
                }

                #sub_router

                fn sub_router_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
                    __rpc::names(<Self as __rpc::ServiceStruct>::SUB_ROUTERS)
                }

                fn exposed_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
                    __rpc::names(<Self as __rpc::ServiceImplBlock>::EXPOSED)
                }

                fn is_hidden(&self, name: &str) -> bool {
                    <Self as __rpc::ServiceImplBlock>::HIDDEN.contains(&name)
                }

                fn call<'s>(
                    &'s self,
                    name: &str,
                    call: #krate::Call<'_>,
                ) -> __rpc::Option<#krate::Outcome<'s>> {
                    <Self as __rpc::ServiceImplBlock>::call(self, name, call)
                }
            }

            #[automatically_derived]
            impl #krate::TypedService for #ident {
                type Proxy = #proxy;
            }

            #proxy_impls
        };
    }
}

/// The accessor of a sub-router on a typed proxy: `fn field(&self) -> ChildProxy`, with the
/// service's visibility, spanned on the field so that an exposed method of the same name is
/// reported there too.
pub(super) fn accessor(
    ident: &Ident,
    wire: &str,
    child: &TokenStream,
    vis: &syn::Visibility,
) -> TokenStream {
    let doc = format!("The typed proxy of the sub-router `{wire}`.");
    quote_spanned! {ident.span()=>
        #[doc = #doc]
        #[allow(dead_code, clippy::useless_conversion)]
        #vis fn #ident(&self) -> #child {
            ::core::convert::From::from(self.proxy.get(#wire))
        }
    }
}

/// A typed proxy type, named `proxy`, spanned on `proxy` so that a type of that name that
/// exists already is reported at the service's name. Its impls come from [`proxy_impls`].
pub(super) fn proxy_type(
    proxy: &Ident,
    vis: &syn::Visibility,
    doc: &str,
    krate: &Path,
) -> TokenStream {
    quote_spanned! {proxy.span()=>
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #proxy {
            proxy: #krate::Proxy,
        }
    }
}

/// Inside a block that has `__rpc`: `From<Proxy>`, `TypedProxy` and `Deserialize` (a service
/// reference sent by the peer arrives as a typed proxy) for `proxy`, and its inherent `items`
/// (accessors, methods) if there are any.
pub(super) fn proxy_impls(proxy: &Ident, krate: &Path, items: TokenStream) -> TokenStream {
    let inherent = (!items.is_empty()).then(|| quote!(impl #proxy { #items }));
    quote! {
        #[automatically_derived]
        impl ::core::convert::From<#krate::Proxy> for #proxy {
            fn from(proxy: #krate::Proxy) -> Self {
                Self { proxy }
            }
        }

        #[automatically_derived]
        impl #krate::TypedProxy for #proxy {
            fn proxy(&self) -> &#krate::Proxy {
                &self.proxy
            }
        }

        #[automatically_derived]
        impl<'de> __rpc::serde::Deserialize<'de> for #proxy {
            fn deserialize<D: __rpc::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> __rpc::Result<Self, D::Error> {
                __rpc::deserialize_proxy(deserializer)
            }
        }

        #inherent
    }
}
