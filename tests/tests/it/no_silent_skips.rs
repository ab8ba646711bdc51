//! No test passes by returning early because a tool is missing.
//!
//! A test that looks for `python3` (or any program), finds none, prints "skipping" and returns
//! passes on exactly the machine where it checks nothing. The one sanctioned way to skip is the
//! harness's loud opt-out: `tests::python::python()` (and rpc-mosaik's copy of it) fails the test
//! when there is no Python, unless `RPC_SKIP_PYTHON=1` asks to skip.
//!
//! This suite reads the test sources of the whole workspace (every file under a `tests/`
//! directory, the tests crate's `src/`, and the `#[cfg(test)]` part of every other source file)
//! and fails on an early `return` that comes within a few lines of a tool being looked for or
//! run (`Command::new`, `.spawn()`, `which`) or of words that announce a skip ("skip",
//! "not installed", "cannot be run", ...), unless those lines name `RPC_SKIP_PYTHON` or the
//! return is the `let Some(py) = python() else { return }` of the harness. It is a reading
//! check, not a proof: it catches the pattern as it is usually written.

use std::path::{Path, PathBuf};

use tests::python::workspace;

/// How many lines before an early return are looked at.
const WINDOW: usize = 8;

/// Words (lower case) on a line that looks for a tool or announces a skip.
const PROBES: &[&str] = &[
    "command::new",
    ".spawn()",
    "which(",
    "\"which\"",
    "skip",
    "not installed",
    "cannot be run",
    "can't be run",
    "not found",
    "unavailable",
    "no such file",
];

/// Whether `line` returns early: a `return` keyword (`return;`, `=> return,`, `else { return }`,
/// `return Ok(());`, `return None;`).
fn returns_early(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("return").any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + "return".len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Whether `line` looks for a tool or announces a skip (comment lines do neither).
fn probes(line: &str) -> bool {
    if line.trim_start().starts_with("//") {
        return false;
    }
    let lower = line.to_lowercase();
    PROBES.iter().any(|p| lower.contains(p))
}

/// The early returns in `text` that follow a tool probe, as `line: text`.
fn offences(text: &str) -> Vec<String> {
    let lines = code_lines(text);
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !returns_early(line) {
            continue;
        }
        let window = &lines[i.saturating_sub(WINDOW)..=i];
        // The harness's loud opt-out: it fails unless RPC_SKIP_PYTHON asks to skip.
        let sanctioned = window.iter().any(|l| l.contains("RPC_SKIP_PYTHON"))
            || lines[i.saturating_sub(1)..=i]
                .iter()
                .any(|l| l.contains("python() else"));
        if !sanctioned && window.iter().any(|l| probes(l)) {
            found.push(format!("{}: {}", i + 1, line.trim()));
        }
    }
    found
}

/// The lines of `text`, with the contents of raw string literals (scripts in other languages,
/// whose `return` is not Rust's) blanked.
fn code_lines(text: &str) -> Vec<&str> {
    let mut in_raw = false;
    text.lines()
        .map(|line| {
            if in_raw {
                in_raw = !line.contains("\"#");
                return "";
            }
            if let Some(at) = line.find("r#\"") {
                in_raw = !line[at + 3..].contains("\"#");
            }
            line
        })
        .collect()
}

/// The test part of a source file: all of it under a `tests/` directory or in the tests crate,
/// else what follows its first `#[cfg(test)]`.
fn test_part(root: &Path, path: &Path, text: &str) -> Option<String> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let in_tests = rel.components().any(|c| c.as_os_str() == "tests");
    if in_tests {
        return Some(text.to_owned());
    }
    text.find("#[cfg(test)]").map(|at| text[at..].to_owned())
}

/// Every `.rs` file of the workspace, outside build output and fuzzing corpora.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | "corpus" | "artifacts") && !name.starts_with('.')
            {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_test_returns_early_on_a_missing_tool() {
    let root = workspace();
    let mut files = Vec::new();
    sources(&root, &mut files);
    let me = Path::new(file!()).file_name().expect("a file name");
    let mut scanned = 0;
    let mut all = Vec::new();
    for path in &files {
        if path.file_name() == Some(me) {
            continue;
        }
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let Some(part) = test_part(&root, path, &text) else {
            continue;
        };
        scanned += 1;
        for o in offences(&part) {
            all.push(format!("{}:{o}", path.display()));
        }
    }
    // Not vacuous: the workspace has dozens of test sources.
    assert!(
        scanned >= 30,
        "only {scanned} test sources found under {}",
        root.display()
    );
    assert!(
        all.is_empty(),
        "tests that return early when a tool is missing (fail instead, or use the harness's \
         tests::python::python(), which fails unless RPC_SKIP_PYTHON=1):\n{}",
        all.join("\n")
    );
}

/// The check catches the pattern the JSON cross-checks used to have, and lets the harness's
/// opt-out and ordinary returns through.
#[test]
fn the_check_tells_a_silent_skip_from_the_harness() {
    let silent = r#"
fn run_python(script: &str) -> Option<String> {
    let mut child = match Command::new("python3").arg("-c").arg(script).spawn() {
        Ok(child) => child,
        Err(e) => {
            println!("skipping the Python cross-check: python3 cannot be run ({e})");
            return None;
        }
    };
"#;
    assert_eq!(offences(silent).len(), 1, "{silent}");
    let which = "if which::which(\"cargo-fuzz\").is_err() {\n    return;\n}\n";
    assert_eq!(offences(which).len(), 1);
    let harness =
        "let Some(py) = python() else { return };\nlet p = Proc::python(&py, \"x.py\", &[]);\n";
    assert!(offences(harness).is_empty());
    let opt_out =
        "if skip {\n    eprintln!(\"RPC_SKIP_PYTHON is set: skipped\");\n    return None;\n}\n";
    assert!(offences(opt_out).is_empty());
    let ordinary = "fn f(x: u8) -> u8 {\n    if x > 3 {\n        return 3;\n    }\n    x\n}\n";
    let commented = "// Replies to junk we skip.\nif let Ok(m) = m {\n    return Some(m);\n}\n";
    assert!(offences(commented).is_empty());
    assert!(offences(ordinary).is_empty());
    assert!(!returns_early("let returned = 1; // return early"));
}
