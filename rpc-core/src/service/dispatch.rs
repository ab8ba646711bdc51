//! Dispatch: a request in, a reply out. The one place where a handler's panic is caught.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_util::task::TaskTracker;

use super::call::{Call, Outcome};
use super::router::{member_error, resolve};
use super::{Member, Router};
use crate::channel::{HandlerFuture, IncomingRequest, RequestHandler};
use crate::error::CallError;
use crate::rpc::trace::{self, CallSpan};
use crate::wire::CodecError;

/// Serves the requests of one connection with a router.
pub(crate) struct Serve {
    router: Router,
    /// Counts the requests in progress, so that the connection (or its server) can drain.
    tracker: TaskTracker,
}

impl Serve {
    pub(crate) fn new(router: Router, tracker: TaskTracker) -> Self {
        Serve { router, tracker }
    }
}

impl RequestHandler for Serve {
    fn handle<'a>(&'a self, request: IncomingRequest) -> Option<HandlerFuture<'a>> {
        let token = self.tracker.token();
        let fut = dispatch(&self.router, request)?;
        Some(Box::pin(async move {
            fut.await;
            drop(token);
        }))
    }
}

/// Serves one request with the tree of `root`: splits it, resolves its path, calls the
/// function. Returns the future that answers it when the function is asynchronous.
pub(crate) fn dispatch<'s>(
    root: &'s Router,
    request: IncomingRequest,
) -> Option<HandlerFuture<'s>> {
    let span = trace::incoming(&request);
    let (payload, content) = {
        let (p, c) = request.payload();
        (p.clone(), c)
    };
    let raw = match request.channel().codec().split_request(&payload, content) {
        Ok(raw) => raw,
        Err(e) => {
            let msg = match e {
                CodecError::InvalidMessage(m) => m,
                other => other.to_string(),
            };
            trace::record_error(&span, "TypeError");
            let _ = request.fail(&CallError::type_error(format!("invalid request: {msg}")));
            return None;
        }
    };
    trace::record_path(&span, &raw);
    let (node, node_path, method) = match resolve(root.service(), &raw.path) {
        Ok(found) => found,
        Err(e) => {
            trace::record_error(&span, e.kind());
            let _ = request.fail(&e);
            return None;
        }
    };
    let call = Call {
        raw: &raw,
        request: &request,
        root,
        node_path,
        span: &span,
    };
    // Entered while the function runs, so that its events and calls nest under it.
    let entered = span.enter();
    let called = catch(|| node.call(method, call));
    drop(entered);
    match called {
        Ok(Some(Outcome(None))) => None,
        Ok(Some(Outcome(Some(fut)))) => Some(Box::pin(Guarded {
            fut,
            request: Some(request),
            span,
        })),
        Ok(None) => {
            let err = member_error(node, node_path, method, Member::of(node, method));
            trace::record_error(&span, err.kind());
            let _ = request.fail(&err);
            None
        }
        Err(panic) => {
            trace::record_error(&span, panic.kind());
            let _ = request.fail(&panic);
            None
        }
    }
}

/// Runs `f`, turning a panic into the error reply it should cause: `Panic: <message>`.
fn catch<R>(f: impl FnOnce() -> R) -> Result<R, CallError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| panic_error(&*panic))
}

fn panic_error(panic: &(dyn Any + Send)) -> CallError {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".to_owned());
    CallError::new("Panic", msg)
}

/// An asynchronous call in progress. It owns the request: the call counts as in progress until
/// the future ends, and a future that panics is answered from here. Its span is entered while
/// it is polled.
struct Guarded<'s> {
    fut: HandlerFuture<'s>,
    request: Option<IncomingRequest>,
    span: CallSpan,
}

impl Future for Guarded<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.request.is_none() {
            return Poll::Ready(());
        }
        let this = &mut *self;
        let _entered = this.span.enter();
        let fut = &mut this.fut;
        match catch(|| fut.as_mut().poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => {
                this.request = None;
                Poll::Ready(())
            }
            Err(panic) => {
                trace::record_error(&this.span, panic.kind());
                if let Some(request) = this.request.take() {
                    let _ = request.fail(&panic);
                }
                Poll::Ready(())
            }
        }
    }
}
