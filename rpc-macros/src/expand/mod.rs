//! Code generation. Runs only on input that passed the checks.

mod impl_;
mod proxy;
#[cfg(test)]
mod snapshot;
mod struct_;
mod trait_;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::{Item, Path};

use crate::ctxt::Ctxt;

/// `#[service]` on any item.
pub(crate) fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let krate = crate::attr::service_options(&mut cx, attr);
    let parsed: Item = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            cx.syn_error(e);
            return emit(cx, item);
        }
    };
    match parsed {
        Item::Struct(s) => struct_::expand(cx, s, &krate),
        Item::Impl(i) if i.trait_.is_some() => trait_::expand_impl(cx, i, &krate),
        Item::Impl(i) => impl_::expand(cx, i, &krate),
        Item::Trait(t) => trait_::expand(cx, t, &krate),
        other => {
            let at = match &other {
                Item::Enum(e) => e.enum_token.span(),
                Item::Fn(f) => f.sig.fn_token.span(),
                Item::Mod(m) => m.mod_token.span(),
                Item::Union(u) => u.union_token.span(),
                Item::Type(t) => t.type_token.span(),
                other => other.span(),
            };
            cx.error_at(
                at,
                "#[service] goes on a struct and on its impl block (`#[service] struct MyService { ... }` and `#[service] impl MyService { ... }`), or on a trait and its implementations (`#[service] trait MyApi { ... }` and `#[service] impl MyApi for MyService { ... }`)",
            );
            emit(cx, other.into_token_stream())
        }
    }
}

/// The first line of each `const _: () = { ... };` block of generated code: the alias through
/// which it names `__private` (as serde's derives name serde `_serde`), so that paths stay short
/// and hold nothing a user's names could shadow.
fn private(krate: &Path) -> TokenStream {
    quote!(use #krate::__private as __rpc;)
}

/// The traits that pick how a returned error becomes the error reply (see
/// `__private::ErrorProbe`), for a block with a method that returns `Result`.
fn error_probes() -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use __rpc::{ViaIntoCallError as _, ViaTypeNameDisplay as _};
    }
}

/// The user's item followed by the errors (so that one mistake does not cause more).
fn emit(cx: Ctxt, item: TokenStream) -> TokenStream {
    let errors = cx.into_compile_errors();
    quote! { #item #errors }
}

/// `#[expose]` or `#[sub_router]` used where no `#[service]` strips it.
pub(crate) fn misplaced(name: &str, attr: TokenStream, item: TokenStream) -> TokenStream {
    let message = match name {
        "expose" => "#[expose] works only inside a #[service] impl block: add #[service] to the impl block",
        _ => "#[sub_router] works only on a field of a #[service] struct: add #[service] to the struct",
    };
    // The call site of an attribute macro is the attribute itself.
    let _ = attr;
    let span = proc_macro2::Span::call_site();
    let error = syn::Error::new(span, message).to_compile_error();
    quote! { #error #item }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// `#[service(crate = "...")]` leaves no path to `rpc_core` in what it generates.
    #[test]
    fn the_crate_option_replaces_every_path_to_rpc_core() {
        let attr = quote!(crate = "::renamed::rpc");
        let structure = super::service(
            attr.clone(),
            quote! {
                struct Calc {
                    #[sub_router]
                    child: Child,
                }
            },
        );
        let methods = super::service(
            attr,
            quote! {
                impl Calc {
                    #[expose]
                    fn add(&self, a: i64, #[args] rest: Vec<i64>) -> Result<i64, E> { Ok(a) }
                    #[expose]
                    async fn later(&self, #[context] cx: C) {}
                }
            },
        );
        let interface = super::service(
            quote!(crate = "::renamed::rpc"),
            quote! {
                trait Api {
                    fn add(&self, a: i64, b: Option<i64>) -> i64;
                    async fn later(&self, #[context] cx: C);
                    #[sub_router]
                    fn child(&self) -> &impl Child;
                }
            },
        );
        let implementation = super::service(
            quote!(crate = "::renamed::rpc"),
            quote! {
                impl Api for Calc {
                    fn add(&self, a: i64, b: Option<i64>) -> i64 { a }
                }
            },
        );
        for out in [
            structure.to_string(),
            methods.to_string(),
            interface.to_string(),
            implementation.to_string(),
        ] {
            assert!(!out.contains("rpc_core"), "{out}");
            assert!(out.contains(":: renamed :: rpc :: __private"), "{out}");
        }
    }

    #[test]
    fn without_the_option_generated_code_names_rpc_core() {
        let out = super::service(
            quote!(),
            quote!(
                struct Calc;
            ),
        )
        .to_string();
        assert!(out.contains(":: rpc_core :: __private"), "{out}");
    }

    /// The helper attributes are recognised by their plain name and under the path that
    /// `crate = "..."` gives, and only there: `rpc_core::expose` names nothing when the
    /// dependency is renamed, so it is left for the compiler to report.
    #[test]
    fn helper_attributes_are_recognised_under_the_crate_path() {
        let out = super::service(
            quote!(crate = "::renamed::rpc"),
            quote! {
                impl Calc {
                    #[renamed::rpc::expose]
                    fn add(&self, #[::renamed::rpc::context] cx: C, a: i64) -> i64 { a }
                    #[rpc_core::expose]
                    fn other(&self) {}
                }
            },
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(!out.contains("renamed :: rpc :: expose"), "{out}");
        assert!(!out.contains("renamed :: rpc :: context"), "{out}");
        assert!(
            out.contains("EXPOSED : & 'static [& 'static str] = & [\"add\"]"),
            "{out}"
        );
        assert!(out.contains("# [rpc_core :: expose]"), "{out}");
    }
}
