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
pub(crate) mod msgpack;

use std::any::TypeId;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::BytesMut;
use serde::de::{DeserializeOwned, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

pub use json::PyFormatter;

use crate::error::CodecError;
use crate::value::Value;

/// The key of the custom-type envelope `{"__type__": [typeid, value]}`.
pub const TYPE_KEY: &str = "__type__";

/// The default limit on nesting: values deeper than this are refused, never a stack overflow.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Message type of a request.
pub const REQUEST: u8 = 0;
/// Message type of a successful reply.
pub const RESULT: u8 = 1;
/// Message type of an error reply.
pub const ERROR: u8 = 2;

/// Which format a [`Codec`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecKind {
    /// `aiomas.codecs.MsgPack`: compact, binary-safe; this crate's default.
    MsgPack,
    /// `aiomas.codecs.JSON`: aiomas's own default; cannot carry bytes.
    Json,
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

    /// Sets the deepest nesting accepted when decoding ([`DEFAULT_MAX_DEPTH`] by default). The
    /// JSON codec is limited to 128 levels by serde_json whatever this says.
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

    /// The typeid of service references on an RPC connection: the first after the custom types.
    pub fn proxy_typeid(&self) -> usize {
        self.registry.types.len()
    }

    /// Encodes one value.
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let scope = Scope::detached(self.clone());
        let mut buf = BytesMut::new();
        scope.enter(|| self.encode_into(&mut buf, value))?;
        Ok(buf.to_vec())
    }

    /// Decodes one value.
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let scope = Scope::detached(self.clone());
        scope.enter(|| {
            if self.kind == CodecKind::MsgPack {
                let end = msgpack::skip(bytes, 0, self.max_depth)?;
                if end != bytes.len() {
                    return Err(CodecError::Decode(format!(
                        "{} trailing bytes after the value",
                        bytes.len() - end
                    )));
                }
            }
            self.decode_slice(bytes)
        })
    }

    /// Encodes a whole message `[kind, id, content]` (without the frame header) into `buf`.
    /// On error `buf` is left as it was.
    pub fn encode_message<C: Serialize + ?Sized>(
        &self,
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
    ) -> Result<(), CodecError> {
        let start = buf.len();
        let res = match self.kind {
            CodecKind::MsgPack => msgpack::write_message(buf, kind, id, content),
            CodecKind::Json => json::write_message(buf, kind, id, content),
        };
        if res.is_err() {
            buf.truncate(start);
        }
        res
    }

    pub(crate) fn encode_into<T: Serialize + ?Sized>(
        &self,
        buf: &mut BytesMut,
        value: &T,
    ) -> Result<(), CodecError> {
        match self.kind {
            CodecKind::MsgPack => msgpack::encode_into(buf, value),
            CodecKind::Json => json::encode_into(buf, value),
        }
    }

    /// Decodes the bytes of exactly one value (as cut by [`parse_message`](Self::parse_message)).
    pub(crate) fn decode_slice<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        match self.kind {
            CodecKind::MsgPack => msgpack::decode(bytes, self.max_depth),
            CodecKind::Json => json::decode(bytes),
        }
    }

    /// Cuts a payload into `[type, id, content]`, checking its shape and depth.
    pub fn parse_message(&self, payload: &[u8]) -> Result<RawMessage, CodecError> {
        match self.kind {
            CodecKind::MsgPack => msgpack::parse_message(payload, self.max_depth, true),
            CodecKind::Json => json::parse_message(payload),
        }
    }

    /// [`parse_message`](Self::parse_message) that walks the content of requests only if
    /// `check_requests`, and never that of replies, which are checked when they are decoded.
    pub(crate) fn parse_message_lazily(
        &self,
        payload: &[u8],
        check_requests: bool,
    ) -> Result<RawMessage, CodecError> {
        match self.kind {
            CodecKind::MsgPack => {
                let msg = msgpack::parse_message(payload, self.max_depth, false)?;
                if msg.kind == i64::from(REQUEST) && check_requests {
                    msgpack::check_message_content(payload, &msg, self.max_depth)?;
                }
                Ok(msg)
            }
            CodecKind::Json => json::parse_message(payload),
        }
    }

    /// Cuts a request's content into `[path, args, kwargs]`, leaving each argument encoded.
    pub fn split_request<'a>(
        &self,
        payload: &'a [u8],
        content: Range<usize>,
    ) -> Result<RawCall<'a>, CodecError> {
        match self.kind {
            CodecKind::MsgPack => msgpack::split_request(payload, content, self.max_depth),
            CodecKind::Json => json::split_request(payload, content),
        }
    }

    /// A name for the type of an encoded value, for error messages (`int`, `str`, `map`, ...).
    pub fn type_name_of(&self, bytes: &[u8]) -> &'static str {
        match self.kind {
            CodecKind::MsgPack => msgpack::type_name_at(bytes, 0),
            CodecKind::Json => match std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.trim_start().bytes().next())
            {
                Some(b'[') => "array",
                Some(b'{') => "map",
                Some(b'"') => "str",
                Some(b'n') => "nil",
                Some(b't' | b'f') => "bool",
                _ => "number",
            },
        }
    }
}

/// The id to write in a message.
#[derive(Debug, Clone, Copy)]
pub enum MsgId<'a> {
    /// An id of ours (requests count up from 0).
    Num(u64),
    /// The encoded id of a peer's request, echoed byte for byte.
    Raw(&'a [u8]),
}

/// A message cut into its parts, the content still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The message type (0 request, 1 result, 2 error; anything else is invalid).
    pub kind: i64,
    /// Where the encoded id is in the payload.
    pub id: Range<usize>,
    /// The id as a number, when it is a non-negative integer.
    pub id_num: Option<u64>,
    /// Where the encoded content is in the payload.
    pub content: Range<usize>,
}

/// A request's `[path, args, kwargs]`, each argument still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCall<'a> {
    pub(crate) path: Cow<'a, str>,
    pub(crate) args: ArgList<'a>,
    pub(crate) kwargs: Vec<(Cow<'a, str>, &'a [u8])>,
}

impl<'a> RawCall<'a> {
    /// The path, e.g. `"sub/mul"`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The positional arguments, each still encoded.
    pub fn args(&self) -> &[&'a [u8]] {
        &self.args
    }

    /// The keyword arguments in wire order, each value still encoded.
    pub fn kwargs(&self) -> &[(Cow<'a, str>, &'a [u8])] {
        &self.kwargs
    }
}

/// Encoded arguments, up to eight without touching the heap.
pub(crate) type ArgList<'a> = crate::inline::InlineVec<&'a [u8]>;

// ---------------------------------------------------------------------------------------------
// The scope: what serde impls need to know about the connection they encode for.

/// What `Serialize`/`Deserialize` impls of envelopes need while a message is encoded or decoded:
/// the codec's registered types, and on an RPC connection the connection itself (to bind received
/// service references) and its local service (to check sent ones).
pub(crate) struct Scope {
    pub(crate) codec: Codec,
    pub(crate) conn: Option<crate::client::ConnHooks>,
}

scoped_tls::scoped_thread_local!(static CURRENT: Scope);

impl Scope {
    pub(crate) fn detached(codec: Codec) -> Self {
        Scope { codec, conn: None }
    }

    /// Runs `f` with this scope as the current one.
    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT.set(self, f)
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
            Some(s) => (s.codec.registry.types.len(), s.conn.is_some()),
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

/// Converts any serializable value into a [`Value`].
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, CodecError> {
    let mut buf = BytesMut::new();
    msgpack::encode_into(&mut buf, value)?;
    msgpack::decode(&buf, usize::from(u16::MAX))
}

/// Converts a [`Value`] into any deserializable type.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, CodecError> {
    let mut buf = BytesMut::new();
    msgpack::encode_into(&mut buf, value)?;
    msgpack::decode(&buf, usize::from(u16::MAX))
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
