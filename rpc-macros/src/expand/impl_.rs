//! `#[service]` on an impl block: the `Service` implementation that dispatches calls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemImpl;

use crate::ast::{is_option, unraw, ArgKind, Method, Ret, ServiceImpl};
use crate::check;
use crate::ctxt::Ctxt;

pub(super) fn expand(mut cx: Ctxt, mut item: ItemImpl) -> TokenStream {
    let model = ServiceImpl::from_syn(&mut cx, &mut item);
    if let Some(model) = &model {
        check::check_impl(&mut cx, model);
    }
    let model = match model {
        Some(model) if cx.is_ok() => model,
        // Still implement `Service` (with nothing exposed), so that uses of the type elsewhere
        // do not fail too.
        Some(model) => {
            let fallback = ServiceImpl {
                methods: Vec::new(),
                ..model
            };
            let service = service_impl(&fallback);
            return super::emit(cx, quote!(#item const _: () = { #service };));
        }
        None => return super::emit(cx, quote!(#item)),
    };
    let service = service_impl(&model);
    let asserts = model.methods.iter().map(asserts);
    let proxy = super::proxy::expand(&model);

    quote! {
        #item

        const _: () = {
            #service

            #(#asserts)*

            #proxy
        };
    }
}

/// `impl Service for Type`.
fn service_impl(model: &ServiceImpl) -> TokenStream {
    let self_path = &model.self_path;
    let type_name = &model.type_name;
    let exposed: Vec<&String> = model.methods.iter().map(|m| &m.wire).collect();
    let hidden: Vec<&String> = model
        .hidden
        .iter()
        .filter(|h| !exposed.contains(h))
        .collect();
    let exposed_arm = if exposed.is_empty() {
        quote!()
    } else {
        quote!(#(#exposed)|* => ::rpc_core::__private::Member::Exposed,)
    };
    let hidden_arm = if hidden.is_empty() {
        quote!()
    } else {
        quote!(#(#hidden)|* => ::rpc_core::__private::Member::Hidden,)
    };
    let call_fn = if model.methods.is_empty() {
        quote! {
            fn call(
                &self,
                _: &str,
                _: ::rpc_core::__private::Call<'_>,
            ) -> ::core::option::Option<::rpc_core::__private::Outcome> {
                ::core::option::Option::None
            }
        }
    } else {
        let arms = model.methods.iter().map(call_arm);
        quote! {
            fn call(
                &self,
                __rpc_name: &str,
                mut __rpc_call: ::rpc_core::__private::Call<'_>,
            ) -> ::core::option::Option<::rpc_core::__private::Outcome> {
                match __rpc_name {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    quote! {
            #[automatically_derived]
            impl ::rpc_core::Service for #self_path {
                fn type_name(&self) -> ::rpc_core::__private::Cow<'_, str> {
                    ::rpc_core::__private::Cow::Borrowed(#type_name)
                }

                fn sub_router(&self, name: &str) -> ::core::option::Option<&dyn ::rpc_core::Service> {
                    <Self as ::rpc_core::__private::ServiceStruct>::__sub_router(self, name)
                }

                fn sub_router_names(&self) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
                    ::core::iter::Iterator::collect(::core::iter::Iterator::map(
                        <Self as ::rpc_core::__private::ServiceStruct>::__sub_router_names().iter(),
                        |name| ::rpc_core::__private::Cow::Borrowed(*name),
                    ))
                }

                fn member(&self, name: &str) -> ::rpc_core::__private::Member {
                    if ::core::option::Option::is_some(
                        &<Self as ::rpc_core::__private::ServiceStruct>::__sub_router(self, name),
                    ) {
                        return ::rpc_core::__private::Member::SubRouter;
                    }
                    match name {
                        #exposed_arm
                        #hidden_arm
                        _ => ::rpc_core::__private::Member::Missing,
                    }
                }

                fn exposed_names(&self) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
                    let names: &[&'static str] = &[#(#exposed),*];
                    ::core::iter::Iterator::collect(::core::iter::Iterator::map(
                        names.iter(),
                        |name| ::rpc_core::__private::Cow::Borrowed(*name),
                    ))
                }

                #call_fn

                fn as_any(&self) -> &dyn ::rpc_core::__private::Any {
                    self
                }
            }
    }
}

/// Assertions, spanned on the user's types, that arguments decode and results encode.
fn asserts(method: &Method) -> TokenStream {
    let args = method
        .args
        .iter()
        .filter(|a| a.kind != ArgKind::Context)
        .map(|a| {
            let ty = &a.ty;
            quote_spanned!(ty.span()=> ::rpc_core::__private::assert_arg::<#ty>();)
        });
    let ret = match &method.ret {
        Ret::Unit => quote!(),
        Ret::Plain(ty) | Ret::Result { ok: ty, .. } => {
            quote_spanned!(ty.span()=> ::rpc_core::__private::assert_ret::<#ty>();)
        }
    };
    quote! {
        const _: fn() = || {
            #(#args)*
            #ret
        };
    }
}

/// `"wire" => { bind, decode, call, answer }`.
fn call_arm(method: &Method) -> TokenStream {
    let wire = &method.wire;
    let ident = &method.ident;
    let params = method.wire_args().map(|a| {
        let name = unraw(a.ident.as_ref().expect("checked: parameters have names"));
        let optional = is_option(&a.ty);
        quote!(::rpc_core::__private::Param { name: #name, optional: #optional })
    });
    let rest_args = method.args.iter().any(|a| a.kind == ArgKind::RestArgs);
    let rest_kwargs = method.args.iter().any(|a| a.kind == ArgKind::RestKwargs);

    let mut index = 0usize;
    let mut decode = Vec::new();
    let mut locals = Vec::new();
    for (i, arg) in method.args.iter().enumerate() {
        let local = format_ident!("__rpc_arg{}", i);
        let ty = &arg.ty;
        let value = match arg.kind {
            ArgKind::Wire => {
                let at = index;
                index += 1;
                quote_spanned!(ty.span()=> __rpc_bound.arg::<#ty>(#at))
            }
            ArgKind::RestArgs => quote_spanned!(ty.span()=> __rpc_bound.rest_args::<#ty>()),
            ArgKind::RestKwargs => quote_spanned!(ty.span()=> __rpc_bound.rest_kwargs::<#ty>()),
            ArgKind::Context => {
                decode.push(quote_spanned!(ty.span()=> let #local: #ty = __rpc_call.context();));
                locals.push(local);
                continue;
            }
        };
        decode.push(quote! {
            let #local: #ty = match #value {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(error) => {
                    __rpc_call.responder().err(error);
                    return ::core::option::Option::Some(::rpc_core::__private::Outcome::Done);
                }
            };
        });
        locals.push(local);
    }

    let answer = answer(&method.ret);
    let body = if method.is_async {
        quote! {
            let __rpc_anchor = __rpc_call.anchor();
            let __rpc_responder = __rpc_call.responder();
            ::core::option::Option::Some(::rpc_core::__private::Outcome::Pending(
                ::rpc_core::__private::Box::pin(async move {
                    // The user's future runs apart, so that a panic in it unwinds without the
                    // responder, which then answers with the panic's message.
                    let __rpc_ret = match ::rpc_core::__private::catch_panic(
                        ::rpc_core::__private::Box::pin(async move {
                            let __rpc_this = __rpc_anchor.node::<Self>();
                            Self::#ident(__rpc_this, #(#locals),*).await
                        }),
                    )
                    .await
                    {
                        ::core::result::Result::Ok(ret) => ret,
                        ::core::result::Result::Err(error) => {
                            __rpc_responder.err(error);
                            return;
                        }
                    };
                    #answer
                }),
            ))
        }
    } else {
        quote! {
            let __rpc_ret = Self::#ident(self, #(#locals),*);
            // Taken after the call, so that a panic is answered with its message.
            let __rpc_responder = __rpc_call.responder();
            #answer
            ::core::option::Option::Some(::rpc_core::__private::Outcome::Done)
        }
    };

    quote! {
        #wire => {
            static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                name: #wire,
                params: &[#(#params),*],
                rest_args: #rest_args,
                rest_kwargs: #rest_kwargs,
            };
            let __rpc_bound = match __rpc_call.bind(&SIG) {
                ::core::result::Result::Ok(bound) => bound,
                ::core::result::Result::Err(error) => {
                    __rpc_call.responder().err(error);
                    return ::core::option::Option::Some(::rpc_core::__private::Outcome::Done);
                }
            };
            #(#decode)*
            #body
        }
    }
}

/// Sends `__rpc_ret` with `__rpc_responder`.
fn answer(ret: &Ret) -> TokenStream {
    match ret {
        Ret::Unit => quote! {
            let () = __rpc_ret;
            __rpc_responder.ok(&());
        },
        Ret::Plain(ty) => quote_spanned! {ty.span()=>
            __rpc_responder.ok(&__rpc_ret);
        },
        Ret::Result { ok, err } => {
            let ok_answer = quote_spanned!(ok.span()=> __rpc_responder.ok(&value));
            let probe = quote_spanned!(err.span()=> ::rpc_core::__private::probe(&error));
            quote! {
            match __rpc_ret {
                ::core::result::Result::Ok(value) => #ok_answer,
                ::core::result::Result::Err(error) => __rpc_responder.err({
                    #[allow(unused_imports)]
                    use ::rpc_core::__private::{
                        ViaErrorKindDisplay as _, ViaIntoCallError as _, ViaTypeNameDisplay as _,
                    };
                    (&&&#probe).__rpc_call_error()
                }),
            }
            }
        }
    }
}
