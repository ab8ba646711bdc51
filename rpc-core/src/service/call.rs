//! One call of an exposed function ([`Call`]), how it goes on ([`Outcome`]), and what a method
//! can know of it ([`CallContext`]).

use std::fmt;
use std::future::Future;

use serde::Serialize;

use super::Router;
use crate::channel::{Channel, HandlerFuture, IncomingRequest, ReplyTo};
use crate::error::{CallError, Error};
use crate::rpc::trace::{self, CallSpan};
use crate::rpc::Proxy;
use crate::wire::codec::RawCall;

/// One call of an exposed function: its arguments, still encoded, and the request to answer.
///
/// A hand-written [`Service`](super::Service) passes it on to the service it wraps; generated
/// code and [`ServiceDict`](super::ServiceDict) take it apart.
pub struct Call<'c> {
    pub(crate) raw: &'c RawCall<'c>,
    pub(crate) request: &'c IncomingRequest,
    pub(crate) root: &'c Router,
    pub(crate) node_path: &'c str,
    /// The call's `rpc.serve` span, where the outcome is recorded.
    pub(crate) span: &'c CallSpan,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("path", &self.raw.path)
            .field("peer", &self.peer())
            .finish_non_exhaustive()
    }
}

impl Call<'_> {
    /// The path of the call, as it came (`"sub/mul"`).
    pub fn path(&self) -> &str {
        &self.raw.path
    }

    /// The caller's address.
    pub fn peer(&self) -> &str {
        self.request.channel().peer()
    }

    /// The context of this call: the connection it came on and the router it reached.
    pub fn context(&self) -> CallContext {
        CallContext::new(self.request.channel().clone(), self.root.at(self.node_path))
    }

    /// The connection's channel.
    pub(crate) fn channel(&self) -> &Channel {
        self.request.channel()
    }

    /// Answers with `value`, or with a `SerializationError` if it cannot be encoded.
    pub(crate) fn ok<T: Serialize + ?Sized>(self, value: &T) -> Outcome<'static> {
        answer_ok(self.span, self.request.reply(value), |e| {
            self.request.fail(e)
        });
        Outcome::done()
    }

    /// Answers with an error reply.
    pub(crate) fn err(self, error: &CallError) -> Outcome<'static> {
        trace::record_error(self.span, error.kind());
        if let Err(e) = self.request.fail(error) {
            tracing::debug!(error = %e, "could not send an error reply");
        }
        Outcome::done()
    }

    /// An owned handle that answers this call from an asynchronous method's future.
    pub(crate) fn reply_to(&self) -> Responder {
        Responder(self.request.reply_to(), self.span.clone())
    }
}

/// Answers a call from an asynchronous method's future.
#[derive(Debug)]
pub(crate) struct Responder(ReplyTo, CallSpan);

impl Responder {
    /// Answers with `value`, or with a `SerializationError` if it cannot be encoded.
    pub(crate) fn ok<T: Serialize + ?Sized>(&self, value: &T) {
        answer_ok(&self.1, self.0.reply(value), |e| self.0.fail(e));
    }

    /// Answers with an error reply.
    pub(crate) fn err(&self, error: &CallError) {
        trace::record_error(&self.1, error.kind());
        if let Err(e) = self.0.fail(error) {
            tracing::debug!(error = %e, "could not send an error reply");
        }
    }
}

/// After trying to send a result: a value that could not be encoded is answered with an error
/// that says why, so the caller never waits for nothing.
fn answer_ok(
    span: &CallSpan,
    sent: Result<(), Error>,
    fail: impl FnOnce(&CallError) -> Result<(), Error>,
) {
    match sent {
        Ok(()) => trace::record_ok(span),
        Err(Error::Encode(e)) => {
            trace::record_error(span, "SerializationError");
            let _ = fail(&CallError::new(
                "SerializationError",
                format!("cannot encode the result: {e}"),
            ));
        }
        Err(e @ Error::MessageTooLarge { .. }) => {
            trace::record_error(span, "SerializationError");
            let _ = fail(&CallError::new(
                "SerializationError",
                format!("cannot send the result: {e}"),
            ));
        }
        Err(e) if e.is_connection_reset() => {
            trace::record_error(span, trace::error_kind(&e));
            tracing::debug!(error = %e, "the connection ended while the call ran: its reply is discarded");
        }
        Err(e) => {
            trace::record_error(span, trace::error_kind(&e));
            tracing::debug!(error = %e, "could not send a reply");
        }
    }
}

/// How a call goes on: answered already, or answered by a future that the connection drives.
#[must_use]
pub struct Outcome<'s>(pub(crate) Option<HandlerFuture<'s>>);

impl<'s> Outcome<'s> {
    /// The call has been answered.
    pub(crate) fn done() -> Self {
        Outcome(None)
    }

    /// The call will be answered by `fut` (which may borrow the service).
    pub(crate) fn pending(fut: impl Future<Output = ()> + Send + 's) -> Self {
        Outcome(Some(Box::pin(fut)))
    }

    /// Whether the call goes on asynchronously.
    pub fn is_pending(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_pending() {
            "Outcome::Pending"
        } else {
            "Outcome::Done"
        })
    }
}

/// The connection a call came on and the router it reached: inject it into an exposed method
/// with `#[context]` to call the caller back.
#[derive(Debug, Clone)]
pub struct CallContext {
    channel: Channel,
    router: Router,
}

impl CallContext {
    pub(crate) fn new(channel: Channel, router: Router) -> Self {
        CallContext { channel, router }
    }

    /// The root proxy of the caller's service (for calls back over the same connection).
    pub fn remote(&self) -> Proxy {
        Proxy::new(self.channel.clone(), "")
    }

    /// The connection's channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The caller's address.
    pub fn peer(&self) -> &str {
        self.channel.peer()
    }

    /// The router of the service that is being called (its path, parent, ...).
    pub fn router(&self) -> &Router {
        &self.router
    }
}
