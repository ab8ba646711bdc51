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
//!
//! The files: this one holds [`Codec`], the one type above the formats, and picks the format
//! (`with_format!`); `format.rs` is what each format implements (`json/`, `msgpack/`,
//! `msgpack_blosc.rs`); `message.rs` the message types; `scope.rs` the per-connection scope that
//! serde impls read while a message is encoded or decoded; `custom.rs` the [`Custom<T>`]
//! envelope.

mod custom;
mod format;
pub(crate) mod json;
#[cfg(feature = "__bench")]
#[doc(hidden)]
pub use json::hooks as __json_hooks;
mod message;
pub(crate) mod msgpack;
#[cfg(feature = "msgpack-blosc")]
pub(crate) mod msgpack_blosc;
mod scope;
#[cfg(test)]
mod tests;

use std::any::TypeId;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::frame::DEFAULT_MAX_FRAME_LEN;
use super::{CodecError, Value};

pub use custom::Custom;
pub(crate) use custom::{check_envelope, Envelope};
pub(crate) use format::Format;
pub(crate) use message::{
    ArgList, MsgId, ParsedRequest, RawCall, RawMessage, ERROR, REQUEST, RESULT,
};
pub use message::{Message, MessageKind};
pub(crate) use scope::{
    is_dispatch_frame, is_human_readable_here, place_in, share_from_frame, Scope,
};

/// The key of the custom-type envelope `{"__type__": [typeid, value]}`.
pub const TYPE_KEY: &str = "__type__";

/// The default limit on nesting: values deeper than this are refused, never a stack overflow.
pub const DEFAULT_MAX_DEPTH: usize = 128;

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

    /// The deepest nesting accepted when decoding (see [`with_max_depth`](Self::with_max_depth)).
    pub fn max_depth(&self) -> usize {
        self.max_depth
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
    ///
    /// ```
    /// use rpc_core::Codec;
    /// let codec = Codec::json().with_max_depth(3);
    /// assert_eq!(codec.max_depth(), 3);
    /// assert!(codec.decode::<rpc_core::Value>(b"[[[1]]]").is_ok());
    /// assert!(codec.decode::<rpc_core::Value>(b"[[[[1]]]]").is_err());
    /// assert_eq!(Codec::json().with_max_depth(0).max_depth(), 2);
    /// ```
    #[must_use]
    pub fn with_max_depth(mut self, depth: usize) -> Self {
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

    /// Whether decoding `bytes` may need the codec scope or the frame set (see
    /// [`Format::may_need_scope`]).
    #[inline]
    pub(crate) fn may_need_scope(&self, bytes: &[u8]) -> bool {
        with_format!(self, F => F::may_need_scope(bytes))
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
