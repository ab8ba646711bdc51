//! The errors a user meets, one per role:
//!
//! - [`Error`]: what calling, connecting or serving can end in. It says whether the connection
//!   is gone ([`Error::is_connection_reset`]) and carries what the peer sent back
//!   ([`Error::remote`]).
//! - [`RemoteError`]: what the peer sent back when a call failed (`[2, id, content]`).
//! - [`CallError`]: what a handler returns to fail a call; the peer sees `"<Kind>: <message>\n"`.
//!
//! The wire layer's own [`CodecError`] is the source of [`Error::Encode`] and [`Error::Decode`].

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::wire::{CodecError, Value};

/// What calling the peer, connecting, or serving can end in, other than success.
///
/// Cheap to clone: every call that was pending when a connection ended gets the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer answered the call with an error reply.
    #[error(transparent)]
    Remote(Box<RemoteError>),
    /// The connection was closed, by the peer or locally, before the reply came.
    #[error("connection closed: {0}")]
    Closed(Cow<'static, str>),
    /// Reading or writing the socket failed; the connection is gone.
    #[error("i/o error on the connection: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The peer sent a frame over the maximum frame length; the connection was closed.
    #[error("the peer sent a frame of {len} bytes, over the maximum frame length of {limit} bytes; the connection was closed")]
    FrameTooLarge {
        /// The length the frame's header announced.
        len: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The connection ended in the middle of a frame.
    #[error(
        "the connection ended in the middle of a frame: {missing} of {expected} bytes missing"
    )]
    Truncated {
        /// Bytes the frame (header included) needed.
        expected: usize,
        /// Bytes that never arrived.
        missing: usize,
    },
    /// The peer sent a frame that is not a message of this connection's codec, and no request
    /// id could be read from it to answer: the connection was closed, after the replies already
    /// queued were sent. Most often the two ends use different codecs, which `hint` then says.
    #[error("the peer sent a frame that is not a {codec} message ({reason}){}; the connection was closed", hint_text(.hint))]
    Undecodable {
        /// The codec of this end: `"MsgPack"`, `"JSON"` or `"MsgPackBlosc"`.
        codec: &'static str,
        /// What was wrong with the frame.
        reason: String,
        /// Set when the bytes look like the other codec, e.g. "this looks like JSON; this end
        /// speaks MsgPack".
        hint: Option<&'static str>,
    },
    /// Nothing could be written to the peer for this long while frames waited: it does not
    /// read. The connection was aborted (what was queued is dropped).
    #[error("nothing could be written for {timeout:?} while replies waited: the peer does not read; the connection was aborted")]
    WriteStalled {
        /// The write-stall timeout that passed.
        timeout: Duration,
    },
    /// Nothing was read or written and no call was in progress for this long: the connection
    /// was closed.
    #[error("nothing was sent or received for {timeout:?}; the connection was closed as idle")]
    Idle {
        /// The idle timeout that passed.
        timeout: Duration,
    },
    /// A message to send was over the maximum frame length. Nothing was sent; the connection is
    /// fine.
    #[error("the message is {len} bytes, over the maximum frame length of {limit} bytes; nothing was sent")]
    MessageTooLarge {
        /// The encoded length of the message.
        len: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// A message could not be encoded. Nothing was sent; the connection is fine.
    #[error("cannot encode the message, nothing was sent: {0}")]
    Encode(#[source] CodecError),
    /// The reply came but did not decode into the expected type.
    #[error("cannot decode the reply: {0}")]
    Decode(#[source] CodecError),
    /// Too many bytes wait to be written: the peer does not read fast enough. Nothing was sent.
    #[error("{queued} bytes would wait to be written, over the limit of {limit}: the peer does not read fast enough")]
    Overloaded {
        /// Bytes that would have been queued.
        queued: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The call had no reply within its deadline; a late reply is dropped.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// A [`Proxy`](crate::Proxy) of the root was called: there is no function at path `""`.
    #[error(
        "no RPC function name specified: call a proxy of a function, e.g. remote.get(\"add\")"
    )]
    NoFunctionName,
    /// An address did not parse.
    #[error("invalid address {given:?}: expected HOST:PORT (e.g. 127.0.0.1:5555) or unix:PATH (e.g. unix:/tmp/rpc.sock)")]
    InvalidAddr {
        /// What was given.
        given: String,
    },
    /// Connecting to an address failed (after retrying, if asked to).
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: Arc<io::Error>,
    },
    /// Listening on an address failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: Arc<io::Error>,
    },
}

impl Error {
    /// Whether the connection is gone. A call that ends in such an error may or may not have
    /// run on the peer; retrying needs a new connection.
    ///
    /// Errors about one call only ([`MessageTooLarge`](Self::MessageTooLarge),
    /// [`Encode`](Self::Encode), [`Overloaded`](Self::Overloaded), [`Timeout`](Self::Timeout),
    /// a [`Remote`](Self::Remote) error, ...) leave the connection up.
    pub fn is_connection_reset(&self) -> bool {
        matches!(
            self,
            Error::Closed(_)
                | Error::Io(_)
                | Error::FrameTooLarge { .. }
                | Error::Truncated { .. }
                | Error::Undecodable { .. }
                | Error::WriteStalled { .. }
                | Error::Idle { .. }
        )
    }

    /// What the peer sent back, if it answered with an error reply.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            Error::Remote(r) => Some(r),
            _ => None,
        }
    }

    /// The error for an incoming byte stream that could not be cut into frames.
    pub(crate) fn from_frame(e: CodecError) -> Self {
        match e {
            CodecError::FrameTooLarge { len, limit } => Error::FrameTooLarge { len, limit },
            CodecError::Truncated { expected, missing } => Error::Truncated { expected, missing },
            other => Error::Decode(other),
        }
    }
}

/// `": <hint>"`, or nothing.
fn hint_text(hint: &Option<&'static str>) -> String {
    hint.map_or_else(String::new, |h| format!(": {h}"))
}

impl From<RemoteError> for Error {
    fn from(e: RemoteError) -> Self {
        Error::Remote(Box::new(e))
    }
}

impl From<io::Error> for Error {
    /// The errors that mean the peer went away are [`Error::Closed`]; others [`Error::Io`].
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => {
                Error::Closed(Cow::Owned(format!("the peer closed the connection ({e})")))
            }
            _ => Error::Io(Arc::new(e)),
        }
    }
}

/// What the peer sent back when a call failed: the content of its error reply `[2, id, content]`.
///
/// aiomas sends a Python traceback whose last line is `"<ExcType>: <message>"`, this crate sends
/// `"<Kind>: <message>\n"`, and mosaik a list `[type, message, traceback...]`; all three are read
/// into [`kind`](Self::kind) and [`message`](Self::message), and the content is kept as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteError {
    kind: String,
    message: String,
    text: String,
    content: Value,
    origin: String,
}

impl RemoteError {
    /// Reads an error reply's content, which came from `origin`.
    pub(crate) fn from_content(content: Value, origin: String) -> Self {
        let show = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        // mosaik sends [type, message, traceback...]: the kind and message are given.
        if let Value::Array(items) = &content {
            if items.len() >= 2 {
                let (kind, message) = (show(&items[0]), show(&items[1]));
                let text = match items.get(2).and_then(Value::as_str) {
                    Some(traceback) if !traceback.trim().is_empty() => traceback.to_owned(),
                    _ => format!("{kind}: {message}\n"),
                };
                return RemoteError {
                    kind,
                    message,
                    text,
                    content,
                    origin,
                };
            }
        }
        let text = show(&content);
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

    /// The error's kind, e.g. `ValueError` (empty when the text has no `Kind: ` part).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The whole text the peer sent (a traceback, from Python peers).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The content of the error reply exactly as it came.
    pub fn content(&self) -> &Value {
        &self.content
    }

    /// The peer's address, as aiomas's `RemoteException.origin`.
    pub fn origin(&self) -> &str {
        &self.origin
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

/// How a connection writes the content of an error reply `[2, id, content]` for a
/// [`CallError`] that does not carry a content of its own ([`CallError::with_content`]).
///
/// Set it with `error_format` on [`ConnectionBuilder`](crate::ConnectionBuilder),
/// [`ServerBuilder`](crate::ServerBuilder) or [`ChannelBuilder`](crate::ChannelBuilder).
/// [`RemoteError`] reads both forms, whichever the peer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// aiomas's form, the default: a string whose last line is `"<Kind>: <message>"`
    /// (`"ValueError: overflow\n"`).
    #[default]
    Aiomas,
    /// mosaik's form: a list `[type, message, traceback]`
    /// (`["ValueError", "overflow", "ValueError: overflow\n"]`), which mosaik unpacks into its
    /// exception.
    Mosaik,
}

/// The content of the error reply for `error` written in `format`.
pub(crate) struct ErrorContent<'a> {
    pub(crate) error: &'a CallError,
    pub(crate) format: ErrorFormat,
}

impl serde::Serialize for ErrorContent<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        if let Some(content) = &self.error.content {
            return content.serialize(s);
        }
        match self.format {
            ErrorFormat::Aiomas => s.serialize_str(&self.error.wire_text()),
            ErrorFormat::Mosaik => {
                let mut t = s.serialize_tuple(3)?;
                t.serialize_element(&*self.error.kind)?;
                t.serialize_element(&self.error.message)?;
                t.serialize_element(&self.error.wire_text())?;
                t.end()
            }
        }
    }
}

/// A failed call, as a handler returns it; the peer reads `"<Kind>: <message>\n"` (or the
/// connection's [`ErrorFormat`], or a content of the handler's own: [`CallError::with_content`]).
///
/// The kind names the failure in Python's terms, so that a Python peer reads it naturally
/// (`ValueError`, `TypeError`, `LookupError`, ...).
///
/// An exposed method may return `Result<T, E>` for any `E: Display`. The caller then sees:
/// - for `E: Into<CallError>` (this type, [`Error`], [`RemoteError`], and your own errors once
///   you write `impl From<MyError> for CallError`), the kind and message of the conversion;
/// - for any other `E`, the type's name as the kind (`ParseIntError` for
///   `std::num::ParseIntError`) and its `Display` as the message.
///
/// ```
/// use rpc_core::CallError;
///
/// #[derive(Debug)]
/// struct NotANumber(String);
///
/// impl From<NotANumber> for CallError {
///     fn from(e: NotANumber) -> Self {
///         CallError::value_error(format!("{:?} is not a number", e.0))
///     }
/// }
///
/// let e = CallError::from(NotANumber("x".into()));
/// assert_eq!((e.kind(), e.message()), ("ValueError", "\"x\" is not a number"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    kind: Cow<'static, str>,
    message: String,
    content: Option<Box<Value>>,
}

impl CallError {
    /// A failure of the given kind.
    pub fn new(kind: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        CallError {
            kind: kind.into(),
            message: message.into(),
            content: None,
        }
    }

    /// The same error, with `content` as the whole content of the error reply, whatever the
    /// connection's [`ErrorFormat`]: a structure the peer's program expects, such as mosaik's
    /// `[type, message, traceback]` with a traceback of your own. The kind and message stay
    /// for the Rust side (logs, [`Display`](fmt::Display)).
    ///
    /// ```
    /// use rpc_core::{CallError, Value};
    /// let e = CallError::value_error("no such entity").with_content(Value::Array(vec![
    ///     "ValueError".into(),
    ///     "no such entity".into(),
    ///     "Traceback (most recent call last):\n  in step\nValueError: no such entity\n".into(),
    /// ]));
    /// assert_eq!(e.content().and_then(Value::as_array).map(<[_]>::len), Some(3));
    /// ```
    #[must_use]
    pub fn with_content(mut self, content: Value) -> Self {
        self.content = Some(Box::new(content));
        self
    }

    /// The content given with [`with_content`](Self::with_content), if any.
    pub fn content(&self) -> Option<&Value> {
        self.content.as_deref()
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

    /// The kind, e.g. `ValueError`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The text sent on the wire: `"<Kind>: <message>\n"`.
    pub(crate) fn wire_text(&self) -> String {
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

impl From<Error> for CallError {
    /// Passes a failed call to another peer on: its remote error as it came, a lost connection as
    /// `ConnectionResetError`, anything else as `RpcError`.
    fn from(e: Error) -> Self {
        match e {
            Error::Remote(r) => (*r).into(),
            e if e.is_connection_reset() => CallError::new("ConnectionResetError", e.to_string()),
            other => CallError::new("RpcError", other.to_string()),
        }
    }
}

/// The name of a type without its module path or generic arguments: `ParseIntError`.
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
