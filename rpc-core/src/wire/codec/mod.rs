//! Codecs: messages to bytes and back, exactly as aiomas writes them.
//!
//! Every frame's payload is one message, a 3-element array:
//!
//! ```text
//! [type, id, content]
//!   type 0 = request   content = [path, args, kwargs] for RPC, e.g. ["sub/mul", [3], {"b": 5}]
//!   type 1 = result    content = the return value
//!   type 2 = error     content = "<Kind>: <message>\n" (aiomas: a Python traceback)
//! ```
//!
//! `add(1, 2)` as MsgPack, with its frame header:
//!
//! ```text
//! 00 00 00 0c  93 00 00 93 a3 61 64 64 92 01 02 80
//! len = 12     [  0  0  [  "add"       [1, 2] {}]]
//! ```
//!
//! and as JSON: `[0, 0, ["add", [1, 2], {}]]`, with Python's `", "` and `": "` separators.
//!
//! Types the format has no word for travel in an envelope, `{"__type__": [typeid, value]}`, where
//! `typeid` is the position of the type in the list of registered types ([`Codec::register`]).
//! Both peers must register the same types in the same order. On an RPC connection the next id
//! after the registered types is that of service references ([`ServiceRef`](crate::ServiceRef)),
//! as aiomas's `RpcClient` appends its proxy serializer last.

pub(crate) mod json;
#[cfg(feature = "__bench")]
#[doc(hidden)]
pub use json::hooks as __json_hooks;
pub(crate) mod msgpack;
#[cfg(feature = "msgpack-blosc")]
pub(crate) mod msgpack_blosc;

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::frame::DEFAULT_MAX_FRAME_LEN;
use super::{CodecError, Value};

/// The key of the custom-type envelope `{"__type__": [typeid, value]}`.
pub const TYPE_KEY: &str = "__type__";

/// The default limit on nesting: values deeper than this are refused, never a stack overflow.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Message type of a request.
pub(crate) const REQUEST: u8 = 0;
/// Message type of a successful reply.
pub(crate) const RESULT: u8 = 1;
/// Message type of an error reply.
pub(crate) const ERROR: u8 = 2;

/// Which format a [`Codec`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecKind {
    /// `aiomas.codecs.MsgPack`: compact, binary-safe; this crate's default.
    MsgPack,
    /// `aiomas.codecs.JSON`: aiomas's own default; cannot carry bytes.
    Json,
    /// `aiomas.codecs.MsgPackBlosc`: each whole message packed as MsgPack, then compressed with
    /// blosc (feature `msgpack-blosc`; see [`Codec::msgpack_blosc`]).
    #[cfg(feature = "msgpack-blosc")]
    MsgPackBlosc,
}

/// What one format knows: everything above this module goes through [`Codec`], which picks the
/// format in one place ([`with_format!`]).
pub(crate) trait Format {
    /// The encoded `nil` (what a parameter that was left out decodes from).
    const NIL: &'static [u8];
    /// Serializes `value` at the end of `buf`.
    fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<(), CodecError>;
    /// Deserializes a `T` from exactly the bytes of one value, already cut, borrowing from them
    /// where `T` borrows.
    fn decode<'de, T: Deserialize<'de>>(
        bytes: &'de [u8],
        max_depth: usize,
    ) -> Result<T, CodecError>;
    /// Deserializes a `T` from bytes that should hold one value and nothing after it.
    fn decode_whole<'de, T: Deserialize<'de>>(
        bytes: &'de [u8],
        max_depth: usize,
    ) -> Result<T, CodecError>;
    /// Writes `[type, id, content]`.
    fn write_message<C: Serialize + ?Sized>(
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
    ) -> Result<(), CodecError>;
    /// Cuts a message into `[type, id, content]`; with `check_content`, walks the content too.
    fn parse_message(
        payload: &[u8],
        max_depth: usize,
        check_content: bool,
    ) -> Result<RawMessage, CodecError>;
    /// Walks the content of a message that [`parse_message`](Self::parse_message) did not check.
    fn check_content(payload: &[u8], msg: &RawMessage, max_depth: usize) -> Result<(), CodecError>;
    /// Cuts a request's content into `[path, args, kwargs]`.
    fn split_request(
        payload: &[u8],
        content: Range<usize>,
        max_depth: usize,
    ) -> Result<RawCall<'_>, CodecError>;
    /// A whole request, cut in one pass: where its id is, where its content is, and the content
    /// cut into `[path, args, kwargs]`. `None` for anything else (a reply, or a request with
    /// anything wrong in it), which then goes the general way, [`parse_message`] (checked) and
    /// [`split_request`], to be read or answered with the exact error: so this must accept
    /// exactly the requests that those two accept, and cut them the same.
    ///
    /// [`parse_message`]: Self::parse_message
    /// [`split_request`]: Self::split_request
    fn parse_request(payload: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        let msg = Self::parse_message(payload, max_depth, true).ok()?;
        if msg.kind != i64::from(REQUEST) {
            return None;
        }
        let call = Self::split_request(payload, msg.content.clone(), max_depth).ok()?;
        Some(ParsedRequest {
            id: msg.id,
            content: msg.content,
            call,
        })
    }
    /// The id of a malformed message that looks like a request (`[0, id, ...]`), if readable.
    fn salvage_request_id(payload: &[u8]) -> Option<Range<usize>>;
    /// Writes already-encoded values as one array.
    fn write_array(buf: &mut BytesMut, items: &[&[u8]]);
    /// Writes already-encoded values under string keys as one map.
    fn write_map(buf: &mut BytesMut, items: &[(Cow<'_, str>, &[u8])]);

    /// Whether whole payloads (a message, or a value encoded alone) are compressed, as by
    /// aiomas's `MsgPackBlosc`. The methods above then read and write the plain bytes, and
    /// [`seal`](Self::seal) and [`open`](Self::open) compress and decompress a whole payload.
    /// A constant, so that the formats that do not compress pay nothing for it.
    const COMPRESSED: bool = false;
    /// Compresses a whole plain payload onto the end of `out` (a copy for formats that do not
    /// compress; [`Codec`] calls it only when [`COMPRESSED`](Self::COMPRESSED)).
    fn seal(plain: &[u8], out: &mut BytesMut) -> Result<(), CodecError> {
        out.extend_from_slice(plain);
        Ok(())
    }
    /// Deserializes a `T` from the whole of a decompressed payload, which `T` cannot borrow from
    /// (it is dropped afterwards): only asked of formats that are
    /// [`COMPRESSED`](Self::COMPRESSED).
    fn decode_whole_detached<'de, T: Deserialize<'de>>(
        _plain: &[u8],
        _max_depth: usize,
    ) -> Result<T, CodecError> {
        Err(CodecError::Decode(
            "this format does not compress; its payloads are decoded in place".to_owned(),
        ))
    }
    /// The plain bytes of a received payload, or `None` when the payload is plain already. A
    /// payload that would decompress to more than `max_len` bytes is refused before anything is
    /// allocated for it.
    fn open(_payload: &[u8], _max_len: usize) -> Result<Option<Vec<u8>>, CodecError> {
        Ok(None)
    }
}

/// Runs `$body` with `$F` naming the [`Format`] of `$codec`: the one place that matches on the
/// codec's kind.
macro_rules! with_format {
    ($codec:expr, $F:ident => $body:expr) => {
        match $codec.kind {
            CodecKind::MsgPack => {
                type $F = msgpack::MsgPack;
                $body
            }
            CodecKind::Json => {
                type $F = json::Json;
                $body
            }
            #[cfg(feature = "msgpack-blosc")]
            CodecKind::MsgPackBlosc => {
                type $F = msgpack_blosc::MsgPackBlosc;
                $body
            }
        }
    };
}

#[derive(Debug, Default)]
struct Registry {
    types: Vec<(TypeId, &'static str)>,
}

/// A codec with its registered custom types. Cheap to clone.
///
/// ```
/// use rpc_core::{Codec, Value};
/// let codec = Codec::json();
/// let bytes = codec.encode(&("add", vec![1, 2])).unwrap();
/// assert_eq!(bytes, br#"["add", [1, 2]]"#);
/// let back: Value = codec.decode(&bytes).unwrap();
/// assert_eq!(back.as_array().unwrap()[0].as_str(), Some("add"));
/// ```
#[derive(Clone)]
pub struct Codec {
    kind: CodecKind,
    max_depth: usize,
    registry: Arc<Registry>,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("kind", &self.kind)
            .field("max_depth", &self.max_depth)
            .field(
                "types",
                &self
                    .registry
                    .types
                    .iter()
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for Codec {
    fn default() -> Self {
        Codec::msgpack()
    }
}

/// The type of a message: the first element of `[type, id, content]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `0`: a request; for RPC its content is `[path, args, kwargs]`.
    Request,
    /// `1`: a successful reply; its content is the result.
    Result,
    /// `2`: an error reply; its content describes the error.
    Error,
}

impl MessageKind {
    fn code(self) -> u8 {
        match self {
            MessageKind::Request => REQUEST,
            MessageKind::Result => RESULT,
            MessageKind::Error => ERROR,
        }
    }
}

/// A whole message, decoded: what [`Codec::decode_message`] returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// The message type.
    pub kind: MessageKind,
    /// The id, as sent (aiomas accepts any value; its own are integers counting from 0).
    pub id: Value,
    /// The content.
    pub content: Value,
}

impl Codec {
    /// The codec of the given kind, with no custom types.
    pub fn new(kind: CodecKind) -> Self {
        Codec {
            kind,
            max_depth: DEFAULT_MAX_DEPTH,
            registry: Arc::default(),
        }
    }

    /// The MsgPack codec (`aiomas.codecs.MsgPack`).
    pub fn msgpack() -> Self {
        Self::new(CodecKind::MsgPack)
    }

    /// The JSON codec (`aiomas.codecs.JSON`).
    pub fn json() -> Self {
        Self::new(CodecKind::Json)
    }

    /// The MsgPackBlosc codec (`aiomas.codecs.MsgPackBlosc`): every message is packed as MsgPack,
    /// then the whole packed message is compressed with blosc, with python-blosc 1.x's defaults
    /// (`blosclz`, level 9, byte shuffle) and aiomas's typesize of 8, byte for byte as aiomas
    /// 2.0.1 writes it. [`encode`](Self::encode) and [`decode`](Self::decode) compress and
    /// decompress the one value too, as aiomas's `codec.encode` and `codec.decode` do (so what
    /// `decode` returns cannot borrow from the compressed bytes: a `&str` is an error, a
    /// `String` is fine).
    ///
    /// A received message that would decompress to more than the connection's maximum frame
    /// length ([`ConnectionBuilder::max_frame_len`](crate::ConnectionBuilder::max_frame_len),
    /// [`DEFAULT_MAX_FRAME_LEN`] by default, which also bounds
    /// [`decode`](Self::decode) and [`decode_message`](Self::decode_message)) is refused by the
    /// size its blosc header claims, before anything is allocated for it:
    /// [`CodecError::DecompressedTooLarge`], and the connection closes with it, as it does on
    /// any payload that is not a blosc buffer ([`CodecError::Decompress`]). A message to send
    /// whose packed form is over that length is [`Error::MessageTooLarge`](crate::Error::MessageTooLarge),
    /// as with the other codecs.
    ///
    /// Feature `msgpack-blosc` (off by default: it compiles c-blosc, which is C). A Python peer
    /// needs the `blosc` package 1.x (python-blosc) and, with msgpack >= 1.0, the same decode
    /// patch as its MsgPack codec (see `docs/aiomas-compatibility.md`).
    ///
    /// ```
    /// use rpc_core::wire::codec::{Codec, MessageKind};
    /// let codec = Codec::msgpack_blosc();
    /// let frame = codec.encode_message(MessageKind::Request, 0, &("add", [1, 2], ())).unwrap();
    /// assert_eq!((frame[0], frame[3]), (2, 8), "a blosc 1 buffer (format 2), typesize 8");
    /// let msg = codec.decode_message(&frame).unwrap();
    /// assert_eq!(msg.kind, MessageKind::Request);
    /// ```
    #[cfg(feature = "msgpack-blosc")]
    pub fn msgpack_blosc() -> Self {
        Self::new(CodecKind::MsgPackBlosc)
    }

    /// Which format this codec writes.
    pub fn kind(&self) -> CodecKind {
        self.kind
    }

    /// Registers `T` as the next custom type: it travels as `{"__type__": [typeid, value]}`
    /// inside a [`Custom<T>`], where typeid is the number of types registered before it.
    ///
    /// # Panics
    /// If `T` is already registered (aiomas raises `ValueError` there too).
    #[must_use]
    #[track_caller]
    pub fn register<T: 'static>(mut self) -> Self {
        let id = TypeId::of::<T>();
        let name = std::any::type_name::<T>();
        assert!(
            !self.registry.types.iter().any(|(t, _)| *t == id),
            "type {name} is already registered with this codec"
        );
        let mut types = self.registry.types.clone();
        types.push((id, name));
        self.registry = Arc::new(Registry { types });
        self
    }

    /// Sets the deepest nesting accepted when decoding ([`DEFAULT_MAX_DEPTH`] by default; at
    /// least 2).
    #[must_use]
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth.max(2);
        self
    }

    /// The typeid of `T`, if it is registered.
    pub fn typeid_of<T: 'static>(&self) -> Option<usize> {
        let id = TypeId::of::<T>();
        self.registry.types.iter().position(|(t, _)| *t == id)
    }

    /// The typeid of service references on an RPC connection: the first after the custom types
    /// (aiomas's `RpcClient` registers its proxy serializer last).
    pub fn proxy_typeid(&self) -> usize {
        self.registry.types.len()
    }

    /// Encodes one value.
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let scope = Scope::detached(self.clone());
        let mut buf = BytesMut::new();
        scope.enter(|| {
            with_format!(self, F => if F::COMPRESSED {
                with_plain(|plain| {
                    F::encode_into(plain, value)?;
                    F::seal(plain, &mut buf)
                })
            } else {
                F::encode_into(&mut buf, value)
            })
        })?;
        Ok(buf.to_vec())
    }

    /// Decodes one value; bytes after it are an error. `T` may borrow from `bytes` (a `&str`, a
    /// `&[u8]`).
    pub fn decode<'de, T: Deserialize<'de>>(&self, bytes: &'de [u8]) -> Result<T, CodecError> {
        let scope = Scope::detached(self.clone());
        scope.enter(|| {
            with_format!(self, F => match F::open(bytes, DEFAULT_MAX_FRAME_LEN)? {
                // Decompressed into a buffer of its own: `T` cannot borrow from that.
                Some(plain) => F::decode_whole_detached(&plain, self.max_depth),
                None => F::decode_whole(bytes, self.max_depth),
            })
        })
    }

    /// Converts `value` into a [`Value`] as this codec sees it: its registered types travel in
    /// their envelopes ([`Custom`]), and types that ask whether the format is human-readable
    /// (`IpAddr`, ...) get this codec's answer. Encoding the result with this codec gives the
    /// bytes that encoding `value` gives.
    ///
    /// ```
    /// use rpc_core::{Codec, Value};
    /// let addr: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    /// assert_eq!(Codec::json().to_value(&addr).unwrap(), Value::from("10.0.0.1"));
    /// let packed = Codec::msgpack().to_value(&addr).unwrap(); // {"V4": [10, 0, 0, 1]}
    /// assert_eq!(Codec::msgpack().encode(&packed).unwrap(), Codec::msgpack().encode(&addr).unwrap());
    /// ```
    ///
    /// # Errors
    /// As [`Value::from_serialize`].
    pub fn to_value<T: Serialize + ?Sized>(&self, value: &T) -> Result<Value, CodecError> {
        Scope::detached(self.clone()).enter(|| Value::from_serialize(value))
    }

    /// Converts a [`Value`] into `T` as this codec would decode its bytes (registered types,
    /// human-readable or not); `T` may borrow from `value`.
    ///
    /// # Errors
    /// As [`Value::deserialize_into`].
    pub fn from_value<'de, T: Deserialize<'de>>(&self, value: &'de Value) -> Result<T, CodecError> {
        Scope::detached(self.clone()).enter(|| value.deserialize_into())
    }

    /// Encodes a whole message `[kind, id, content]`, without the frame header.
    ///
    /// ```
    /// use rpc_core::wire::codec::{Codec, MessageKind};
    /// let bytes = Codec::json().encode_message(MessageKind::Result, 7, &3).unwrap();
    /// assert_eq!(bytes, b"[1, 7, 3]");
    /// ```
    pub fn encode_message<C: Serialize + ?Sized>(
        &self,
        kind: MessageKind,
        id: u64,
        content: &C,
    ) -> Result<Vec<u8>, CodecError> {
        let scope = Scope::detached(self.clone());
        let mut buf = BytesMut::new();
        scope.enter(|| {
            self.write_message(&mut buf, kind.code(), MsgId::Num(id), content, usize::MAX)
        })?;
        Ok(buf.to_vec())
    }

    /// Decodes a whole message, checking that it is `[type, id, content]` with a known type.
    ///
    /// ```
    /// use rpc_core::wire::codec::{Codec, MessageKind};
    /// let msg = Codec::json().decode_message(br#"[0, 1, ["add", [1, 2], {}]]"#).unwrap();
    /// assert_eq!(msg.kind, MessageKind::Request);
    /// assert_eq!(msg.id.as_i64(), Some(1));
    /// ```
    pub fn decode_message(&self, payload: &[u8]) -> Result<Message, CodecError> {
        let opened = with_format!(self, F => F::open(payload, DEFAULT_MAX_FRAME_LEN))?;
        let payload = opened.as_deref().unwrap_or(payload);
        let raw = self.parse_message(payload)?;
        let kind = match raw.kind {
            0 => MessageKind::Request,
            1 => MessageKind::Result,
            2 => MessageKind::Error,
            other => {
                return Err(CodecError::InvalidMessage(format!(
                    "unknown message type {other}: expected 0 (request), 1 (result) or 2 (error)"
                )))
            }
        };
        let scope = Scope::detached(self.clone());
        scope.enter(|| {
            Ok(Message {
                kind,
                id: self.decode_slice(&payload[raw.id.clone()])?,
                content: self.decode_slice(&payload[raw.content.clone()])?,
            })
        })
    }

    /// Writes a whole message `[kind, id, content]` (without the frame header) into `buf`.
    /// On error `buf` is left as it was.
    ///
    /// A compressing codec refuses a plain message over `max_len` bytes with
    /// [`CodecError::FrameTooLarge`] (the peer would refuse to decompress it); for the others the
    /// frame's length is checked when the frame is finished.
    pub(crate) fn write_message<C: Serialize + ?Sized>(
        &self,
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
        max_len: usize,
    ) -> Result<(), CodecError> {
        let start = buf.len();
        let res = with_format!(self, F => if F::COMPRESSED {
            with_plain(|plain| {
                F::write_message(plain, kind, id, content)?;
                if plain.len() > max_len {
                    return Err(CodecError::FrameTooLarge {
                        len: plain.len(),
                        limit: max_len,
                    });
                }
                F::seal(plain, buf)
            })
        } else {
            F::write_message(buf, kind, id, content)
        });
        if res.is_err() {
            buf.truncate(start);
        }
        res
    }

    /// Whether this codec compresses whole messages (then frames go through
    /// [`open_payload`](Self::open_payload) before they are cut).
    #[inline]
    pub(crate) fn compresses(&self) -> bool {
        with_format!(self, F => F::COMPRESSED)
    }

    /// A received frame's payload as the message the other methods read: the payload itself,
    /// or, for a compressing codec, its decompressed bytes (at most `max_len` of them, refused
    /// by the length the payload claims before anything is allocated).
    pub(crate) fn open_payload(&self, payload: Bytes, max_len: usize) -> Result<Bytes, CodecError> {
        with_format!(self, F => if F::COMPRESSED {
            Ok(F::open(&payload, max_len)?.map_or(payload, Bytes::from))
        } else {
            Ok(payload)
        })
    }

    /// Decodes the bytes of exactly one value (as cut by [`parse_message`](Self::parse_message)).
    pub(crate) fn decode_slice<'de, T: Deserialize<'de>>(
        &self,
        bytes: &'de [u8],
    ) -> Result<T, CodecError> {
        with_format!(self, F => F::decode(bytes, self.max_depth))
    }

    /// Cuts a payload into `[type, id, content]`, checking its shape and depth.
    pub(crate) fn parse_message(&self, payload: &[u8]) -> Result<RawMessage, CodecError> {
        with_format!(self, F => F::parse_message(payload, self.max_depth, true))
    }

    /// [`parse_message`](Self::parse_message) that walks the content of requests only if
    /// `check_requests`, and never that of replies, which are checked when they are decoded.
    pub(crate) fn parse_message_lazily(
        &self,
        payload: &[u8],
        check_requests: bool,
    ) -> Result<RawMessage, CodecError> {
        with_format!(self, F => {
            let msg = F::parse_message(payload, self.max_depth, false)?;
            if msg.kind == i64::from(REQUEST) && check_requests {
                F::check_content(payload, &msg, self.max_depth)?;
            }
            Ok(msg)
        })
    }

    /// A valid request cut in one pass (see [`Format::parse_request`]); `None` for anything
    /// else, which [`parse_message_lazily`](Self::parse_message_lazily) then reads.
    #[inline]
    pub(crate) fn parse_request<'a>(&self, payload: &'a [u8]) -> Option<ParsedRequest<'a>> {
        with_format!(self, F => F::parse_request(payload, self.max_depth))
    }

    /// Cuts a request's content into `[path, args, kwargs]`, leaving each argument encoded.
    pub(crate) fn split_request<'a>(
        &self,
        payload: &'a [u8],
        content: Range<usize>,
    ) -> Result<RawCall<'a>, CodecError> {
        with_format!(self, F => F::split_request(payload, content, self.max_depth))
    }

    /// The id of a malformed message that looks like a request, so that it can be answered.
    pub(crate) fn salvage_request_id(&self, payload: &[u8]) -> Option<Range<usize>> {
        with_format!(self, F => F::salvage_request_id(payload))
    }

    /// The encoded `nil`.
    pub(crate) fn nil(&self) -> &'static [u8] {
        with_format!(self, F => F::NIL)
    }

    /// Already-encoded values as one encoded array.
    pub(crate) fn join_array(&self, items: &[&[u8]]) -> Vec<u8> {
        let mut buf = BytesMut::new();
        with_format!(self, F => F::write_array(&mut buf, items));
        buf.to_vec()
    }

    /// Already-encoded values under string keys as one encoded map.
    pub(crate) fn join_map(&self, items: &[(Cow<'_, str>, &[u8])]) -> Vec<u8> {
        let mut buf = BytesMut::new();
        with_format!(self, F => F::write_map(&mut buf, items));
        buf.to_vec()
    }
}

/// The id to write in a message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MsgId<'a> {
    /// An id of ours (requests count up from 0).
    Num(u64),
    /// The encoded id of a peer's request, echoed byte for byte.
    Raw(&'a [u8]),
}

/// A message cut into its parts, the content still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawMessage {
    /// The message type (0 request, 1 result, 2 error; anything else is invalid).
    pub(crate) kind: i64,
    /// Where the encoded id is in the payload.
    pub(crate) id: Range<usize>,
    /// The id as a number, when it is a non-negative integer.
    pub(crate) id_num: Option<u64>,
    /// Where the encoded content is in the payload.
    pub(crate) content: Range<usize>,
}

/// A request cut whole in one pass ([`Codec::parse_request`]).
#[derive(Debug)]
pub(crate) struct ParsedRequest<'a> {
    /// Where the encoded id is in the payload.
    pub(crate) id: Range<usize>,
    /// Where the encoded content is in the payload.
    pub(crate) content: Range<usize>,
    /// The content, cut.
    pub(crate) call: RawCall<'a>,
}

/// A request's `[path, args, kwargs]`, each argument still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawCall<'a> {
    pub(crate) path: Cow<'a, str>,
    pub(crate) args: ArgList<'a>,
    pub(crate) kwargs: Vec<(Cow<'a, str>, &'a [u8])>,
}

/// Encoded arguments, up to four (nearly every call) without touching the heap: a request's cut
/// is moved about, and each inline place is 16 bytes to move.
pub(crate) type ArgList<'a> = super::inline::InlineVec<&'a [u8], 4>;

// ---------------------------------------------------------------------------------------------
// The scope: what serde impls need to know about the connection they encode for.

/// What `Serialize`/`Deserialize` impls of envelopes need while a message is encoded or decoded:
/// the codec's registered types and, on an RPC connection, an opaque per-connection context that
/// the layer which set it downcasts (the RPC layer binds received service references with it).
pub(crate) struct Scope {
    pub(crate) codec: Codec,
    pub(crate) context: Option<Arc<dyn Any + Send + Sync>>,
}

scoped_tls::scoped_thread_local!(static CURRENT: Scope);
scoped_tls::scoped_thread_local!(static FRAME: Bytes);

impl Scope {
    pub(crate) fn detached(codec: Codec) -> Self {
        Scope {
            codec,
            context: None,
        }
    }

    /// Runs `f` with this scope as the current one.
    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT.set(self, f)
    }

    /// Runs `f` with this scope as the current one, decoding from `frame`: a
    /// [`Blob`](crate::Blob) decoded from its bytes shares them instead of copying.
    pub(crate) fn enter_framed<R>(&self, frame: &Bytes, f: impl FnOnce() -> R) -> R {
        CURRENT.set(self, || FRAME.set(frame, f))
    }

    /// The context, if it is a `T`.
    pub(crate) fn context<T: Any>(&self) -> Option<&T> {
        self.context.as_deref()?.downcast_ref()
    }

    /// Runs `f` with the current scope, if any.
    pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Scope>) -> R) -> R {
        if CURRENT.is_set() {
            CURRENT.with(|s| f(Some(s)))
        } else {
            f(None)
        }
    }
}

/// Where `part` is in `whole`, if it is a slice of `whole`'s memory (a value cut from a frame).
pub(crate) fn place_in(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    let start = p.checked_sub(w)?;
    (start + part.len() <= whole.len()).then_some(start..start + part.len())
}

/// `part` as a view into the frame being decoded, if it lies in it.
pub(crate) fn share_from_frame(part: &[u8]) -> Option<Bytes> {
    if !FRAME.is_set() {
        return None;
    }
    FRAME.with(|frame| place_in(frame, part).map(|at| frame.slice(at)))
}

/// Checks the `[typeid, value]` of a `__type__` envelope met while decoding a dynamic value.
pub(crate) fn check_envelope(inner: &Value) -> Result<(), CodecError> {
    let typeid = match inner.as_array() {
        Some([id, _]) => id.as_i64().ok_or_else(|| {
            CodecError::BadEnvelope(format!("a typeid of type {}", id.type_name()))
        })?,
        _ => return Err(CodecError::BadEnvelope(inner.to_string())),
    };
    Scope::with_current(|scope| {
        let (known, proxies) = match scope {
            Some(s) => (s.codec.registry.types.len(), s.context.is_some()),
            None => (0, false),
        };
        let valid = usize::try_from(typeid).is_ok_and(|t| t < known || (proxies && t == known));
        if valid {
            Ok(())
        } else {
            Err(CodecError::UnknownTypeId {
                typeid,
                known: known + usize::from(proxies),
            })
        }
    })
}

thread_local! {
    /// The buffer a compressing codec packs a whole message into before compressing it.
    static PLAIN: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// The most the plain-message buffer keeps between messages.
const KEPT_PLAIN: usize = 64 * 1024;

/// Runs `f` with an empty buffer for a plain message, reused between calls on one thread; a
/// nested use (a `Serialize` impl that encodes with a compressing codec) gets a fresh one.
fn with_plain<R>(f: impl FnOnce(&mut BytesMut) -> R) -> R {
    PLAIN.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let r = f(&mut buf);
            if buf.capacity() > KEPT_PLAIN {
                *buf = BytesMut::new();
            }
            r
        }
        Err(_) => f(&mut BytesMut::new()),
    })
}

/// Whether values are human-readable where they are converted now: under a JSON codec's scope,
/// as `serde_json` says of itself; elsewhere not, as MsgPack says.
pub(crate) fn is_human_readable_here() -> bool {
    Scope::with_current(|scope| scope.is_some_and(|s| s.codec.kind == CodecKind::Json))
}

/// A value of a registered custom type, sent as `{"__type__": [typeid, value]}`.
///
/// ```
/// use rpc_core::{Codec, Custom};
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i64, y: i64 }
///
/// let codec = Codec::json().register::<Point>();
/// let bytes = codec.encode(&Custom(Point { x: 1, y: 2 })).unwrap();
/// assert_eq!(bytes, br#"{"__type__": [0, {"x": 1, "y": 2}]}"#);
/// let back: Custom<Point> = codec.decode(&bytes).unwrap();
/// assert_eq!(back.0, Point { x: 1, y: 2 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Custom<T>(pub T);

fn current_typeid<T: 'static>() -> Result<usize, String> {
    Scope::with_current(|scope| match scope {
        Some(s) => s.codec.typeid_of::<T>().ok_or_else(|| {
            format!(
                "type {} is not registered with this connection's codec (Codec::register)",
                std::any::type_name::<T>()
            )
        }),
        None => Err(format!(
            "type {} can only be encoded through a Codec that registers it",
            std::any::type_name::<T>()
        )),
    })
}

impl<T: Serialize + 'static> Serialize for Custom<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let typeid = current_typeid::<T>().map_err(serde::ser::Error::custom)?;
        Envelope {
            inner: (typeid, &self.0),
        }
        .serialize(s)
    }
}

impl<'de, T: Deserialize<'de> + 'static> Deserialize<'de> for Custom<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let env = Envelope::<(i64, T)>::deserialize(d)?;
        let (typeid, value) = env.inner;
        let expected = current_typeid::<T>().map_err(serde::de::Error::custom)?;
        if usize::try_from(typeid).ok() != Some(expected) {
            return Err(serde::de::Error::custom(format_args!(
                "expected an envelope of type id {expected} ({}), got type id {typeid}",
                std::any::type_name::<T>()
            )));
        }
        Ok(Custom(value))
    }
}

/// `{"__type__": inner}`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Envelope<I> {
    #[serde(rename = "__type__")]
    pub(crate) inner: I,
}

#[cfg(test)]
mod tests {
    use super::{Codec, MessageKind, RawCall};
    use crate::wire::{CodecError, Value};

    fn codecs() -> [Codec; 2] {
        [Codec::msgpack(), Codec::json()]
    }

    /// Encodes a request and cuts it as the dispatcher does.
    fn split_with<'a>(codec: &Codec, payload: &'a [u8]) -> Result<RawCall<'a>, CodecError> {
        let msg = codec.parse_message(payload)?;
        codec.split_request(payload, msg.content)
    }

    fn request(codec: &Codec, content: &impl serde::Serialize) -> Vec<u8> {
        codec
            .encode_message(MessageKind::Request, 3, content)
            .unwrap()
    }

    #[test]
    fn a_request_is_cut_into_path_args_and_kwargs_without_decoding_them() {
        for codec in codecs() {
            let kwargs = Value::Map(vec![
                (Value::from("b"), Value::from(5)),
                (Value::from("c"), Value::from(vec![Value::Nil])),
            ]);
            let payload = request(&codec, &("sub/mul", (3, "x"), &kwargs));
            let call = split_with(&codec, &payload).unwrap();
            assert_eq!(call.path, "sub/mul");
            let args: Vec<Value> = call.args.iter().map(|a| codec.decode(a).unwrap()).collect();
            assert_eq!(args, [Value::from(3), Value::from("x")]);
            let keys: Vec<&str> = call.kwargs.iter().map(|(k, _)| k.as_ref()).collect();
            assert_eq!(keys, ["b", "c"], "{codec:?}");
            assert_eq!(codec.decode::<i64>(call.kwargs[0].1).unwrap(), 5);
            // Joining them again gives what the peer would have sent as one array / map.
            let joined: Vec<Value> = codec.decode(&codec.join_array(&call.args)).unwrap();
            assert_eq!(joined, args);
            let map: Value = codec.decode(&codec.join_map(&call.kwargs)).unwrap();
            assert_eq!(map, kwargs);
        }
    }

    #[test]
    fn a_request_content_of_the_wrong_shape_is_an_error_that_says_which_part() {
        for codec in codecs() {
            let cases: Vec<(Vec<u8>, &str)> = vec![
                (
                    request(&codec, &5),
                    "request content must be [path, args, kwargs], got int",
                ),
                (request(&codec, &("add", [1])), "got an array of 2 elements"),
                (
                    request(&codec, &(7, [1], Value::Map(vec![]))),
                    "request path must be a str, got int",
                ),
                (
                    request(&codec, &("add", 1, Value::Map(vec![]))),
                    "request args must be an array, got int",
                ),
                (
                    request(&codec, &("add", [1], [2])),
                    "request kwargs must be a map, got array",
                ),
            ];
            for (payload, expected) in cases {
                match split_with(&codec, &payload) {
                    Err(CodecError::InvalidMessage(m)) => {
                        assert!(
                            m.contains(expected),
                            "{codec:?}: {m:?} should say {expected:?}"
                        )
                    }
                    other => panic!("{codec:?}: expected an invalid message, got {other:?}"),
                }
            }
        }
        // JSON writes every key as a string; msgpack can carry others.
        let msgpack = Codec::msgpack();
        let key = Value::Map(vec![(Value::from(1), Value::from(2))]);
        let payload = request(&msgpack, &("add", [1], key));
        match split_with(&msgpack, &payload) {
            Err(CodecError::InvalidMessage(m)) => {
                assert!(m.contains("keywords must be strings"), "{m}")
            }
            other => panic!("expected an invalid message, got {other:?}"),
        }
    }

    #[test]
    fn json_reads_floats_with_one_set_of_rules() {
        let json = Codec::json();
        // Python's json reads both as infinity; once only the second did.
        let alone: Vec<f64> = json.decode(b"[1e400]").unwrap();
        let mixed: Vec<f64> = json.decode(b"[NaN, 1e400]").unwrap();
        assert_eq!(alone, [f64::INFINITY]);
        assert!(mixed[0].is_nan() && mixed[1] == f64::INFINITY);
        // ... and arguments are cut with the same reader.
        let payload = b"[0, 1, [\"f\", [NaN, -Infinity, 1e400, 2e-28], {}]]";
        let call = split_with(&json, payload).unwrap();
        let args: Vec<f64> = call.args.iter().map(|a| json.decode(a).unwrap()).collect();
        assert!(args[0].is_nan());
        assert_eq!(&args[1..], [f64::NEG_INFINITY, f64::INFINITY, 2e-28]);
    }

    #[test]
    fn cutting_random_and_mutated_requests_never_panics() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for codec in codecs() {
            let good = request(
                &codec,
                &(
                    "a/b",
                    (1, "two", [3.5]),
                    Value::Map(vec![(Value::from("k"), Value::Nil)]),
                ),
            );
            for _ in 0..20_000 {
                let mut payload = good.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % payload.len();
                    match next() % 3 {
                        0 => payload[at] = next() as u8,
                        1 => {
                            payload.remove(at);
                        }
                        _ => payload.truncate(at),
                    }
                    if payload.is_empty() {
                        break;
                    }
                }
                let _ = split_with(&codec, &payload);
                let _ = codec.salvage_request_id(&payload);
                let _ = codec.decode_message(&payload);
            }
        }
    }

    #[test]
    fn the_id_of_a_malformed_request_is_salvaged_so_it_can_be_answered() {
        let json = Codec::json();
        assert_eq!(json.salvage_request_id(b"[0, 17, [\"x\", 5]]"), Some(4..6));
        assert_eq!(json.salvage_request_id(b"[1, 17, 3]"), None);
        assert_eq!(json.salvage_request_id(b"[0, 17, [\"x\""), Some(4..6));
        let mp = Codec::msgpack();
        assert_eq!(mp.salvage_request_id(&[0x93, 0x00, 0x11, 0x05]), Some(2..3));
        assert_eq!(mp.salvage_request_id(&[0x93, 0x01, 0x11, 0x05]), None);
    }

    #[test]
    fn ids_are_read_as_numbers_when_they_are_non_negative_integers() {
        for codec in codecs() {
            let cases: [(Value, Option<u64>); 6] = [
                (Value::from(7), Some(7)),
                (Value::from(1u64 << 40), Some(1 << 40)),
                (Value::from(u64::MAX), Some(u64::MAX)),
                (Value::from(-1), None),
                (Value::from("7"), None),
                (Value::Float(7.0), None),
            ];
            for (id, expected) in cases {
                let payload = codec.encode(&(1, &id, 3)).unwrap();
                let msg = codec.parse_message(&payload).unwrap();
                assert_eq!(msg.id_num, expected, "{codec:?} {id:?}");
                assert_eq!(codec.decode::<Value>(&payload[msg.id]).unwrap(), id);
            }
        }
    }

    #[test]
    fn a_reply_is_cut_without_its_content_being_checked_until_it_is_decoded() {
        let codec = Codec::msgpack();
        // [1, 5, <a str header announcing 9 bytes, and 2 bytes>]
        let payload = [0x93, 0x01, 0x05, 0xa9, b'h', b'i'];
        assert!(codec.parse_message(&payload).is_err(), "checked in full");
        let msg = codec.parse_message_lazily(&payload, true).unwrap();
        assert_eq!((msg.kind, msg.id_num), (1, Some(5)));
        assert!(codec.decode_slice::<Value>(&payload[msg.content]).is_err());
        // A request is checked when asked to: it goes to a handler that would not look.
        let request = [0x93, 0x00, 0x05, 0xa9, b'h', b'i'];
        assert!(codec.parse_message_lazily(&request, true).is_err());
        assert!(codec.parse_message_lazily(&request, false).is_ok());
    }
}
