//! The seed corpus: well-formed inputs for each target, from the aiomas frames captured in
//! `tests/data/vectors.json` and from a few hand-made requests. `make-corpus` writes them into
//! `fuzz/corpus/<target>/`.

use rpc_core::wire::codec::MessageKind;
use rpc_core::{Codec, Value};
use serde::Deserialize;

use crate::service::{KEYS, PATHS};

#[derive(Deserialize)]
struct Vectors {
    scenarios: Vec<Scenario>,
}

#[derive(Deserialize)]
struct Scenario {
    name: String,
    codec: String,
    frames: Vec<Frame>,
}

#[derive(Deserialize)]
struct Frame {
    dir: String,
    #[serde(default)]
    hex: Option<String>,
}

/// One seed: the target it is for, a file name, the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// One of [`TARGETS`](crate::TARGETS).
    pub target: &'static str,
    /// The file name in `fuzz/corpus/<target>/`.
    pub name: String,
    /// The input.
    pub data: Vec<u8>,
}

fn seed(target: &'static str, name: impl Into<String>, data: Vec<u8>) -> Seed {
    Seed {
        target,
        name: name.into(),
        data,
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// Every seed: from the captured frames of `vectors_json` (the text of `tests/data/vectors.json`)
/// and hand-made.
///
/// # Panics
/// When `vectors_json` is not the captured vectors.
pub fn all(vectors_json: &str) -> Vec<Seed> {
    let mut out = captured(vectors_json);
    out.extend(frames());
    out.extend(codecs());
    out.extend(channels());
    out.extend(dispatches());
    out
}

fn captured(vectors_json: &str) -> Vec<Seed> {
    let vectors: Vectors = serde_json::from_str(vectors_json).expect("tests/data/vectors.json");
    let mut out = Vec::new();
    for (n, s) in vectors.scenarios.iter().enumerate() {
        let codec_bit = u8::from(s.codec.eq_ignore_ascii_case("json"));
        let mut all = Vec::new();
        let mut c2s = Vec::new();
        for (i, f) in s.frames.iter().enumerate() {
            let Some(hex) = f.hex.as_deref().filter(|h| !h.is_empty()) else {
                continue;
            };
            let bytes = unhex(hex);
            all.extend_from_slice(&bytes);
            if f.dir == "c2s" {
                c2s.extend_from_slice(&bytes);
            }
            // The payload, with a custom type registered so that envelopes decode.
            let mut data = vec![codec_bit | 2];
            data.extend_from_slice(&bytes[4..]);
            out.push(seed("codec", format!("{}-{i}-{}", s.name, f.dir), data));
        }
        let mut data = vec![6, n as u8];
        data.extend_from_slice(&all);
        out.push(seed("frame", &s.name, data));
        let mut data = vec![codec_bit | (1 << 2), n as u8];
        data.extend_from_slice(&c2s);
        out.push(seed("channel", &s.name, data));
    }
    out
}

fn frames() -> Vec<Seed> {
    let cases: [(&str, u8, &[u8]); 9] = [
        ("empty", 6, b""),
        ("header-only", 6, &[0, 0, 0, 5]),
        ("half-header", 6, &[0, 0]),
        (
            "zero-length-frames",
            3,
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7],
        ),
        ("announces-16mib", 6, &[1, 0, 0, 0, 1]),
        ("announces-4gib", 6, &[0xff, 0xff, 0xff, 0xff]),
        (
            "over-small-limit",
            2,
            &[0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        ),
        ("at-small-limit", 2, &[0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]),
        ("truncated-payload", 4, &[0, 0, 0, 4, 1, 2]),
    ];
    cases
        .iter()
        .enumerate()
        .map(|(i, (name, limit, bytes))| {
            let mut data = vec![*limit, i as u8];
            data.extend_from_slice(bytes);
            seed("frame", *name, data)
        })
        .collect()
}

fn codecs() -> Vec<Seed> {
    let json: [(&str, &str); 10] = [
        ("json-request", r#"[0, 1, ["add", [1, 2], {}]]"#),
        (
            "json-kwargs",
            r#"[0, 2, ["sub/mul", [], {"a": 3, "b": 4.5}]]"#,
        ),
        ("json-error", r#"[2, 3, "ValueError: bad\n"]"#),
        ("json-envelope", r#"[1, 4, {"__type__": [0, "child"]}]"#),
        (
            "json-floats",
            r#"[1, 5, [1e308, -0.0, 5e-324, 1.5, 1E+2, 0.1]]"#,
        ),
        (
            "json-big-ints",
            r#"[1, 18446744073709551615, [-9223372036854775808, 18446744073709551616]]"#,
        ),
        ("json-escapes", r#"[1, 6, "\u00fc\ud83d\ude00\n\"\\\/"]"#),
        ("json-nested", r#"[1, 7, [[[[[[[[[[[]]]]]]]]]]]]"#),
        ("json-whitespace", " [ 0 ,\t1 ,\n[ \"a\" , [ ] , { } ] ] "),
        ("json-bad-surrogate", r#"[1, 8, "\ud800"]"#),
    ];
    let mut out: Vec<Seed> = json
        .iter()
        .map(|(name, text)| {
            let mut data = vec![1 | 2];
            data.extend_from_slice(text.as_bytes());
            seed("codec", *name, data)
        })
        .collect();
    let msgpack = Codec::msgpack().register::<()>();
    let values = [
        ("msgpack-bin", Value::Bin(vec![0, 1, 2, 255])),
        ("msgpack-uint", Value::UInt(u64::MAX)),
        ("msgpack-float", Value::Float(f64::MIN_POSITIVE)),
        (
            "msgpack-map-int-keys",
            Value::Map(vec![
                (Value::Int(1), Value::Nil),
                (Value::Nil, Value::Bool(true)),
            ]),
        ),
        (
            "msgpack-envelope",
            Value::Map(vec![(
                "__type__".into(),
                Value::Array(vec![Value::Int(0), Value::Str("x".into())]),
            )]),
        ),
    ];
    for (name, content) in values {
        let mut data = vec![2];
        data.extend(
            msgpack
                .encode_message(MessageKind::Result, 9, &content)
                .expect("encodes"),
        );
        out.push(seed("codec", name, data));
    }
    // msgpack ext, fixext and a str8 that is not UTF-8.
    for (name, bytes) in [
        ("msgpack-ext", &[0x93, 0x01, 0x00, 0xd4, 0x01, 0x02][..]),
        (
            "msgpack-bad-utf8",
            &[0x93, 0x01, 0x00, 0xd9, 0x02, 0xc3, 0x28][..],
        ),
        ("msgpack-deep", &[0x91; 200][..]),
    ] {
        let mut data = vec![2];
        data.extend_from_slice(bytes);
        out.push(seed("codec", name, data));
    }
    // MsgPackBlosc (option bit 4): stored (too short to compress), compressed, several KiB of
    // pseudo-random bytes, and a block that is mostly one byte.
    let blosc = Codec::msgpack_blosc().register::<()>();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..4000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let contents = [
        ("blosc-stored", Value::Int(3)),
        (
            "blosc-request",
            Value::Array(vec![
                "sub/mul".into(),
                Value::Array(vec![Value::Str("ab".repeat(300))]),
                Value::Map(vec![("b".into(), Value::Float(0.5))]),
            ]),
        ),
        ("blosc-noise", Value::Bin(noise)),
        ("blosc-runs", Value::Bin(vec![7; 5000])),
    ];
    for (name, content) in contents {
        let mut data = vec![0x10 | 2];
        data.extend(
            blosc
                .encode_message(MessageKind::Result, 9, &content)
                .expect("encodes"),
        );
        out.push(seed("codec", name, data));
    }
    out
}

fn channels() -> Vec<Seed> {
    let msgpack = Codec::msgpack();
    let good = msgpack
        .encode_message(
            MessageKind::Request,
            1,
            &("add", (2, 3), rpc_core::NoKwargs),
        )
        .expect("encodes");
    let slow = msgpack
        .encode_message(
            MessageKind::Request,
            2,
            &("later", (7, 1000), rpc_core::NoKwargs),
        )
        .expect("encodes");
    let reply = msgpack
        .encode_message(MessageKind::Result, 99, &5)
        .expect("encodes");
    let mut cases: Vec<(&str, u8, Vec<u8>)> = vec![
        ("garbage-frame", 0, framed(&[0xc1, 0xff, 0x00])),
        (
            "good-then-garbage",
            0,
            [framed(&good), framed(b"\x93\x00")].concat(),
        ),
        ("slow-then-good", 0, [framed(&slow), framed(&good)].concat()),
        ("unsolicited-reply", 0, framed(&reply)),
        ("truncated", 0, framed(&good)[..7].to_vec()),
        ("over-limit", 0, vec![0, 0, 1, 1, 0]),
        ("empty-frame", 0, framed(b"")),
    ];
    let json = Codec::json();
    let jgood = json
        .encode_message(
            MessageKind::Request,
            3,
            &("dict/add", (4, 5), rpc_core::NoKwargs),
        )
        .expect("encodes");
    cases.push(("json-good", 1, framed(&jgood)));
    cases.push(("json-not-an-array", 1, framed(b"{\"a\": 1}")));
    cases
        .into_iter()
        .enumerate()
        .map(|(i, (name, codec, bytes))| {
            let mut data = vec![codec, i as u8];
            data.extend_from_slice(&bytes);
            seed("channel", name, data)
        })
        .collect()
}

/// Writes inputs for [`Values`](crate::dispatch::Values), value by value.
mod enc {
    use super::{KEYS, PATHS};

    pub(super) fn path(name: &str) -> u8 {
        PATHS.iter().position(|p| *p == name).expect("a path") as u8
    }

    pub(super) fn key(name: &str) -> u8 {
        KEYS.iter().position(|k| *k == name).expect("a key") as u8
    }

    pub(super) fn nil() -> Vec<u8> {
        vec![0]
    }

    pub(super) fn boolean(b: bool) -> Vec<u8> {
        vec![1, u8::from(b)]
    }

    pub(super) fn small(n: i8) -> Vec<u8> {
        vec![2, n as u8]
    }

    pub(super) fn int(n: i64) -> Vec<u8> {
        [&[3][..], &n.to_be_bytes()].concat()
    }

    pub(super) fn float(x: f64) -> Vec<u8> {
        [&[5][..], &x.to_be_bytes()].concat()
    }

    pub(super) fn text(s: &str) -> Vec<u8> {
        [&[7, s.len() as u8][..], s.as_bytes()].concat()
    }

    pub(super) fn bin(b: &[u8]) -> Vec<u8> {
        [&[8, b.len() as u8][..], b].concat()
    }

    pub(super) fn array(items: &[Vec<u8>]) -> Vec<u8> {
        [vec![9, items.len() as u8], items.concat()].concat()
    }

    pub(super) fn map(items: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![10, items.len() as u8];
        for (k, v) in items {
            out.push(key(k));
            out.extend_from_slice(v);
        }
        out
    }

    pub(super) fn envelope(typeid: u8, v: Vec<u8>) -> Vec<u8> {
        [vec![11, typeid], v].concat()
    }

    pub(super) fn request(p: &str, args: &[Vec<u8>], kwargs: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![path(p), args.len() as u8];
        for a in args {
            out.extend_from_slice(a);
        }
        out.push(kwargs.len() as u8);
        for (k, v) in kwargs {
            out.push(key(k));
            out.extend_from_slice(v);
        }
        out
    }
}

fn dispatches() -> Vec<Seed> {
    use enc::*;
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("add", request("add", &[small(1), int(2)], &[])),
        (
            "add-kw",
            request("add", &[], &[("a", small(1)), ("b", small(2))]),
        ),
        ("add-missing", request("add", &[small(1)], &[])),
        (
            "add-extra-kw",
            request("add", &[small(1), small(2)], &[("c", nil())]),
        ),
        ("opt", request("opt", &[small(4)], &[("c", text("cc"))])),
        ("text", request("text", &[text("ab"), small(3)], &[])),
        (
            "text-wrong-type",
            request("text", &[small(1), text("ab")], &[]),
        ),
        (
            "both",
            request(
                "both",
                &[small(1), nil(), float(0.5)],
                &[("x", boolean(true))],
            ),
        ),
        (
            "kw",
            request("kw", &[], &[("x", small(5)), ("y", text("why"))]),
        ),
        ("div", request("div", &[int(i64::MIN), small(-1)], &[])),
        ("div-zero", request("div", &[small(1), small(0)], &[])),
        ("fails", request("fails", &[text("no")], &[])),
        ("pick-a", request("pick", &[text("A")], &[])),
        ("pick-b", request("pick", &[map(&[("A", small(1))])], &[])),
        (
            "nested",
            request(
                "nested",
                &[array(&[array(&[float(1.0), nil()])]), map(&[])],
                &[],
            ),
        ),
        ("bytes", request("bytes", &[bin(b"\x00\x01")], &[])),
        (
            "echo",
            request("echo", &[array(&[small(1), text("x"), nil()])], &[]),
        ),
        (
            "echo-envelope",
            request("echo", &[envelope(0, text("child"))], &[]),
        ),
        ("nothing", request("nothing", &[], &[])),
        ("boom", request("boom", &[small(13)], &[])),
        ("later", request("later", &[small(1), int(250)], &[])),
        ("later-fail", request("later_fail", &[boolean(false)], &[])),
        (
            "sub-mul",
            request("sub/mul", &[float(1.5)], &[("b", float(-2.0))]),
        ),
        (
            "sub-sum",
            request("sub/sum", &[small(1), small(2), small(3)], &[]),
        ),
        ("ping", request("sub/leaf/ping", &[], &[])),
        ("dict-add", request("dict/add", &[small(2), small(3)], &[])),
        (
            "dict-count",
            request("dict/count", &[nil()], &[("a", nil())]),
        ),
        ("nowhere", request("nowhere", &[], &[])),
        ("sub-itself", request("sub", &[], &[])),
    ];
    let mut out: Vec<Seed> = requests
        .iter()
        .map(|(name, r)| seed("dispatch", *name, [&[0u8][..], r].concat()))
        .collect();
    // Several requests in one input, in both codecs, cut into small chunks.
    let mixed: Vec<u8> = requests
        .iter()
        .take(12)
        .flat_map(|(_, r)| r.clone())
        .collect();
    out.push(seed(
        "dispatch",
        "mixed-msgpack",
        [&[0b1000][..], &mixed].concat(),
    ));
    out.push(seed(
        "dispatch",
        "mixed-json",
        [&[0b1001][..], &mixed].concat(),
    ));
    out
}
