//! `#[service]` on an impl block: `ServiceImplBlock` (the dispatch of calls, which the struct's
//! `Service` forwards to) and the typed proxy's methods.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemImpl, Path};

use crate::ast::{is_option, unraw, ArgKind, Method, Ret, ServiceImpl};
use crate::check;
use crate::ctxt::Ctxt;

pub(super) fn expand(mut cx: Ctxt, mut item: ItemImpl, krate: &Path) -> TokenStream {
    let model = ServiceImpl::from_syn(&mut cx, &mut item, krate);
    if let Some(model) = &model {
        check::check_impl(&mut cx, model);
    }
    let private = super::private(krate);
    let model = match model {
        Some(model) if cx.is_ok() => model,
        // Still implement `ServiceImplBlock` (with nothing exposed), so that uses of the type
        // elsewhere do not fail too.
        Some(model) => {
            let fallback = ServiceImpl {
                methods: Vec::new(),
                ..model
            };
            let service = service_impl(&fallback, krate);
            return super::emit(cx, quote!(#item const _: () = { #private #service };));
        }
        None => return super::emit(cx, quote!(#item)),
    };
    let service = service_impl(&model, krate);
    let probes = model
        .methods
        .iter()
        .any(|m| matches!(m.ret, Ret::Result { .. }))
        .then(super::error_probes);
    let names = model
        .methods
        .iter()
        .map(|m| check_names(m, &model.self_path));
    let proxy = (!model.methods.is_empty()).then(|| {
        let mut proxy_path = model.self_path.clone();
        let last = proxy_path
            .segments
            .last_mut()
            .expect("a path has a segment");
        last.ident = quote::format_ident!("{}Proxy", unraw(&last.ident), span = last.ident.span());
        // `pub`: the impl block cannot know the struct's visibility, and a `pub` item of the proxy
        // is reachable exactly where the proxy type is, which has the struct's visibility.
        let public: syn::Visibility = syn::parse_quote!(pub);
        let methods = model
            .methods
            .iter()
            .map(|m| super::proxy::method(m, &public, krate));
        quote!(impl #proxy_path { #(#methods)* })
    });

    quote! {
        #item

        const _: () = {
            #private
            #probes

            #service

            #(#names)*

            #proxy
        };
    }
}

/// `impl ServiceImplBlock for Type`: the exposed methods, for the `Service` impl that
/// `#[service]` on the struct generates.
fn service_impl(model: &ServiceImpl, krate: &Path) -> TokenStream {
    let self_path = &model.self_path;
    let exposed: Vec<&String> = model.methods.iter().map(|m| &m.wire).collect();
    let hidden = model.hidden.iter().filter(|h| !exposed.contains(h));
    let body = if model.methods.is_empty() {
        quote!(__rpc::None)
    } else {
        let arms = model.methods.iter().map(|m| call_arm(m, &quote!(self)));
        quote! {
            match __rpc_name {
                #(#arms)*
                _ => __rpc::None,
            }
        }
    };
    // On the `impl` keyword: a second #[service] impl block of the same type is reported as a
    // conflicting implementation of `ServiceImplBlock`, pointing at both.
    let impl_token = quote_spanned!(model.impl_span=> impl);
    quote! {
        #[automatically_derived]
        #impl_token __rpc::ServiceImplBlock for #self_path {
            const EXPOSED: &'static [&'static str] = &[#(#exposed),*];
            const HIDDEN: &'static [&'static str] = &[#(#hidden),*];

            fn call<'s>(
                &'s self,
                __rpc_name: &str,
                __rpc_call: #krate::Call<'_>,
            ) -> __rpc::Option<#krate::Outcome<'s>> {
                #body
            }
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

/// The compile-time check, at the method's name, that the method shares neither its wire name
/// nor its proxy name with a sub-router of the struct.
fn check_names(method: &Method, self_path: &Path) -> TokenStream {
    let wire = &method.wire;
    let ident = unraw(&method.ident);
    respanned(
        quote! {
            const _: () = __rpc::check_method::<#self_path>(#wire, #ident);
        },
        method.wire_span,
    )
}

/// `"wire" => { static SIG; __rpc::answer(call, &SIG, decode, method, reply) }` (`answer_later` for an
/// async method), inside a block that has `__rpc`: the arguments are decoded into a tuple
/// (each `arg::<T>` spanned on the parameter's type, so that a type that cannot be decoded is
/// reported there), the method is called with them on `receiver`, and the result is answered as
/// `returns::<T>` (spanned on `T`) or `returns_ok` with the error probe says.
pub(super) fn call_arm(method: &Method, receiver: &TokenStream) -> TokenStream {
    let wire = &method.wire;
    let ident = &method.ident;
    let params = method.wire_args().map(|a| {
        let name = unraw(a.ident.as_ref().expect("checked: parameters have names"));
        if is_option(&a.ty) {
            quote!(__rpc::optional(#name))
        } else {
            quote!(__rpc::required(#name))
        }
    });
    let rest_args = method.args.iter().any(|a| a.kind == ArgKind::RestArgs);
    let rest_kwargs = method.args.iter().any(|a| a.kind == ArgKind::RestKwargs);

    let mut index = 0usize;
    let mut values = Vec::new();
    let mut names = Vec::new();
    let (mut uses_call, mut uses_args) = (false, false);
    for arg in &method.args {
        let ty = &arg.ty;
        values.push(match arg.kind {
            ArgKind::Wire => {
                uses_args = true;
                let at = proc_macro2::Literal::usize_unsuffixed(index);
                index += 1;
                quote_spanned!(ty.span()=> __rpc_args.arg::<#ty>(#at)?)
            }
            ArgKind::RestArgs => {
                uses_args = true;
                quote_spanned!(ty.span()=> __rpc_args.rest_args::<#ty>()?)
            }
            ArgKind::RestKwargs => {
                uses_args = true;
                quote_spanned!(ty.span()=> __rpc_args.rest_kwargs::<#ty>()?)
            }
            ArgKind::Context => {
                uses_call = true;
                quote!(__rpc_call.context())
            }
        });
        names.push(arg.ident.as_ref().expect("checked: parameters have names"));
    }
    let call_param = if uses_call {
        quote!(__rpc_call)
    } else {
        quote!(_)
    };
    let args_param = if uses_args {
        quote!(__rpc_args)
    } else {
        quote!(_)
    };

    let reply = match &method.ret {
        Ret::Unit => quote!(__rpc::Ok),
        Ret::Plain(ty) => quote_spanned!(ty.span()=> __rpc::returns::<#ty>),
        Ret::Result { ok, err } => {
            let returns_ok = quote_spanned!(ok.span()=> __rpc::returns_ok::<#ok, _>);
            let probe = quote_spanned!(err.span()=> __rpc::probe(error));
            quote! {
                |__rpc_ret| #returns_ok(__rpc_ret, |error| (&&#probe).__rpc_call_error())
            }
        }
    };
    let answer = if method.is_async {
        quote!(answer_later)
    } else {
        quote!(answer)
    };
    quote! {
        #wire => {
            static SIG: __rpc::Signature = __rpc::Signature {
                name: #wire,
                params: &[#(#params),*],
                rest_args: #rest_args,
                rest_kwargs: #rest_kwargs,
            };
            __rpc::#answer(
                __rpc_call,
                &SIG,
                |#call_param, #args_param| __rpc::Ok((#(#values,)*)),
                |(#(#names,)*)| Self::#ident(#receiver, #(#names),*),
                #reply,
            )
        }
    }
}
