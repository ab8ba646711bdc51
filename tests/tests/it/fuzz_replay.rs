//! The fuzz targets (`fuzz-targets/`), replayed on stable Rust so that they never rot: every
//! input of the committed seed corpus (`fuzz/corpus/<target>/`), then pseudo-random inputs
//! (mutated seeds and plain random bytes) through the same functions that cargo-fuzz runs.
//!
//! Inputs that crash rpc-core before a fix lands are kept in `fuzz/known-crashes/<target>/`,
//! which is not replayed here; once fixed they move into the corpus.

use std::path::{Path, PathBuf};

use fuzz_targets::{mutate, TARGETS};

/// Pseudo-random inputs per target beside the corpus.
const RANDOM_INPUTS: usize = 3000;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn replay(target: &str, seed: u64) {
    fuzz_targets::ignore_deliberate_panics();
    let seeds = corpus(target);
    assert!(
        seeds.len() >= 10,
        "{target}: the corpus has only {} inputs",
        seeds.len()
    );
    for (name, data) in &seeds {
        let run = std::panic::catch_unwind(|| fuzz_targets::run(target, data));
        assert!(run.is_ok(), "{target}: corpus input {name} fails");
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    for i in 0..RANDOM_INPUTS {
        let data = if i % 4 == 0 {
            (0..rng.usize(..64)).map(|_| rng.u8(..)).collect()
        } else {
            let (_, seed) = &seeds[rng.usize(..seeds.len())];
            mutate(&mut rng, seed)
        };
        let run = std::panic::catch_unwind(|| fuzz_targets::run(target, &data));
        assert!(run.is_ok(), "{target}: random input {i} fails: {data:02x?}");
    }
}

#[test]
fn frame_decoder_replays_corpus_and_random_chunkings() {
    replay("frame", 1);
}

#[test]
fn codecs_replay_corpus_and_random_payloads() {
    replay("codec", 2);
}

#[test]
fn channel_replays_corpus_and_random_byte_streams() {
    replay("channel", 3);
}

#[test]
fn dispatch_replays_corpus_and_random_requests() {
    replay("dispatch", 4);
}

#[test]
fn every_target_has_a_corpus_and_the_corpus_holds_every_seed() {
    let vectors =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/vectors.json"))
            .unwrap();
    for seed in fuzz_targets::seeds::all(&vectors) {
        let path = corpus_dir(seed.target).join(&seed.name);
        let stored = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `cargo run -p fuzz-targets --bin make-corpus`",
                path.display()
            )
        });
        assert_eq!(stored, seed.data, "{} is stale", path.display());
    }
    for target in TARGETS {
        assert!(corpus_dir(target).is_dir(), "no corpus for {target}");
    }
}
