//! `#[service]` on an impl block: the `Service` implementation that dispatches calls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemImpl, Path};

use crate::ast::{is_option, unraw, ArgKind, Method, Ret, ServiceImpl};
use crate::check;
use crate::ctxt::Ctxt;

pub(super) fn expand(mut cx: Ctxt, mut item: ItemImpl, krate: &Path) -> TokenStream {
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
            let service = service_impl(&fallback, krate);
            return super::emit(cx, quote!(#item const _: () = { #service };));
        }
        None => return super::emit(cx, quote!(#item)),
    };
    let service = service_impl(&model, krate);
    let asserts = model
        .methods
        .iter()
        .map(|m| asserts(m, &model.self_path, krate));
    let proxy = super::proxy::expand(&model, krate);

    quote! {
        #item

        const _: () = {
            #service

            #(#asserts)*

            #proxy
        };
    }
}

/// `impl ServiceImplBlock for Type`: the exposed methods, for the `Service` impl that
/// `#[service]` on the struct generates.
fn service_impl(model: &ServiceImpl, krate: &Path) -> TokenStream {
    let self_path = &model.self_path;
    let exposed: Vec<&String> = model.methods.iter().map(|m| &m.wire).collect();
    let hidden: Vec<&String> = model
        .hidden
        .iter()
        .filter(|h| !exposed.contains(h))
        .collect();
    let hidden_match = if hidden.is_empty() {
        quote!(false)
    } else {
        quote!(::core::matches!(name, #(#hidden)|*))
    };
    let call_fn = if model.methods.is_empty() {
        quote! {
            fn call<'s>(
                &'s self,
                _: &str,
                _: #krate::Call<'_>,
            ) -> ::core::option::Option<#krate::Outcome<'s>> {
                ::core::option::Option::None
            }
        }
    } else {
        let arms = model.methods.iter().map(|m| call_arm(m, krate));
        quote! {
            fn call<'s>(
                &'s self,
                __rpc_name: &str,
                __rpc_call: #krate::Call<'_>,
            ) -> ::core::option::Option<#krate::Outcome<'s>> {
                match __rpc_name {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    // On the `impl` keyword: a second #[service] impl block of the same type is reported as a
    // conflicting implementation of `ServiceImplBlock`, pointing at both.
    let impl_token = quote_spanned!(model.impl_span=> impl);
    quote! {
        #[automatically_derived]
        #impl_token #krate::__private::ServiceImplBlock for #self_path {
            const EXPOSED: &'static [&'static str] = &[#(#exposed),*];

            fn is_hidden(name: &str) -> bool {
                #hidden_match
            }

            #call_fn
        }
    }
}

/// `tokens` with every span set to `span`, so that an error in them points at the user's token.
fn respanned(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respanned(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Assertions, spanned on the user's tokens: arguments decode, results encode, and the method's
/// names clash with no sub-router.
fn asserts(method: &Method, self_path: &Path, krate: &Path) -> TokenStream {
    let args = method
        .args
        .iter()
        .filter(|a| a.kind != ArgKind::Context)
        .map(|a| {
            let ty = &a.ty;
            quote_spanned!(ty.span()=> #krate::__private::assert_arg::<#ty>();)
        });
    let ret = match &method.ret {
        Ret::Unit => quote!(),
        Ret::Plain(ty) | Ret::Result { ok: ty, .. } => {
            quote_spanned!(ty.span()=> #krate::__private::assert_ret::<#ty>();)
        }
    };
    let wire = &method.wire;
    let ident = unraw(&method.ident);
    let names = respanned(
        quote! {
            const _: () = #krate::__private::check_method::<#self_path>(#wire, #ident);
        },
        method.wire_span,
    );
    quote! {
        const _: fn() = || {
            #(#args)*
            #ret
        };
        #names
    }
}

/// `"wire" => { bind, decode, call, answer }`.
pub(super) fn call_arm(method: &Method, krate: &Path) -> TokenStream {
    let wire = &method.wire;
    let ident = &method.ident;
    let params = method.wire_args().map(|a| {
        let name = unraw(a.ident.as_ref().expect("checked: parameters have names"));
        let optional = is_option(&a.ty);
        quote!(#krate::__private::Param { name: #name, optional: #optional })
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
                    return ::core::option::Option::Some(#krate::__private::err(__rpc_call, error));
                }
            };
        });
        locals.push(local);
    }

    let body = if method.is_async {
        let answer = answer_async(&method.ret, krate);
        quote! {
            let __rpc_responder = #krate::__private::responder(&__rpc_call);
            ::core::option::Option::Some(#krate::__private::pending(async move {
                let __rpc_ret = Self::#ident(self, #(#locals),*).await;
                #answer
            }))
        }
    } else {
        let answer = answer_sync(&method.ret, krate);
        quote! {
            let __rpc_ret = Self::#ident(self, #(#locals),*);
            ::core::option::Option::Some(#answer)
        }
    };

    quote! {
        #wire => {
            static SIG: #krate::__private::Signature = #krate::__private::Signature {
                name: #wire,
                params: &[#(#params),*],
                rest_args: #rest_args,
                rest_kwargs: #rest_kwargs,
            };
            let __rpc_bound = match #krate::__private::bind(&__rpc_call, &SIG) {
                ::core::result::Result::Ok(bound) => bound,
                ::core::result::Result::Err(error) => {
                    return ::core::option::Option::Some(#krate::__private::err(__rpc_call, error));
                }
            };
            #(#decode)*
            #body
        }
    }
}

/// The error reply of `error`: see `__private::ErrorProbe`.
fn call_error(err: &syn::Type, krate: &Path) -> TokenStream {
    let probe = quote_spanned!(err.span()=> #krate::__private::probe(error));
    quote! {{
        #[allow(unused_imports)]
        use #krate::__private::{ViaIntoCallError as _, ViaTypeNameDisplay as _};
        (&&#probe).__rpc_call_error()
    }}
}

/// Answers the call with `__rpc_ret`; evaluates to the `Outcome`.
fn answer_sync(ret: &Ret, krate: &Path) -> TokenStream {
    match ret {
        Ret::Unit => quote! {{
            let () = __rpc_ret;
            #krate::__private::ok(__rpc_call, &())
        }},
        Ret::Plain(ty) => quote_spanned! {ty.span()=>
            #krate::__private::ok(__rpc_call, &__rpc_ret)
        },
        Ret::Result { ok, err } => {
            let ok_answer = quote_spanned!(ok.span()=> #krate::__private::ok(__rpc_call, &value));
            let error = call_error(err, krate);
            quote! {
                match __rpc_ret {
                    ::core::result::Result::Ok(value) => #ok_answer,
                    ::core::result::Result::Err(error) => #krate::__private::err(__rpc_call, #error),
                }
            }
        }
    }
}

/// Answers the call with `__rpc_ret` through `__rpc_responder`.
fn answer_async(ret: &Ret, krate: &Path) -> TokenStream {
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
            let error = call_error(err, krate);
            quote! {
                match __rpc_ret {
                    ::core::result::Result::Ok(value) => #ok_answer,
                    ::core::result::Result::Err(error) => __rpc_responder.err(&#error),
                }
            }
        }
    }
}
