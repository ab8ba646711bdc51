//! rpc-core's modules import downward only: each module may use the modules listed before it in
//! the layer table of the crate docs (`rpc-core/src/lib.rs`, "# The layers"), and nothing after
//! it. This test reads the sources, so the table cannot drift from what the code does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rpc-core/src")
}

/// The top-level modules in the order of the crate docs' layer table.
fn layer_table(lib: &str) -> Vec<String> {
    let mut in_section = false;
    let mut order = Vec::new();
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with("# ") {
            in_section = doc == "# The layers";
            continue;
        }
        if !in_section || !doc.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = doc.split('|').map(str::trim).collect();
        // | layer | module | what |
        if cells.len() < 4 || cells[1].parse::<u32>().is_err() {
            continue;
        }
        let name: String = cells[2]
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        order.push(name);
    }
    order
}

/// Names that lib.rs re-exports at the crate root, and the module each comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let text: String = lib
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for stmt in text.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use crate::") else {
            continue;
        };
        let module: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        for name in rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|n| !n.is_empty())
        {
            map.insert(name.to_owned(), module.clone());
        }
    }
    map
}

/// The source files under `dir`, with their module path (`["channel", "reader"]`).
fn sources(dir: &Path, prefix: &[String], out: &mut Vec<(Vec<String>, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("rpc-core/src is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_owned();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            sources(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut p = prefix.to_vec();
            if name != "mod" && !(prefix.is_empty() && name == "lib") {
                p.push(name);
            }
            out.push((p, path));
        }
    }
}

/// A line without its `//` comment (one outside a string literal).
fn strip_comment(line: &str) -> &str {
    let mut quotes = 0;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quotes += 1,
            b'/' if quotes % 2 == 0 && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The crate-level modules a file names, through `crate::x` or `super::...::x` paths (code only;
/// comments are skipped).
fn imported_roots(
    module: &[String],
    text: &str,
    reexports: &BTreeMap<String, String>,
) -> Vec<String> {
    let code: String = text
        .lines()
        .map(strip_comment)
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    let resolve = |first: &str| -> String {
        reexports
            .get(first)
            .cloned()
            .unwrap_or_else(|| first.to_owned())
    };
    // `crate::x`, and the names of `crate::{x, y::z}` groups.
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let body = &group[..group.find('}').unwrap_or(group.len())];
            for item in body.split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    found.push(resolve(&name));
                }
            }
        } else {
            found.push(resolve(&ident(rest)));
        }
    }
    // `super::` chains that climb to the crate root.
    for (i, _) in code.match_indices("super::") {
        if i >= "super::".len() && code[..i].ends_with("super::") {
            continue; // counted from the first `super` of the chain
        }
        let mut rest = &code[i..];
        let mut depth = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            depth += 1;
            rest = r;
        }
        if depth >= module.len() {
            found.push(resolve(&ident(rest)));
        }
    }
    found
}

#[test]
fn rpc_core_modules_import_only_from_layers_below() {
    let dir = src_dir();
    let lib = std::fs::read_to_string(dir.join("lib.rs")).expect("lib.rs");
    let order = layer_table(&lib);
    assert!(
        order.len() >= 5,
        "the crate docs of rpc-core should list its layers in a table under \"# The layers\", got {order:?}"
    );
    let rank = |m: &str| order.iter().position(|o| o == m);
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    sources(&dir, &[], &mut files);

    let mut problems = Vec::new();
    for (module, path) in &files {
        let Some(top) = module.first() else {
            continue; // lib.rs: it only declares and re-exports
        };
        let Some(own) = rank(top) else {
            problems.push(format!(
                "module `{top}` ({}) is missing from the layer table of rpc-core's crate docs",
                path.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(path).expect("a source file");
        for target in imported_roots(module, &text, &reexports) {
            if &target == top {
                continue;
            }
            match rank(&target) {
                Some(r) if r <= own => {}
                Some(_) => problems.push(format!(
                    "{} (layer `{top}`) imports `{target}`, a layer above it",
                    path.display()
                )),
                None if target.chars().next().is_some_and(char::is_lowercase) => {
                    problems.push(format!(
                        "{} imports `crate::{target}`, which is not in the layer table",
                        path.display()
                    ))
                }
                None => problems.push(format!(
                    "{} names `crate::{target}`, which lib.rs does not re-export from a module",
                    path.display()
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "upward imports:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_layer_check_finds_an_upward_import() {
    let reexports = BTreeMap::from([("Router".to_owned(), "service".to_owned())]);
    let channel = vec!["channel".to_owned(), "reader".to_owned()];
    assert_eq!(
        imported_roots(&channel, "use crate::service::Router;", &reexports),
        ["service"]
    );
    assert_eq!(
        imported_roots(&channel, "use crate::{wire::Value, Router};", &reexports),
        ["wire", "service"]
    );
    assert_eq!(
        imported_roots(&channel, "use super::super::net::Addr;", &reexports),
        ["net"]
    );
    assert!(imported_roots(&channel, "use super::Shared; // crate::net", &reexports).is_empty());
    assert!(imported_roots(&channel, "// use crate::net::Addr;", &reexports).is_empty());
    let table = "//! # The layers\n//!\n//! | layer | module | what |\n//! |---|---|---|\n//! | 1 | [`wire`] | x |\n//! | 2 | `error` | y |\n//! # Next\n//! | 3 | `no` | z |";
    assert_eq!(layer_table(table), ["wire", "error"]);
}
