//! The expansion snapshot: `tests/expand/service.rs` (a representative service, in the struct
//! form and the trait form) expanded by [`super::service`] and printed with prettyplease must
//! equal `tests/expand/service.expanded.rs`, so that every change to the generated code shows
//! in review as a diff of that file.
//!
//! After a deliberate change, rewrite the snapshot and read its diff:
//!
//! ```text
//! UPDATE_EXPAND=1 cargo test -p rpc-macros expansion_matches_the_snapshot
//! git diff rpc-macros/tests/expand/
//! ```
//!
//! `tests/tests/it/service_expand.rs` (in the `tests` crate) compiles the same input and calls it,
//! so that the snapshot is of code that builds and serves.

use std::path::Path;

use quote::ToTokens;
use syn::{Attribute, Item, Meta};

const INPUT: &str = "tests/expand/service.rs";
const EXPANDED: &str = "tests/expand/service.expanded.rs";

/// The header of the snapshot, which says where it comes from.
const HEADER: &str = "\
// The expansion of tests/expand/service.rs, printed by prettyplease: written by
// `UPDATE_EXPAND=1 cargo test -p rpc-macros expansion_matches_the_snapshot`
// (src/expand/snapshot.rs). Not compiled; review its diff.

";

/// Takes `#[service]` or `#[service(...)]` off `attrs`; returns its arguments if it was there.
fn take_service_attr(attrs: &mut Vec<Attribute>) -> Option<proc_macro2::TokenStream> {
    let at = attrs.iter().position(|a| {
        let path = a.path();
        path.is_ident("service")
            || (path.segments.len() == 2
                && path.segments[0].ident == "rpc_core"
                && path.segments[1].ident == "service")
    })?;
    Some(match attrs.remove(at).meta {
        Meta::List(list) => list.tokens,
        _ => proc_macro2::TokenStream::new(),
    })
}

/// Every `#[service]` item of `source` replaced by its expansion, printed.
pub(crate) fn expand_file(source: &str) -> String {
    let file: syn::File = syn::parse_file(source).expect("the snapshot input parses");
    let mut items = Vec::new();
    for mut item in file.items {
        let attrs = match &mut item {
            Item::Struct(i) => Some(&mut i.attrs),
            Item::Impl(i) => Some(&mut i.attrs),
            Item::Trait(i) => Some(&mut i.attrs),
            _ => None,
        };
        match attrs.and_then(take_service_attr) {
            Some(args) => {
                let expanded = super::service(args, item.into_token_stream());
                let expanded: syn::File =
                    syn::parse2(expanded).expect("the expansion parses as items");
                items.extend(expanded.items);
            }
            None => items.push(item),
        }
    }
    let out = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    };
    format!("{HEADER}{}", prettyplease::unparse(&out))
}

#[test]
fn expansion_matches_the_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(dir.join(INPUT)).expect("the snapshot input exists");
    let actual = expand_file(&source);
    let path = dir.join(EXPANDED);
    if std::env::var_os("UPDATE_EXPAND").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &actual).expect("the snapshot can be written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "the expansion of {INPUT} differs from {EXPANDED} from line {} on \
             ({} lines now, {} in the snapshot).\n\
             If the change is meant, rewrite the snapshot with \
             `UPDATE_EXPAND=1 cargo test -p rpc-macros expansion_matches_the_snapshot` \
             and review `git diff rpc-macros/tests/expand/`.\n\
             now:      {:?}\nsnapshot: {:?}",
            line + 1,
            actual.lines().count(),
            expected.lines().count(),
            actual.lines().nth(line).unwrap_or(""),
            expected.lines().nth(line).unwrap_or(""),
        );
    }
}
