//! Errors, one enum per layer.
//!
//! - [`FrameError`]: the byte stream could not be cut into frames.
//! - [`CodecError`]: a value could not be encoded or a payload could not be decoded.
//! - [`ChannelError`]: the connection failed or ended; every pending request gets a clone of it.
//! - [`RemoteError`]: the peer answered a request with an error reply.
//! - [`RpcError`]: what a caller of a remote function can get; one of the above.
//! - [`CallError`]: what a service sends back when a call fails (`"<Kind>: <message>\n"` on the wire).

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;

use crate::frame::FrameError;
use crate::value::Value;

/// A value could not be encoded, or a payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A value could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// A payload could not be decoded.
    #[error("cannot decode: {0}")]
    Decode(String),
    /// Bytes were to be sent with the JSON codec, which cannot carry them (as in aiomas).
    #[error("cannot encode bytes with the JSON codec; use the MsgPack codec or send a str")]
    BytesInJson,
    /// A `{"__type__": [typeid, value]}` envelope named a type that nobody registered.
    #[error("unknown type id {typeid} in a {{\"__type__\": [typeid, value]}} envelope: {known} types are registered on this connection (ids 0..{known})")]
    UnknownTypeId {
        /// The id that was seen.
        typeid: i64,
        /// How many types are registered.
        known: usize,
    },
    /// A `__type__` envelope was not `[typeid, value]`.
    #[error("invalid {{\"__type__\": ...}} envelope: expected [typeid, value], got {0}")]
    BadEnvelope(String),
    /// A value was nested deeper than the limit.
    #[error("value nested deeper than the limit of {limit} levels")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A message was not `[type, id, content]`.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
}

/// The connection failed or ended.
///
/// It is cheap to clone: every request that was pending when the connection ended gets the same
/// error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The peer closed the connection, or it was closed locally, while this was pending or sent.
    #[error("connection reset: {0}")]
    ConnectionReset(Cow<'static, str>),
    /// The byte stream could not be cut into frames (for example, a frame over the limit).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Reading or writing the socket failed.
    #[error("i/o error on the connection: {0}")]
    Io(#[source] Arc<io::Error>),
    /// A message could not be encoded (nothing was sent).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Too much is waiting to be written: the peer does not read fast enough.
    #[error("{queued} bytes are waiting to be written, over the limit of {limit}: the peer does not read fast enough")]
    Overloaded {
        /// Bytes that would have been queued.
        queued: usize,
        /// The configured limit.
        limit: usize,
    },
}

impl ChannelError {
    /// Whether this error means that the connection is gone.
    pub fn is_connection_reset(&self) -> bool {
        !matches!(
            self,
            ChannelError::Codec(_) | ChannelError::Overloaded { .. }
        )
    }
}

impl From<io::Error> for ChannelError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => {
                ChannelError::ConnectionReset(Cow::Owned(e.to_string()))
            }
            _ => ChannelError::Io(Arc::new(e)),
        }
    }
}

/// The peer answered a request with an error reply (`[2, id, content]`).
///
/// aiomas sends a Python traceback whose last line is `"<ExcType>: <message>"`; this crate sends
/// `"<Kind>: <message>\n"`. Both are parsed into [`kind`](Self::kind) and [`message`](Self::message).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteError {
    /// The error's kind, e.g. `ValueError` (empty when the text has no `Kind: ` part).
    pub kind: String,
    /// The error's message.
    pub message: String,
    /// The full text the peer sent (a traceback from Python peers).
    pub text: String,
    /// The content of the error reply exactly as it came (aiomas accepts any value).
    pub content: Value,
    /// The peer's address, as aiomas's `RemoteException.origin`.
    pub origin: String,
}

impl RemoteError {
    /// Builds the error from an error reply's content.
    pub fn from_content(content: Value, origin: String) -> Self {
        let text = match &content {
            Value::Str(s) => s.clone(),
            // mosaik sends [type, message, traceback...].
            Value::Array(items) if items.len() >= 2 => {
                let kind = items[0]
                    .as_str()
                    .map_or_else(|| items[0].to_string(), str::to_owned);
                let msg = items[1]
                    .as_str()
                    .map_or_else(|| items[1].to_string(), str::to_owned);
                format!("{kind}: {msg}\n")
            }
            other => other.to_string(),
        };
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let (kind, message) = match last.split_once(": ") {
            Some((k, m)) if is_kind_name(k) => (k.to_owned(), m.to_owned()),
            _ if is_kind_name(last.trim()) => (last.trim().to_owned(), String::new()),
            _ => (String::new(), last.to_owned()),
        };
        RemoteError {
            kind,
            message,
            text,
            content,
            origin,
        }
    }
}

/// `ValueError`, `aiomas.exceptions.RemoteException`, `my_crate::Error`.
fn is_kind_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == ':')
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "remote error from {}: ", self.origin)?;
        match (self.kind.is_empty(), self.message.is_empty()) {
            (true, _) => f.write_str(&self.message),
            (false, true) => f.write_str(&self.kind),
            (false, false) => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for RemoteError {}

/// What a call to a remote function can end in, other than its result.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The peer answered with an error reply.
    #[error(transparent)]
    Remote(Box<RemoteError>),
    /// The connection failed or ended before the reply arrived.
    #[error(transparent)]
    Connection(#[from] ChannelError),
    /// The arguments could not be encoded; nothing was sent.
    #[error("cannot encode the call's arguments: {0}")]
    Encode(#[source] CodecError),
    /// The reply arrived but did not decode into the expected type.
    #[error("cannot decode the reply: {0}")]
    Decode(#[source] CodecError),
    /// The call did not get its reply within its deadline; a late reply is dropped.
    #[error("no reply within {0:?}")]
    Timeout(std::time::Duration),
    /// The path of a [`Proxy`](crate::Proxy) named no function.
    #[error("no RPC function name specified")]
    NoFunctionName,
}

impl From<RemoteError> for RpcError {
    fn from(e: RemoteError) -> Self {
        RpcError::Remote(Box::new(e))
    }
}

impl RpcError {
    /// The remote error, if the peer answered with one.
    pub fn as_remote(&self) -> Option<&RemoteError> {
        match self {
            RpcError::Remote(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the connection is gone (the call may or may not have run on the peer).
    pub fn is_connection_reset(&self) -> bool {
        matches!(self, RpcError::Connection(c) if c.is_connection_reset())
    }
}

/// A failed call, as the service sends it back: `"<Kind>: <message>\n"`.
///
/// Return it (or any error type that implements `Display`; see [`ErrorKind`]) from an exposed
/// method, or build one for
/// [`IncomingRequest::fail`](crate::channel::IncomingRequest::fail). The kind names the failure in
/// Python's terms so that a Python peer reads it naturally (`ValueError`, `TypeError`,
/// `LookupError`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The kind, e.g. `ValueError`.
    pub kind: Cow<'static, str>,
    /// The message.
    pub message: String,
}

impl CallError {
    /// A failure of the given kind.
    pub fn new(kind: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        CallError {
            kind: kind.into(),
            message: message.into(),
        }
    }

    /// A `ValueError`: the arguments had the right types but unusable values.
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// A `TypeError`: the arguments did not fit the function.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// A `LookupError`: the path named nothing callable.
    pub fn lookup_error(message: impl Into<String>) -> Self {
        Self::new("LookupError", message)
    }

    /// The text sent on the wire: `"<Kind>: <message>\n"`.
    pub fn wire_text(&self) -> String {
        format!("{}: {}\n", self.kind, self.message)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for CallError {}

impl From<RemoteError> for CallError {
    /// Passes a peer's error on with its kind and message.
    fn from(e: RemoteError) -> Self {
        CallError::new(
            if e.kind.is_empty() {
                "RemoteException".to_owned()
            } else {
                e.kind
            },
            e.message,
        )
    }
}

impl From<RpcError> for CallError {
    fn from(e: RpcError) -> Self {
        match e {
            RpcError::Remote(r) => (*r).into(),
            RpcError::Connection(c) => CallError::new("ConnectionResetError", c.to_string()),
            other => CallError::new("RpcError", other.to_string()),
        }
    }
}

/// Names the kind a caller sees for an error type (`ValueError`, ...), instead of the type's name.
///
/// When an exposed method returns `Err(e)`, the caller sees `"<kind>: <message>\n"`: the message
/// is `e`'s `Display`, and the kind is `e.kind()` where the type implements this trait, or else the
/// type's own name (`ParseIntError` for `std::num::ParseIntError`).
///
/// ```
/// use rpc_core::ErrorKind;
/// #[derive(Debug)]
/// struct NotANumber(String);
/// impl std::fmt::Display for NotANumber {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "{:?} is not a number", self.0)
///     }
/// }
/// impl ErrorKind for NotANumber {
///     fn kind(&self) -> std::borrow::Cow<'static, str> {
///         "ValueError".into()
///     }
/// }
/// ```
pub trait ErrorKind {
    /// The kind the caller sees.
    fn kind(&self) -> Cow<'static, str>;
}

impl ErrorKind for CallError {
    fn kind(&self) -> Cow<'static, str> {
        self.kind.clone()
    }
}

impl ErrorKind for RemoteError {
    fn kind(&self) -> Cow<'static, str> {
        Cow::Owned(self.kind.clone())
    }
}

impl ErrorKind for RpcError {
    fn kind(&self) -> Cow<'static, str> {
        CallError::from(self.clone()).kind
    }
}

/// The name of a type without its module path or generic arguments: `ParseIntError`.
pub fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
