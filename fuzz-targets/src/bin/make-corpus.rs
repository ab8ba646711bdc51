//! Writes the seed corpus of the fuzz targets into `fuzz/corpus/<target>/`.
//!
//! ```text
//! cargo run -p fuzz-targets --bin make-corpus
//! ```
//!
//! Existing files are kept (libFuzzer adds its own there); seeds are overwritten by name.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let vectors = std::fs::read_to_string(root.join("tests/data/vectors.json"))?;
    let seeds = fuzz_targets::seeds::all(&vectors);
    for s in &seeds {
        let dir = root.join("fuzz/corpus").join(s.target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(&s.name), &s.data)?;
    }
    println!("wrote {} seeds into fuzz/corpus/", seeds.len());
    Ok(())
}
