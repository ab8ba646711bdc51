//! `#[service]` on a struct: sub-router look-up and the typed proxy type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemStruct, Path};

use crate::ast::{unraw, ServiceStruct};
use crate::check;
use crate::ctxt::Ctxt;

pub(super) fn expand(mut cx: Ctxt, mut item: ItemStruct, krate: &Path) -> TokenStream {
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
            let expanded = expand_valid(&item, &fallback, krate);
            return super::emit(cx, expanded);
        }
        _ => return super::emit(cx, quote!(#item)),
    };
    expand_valid(&item, &model, krate)
}

fn expand_valid(item: &ItemStruct, model: &ServiceStruct, krate: &Path) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    // Spanned on the struct's name: a type of that name that exists already is reported there.
    let proxy = format_ident!("{}Proxy", unraw(ident), span = ident.span());
    let arms = model.sub_routers.iter().map(|s| {
        let wire = &s.wire;
        let field = &s.ident;
        let ty = &s.ty;
        quote_spanned! {ty.span()=>
            #wire => ::core::option::Option::Some(
                #krate::__private::as_service::<#ty>(&self.#field)
            ),
        }
    });
    let wires = model.sub_routers.iter().map(|s| &s.wire);
    let fields = model.sub_routers.iter().map(|s| unraw(&s.ident));
    let accessors = model.sub_routers.iter().map(|s| {
        let wire = &s.wire;
        let field = &s.ident;
        let ty = &s.ty;
        let doc = format!("The typed proxy of the sub-router `{wire}`.");
        let ret = quote_spanned!(ty.span()=> <#ty as #krate::TypedService>::Proxy);
        // On the field: an exposed method of the same name is reported here too.
        quote_spanned! {field.span()=>
            #[doc = #doc]
            #[allow(dead_code, clippy::useless_conversion)]
            #vis fn #field(&self) -> #ret {
                ::core::convert::From::from(self.proxy.get(#wire))
            }
        }
    });
    let type_name = unraw(ident);
    let proxy_doc = format!(
        "The typed proxy of [`{}`]: one async method per exposed method, one accessor per sub-router.",
        unraw(ident)
    );

    let proxy_def = proxy_type(&proxy, vis, &proxy_doc, krate);

    quote! {
        #item

        #proxy_def

        const _: () = {
            #[automatically_derived]
            impl #krate::__private::ServiceStruct for #ident {
                const SUB_ROUTERS: &'static [&'static str] = &[#(#wires),*];
                const SUB_ROUTER_FIELDS: &'static [&'static str] = &[#(#fields),*];

                fn __sub_router(&self, name: &str) -> ::core::option::Option<&dyn #krate::Service> {
                    match name {
                        #(#arms)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[automatically_derived]
            impl #krate::Service for #ident {
                fn type_name(&self) -> #krate::__private::Cow<'_, str> {
                    #krate::__private::Cow::Borrowed(#type_name)
                }

                fn sub_router(&self, name: &str) -> ::core::option::Option<&dyn #krate::Service> {
                    <Self as #krate::__private::ServiceStruct>::__sub_router(self, name)
                }

                fn sub_router_names(&self) -> #krate::__private::Vec<#krate::__private::Cow<'_, str>> {
                    #krate::__private::names(<Self as #krate::__private::ServiceStruct>::SUB_ROUTERS)
                }

                fn exposed_names(&self) -> #krate::__private::Vec<#krate::__private::Cow<'_, str>> {
                    #krate::__private::names(<Self as #krate::__private::ServiceImplBlock>::EXPOSED)
                }

                fn is_hidden(&self, name: &str) -> bool {
                    <Self as #krate::__private::ServiceImplBlock>::is_hidden(name)
                }

                fn call<'s>(
                    &'s self,
                    name: &str,
                    call: #krate::Call<'_>,
                ) -> ::core::option::Option<#krate::Outcome<'s>> {
                    <Self as #krate::__private::ServiceImplBlock>::call(self, name, call)
                }
            }

            #[automatically_derived]
            impl #krate::TypedService for #ident {
                type Proxy = #proxy;
            }

            impl #proxy {
                #(#accessors)*
            }
        };
    }
}

/// A typed proxy type, named `proxy`: the struct (spanned on `proxy`, so that a type of that
/// name that exists already is reported at the service's name), `From<Proxy>`, `TypedProxy`
/// and `Deserialize` (a service reference sent by the peer arrives as a typed proxy).
pub(super) fn proxy_type(
    proxy: &syn::Ident,
    vis: &syn::Visibility,
    doc: &str,
    krate: &Path,
) -> TokenStream {
    let def = quote_spanned! {proxy.span()=>
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #proxy {
            proxy: #krate::Proxy,
        }
    };
    quote! {
        #def

        const _: () = {
            #[automatically_derived]
            impl ::core::convert::From<#krate::Proxy> for #proxy {
                fn from(proxy: #krate::Proxy) -> Self {
                    #proxy { proxy }
                }
            }

            #[automatically_derived]
            impl #krate::TypedProxy for #proxy {
                fn proxy(&self) -> &#krate::Proxy {
                    &self.proxy
                }
            }

            #[automatically_derived]
            impl<'de> #krate::__private::serde::Deserialize<'de> for #proxy {
                fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: #krate::__private::serde::Deserializer<'de>,
                {
                    ::core::result::Result::map(
                        <#krate::Proxy as #krate::__private::serde::Deserialize<'de>>::deserialize(deserializer),
                        |proxy| #proxy { proxy },
                    )
                }
            }

        };
    }
}
