//! Requests built from the input, dispatched into the fuzz service over a live connection.
//!
//! Input: `[options, request...]`, read by [`Requests`]: `options` picks the codec (bits 0 and
//! 1, as in [`codec::codec`](crate::codec::codec)) and how the frames are cut (the other
//! bits); each request is a path (an index into the service's paths, or `0xFF` and a raw
//! string), up to 5 positional arguments and up to 3 keyword arguments, each a value built
//! by [`Values`]. Bytes past the end read as zero.
//!
//! Every request must get exactly one reply, a result or an error of the form
//! `"<Kind>: <message>"`; where the answer is known (`add` of two integers, `echo` of a plain
//! value, `ping`, `nothing`, `boom(13)`, a path that leads nowhere) it must be that answer; and
//! well-formed requests never close the connection.

use rpc_core::wire::codec::MessageKind;
use rpc_core::{Codec, Value};

use crate::live;
use crate::service::{KEYS, PATHS};

/// The most requests one input makes.
pub const MAX_REQUESTS: usize = 16;

/// Reads bytes for the builders, as zeros past the end.
#[derive(Debug)]
pub struct Values<'a> {
    bytes: &'a [u8],
}

impl<'a> Values<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Values { bytes }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                *b
            }
            None => 0,
        }
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }

    fn raw(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    fn string(&mut self) -> String {
        let n = usize::from(self.byte() % 16);
        String::from_utf8_lossy(&self.raw(n)).into_owned()
    }

    /// A value: its first byte picks the kind.
    pub fn value(&mut self, depth: usize) -> Value {
        match self.byte() % 12 {
            0 => Value::Nil,
            1 => Value::Bool(self.byte() & 1 == 1),
            2 => Value::Int(i64::from(self.byte() as i8)),
            3 => Value::Int(i64::from_be_bytes(self.array())),
            4 => Value::UInt(u64::from_be_bytes(self.array())),
            5 => Value::Float(f64::from_be_bytes(self.array())),
            6 => Value::Str(KEYS[usize::from(self.byte()) % KEYS.len()].into()),
            7 => Value::Str(self.string()),
            8 => {
                let n = usize::from(self.byte() % 16);
                Value::Bin(self.raw(n))
            }
            9 if depth < 4 => {
                let n = usize::from(self.byte() % 4);
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            10 if depth < 4 => {
                let n = usize::from(self.byte() % 3);
                Value::Map(
                    (0..n)
                        .map(|_| (self.key().into(), self.value(depth + 1)))
                        .collect(),
                )
            }
            11 if depth < 4 => Value::Map(vec![(
                "__type__".into(),
                Value::Array(vec![
                    Value::Int(i64::from(self.byte() % 3)),
                    self.value(depth + 1),
                ]),
            )]),
            _ => Value::Nil,
        }
    }

    fn key(&mut self) -> String {
        match self.byte() {
            0xFF => self.string(),
            b => KEYS[usize::from(b) % KEYS.len()].into(),
        }
    }

    /// A request's content `[path, args, kwargs]`.
    pub fn request(&mut self) -> Value {
        let path = match self.byte() {
            0xFF => self.string(),
            b => PATHS[usize::from(b) % PATHS.len()].into(),
        };
        let nargs = usize::from(self.byte() % 6);
        let args = (0..nargs).map(|_| self.value(0)).collect();
        let nkw = usize::from(self.byte() % 4);
        let kwargs = (0..nkw)
            .map(|_| (self.key().into(), self.value(0)))
            .collect();
        Value::Array(vec![path.into(), Value::Array(args), Value::Map(kwargs)])
    }
}

/// The requests an input makes, after its options byte.
#[derive(Debug)]
pub struct Requests;

impl Requests {
    /// Builds the request contents `[path, args, kwargs]` of `bytes`.
    pub fn build(bytes: &[u8]) -> Vec<Value> {
        let mut src = Values::new(bytes);
        let mut out = Vec::new();
        while !src.is_empty() && out.len() < MAX_REQUESTS {
            out.push(src.request());
        }
        out
    }
}

/// The answer a request must get, where it is known.
fn known_answer(content: &Value) -> Option<Result<Value, &'static str>> {
    let [path, args, kwargs] = content.as_array()? else {
        return None;
    };
    let (path, args) = (path.as_str()?, args.as_array()?);
    if !kwargs.as_map()?.is_empty() {
        return None;
    }
    let plain = |v: &Value| match v {
        Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Str(_) => true,
        Value::UInt(n) => *n > i64::MAX as u64,
        _ => false,
    };
    match (path, args) {
        ("add" | "dict/add", [Value::Int(a), Value::Int(b)]) => {
            Some(Ok(Value::Int(a.wrapping_add(*b))))
        }
        ("echo", [v]) if plain(v) => Some(Ok(v.clone())),
        ("sub/leaf/ping", []) => Some(Ok(Value::Str("pong".into()))),
        ("nothing", []) => Some(Ok(Value::Nil)),
        ("boom", [Value::Int(13)]) => Some(Err("Panic")),
        ("nowhere" | "sub/leaf/ping/deeper" | "", _) => Some(Err("")),
        _ => None,
    }
}

/// Runs the target on one input.
///
/// # Panics
/// When a request gets no reply, two replies, a malformed or wrong one, when the connection
/// closes, hangs, or panics.
pub fn run(data: &[u8]) {
    let [options, bytes @ ..] = data else {
        return;
    };
    let codec = crate::codec::codec(options & 3);
    let chunking = options >> 2;
    // Requests that cannot be written in this codec (bytes in JSON) are left out.
    let requests: Vec<(u64, Value, Vec<u8>)> = Requests::build(bytes)
        .into_iter()
        .enumerate()
        .filter_map(|(id, content)| {
            let id = id as u64;
            let payload = codec
                .encode_message(MessageKind::Request, id, &content)
                .ok()?;
            Some((id, content, payload))
        })
        .collect();
    if requests.is_empty() {
        return;
    }
    let mut stream = Vec::new();
    for (_, _, payload) in &requests {
        stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        stream.extend_from_slice(payload);
    }
    live::block_on("dispatch", async move {
        let (conn, mut peer) =
            live::open(codec.clone(), rpc_core::wire::frame::DEFAULT_MAX_FRAME_LEN);
        for chunk in crate::chunks(&stream, chunking) {
            peer.write(chunk)
                .await
                .expect("the connection closed on good frames");
        }
        // Replies may carry envelopes of any typeid the requests used: read them as values.
        let reader = Codec::new(codec.kind())
            .register::<()>()
            .register::<u8>()
            .register::<u16>();
        let mut answered = vec![false; requests.len()];
        let mut left = requests.len();
        while left > 0 {
            let frame = peer
                .next_frame()
                .await
                .unwrap_or_else(|| panic!("the connection closed with {left} requests unanswered"));
            check_reply(&reader, &frame, &requests, &mut answered);
            left -= 1;
        }
        assert!(
            !conn.is_closed(),
            "well-formed requests closed the connection"
        );
        conn.close().await;
    });
}

fn check_reply(
    codec: &Codec,
    frame: &[u8],
    requests: &[(u64, Value, Vec<u8>)],
    answered: &mut [bool],
) {
    let msg = codec
        .decode_message(frame)
        .unwrap_or_else(|e| panic!("a reply does not decode ({e}): {frame:02x?}"));
    let id = msg.id.as_u64().expect("a reply id that is not ours") as usize;
    let i = requests
        .iter()
        .position(|(rid, ..)| *rid as usize == id)
        .unwrap_or_else(|| panic!("a reply to id {id}, which was never sent"));
    assert!(!answered[i], "request {id} answered twice");
    answered[i] = true;
    let content = &requests[i].1;
    match msg.kind {
        MessageKind::Result => {}
        MessageKind::Error => {
            let text = msg.content.as_str().unwrap_or_else(|| {
                panic!("error reply to {content} is not a string: {}", msg.content)
            });
            let (kind, _) = text.split_once(": ").unwrap_or_else(|| {
                panic!("error reply to {content} is not `Kind: message`: {text:?}")
            });
            assert!(
                !kind.is_empty() && !kind.contains(char::is_whitespace),
                "error kind {kind:?}"
            );
        }
        MessageKind::Request => panic!("the service sent a request: {}", msg.content),
    }
    match known_answer(content) {
        Some(Ok(expected)) => {
            assert_eq!(
                msg.kind,
                MessageKind::Result,
                "{content} failed: {}",
                msg.content
            );
            assert_eq!(msg.content, expected, "{content} answered wrong");
        }
        Some(Err(kind)) => {
            assert_eq!(
                msg.kind,
                MessageKind::Error,
                "{content} succeeded: {}",
                msg.content
            );
            let text = msg.content.as_str().unwrap_or_default();
            assert!(
                text.starts_with(kind),
                "{content}: {text:?} is not a {kind}"
            );
        }
        None => {}
    }
}
