//! The bodies of rpc-core's fuzz targets, as ordinary library code.
//!
//! Each target is a function `fn(&[u8])` that panics when rpc-core misbehaves on the input and
//! returns quietly otherwise (an error from rpc-core is an answer, not a failure). Two callers
//! share them:
//!
//! - the cargo-fuzz crate in `fuzz/` (outside the workspace, nightly), run by `scripts/fuzz.sh`;
//! - the stable test `tests/tests/it/fuzz_replay.rs`, which replays the committed seed corpus
//!   (`fuzz/corpus/<target>/`) and a few thousand pseudo-random inputs on every test run.
//!
//! | target | what it drives | what must hold |
//! |---|---|---|
//! | [`frame`] | [`FrameDecoder`](rpc_core::wire::frame::FrameDecoder), fed the input in arbitrary chunks | the same frames as when fed at once; nothing over the limit |
//! | [`codec`] | [`Codec::decode_message`](rpc_core::Codec::decode_message) and [`Codec::decode`](rpc_core::Codec::decode)`::<Value>`, MsgPack, JSON and MsgPackBlosc (c-blosc's decompression with it) | no panic; what decodes encodes again to bytes that decode to the same bytes |
//! | [`channel`] | a served [`Connection`](rpc_core::Connection) over `tokio::io::duplex`, the input written raw and split | it answers a good request afterwards, or it has closed; it never hangs |
//! | [`dispatch`] | requests built from the input, into a `#[service]` with many signatures | exactly one well-formed reply per request, the right one where it is known |
//!
//! The input of each target starts with a few option bytes (codec, limits, chunking); the
//! [`seeds`] module writes well-formed inputs for the corpus.

pub mod channel;
pub mod codec;
pub mod dispatch;
pub mod frame;
mod live;
pub mod seeds;
mod service;

/// The names of the targets, as the directories of `fuzz/corpus/` and the binaries of `fuzz/`.
pub const TARGETS: [&str; 4] = ["frame", "codec", "channel", "dispatch"];

/// Runs the target named `name` on `data`.
///
/// # Panics
/// When the target finds a failure, and on an unknown name.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "frame" => frame::run(data),
        "codec" => codec::run(data),
        "channel" => channel::run(data),
        "dispatch" => dispatch::run(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

/// The message of the panic that the fuzzed service raises on purpose (`boom(13)`): rpc-core
/// answers it as `Panic: ...`, so it is not a failure.
pub const DELIBERATE_PANIC: &str = "fuzz: deliberate panic";

/// Installs a panic hook that stays silent on [`DELIBERATE_PANIC`] and passes every other panic
/// to the hook installed before (libFuzzer's, which aborts; or the default, which prints).
///
/// Call it once, before the first input.
pub fn ignore_deliberate_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        if message != Some(DELIBERATE_PANIC) {
            previous(info);
        }
    }));
}

/// Cuts `data` into consecutive chunks whose sizes come from `seed`: mostly small (1 to 16
/// bytes, so that headers split), sometimes empty, sometimes everything that is left.
pub fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut rng = fastrand::Rng::with_seed(u64::from(seed));
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = match rng.usize(..8) {
            0 => 0,
            1 => rest.len(),
            _ => rng.usize(1..=16),
        }
        .min(rest.len());
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
    }
    out
}

/// A copy of `seed` with one to four random edits (flip, truncate, insert, remove, splice a
/// large length): what the replay test, and the tests crate's hostile-input suite, feed beside
/// well-formed inputs. Deterministic for a seeded `rng`.
pub fn mutate(rng: &mut fastrand::Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.usize(1..=4) {
        match rng.usize(..6) {
            0 if !v.is_empty() => {
                let i = rng.usize(..v.len());
                v[i] = rng.u8(..);
            }
            1 if !v.is_empty() => {
                let i = rng.usize(..v.len());
                v.truncate(i.max(2));
            }
            2 => {
                let i = rng.usize(..=v.len());
                v.insert(i, rng.u8(..));
            }
            3 if v.len() > 2 => {
                let i = rng.usize(..v.len());
                v.remove(i);
            }
            4 if !v.is_empty() => {
                let i = rng.usize(..v.len());
                v[i] ^= 1 << rng.u32(..8);
            }
            _ => {
                let i = rng.usize(..=v.len());
                let b = [0xdd, 0xdf, 0xc6, 0xdb, 0x00, 0x00, 0x10, 0x00];
                v.splice(i..i, b[..rng.usize(1..=b.len())].iter().copied());
            }
        }
    }
    v
}
