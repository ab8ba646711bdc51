//! Tracing of calls with [`tracing`](https://docs.rs/tracing): a `DEBUG` span per call, under
//! the target `rpc_core::calls`.
//!
//! | span | made | fields |
//! |---|---|---|
//! | `rpc.call` | by [`Proxy`](super::Proxy) for each call to the peer | `path`, `peer`, `codec`, `id` (our request id), `outcome`, `error.kind` |
//! | `rpc.serve` | by dispatch for each call of the peer; entered while the function runs | `path`, `peer`, `codec`, `id` (the peer's request id), `outcome`, `error.kind` |
//!
//! `outcome` is `"ok"` or `"error"`; `error.kind` is the error's kind as the peer reads it
//! (`ValueError`, `LookupError`, ...) or, for a call of ours that got no reply,
//! `Timeout`/`ConnectionReset`/`Decode`/... A call made while serving another (a call back)
//! is a child of that call's `rpc.serve` span. aiomas's wire format carries no trace context,
//! so a call and its serving on the other side are linked by `peer` and `id`.
//!
//! When no subscriber wants `DEBUG` spans, making one is a level check (an atomic load) that
//! yields an empty pointer, and everything recorded on it is skipped: nothing is formatted,
//! allocated or looked up on the hot path.

use tracing::field::Empty;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Level, Span};

use crate::channel::{Channel, IncomingRequest};
use crate::error::Error;
use crate::wire::codec::{CodecKind, RawCall};
use crate::wire::Value;

/// The target of the call spans, for filters (`RUST_LOG=rpc_core::calls=debug`).
pub(crate) const TARGET: &str = "rpc_core::calls";

/// The span of one call, or nothing when no subscriber wants `DEBUG` spans: then it is one
/// pointer that is `None`, so the futures that hold it stay small and every operation on it is
/// one branch. (A disabled `tracing::Span` would still take 40 bytes, and with `tracing`'s
/// `log` feature on, as some dependency may turn it on, it would format its fields for `log`
/// whenever no subscriber was ever set.)
#[derive(Debug, Clone, Default)]
pub(crate) struct CallSpan(Option<Box<Span>>);

/// Whether a subscriber may want the call spans: a constant and one atomic load.
#[inline]
fn wanted() -> bool {
    Level::DEBUG <= STATIC_MAX_LEVEL && Level::DEBUG <= LevelFilter::current()
}

impl CallSpan {
    /// Enters the span until the guard is dropped, so that what runs meanwhile (events, calls
    /// to the peer) nests under it.
    #[inline]
    pub(crate) fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.0.as_ref().map(|span| span.enter())
    }

    /// Whether there is no span (no subscriber wants it).
    #[inline]
    pub(crate) fn is_off(&self) -> bool {
        self.0.is_none()
    }

    #[inline]
    fn with(&self, f: impl FnOnce(&Span)) {
        if let Some(span) = &self.0 {
            if !span.is_disabled() {
                f(span);
            }
        }
    }
}

/// The name of a channel's codec, as the spans and events show it.
pub(crate) fn codec_name(channel: &Channel) -> &'static str {
    match channel.codec().kind() {
        CodecKind::MsgPack => "msgpack",
        CodecKind::Json => "json",
        #[cfg(feature = "msgpack-blosc")]
        CodecKind::MsgPackBlosc => "msgpack-blosc",
    }
}

/// The path `prefix/name` as the request carries it, without allocating unless shown.
struct JoinedPath<'a>(&'a str, &'a str);

impl std::fmt::Display for JoinedPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0.is_empty(), self.1.is_empty()) {
            (true, _) => f.write_str(self.1),
            (_, true) => f.write_str(self.0),
            _ => write!(f, "{}/{}", self.0, self.1),
        }
    }
}

/// The span of a call to the peer of `channel` at `prefix/name` (see the module docs).
#[inline]
pub(crate) fn outgoing(channel: &Channel, prefix: &str, name: &str) -> CallSpan {
    if !wanted() {
        return CallSpan(None);
    }
    outgoing_span(channel, prefix, name)
}

/// A span that the subscriber turned down (another target's filter let `DEBUG` through) is
/// not kept: no allocation for it.
fn keep(span: Span) -> CallSpan {
    if span.is_disabled() {
        CallSpan(None)
    } else {
        CallSpan(Some(Box::new(span)))
    }
}

#[cold]
fn outgoing_span(channel: &Channel, prefix: &str, name: &str) -> CallSpan {
    keep(tracing::debug_span!(
        target: TARGET,
        "rpc.call",
        path = %JoinedPath(prefix, name),
        peer = channel.peer(),
        codec = codec_name(channel),
        id = Empty,
        outcome = Empty,
        error.kind = Empty,
    ))
}

/// Records our request id on an outgoing call's span.
#[inline]
pub(crate) fn record_id(span: &CallSpan, id: u64) {
    span.with(|s| {
        s.record("id", id);
    });
}

/// Records how an outgoing call ended.
#[inline]
pub(crate) fn record_result<T>(span: &CallSpan, result: &Result<T, Error>) {
    span.with(|s| match result {
        Ok(_) => {
            s.record("outcome", "ok");
        }
        Err(e) => {
            s.record("outcome", "error");
            s.record("error.kind", error_kind(e));
        }
    });
}

/// The kind of a failed call of ours: the peer's error kind, or what happened here.
pub(crate) fn error_kind(e: &Error) -> &str {
    match e {
        Error::Remote(r) => r.kind(),
        Error::Timeout(_) => "Timeout",
        Error::Encode(_) => "Encode",
        Error::Decode(_) => "Decode",
        Error::MessageTooLarge { .. } => "MessageTooLarge",
        Error::Overloaded { .. } => "Overloaded",
        Error::NoFunctionName => "NoFunctionName",
        e if e.is_connection_reset() => "ConnectionReset",
        _ => "Connection",
    }
}

/// The span of a call of the peer (see the module docs); its path is recorded once known.
#[inline]
pub(crate) fn incoming(request: &IncomingRequest) -> CallSpan {
    if !wanted() {
        return CallSpan(None);
    }
    incoming_span(request)
}

#[cold]
fn incoming_span(request: &IncomingRequest) -> CallSpan {
    let span = tracing::debug_span!(
        target: TARGET,
        "rpc.serve",
        path = Empty,
        peer = request.channel().peer(),
        codec = codec_name(request.channel()),
        id = Empty,
        outcome = Empty,
        error.kind = Empty,
    );
    if !span.is_disabled() {
        // The id is echoed as it came, so it may be anything; show numbers as numbers.
        match request
            .channel()
            .codec()
            .decode_slice::<Value>(request.raw_id())
        {
            Ok(Value::Int(i)) => span.record("id", i),
            Ok(Value::UInt(u)) => span.record("id", u),
            Ok(other) => span.record("id", tracing::field::debug(other)),
            Err(_) => span.record("id", "<undecodable>"),
        };
    }
    keep(span)
}

/// Records the path of an incoming call, once the request has been taken apart.
#[inline]
pub(crate) fn record_path(span: &CallSpan, raw: &RawCall<'_>) {
    span.with(|s| {
        s.record("path", &*raw.path);
    });
}

/// Records that an incoming call was answered with a result.
#[inline]
pub(crate) fn record_ok(span: &CallSpan) {
    span.with(|s| {
        s.record("outcome", "ok");
    });
}

/// Records that an incoming call was answered with an error of `kind`.
#[inline]
pub(crate) fn record_error(span: &CallSpan, kind: &str) {
    span.with(|s| {
        s.record("outcome", "error");
        s.record("error.kind", kind);
    });
}
