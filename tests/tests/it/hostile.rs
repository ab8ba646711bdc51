//! Hostile input: random and mutated payloads never panic a decoder, and a server fed garbage
//! before a good request either answers the good one (the garbage was skipped, or answered with
//! an error reply when its request id could be read) or ends the connection with
//! `Error::Undecodable` (no id to answer), never anything else.
//!
//! The server cuts each request into `[path, args, kwargs]` itself and decodes every argument on
//! its own (the codec does not expose that step): it is fuzzed here through live connections, with
//! mutated requests for a typed service, its sub-router and a `ServiceDict`, in both codecs.

use std::collections::BTreeMap;

use fuzz_targets::mutate;
use rpc_core::wire::codec::{Message, MessageKind};
use rpc_core::{
    service, Codec, Connection, ConnectionBuilder, DynCall, Error, Router, ServiceDict, ServiceExt,
    Value,
};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::support::adder;

/// Valid messages to mutate: requests, replies, errors, envelopes, both codecs' shapes.
fn seeds(codec: &Codec) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let contents = [
        Value::Array(vec![
            "sub/mul".into(),
            Value::Array(vec![3.into(), Value::Float(1.5)]),
            Value::Map(vec![("b".into(), 5.into())]),
        ]),
        Value::Map(vec![(
            "__type__".into(),
            Value::Array(vec![0.into(), "child".into()]),
        )]),
        Value::Str("ValueError: ü\n".into()),
        Value::Array(vec![Value::Array(vec![Value::Array(vec![Value::Nil])])]),
    ];
    let kinds = [
        MessageKind::Request,
        MessageKind::Result,
        MessageKind::Error,
        MessageKind::Request,
    ];
    for (kind, content) in kinds.into_iter().zip(contents) {
        out.push(codec.encode_message(kind, 7, &content).unwrap());
    }
    out
}

#[test]
fn decoders_never_panic_on_random_or_mutated_payloads() {
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    for codec in [
        Codec::msgpack().register::<()>(),
        Codec::json().register::<()>(),
    ] {
        let seeds = seeds(&codec);
        for round in 0..20_000 {
            let payload = if round % 4 == 0 {
                (0..rng.usize(..40)).map(|_| rng.u8(..)).collect()
            } else {
                let seed = rng.usize(..seeds.len());
                mutate(&mut rng, &seeds[seed])
            };
            // Errors are fine; panics and hangs are not.
            if let Ok(msg) = codec.decode_message(&payload) {
                // What decoded encodes again (JSON may refuse bytes, which is an error).
                if let Some(id) = msg.id.as_u64() {
                    let _ = codec.encode_message(msg.kind, id, &msg.content);
                }
            }
            let _ = codec.decode::<Value>(&payload);
        }
    }
}

/// What a server made of `junk` and then a good request with id `"good"`, on a fresh
/// connection: the good request's reply, or `None` when the junk ended the connection, which
/// must then have ended for a frame it could not decode (and not hang, nor end otherwise).
async fn junk_then_good(
    builder: &ConnectionBuilder,
    codec: &Codec,
    junk: &[u8],
    good: &[u8],
) -> Option<Message> {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = builder.clone().open(a, "hostile");
    let (mut rd, mut wr) = tokio::io::split(b);
    write_frame(&mut wr, junk).await;
    write_frame(&mut wr, good).await;
    loop {
        let mut len = [0; 4];
        if rd.read_exact(&mut len).await.is_err() {
            let why = server.closed().await;
            assert!(
                matches!(why, Error::Undecodable { .. }),
                "{:?}: junk {junk:02x?} ended the connection with {why:?}",
                codec.kind()
            );
            return None;
        }
        let mut payload = vec![0; u32::from_be_bytes(len) as usize];
        rd.read_exact(&mut payload).await.unwrap();
        // A reply to junk echoes the junk's id, which need not decode here; skip those.
        if let Ok(msg) = codec.decode_message(&payload) {
            if msg.id.as_str() == Some("good") {
                server.close().await;
                return Some(msg);
            }
        }
    }
}

/// The good request of round `i`: `add(i, 1)` with the string id `"good"`, unlike any id the
/// junk carries (the seeds all use 7).
fn good_add(codec: &Codec, i: i64) -> Vec<u8> {
    let good = Value::Array(vec![
        Value::Int(0),
        Value::from("good"),
        Value::Array(vec![
            "add".into(),
            Value::Array(vec![i.into(), 1.into()]),
            Value::Map(vec![]),
        ]),
    ]);
    codec.encode(&good).unwrap()
}

/// Sends `rounds` mutants of `seeds` (from a generator seeded with `seed`), each on a new
/// connection of `builder` and followed by a good request; checks the answer to every good
/// request that was answered, and counts how many were answered and how many connections
/// ended for the mutant instead.
async fn feed_mutants(
    builder: &ConnectionBuilder,
    codec: &Codec,
    seeds: &[Vec<u8>],
    seed: u64,
    rounds: i64,
) -> (i64, i64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut answered, mut ended) = (0, 0);
    for i in 0..rounds {
        // Never an oversized frame, which would end the connection for that reason.
        let pick = rng.usize(..seeds.len());
        let junk = mutate(&mut rng, &seeds[pick]);
        match junk_then_good(builder, codec, &junk, &good_add(codec, i)).await {
            Some(msg) => {
                assert_eq!(msg.kind, MessageKind::Result, "good request {i}: {msg:?}");
                assert_eq!(msg.content, Value::Int(i + 1), "good request {i}");
                answered += 1;
            }
            None => ended += 1,
        }
    }
    (answered, ended)
}

#[tokio::test]
async fn a_server_fed_garbage_before_a_request_answers_it_or_ends_for_the_garbage() {
    let builder = Connection::builder().serve(Router::new(adder()));
    let codec = Codec::msgpack();
    let (answered, ended) = feed_mutants(&builder, &codec, &seeds(&codec), 42, 500).await;
    // Both outcomes are exercised.
    assert!(
        answered > 50 && ended > 50,
        "{answered} answered, {ended} ended"
    );
}

/// A typed service with a sub-router, and a `ServiceDict` beside it, for the requests to hit.
#[service]
#[derive(Default)]
struct Target {
    #[sub_router]
    sub: Sub,
}

#[service]
impl Target {
    #[expose]
    fn add(&self, a: i64, b: Option<i64>) -> i64 {
        a.wrapping_add(b.unwrap_or(1))
    }

    #[expose]
    fn echo(
        &self,
        s: String,
        #[args] rest: Vec<Value>,
        #[kwargs] kw: BTreeMap<String, Value>,
    ) -> usize {
        s.len() + rest.len() + kw.len()
    }
}

#[service]
#[derive(Default)]
struct Sub;

#[service]
impl Sub {
    #[expose]
    fn mul(&self, a: f64, b: Option<f64>) -> f64 {
        a * b.unwrap_or(2.0)
    }
}

fn target_router() -> Router {
    let dict = ServiceDict::new()
        .function("add", |c: DynCall| {
            Ok(c.arg::<i64>(0, "a")?.wrapping_add(c.arg::<i64>(1, "b")?))
        })
        .function("echo", |c: DynCall| Ok(c.args()?.len() + c.kwargs()?.len()));
    Router::new(Target::default().with_sub_router("dict", dict))
}

/// Valid requests to mutate, one shape of `[path, args, kwargs]` after another.
fn request_seeds(codec: &Codec) -> Vec<Vec<u8>> {
    let contents = [
        r#"["add", [1, 2], {}]"#,
        r#"["add", [], {"a": 1, "b": 2}]"#,
        r#"["add", [40], {"b": 2, "c": 3}]"#,
        r#"["sub/mul", [3, 1.5], {}]"#,
        r#"["sub/mul", [], {"a": -2.5, "b": 4}]"#,
        r#"["echo", ["ü", [1, [2, null]], {"k": true}], {"kw": "x", "n": null}]"#,
        r#"["echo", ["s", {"__type__": [0, "child"]}], {}]"#,
        r#"["dict/add", [1, 2], {}]"#,
        r#"["dict/echo", [[[[1]]], "y"], {"z": {"a": [1.25]}}]"#,
        r#"["nowhere/at/all", [1], {}]"#,
    ];
    // Typeid 0 is that of service references on the server's connection; registering a type
    // lets the envelope be read here.
    let json = Codec::json().register::<()>();
    contents
        .iter()
        .map(|c| {
            let content: Value = json.decode(c.as_bytes()).unwrap();
            codec
                .encode_message(MessageKind::Request, 7, &content)
                .unwrap()
        })
        .collect()
}

async fn write_frame(w: &mut (impl AsyncWrite + Unpin), payload: &[u8]) {
    w.write_all(&(payload.len() as u32).to_be_bytes())
        .await
        .unwrap();
    w.write_all(payload).await.unwrap();
}

#[tokio::test]
async fn a_server_fed_mutated_requests_answers_the_next_one_or_ends_for_the_mutant_in_both_codecs()
{
    const ROUNDS: i64 = 20_000;
    for (codec, seed) in [(Codec::msgpack(), 7), (Codec::json(), 11)] {
        let builder = Connection::builder()
            .codec(codec.clone())
            .serve(target_router());
        let seeds = request_seeds(&codec);
        let (answered, ended) = feed_mutants(&builder, &codec, &seeds, seed, ROUNDS).await;
        println!("{:?}: {answered} answered, {ended} ended", codec.kind());
        assert!(
            answered > ROUNDS / 10 && ended > ROUNDS / 100,
            "{:?}: {answered} answered, {ended} ended",
            codec.kind()
        );
    }
}
