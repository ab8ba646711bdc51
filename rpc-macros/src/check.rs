//! Rules across the parts of a `#[service]` impl block: receivers, parameters, wire names.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::{FnArg, GenericArgument, PathArguments, Type};

use crate::ast::{ArgKind, Method, Ret, ServiceImpl, ServiceStruct, ServiceTrait};
use crate::ctxt::Ctxt;

/// Checks a `#[service]` struct.
pub(crate) fn check_struct(cx: &mut Ctxt, service: &ServiceStruct) {
    let mut seen: HashMap<&str, &crate::ast::SubRouter> = HashMap::new();
    for sub in &service.sub_routers {
        if let Some(first) = seen.insert(&sub.wire, sub) {
            let msg = format!(
                "two sub-routers are named \"{}\": rename one with #[sub_router(name = \"...\")]",
                sub.wire
            );
            cx.error_at(first.wire_span, &msg);
            cx.error_at(sub.wire_span, &msg);
        }
    }
}

/// Checks a `#[service]` impl block.
pub(crate) fn check_impl(cx: &mut Ctxt, service: &ServiceImpl) {
    check_methods(cx, &service.methods);
}

/// Checks exposed methods, each on its own and for shared wire names.
fn check_methods(cx: &mut Ctxt, methods: &[Method]) {
    let mut seen: HashMap<&str, &Method> = HashMap::new();
    for method in methods {
        check_method(cx, method);
        if let Some(first) = seen.insert(&method.wire, method) {
            let msg = format!(
                "two exposed methods are named \"{}\": rename one with #[expose(name = \"...\")]",
                method.wire
            );
            cx.error_at(first.wire_span, &msg);
            cx.error_at(method.wire_span, &msg);
        }
    }
}

fn check_method(cx: &mut Ctxt, method: &Method) {
    let sig = &method.sig;
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) => {
            if r.reference.is_none() || r.mutability.is_some() || r.colon_token.is_some() {
                cx.error_spanned_by(
                    r,
                    "an exposed method takes `&self`: write `&self` and keep changing state behind interior mutability (a `Mutex` or an atomic)",
                );
            }
        }
        _ => cx.error_at(
            sig.ident.span(),
            "an exposed method needs a receiver: write `&self` as its first parameter",
        ),
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &sig.generics,
            "an exposed method cannot be generic: use concrete parameter types, such as `i64` or `Value`",
        );
    }
    if let Some(t) = &sig.constness {
        cx.error_spanned_by(t, "an exposed method cannot be `const`: remove `const`");
    }
    if let Some(t) = &sig.unsafety {
        cx.error_spanned_by(
            t,
            "an exposed method cannot be `unsafe`: remove `unsafe` and check inside the method",
        );
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "an exposed method uses the Rust ABI: remove `extern`");
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "an exposed method cannot be variadic: collect surplus arguments with `#[args] rest: Vec<Value>`");
    }

    let mut by_kind: HashMap<u8, Vec<&crate::ast::Arg>> = HashMap::new();
    for arg in &method.args {
        if arg.ident.is_none() {
            cx.error_spanned_by(
                &arg.pat,
                "write a plain name for this parameter: the name is also its keyword, so patterns cannot be used",
            );
        }
        if arg.kind != ArgKind::Context {
            check_arg_type(cx, &arg.ty);
        }
        let key = match arg.kind {
            ArgKind::Wire => continue,
            ArgKind::Context => 0,
            ArgKind::RestArgs => 1,
            ArgKind::RestKwargs => 2,
        };
        by_kind.entry(key).or_default().push(arg);
    }
    for (key, args) in by_kind {
        if args.len() < 2 {
            continue;
        }
        let msg = match key {
            0 => "only one parameter can be #[context]: remove the others",
            1 => {
                "only one parameter can collect the surplus positional arguments: keep one #[args]"
            }
            _ => "only one parameter can collect the surplus keyword arguments: keep one #[kwargs]",
        };
        for arg in args {
            cx.error_spanned_by(
                arg.kind_attr
                    .as_ref()
                    .expect("a kind comes from an attribute"),
                msg,
            );
        }
    }

    match &method.ret {
        Ret::Unit => {}
        Ret::Plain(ty) | Ret::Result { ok: ty, .. } => check_ret_type(cx, ty),
    }
}

/// Finds a reference or an `impl Trait` in a type, at any depth.
fn find_bad(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Reference(_) | Type::ImplTrait(_) => Some(ty),
        Type::Paren(p) => find_bad(&p.elem),
        Type::Group(g) => find_bad(&g.elem),
        Type::Array(a) => find_bad(&a.elem),
        Type::Slice(s) => find_bad(&s.elem),
        Type::Tuple(t) => t.elems.iter().find_map(find_bad),
        Type::Path(p) => p.path.segments.iter().find_map(|s| match &s.arguments {
            PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                GenericArgument::Type(t) => find_bad(t),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    }
}

fn check_arg_type(cx: &mut Ctxt, ty: &Type) {
    match find_bad(ty) {
        Some(bad @ Type::ImplTrait(_)) => cx.error_spanned_by(
            bad,
            "a parameter of an exposed method needs a concrete type: write a type such as `i64` or `Value` instead of `impl Trait`",
        ),
        Some(bad) => cx.error_spanned_by(
            bad,
            "arguments are decoded into owned values: use an owned type such as `String` or `Vec<u8>` instead of a reference",
        ),
        None => {}
    }
}

fn check_ret_type(cx: &mut Ctxt, ty: &Type) {
    match find_bad(ty) {
        Some(bad @ Type::ImplTrait(_)) => cx.error_spanned_by(
            bad,
            "an exposed method returns a concrete type: write a type such as `i64` or `Value` instead of `impl Trait`",
        ),
        Some(bad) => cx.error_spanned_by(
            bad,
            "an exposed method must return an owned value, which its typed proxy can return too: use an owned type such as `String` instead of a reference",
        ),
        None => {}
    }
}

/// Checks a `#[service]` trait: its methods as those of an impl block, and that methods and
/// sub-routers share no wire name (nor, for the proxy, a Rust name).
pub(crate) fn check_trait(cx: &mut Ctxt, service: &ServiceTrait) {
    check_methods(cx, &service.methods);
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for sub in &service.sub_routers {
        if let Some(first) = seen.insert(&sub.wire, sub.wire_span) {
            let msg = format!(
                "two sub-routers are named \"{}\": rename one with #[sub_router(name = \"...\")]",
                sub.wire
            );
            cx.error_at(first, &msg);
            cx.error_at(sub.wire_span, &msg);
        }
    }
    for method in &service.methods {
        if let Some(sub) = service.sub_routers.iter().find(|s| s.wire == method.wire) {
            let msg = format!(
                "an exposed method and a sub-router are both named \"{}\": rename one with #[expose(name = \"...\")] or #[sub_router(name = \"...\")]",
                method.wire
            );
            cx.error_at(method.wire_span, &msg);
            cx.error_at(sub.wire_span, &msg);
        }
    }
}
