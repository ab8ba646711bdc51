//! Dispatch: a request in, a reply out. The one place where a handler's panic is caught.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio_util::task::TaskTracker;

use super::call::{Call, Outcome};
use super::router::{member_error, resolve};
use super::{Member, Router};
use crate::channel::{HandlerFuture, IncomingRequest, RequestHandler};
use crate::error::CallError;
use crate::rpc::trace::{self, CallSpan};
use crate::wire::codec::RawCall;
use crate::wire::CodecError;

/// A limit of requests in progress shared by several connections (those of one server).
///
/// Not a `tokio::sync::Semaphore`: a request over the limit is refused at once, never queued,
/// so no waiter list is needed, and a semaphore's permit takes that list's mutex when it is
/// given back (`batch_semaphore::release` locks `waiters` on every release, tokio 1.54): a
/// lock shared by every connection of the server, taken once per request. A counter is the
/// whole job: one atomic add to take a share and one to give it back.
#[derive(Debug)]
pub(crate) struct Budget {
    in_flight: AtomicUsize,
    max: usize,
}

impl Budget {
    pub(crate) fn new(max: usize) -> Self {
        Budget {
            in_flight: AtomicUsize::new(0),
            max,
        }
    }

    /// Takes one request's share, or `None` when the limit is reached.
    fn take(self: &Arc<Self>) -> Option<Share> {
        if self.in_flight.fetch_add(1, Ordering::Relaxed) >= self.max {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Share(self.clone()))
    }
}

/// One request's share of a [`Budget`], given back when dropped.
struct Share(Arc<Budget>);

impl Drop for Share {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves the requests of one connection with a router.
pub(crate) struct Serve {
    router: Router,
    /// Counts the requests in progress, so that the connection (or its server) can drain.
    tracker: TaskTracker,
    budget: Option<Arc<Budget>>,
}

impl Serve {
    pub(crate) fn new(router: Router, tracker: TaskTracker, budget: Option<Arc<Budget>>) -> Self {
        Serve {
            router,
            tracker,
            budget,
        }
    }
}

impl RequestHandler for Serve {
    fn handle<'a>(
        &'a self,
        request: IncomingRequest,
        call: Option<&RawCall<'_>>,
    ) -> Option<HandlerFuture<'a>> {
        let share = match &self.budget {
            None => None,
            Some(budget) => match budget.take() {
                Some(share) => Some(share),
                None => {
                    let _ = request.fail(&CallError::new(
                        "RuntimeError",
                        format!(
                            "too many requests in progress on this server (the limit is {})",
                            budget.max
                        ),
                    ));
                    return None;
                }
            },
        };
        let fut = dispatch(&self.router, request, call)?;
        // Only a call still in progress counts for draining: one answered already needs no
        // token (two atomic updates on a shared counter saved per call).
        let token = self.tracker.token();
        Some(Box::pin(async move {
            fut.await;
            drop((token, share));
        }))
    }
}

/// Serves one request with the tree of `root`: splits it, resolves its path, calls the
/// function. Returns the future that answers it when the function is asynchronous.
pub(crate) fn dispatch<'s>(
    root: &'s Router,
    request: IncomingRequest,
    call: Option<&RawCall<'_>>,
) -> Option<HandlerFuture<'s>> {
    let span = trace::incoming(&request);
    let (payload, split);
    let raw = match call {
        Some(call) => call,
        None => {
            let (p, content) = request.payload();
            payload = p.clone();
            split = request.channel().codec().split_request(&payload, content);
            match &split {
                Ok(raw) => raw,
                Err(e) => {
                    let msg = match e {
                        CodecError::InvalidMessage(m) => m.clone(),
                        other => other.to_string(),
                    };
                    trace::record_error(&span, "TypeError");
                    let _ = request.fail(&CallError::type_error(format!("invalid request: {msg}")));
                    return None;
                }
            }
        }
    };
    trace::record_path(&span, raw);
    let (node, node_path, method) = match resolve(root.service(), &raw.path) {
        Ok(found) => found,
        Err(e) => {
            trace::record_error(&span, e.kind());
            let _ = request.fail(&e);
            return None;
        }
    };
    let call = Call {
        raw,
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
    let outer = IN_HANDLER.replace(true);
    let caught = catch_unwind(AssertUnwindSafe(f));
    IN_HANDLER.set(outer);
    caught.map_err(|panic| panic_error(&*panic))
}

thread_local! {
    /// Whether this thread runs a handler now: its panics are answered and reported here, not
    /// printed by the panic hook.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

/// The handler panics reported lately, for a report at most once a second.
static PANIC_REPORTS: Mutex<PanicReports> = Mutex::new(PanicReports {
    last: None,
    suppressed: 0,
});

struct PanicReports {
    last: Option<std::time::Instant>,
    suppressed: u64,
}

/// Installs, once per process, a panic hook that leaves the panics of handlers to this module:
/// a peer that makes a handler panic on purpose could otherwise write a message (and, with
/// `RUST_BACKTRACE`, a backtrace) to stderr per request. Other panics go to the hook that was
/// there before.
///
/// A panic hook is process-wide, so this runs only when the user asked for it
/// (`quiet_handler_panics` on the connection or server builder); without it, a handler's panic
/// is caught and answered all the same, and reported by whatever hook the program has.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_HANDLER.with(Cell::get) {
                report_handler_panic(info);
            } else {
                previous(info);
            }
        }));
    });
}

/// Logs a handler's panic, at most one line a second, with how many were not logged since.
fn report_handler_panic(info: &std::panic::PanicHookInfo<'_>) {
    let mut reports = PANIC_REPORTS.lock().unwrap_or_else(|e| e.into_inner());
    let now = std::time::Instant::now();
    if reports
        .last
        .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
    {
        reports.suppressed += 1;
        return;
    }
    let suppressed = std::mem::take(&mut reports.suppressed);
    reports.last = Some(now);
    drop(reports);
    tracing::error!(
        message = %panic_error(info.payload()).message(),
        location = %info.location().map_or_else(String::new, ToString::to_string),
        not_logged_since_the_last = suppressed,
        "a handler panicked; the caller was answered with Panic: <message>"
    );
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
