//! Hostile input: random and mutated payloads never panic a decoder, and a server fed garbage
//! between good requests keeps answering the good ones.

use rpc_core::{Channel, Codec, DynCall, Router, RpcClient, ServiceDict, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A small deterministic generator (xorshift64*), so that every run sees the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

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
    for (kind, content) in [0u8, 1, 2, 0].into_iter().zip(contents) {
        let mut buf = bytes::BytesMut::new();
        codec
            .encode_message(&mut buf, kind, rpc_core::codec::MsgId::Num(7), &content)
            .unwrap();
        out.push(buf.to_vec());
    }
    out
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.truncate(i);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            _ => {
                let i = rng.below(v.len() + 1);
                let b = [0xdd, 0xdf, 0xc6, 0xdb, 0xff, 0xff, 0xff, 0xff];
                v.splice(i..i, b[..1 + rng.below(b.len())].iter().copied());
            }
        }
    }
    v
}

#[test]
fn decoders_never_panic_on_random_or_mutated_payloads() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for codec in [
        Codec::msgpack().register::<()>(),
        Codec::json().register::<()>(),
    ] {
        let seeds = seeds(&codec);
        for round in 0..20_000 {
            let payload = if round % 4 == 0 {
                (0..rng.below(40)).map(|_| rng.next() as u8).collect()
            } else {
                let seed = rng.below(seeds.len());
                mutate(&mut rng, &seeds[seed])
            };
            // Errors are fine; panics and hangs are not.
            if let Ok(msg) = codec.parse_message(&payload) {
                let _ = codec.split_request(&payload, msg.content.clone());
                let _ = codec.decode::<Value>(&payload[msg.content]);
            }
            let _ = codec.decode::<Value>(&payload);
        }
    }
}

#[tokio::test]
async fn a_server_fed_garbage_between_requests_answers_every_good_request() {
    let (a, mut b) = tokio::io::duplex(1 << 20);
    let channel = Channel::builder().open(a);
    let service = ServiceDict::new().function("add", |c: DynCall| {
        Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
    });
    let _server = RpcClient::new(channel, Some(Router::new(service)));
    let codec = Codec::msgpack();
    let seeds = seeds(&codec);
    let mut rng = Rng(42);
    let mut expected = Vec::new();
    for i in 0..500u64 {
        // A good request with a fresh id above any the garbage could use...
        let id = 1_000_000 + i;
        let mut good = bytes::BytesMut::new();
        let content = ("add", (i, 1), rpc_core::NoKwargs);
        codec
            .encode_message(&mut good, 0, rpc_core::codec::MsgId::Num(id), &content)
            .unwrap();
        expected.push((id, i as i64 + 1));
        // ...after a garbage frame (never an oversized one, which would end the connection).
        let seed = rng.below(seeds.len());
        let junk = mutate(&mut rng, &seeds[seed]);
        for payload in [&junk[..], &good[..]] {
            b.write_all(&(payload.len() as u32).to_be_bytes())
                .await
                .unwrap();
            b.write_all(payload).await.unwrap();
        }
    }
    // Read replies until every good request has its answer; the garbage may get error replies.
    let mut answered = std::collections::HashMap::new();
    while answered.len() < expected.len() {
        let mut len = [0; 4];
        b.read_exact(&mut len).await.unwrap();
        let mut payload = vec![0; u32::from_be_bytes(len) as usize];
        b.read_exact(&mut payload).await.unwrap();
        let v: Value = codec.decode(&payload).unwrap();
        let items = v.as_array().unwrap();
        if let Some(id) = items[1].as_u64().filter(|id| *id >= 1_000_000) {
            assert_eq!(items[0], Value::Int(1), "good request {id} failed: {v}");
            answered.insert(id, items[2].as_i64().unwrap());
        }
    }
    for (id, sum) in expected {
        assert_eq!(answered[&id], sum);
    }
}
