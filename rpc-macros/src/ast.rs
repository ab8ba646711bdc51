//! The typed model of a `#[service]` item, built from syn with the helper attributes stripped.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, Ident, ImplItem, ItemImpl, ItemStruct, Pat, Path, PathArguments, ReturnType,
    Type, Visibility,
};

use crate::attr::{self, WireName};
use crate::ctxt::Ctxt;

/// `#[service]` on a struct.
pub(crate) struct ServiceStruct {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) sub_routers: Vec<SubRouter>,
}

/// A field marked `#[sub_router]`.
pub(crate) struct SubRouter {
    /// The field (and the proxy's accessor).
    pub(crate) ident: Ident,
    /// The path segment the peer uses.
    pub(crate) wire: String,
    /// Where the wire name comes from (the field name or the `name = "..."`).
    pub(crate) wire_span: Span,
    pub(crate) ty: Type,
}

/// `#[service]` on an impl block.
pub(crate) struct ServiceImpl {
    /// The type's path as written (`Calc`, `a::Calc`).
    pub(crate) self_path: Path,
    pub(crate) methods: Vec<Method>,
    /// The names of the methods without `#[expose]`.
    pub(crate) hidden: Vec<String>,
    /// The `impl` keyword, where a second impl block of the same service is reported.
    pub(crate) impl_span: Span,
}

/// An `#[expose]`d method.
pub(crate) struct Method {
    pub(crate) ident: Ident,
    pub(crate) wire: String,
    pub(crate) wire_span: Span,
    pub(crate) is_async: bool,
    pub(crate) sig: syn::Signature,
    /// The method's doc comments, for the typed proxy.
    pub(crate) docs: Vec<Attribute>,
    pub(crate) args: Vec<Arg>,
    pub(crate) ret: Ret,
}

/// A parameter of an exposed method (the receiver excluded).
pub(crate) struct Arg {
    /// The parameter's name, or `None` for a pattern.
    pub(crate) ident: Option<Ident>,
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
    pub(crate) kind: ArgKind,
    /// The attribute that set the kind, for errors.
    pub(crate) kind_attr: Option<Attribute>,
}

/// What a parameter receives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// A named argument, positional or by keyword.
    Wire,
    /// The call's context (`#[context]`), not on the wire.
    Context,
    /// The surplus positional arguments (`#[args]`).
    RestArgs,
    /// The surplus keyword arguments (`#[kwargs]`).
    RestKwargs,
}

/// How a method answers.
pub(crate) enum Ret {
    /// `()`: nil.
    Unit,
    /// `T`: the value.
    Plain(Box<Type>),
    /// `Result<T, E>`: the value or an error reply.
    Result { ok: Box<Type>, err: Box<Type> },
}

/// The last segment of a type path, if the type is a path.
pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The generic type arguments of the last segment of a type path.
fn type_args(ty: &Type) -> Vec<&Type> {
    match last_segment(ty).map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(a)) => a
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether the type is spelled `Option<...>` (such a parameter may be left out).
pub(crate) fn is_option(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Option")
}

/// An identifier without `r#`, as the wire knows it.
pub(crate) fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#")
        .map_or_else(|| s.clone(), str::to_owned)
}

/// Takes the helper attributes off `attrs`, handing each to `found`.
pub(crate) fn strip_helpers(
    attrs: &mut Vec<Attribute>,
    krate: &Path,
    mut found: impl FnMut(&Attribute),
) {
    attrs.retain(|a| {
        if attr::is_helper(a, krate) {
            found(a);
            false
        } else {
            true
        }
    });
}

impl ServiceStruct {
    /// Builds the model and strips the `#[sub_router]` attributes from `item`.
    pub(crate) fn from_syn(cx: &mut Ctxt, item: &mut ItemStruct, krate: &Path) -> Option<Self> {
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &item.generics,
                "a #[service] struct cannot be generic: use concrete types, or wrap a generic type in a concrete struct",
            );
        }
        let mut sub_routers = Vec::new();
        for (index, field) in item.fields.iter_mut().enumerate() {
            let mut found: Vec<Attribute> = Vec::new();
            strip_helpers(&mut field.attrs, krate, |a| found.push(a.clone()));
            let mut marked = None;
            for a in &found {
                if attr::is(a, "sub_router", krate) {
                    if marked.is_some() {
                        cx.error_spanned_by(a, "#[sub_router] is given twice: keep one");
                        continue;
                    }
                    marked = Some(attr::name_option(cx, a, "sub_router"));
                } else {
                    cx.error_spanned_by(
                        a,
                        "only #[sub_router] or #[sub_router(name = \"...\")] goes on a field of a #[service] struct",
                    );
                }
            }
            let Some(name) = marked else { continue };
            let Some(ident) = field.ident.clone() else {
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "a sub-router needs a field name: use a struct with named fields, such as `{{ child: Child }}` instead of field {index}"
                    ),
                );
                continue;
            };
            let (wire, wire_span) = match name {
                Some(WireName { value, span }) => (value, span),
                None => (unraw(&ident), ident.span()),
            };
            sub_routers.push(SubRouter {
                ident,
                wire,
                wire_span,
                ty: field.ty.clone(),
            });
        }
        Some(ServiceStruct {
            ident: item.ident.clone(),
            vis: item.vis.clone(),
            sub_routers,
        })
    }
}

impl ServiceImpl {
    /// Builds the model and strips the helper attributes from `item`.
    pub(crate) fn from_syn(cx: &mut Ctxt, item: &mut ItemImpl, krate: &Path) -> Option<Self> {
        let mut ok = true;
        if let Some((_, path, _)) = &item.trait_ {
            cx.error_spanned_by(
                path,
                "#[service] goes on an inherent impl block: write `impl Type { ... }`, not a trait impl",
            );
        }
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &item.generics,
                "a #[service] impl block cannot be generic: implement a concrete type",
            );
            ok = false;
        }
        let self_path = match &*item.self_ty {
            Type::Path(p)
                if p.qself.is_none()
                    && p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.arguments.is_none()) =>
            {
                Some(p.path.clone())
            }
            other => {
                cx.error_spanned_by(
                    other,
                    "#[service] needs a plain type name here: write `impl MyService { ... }`",
                );
                ok = false;
                None
            }
        };
        let mut methods = Vec::new();
        let mut hidden = Vec::new();
        for impl_item in &mut item.items {
            let mut found: Vec<Attribute> = Vec::new();
            let attrs = match impl_item {
                ImplItem::Fn(f) => &mut f.attrs,
                ImplItem::Const(c) => &mut c.attrs,
                ImplItem::Type(t) => &mut t.attrs,
                ImplItem::Macro(m) => &mut m.attrs,
                _ => continue,
            };
            strip_helpers(attrs, krate, |a| found.push(a.clone()));
            let f = match impl_item {
                ImplItem::Fn(f) => f,
                _ => {
                    for a in &found {
                        cx.error_spanned_by(a, "#[expose] goes on a method: write it above `fn`");
                    }
                    continue;
                }
            };
            let mut expose: Option<Option<WireName>> = None;
            for a in &found {
                if attr::is(a, "expose", krate) {
                    if expose.is_some() {
                        cx.error_spanned_by(a, "#[expose] is given twice: keep one");
                        continue;
                    }
                    expose = Some(attr::name_option(cx, a, "expose"));
                } else {
                    cx.error_spanned_by(
                        a,
                        "this attribute goes on a field of a #[service] struct, not on a method",
                    );
                }
            }
            let Some(name) = expose else {
                // Not exposed: strip parameter attributes, but they mean nothing here.
                for input in &mut f.sig.inputs {
                    if let FnArg::Typed(pt) = input {
                        strip_helpers(&mut pt.attrs, krate, |a| {
                            cx.error_spanned_by(a, "this parameter attribute only works on an #[expose] method: add #[expose] to the method");
                        });
                    }
                }
                hidden.push(unraw(&f.sig.ident));
                continue;
            };
            let (wire, wire_span) = match name {
                Some(WireName { value, span }) => (value, span),
                None => (unraw(&f.sig.ident), f.sig.ident.span()),
            };
            methods.push(Method::from_sig(
                cx, &mut f.sig, &f.attrs, wire, wire_span, krate,
            ));
        }
        let self_path = self_path?;
        if !ok {
            return None;
        }
        Some(ServiceImpl {
            self_path,
            methods,
            hidden,
            impl_span: item.impl_token.span,
        })
    }
}

impl Method {
    /// Builds the model of one exposed method and strips the parameter attributes from `sig`.
    pub(crate) fn from_sig(
        cx: &mut Ctxt,
        sig: &mut syn::Signature,
        attrs: &[Attribute],
        wire: String,
        wire_span: Span,
        krate: &Path,
    ) -> Method {
        let mut args = Vec::new();
        for input in &mut sig.inputs {
            let FnArg::Typed(pt) = input else { continue };
            let mut found: Vec<Attribute> = Vec::new();
            strip_helpers(&mut pt.attrs, krate, |a| found.push(a.clone()));
            let mut kind = ArgKind::Wire;
            let mut kind_attr: Option<Attribute> = None;
            for a in found {
                let (k, what) = if attr::is(&a, "context", krate) {
                    (ArgKind::Context, "context")
                } else if attr::is(&a, "args", krate) {
                    (ArgKind::RestArgs, "args")
                } else if attr::is(&a, "kwargs", krate) {
                    (ArgKind::RestKwargs, "kwargs")
                } else {
                    cx.error_spanned_by(
                        &a,
                        "only #[context], #[args] or #[kwargs] goes on a parameter",
                    );
                    continue;
                };
                attr::no_options(cx, &a, what);
                if let Some(prev) = &kind_attr {
                    cx.error_spanned_by(
                        &a,
                        format!(
                            "a parameter takes one of #[context], #[args] and #[kwargs]: remove this one or {}",
                            quote::quote!(#prev)
                        ),
                    );
                    continue;
                }
                kind = k;
                kind_attr = Some(a);
            }
            let ident = match &*pt.pat {
                Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => Some(p.ident.clone()),
                _ => None,
            };
            args.push(Arg {
                ident,
                pat: (*pt.pat).clone(),
                ty: (*pt.ty).clone(),
                kind,
                kind_attr,
            });
        }
        let ret = match &sig.output {
            ReturnType::Default => Ret::Unit,
            ReturnType::Type(_, ty) => match &**ty {
                Type::Tuple(t) if t.elems.is_empty() => Ret::Unit,
                ty if last_segment(ty).is_some_and(|s| s.ident == "Result") => {
                    let targs = type_args(ty);
                    if targs.len() == 2 {
                        Ret::Result {
                            ok: Box::new(targs[0].clone()),
                            err: Box::new(targs[1].clone()),
                        }
                    } else {
                        cx.error_spanned_by(
                            ty,
                            "write the error type out, as in `Result<T, MyError>`, so that its kind can reach the caller",
                        );
                        Ret::Plain(Box::new(ty.clone()))
                    }
                }
                ty => Ret::Plain(Box::new(ty.clone())),
            },
        };
        Method {
            ident: sig.ident.clone(),
            wire,
            wire_span,
            is_async: sig.asyncness.is_some(),
            sig: sig.clone(),
            docs: attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect(),
            args,
            ret,
        }
    }
}

impl Method {
    /// The parameters that travel on the wire, in order.
    pub(crate) fn wire_args(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|a| a.kind == ArgKind::Wire)
    }
}

/// `#[service]` on a trait: an interface that a typed proxy calls and a Rust type implements.
pub(crate) struct ServiceTrait {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) methods: Vec<Method>,
    pub(crate) sub_routers: Vec<TraitSubRouter>,
}

/// A `#[sub_router] fn child(&self) -> &impl ChildTrait;` of a `#[service]` trait.
pub(crate) struct TraitSubRouter {
    /// The method (also the proxy's accessor).
    pub(crate) ident: Ident,
    pub(crate) wire: String,
    pub(crate) wire_span: Span,
    /// The returned type, where a child that is not a service is reported.
    pub(crate) ret_span: Span,
    pub(crate) child: ChildProxy,
}

/// Where the typed proxy of a sub-router comes from.
pub(crate) enum ChildProxy {
    /// `-> &impl ChildTrait`: `ChildTraitProxy`, of another `#[service]` trait.
    Trait(Path),
    /// `-> &Child`: `<Child as TypedService>::Proxy`.
    Type(Type),
}

impl ServiceTrait {
    /// Builds the model and strips the helper attributes from `item`.
    pub(crate) fn from_syn(cx: &mut Ctxt, item: &mut syn::ItemTrait, krate: &Path) -> Option<Self> {
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &item.generics,
                "a #[service] trait cannot be generic: use concrete types in its methods",
            );
        }
        let mut methods = Vec::new();
        let mut sub_routers = Vec::new();
        for trait_item in &mut item.items {
            let mut found: Vec<Attribute> = Vec::new();
            let f = match trait_item {
                syn::TraitItem::Fn(f) => f,
                other => {
                    cx.error_spanned_by(
                        &*other,
                        "a #[service] trait holds only methods: move this item to another trait or to the implementing type",
                    );
                    continue;
                }
            };
            strip_helpers(&mut f.attrs, krate, |a| found.push(a.clone()));
            if let Some(body) = &f.default {
                cx.error_spanned_by(
                    body,
                    "a method of a #[service] trait has no body here: write `;` and implement it in `#[service] impl Trait for Type`",
                );
            }
            let mut expose: Option<Option<WireName>> = None;
            let mut sub: Option<Option<WireName>> = None;
            for a in &found {
                let slot = if attr::is(a, "expose", krate) {
                    &mut expose
                } else if attr::is(a, "sub_router", krate) {
                    &mut sub
                } else {
                    cx.error_spanned_by(
                        a,
                        "only #[expose(name = \"...\")] or #[sub_router] goes on a method of a #[service] trait",
                    );
                    continue;
                };
                if slot.is_some() {
                    cx.error_spanned_by(a, "this attribute is given twice: keep one");
                    continue;
                }
                let what = if attr::is(a, "expose", krate) {
                    "expose"
                } else {
                    "sub_router"
                };
                *slot = Some(attr::name_option(cx, a, what));
            }
            if let (Some(_), Some(_)) = (&expose, &sub) {
                cx.error_at(
                    f.sig.ident.span(),
                    "a method is either exposed or a sub-router: remove #[expose] or #[sub_router]",
                );
                continue;
            }
            if let Some(name) = sub {
                if let Some(s) = TraitSubRouter::from_sig(cx, &f.sig, name) {
                    sub_routers.push(s);
                }
                continue;
            }
            let (wire, wire_span) = match expose.flatten() {
                Some(WireName { value, span }) => (value, span),
                None => (unraw(&f.sig.ident), f.sig.ident.span()),
            };
            methods.push(Method::from_sig(
                cx, &mut f.sig, &f.attrs, wire, wire_span, krate,
            ));
        }
        Some(ServiceTrait {
            ident: item.ident.clone(),
            vis: item.vis.clone(),
            methods,
            sub_routers,
        })
    }
}

impl TraitSubRouter {
    fn from_sig(cx: &mut Ctxt, sig: &syn::Signature, name: Option<WireName>) -> Option<Self> {
        const SHAPE: &str = "a sub-router of a #[service] trait is written `fn child(&self) -> &impl ChildTrait;` (or `-> &ChildService`)";
        let receiver_ok = sig.inputs.len() == 1
            && matches!(sig.inputs.first(), Some(FnArg::Receiver(r))
                if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none());
        if !receiver_ok || sig.asyncness.is_some() || !sig.generics.params.is_empty() {
            cx.error_spanned_by(sig, SHAPE);
            return None;
        }
        let ReturnType::Type(_, ty) = &sig.output else {
            cx.error_spanned_by(sig, SHAPE);
            return None;
        };
        let child = match &**ty {
            Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
                Type::ImplTrait(it) => {
                    let paths: Vec<&Path> = it
                        .bounds
                        .iter()
                        .filter_map(|b| match b {
                            syn::TypeParamBound::Trait(t) => Some(&t.path),
                            _ => None,
                        })
                        .collect();
                    if paths.len() != 1 {
                        cx.error_spanned_by(
                            it,
                            "name one #[service] trait here, as in `&impl ChildTrait`",
                        );
                        return None;
                    }
                    ChildProxy::Trait(paths[0].clone())
                }
                other => ChildProxy::Type(other.clone()),
            },
            other => {
                cx.error_spanned_by(other, SHAPE);
                return None;
            }
        };
        let (wire, wire_span) = match name {
            Some(WireName { value, span }) => (value, span),
            None => (unraw(&sig.ident), sig.ident.span()),
        };
        Some(TraitSubRouter {
            ident: sig.ident.clone(),
            wire,
            wire_span,
            ret_span: ty.span(),
            child,
        })
    }
}
