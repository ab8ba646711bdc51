//! [`Connection`]: one side of an RPC connection (aiomas's `RpcClient`), its
//! [`ConnectionBuilder`], and [`open_connection`].

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use super::addr::{Addr, ToAddr};
use super::transport::{self, BoxIoStream, IoStream, WrapStream};
use crate::channel::{
    Channel, ChannelBuilder, HandlerFuture, IncomingRequest, RequestHandler, DEFAULT_DRAIN_TIMEOUT,
};
use crate::error::{CallError, Error};
use crate::rpc::{ConnContext, LocalServices, Proxy, TypedProxy};
use crate::service::dispatch::{Budget, Serve};
use crate::service::Router;
use crate::wire::codec::{Codec, RawCall};

type ResetCallback = Box<dyn FnOnce(Error) + Send>;

/// The channel settings that the connection and server builders share.
macro_rules! channel_settings {
    ($($field:ident).+) => {
        /// Sets the codec (MsgPack by default). Both peers must use the same one: nothing is
        /// negotiated; aiomas's own default is JSON ([`Codec::json`]).
        pub fn codec(mut self, codec: Codec) -> Self {
            self.$($field).+ = self.$($field).+.codec(codec);
            self
        }

        /// Sets the maximum frame payload, in both directions
        /// ([`ChannelBuilder::max_frame_len`]).
        pub fn max_frame_len(mut self, len: usize) -> Self {
            self.$($field).+ = self.$($field).+.max_frame_len(len);
            self
        }

        /// Sets how many of the peer's requests may be in progress at once
        /// ([`ChannelBuilder::max_in_flight`]).
        pub fn max_in_flight(mut self, n: usize) -> Self {
            self.$($field).+ = self.$($field).+.max_in_flight(n);
            self
        }

        /// Sets how many bytes may wait to be written ([`ChannelBuilder::max_queued`]).
        pub fn max_queued(mut self, bytes: usize) -> Self {
            self.$($field).+ = self.$($field).+.max_queued(bytes);
            self
        }

        /// Sets how long nothing may be written to the peer while replies wait before the
        /// connection is aborted ([`ChannelBuilder::write_stall_timeout`]; a minute by default,
        /// `None`: never).
        pub fn write_stall_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.$($field).+ = self.$($field).+.write_stall_timeout(timeout);
            self
        }

        /// Closes a connection that was quiet, with no call in progress, for `timeout`
        /// ([`ChannelBuilder::idle_timeout`]; off by default).
        pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$($field).+ = self.$($field).+.idle_timeout(timeout);
            self
        }

        /// Sets how error replies are written ([`ChannelBuilder::error_format`]): aiomas's
        /// string by default, or mosaik's `[type, message, traceback]`.
        pub fn error_format(mut self, format: $crate::ErrorFormat) -> Self {
            self.$($field).+ = self.$($field).+.error_format(format);
            self
        }
    };
}
pub(super) use channel_settings;

/// Answers every request with an error: this side serves nothing (aiomas never answers).
struct NoService;

impl RequestHandler for NoService {
    fn handle<'a>(
        &'a self,
        request: IncomingRequest,
        _call: Option<&RawCall<'_>>,
    ) -> Option<HandlerFuture<'a>> {
        let _ = request.fail(&CallError::lookup_error(
            "this side of the connection serves no RPC service",
        ));
        None
    }
}

/// Settings of a connection: the channel's, the service this side serves, how to connect.
/// Made by [`Connection::builder`].
///
/// ```no_run
/// # async fn demo(router: rpc_core::Router) -> Result<(), rpc_core::Error> {
/// use std::time::Duration;
/// use rpc_core::{Codec, Connection};
/// let conn = Connection::builder()
///     .codec(Codec::json())
///     .serve(router)                        // the peer may call us back
///     .retry_for(Duration::from_secs(5))    // the server may start after us
///     .connect("127.0.0.1:5555")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ConnectionBuilder {
    channel: ChannelBuilder,
    service: Option<Router>,
    retry_for: Option<Duration>,
    wrap: Option<WrapStream>,
    /// Shared by the connections of one server: its limit of requests in progress.
    budget: Option<Arc<Budget>>,
    /// Whether to install the library's panic hook for handler panics.
    quiet_panics: bool,
    /// Whether the peer's calls in progress are dropped when the connection ends.
    cancel_on_disconnect: bool,
    /// `None`: [`DEFAULT_DRAIN_TIMEOUT`].
    drain_timeout: Option<Duration>,
    /// A server's: holds a token while calls run on after their connection ended.
    lingering: Option<TaskTracker>,
}

impl fmt::Debug for ConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionBuilder")
            .field("channel", &self.channel)
            .field("service", &self.service)
            .field("retry_for", &self.retry_for)
            .field("wraps_stream", &self.wrap.is_some())
            .field("quiet_handler_panics", &self.quiet_panics)
            .field("cancel_on_disconnect", &self.cancel_on_disconnect)
            .field("drain_timeout", &self.drain_bound())
            .finish()
    }
}

impl ConnectionBuilder {
    channel_settings!(channel);

    /// Serves `router` to the peer over this connection, so that it can call back (aiomas's
    /// `rpc_service`). Without it, the peer's requests are answered with a `LookupError`.
    pub fn serve(mut self, router: Router) -> Self {
        self.service = Some(router);
        self
    }

    /// [`connect`](Self::connect) keeps trying for this long (aiomas's `timeout`), so a client
    /// may start before its server.
    pub fn retry_for(mut self, timeout: Duration) -> Self {
        self.retry_for = Some(timeout);
        self
    }

    /// Runs the connection over what `wrap` makes of the socket (TLS, logging, ...). It
    /// receives the connected socket and the address connected to.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), rpc_core::Error> {
    /// use rpc_core::Connection;
    /// let conn = Connection::builder()
    ///     .wrap_stream(|socket, addr| async move {
    ///         eprintln!("connected to {addr}");
    ///         Ok(socket)
    ///     })
    ///     .connect("127.0.0.1:5555")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn wrap_stream<F, Fut, S>(mut self, wrap: F) -> Self
    where
        F: Fn(BoxIoStream, Addr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: IoStream,
    {
        self.wrap = Some(WrapStream::new(wrap));
        self
    }

    /// Keeps the panics of this side's handlers off stderr: installs, once per process, a panic
    /// hook that reports a handler's panic through `tracing` (at most one `ERROR` event a
    /// second, with a count of the others) instead of passing it to the program's hook. Panics
    /// anywhere else, in any thread, still go to the hook that was set before.
    ///
    /// Off by default, because a panic hook is process-wide: without it the library changes
    /// nothing outside its own tasks, and a handler's panic is caught and answered
    /// (`Panic: <message>`) all the same, but is also printed by the program's hook (the
    /// default one writes a line, and with `RUST_BACKTRACE` a backtrace, to stderr per panic).
    /// Turn it on for a service open to peers that might make it panic on purpose.
    pub fn quiet_handler_panics(mut self) -> Self {
        self.quiet_panics = true;
        self
    }

    /// Drops the peer's calls in progress when the connection ends (Rust's cancellation: the
    /// code after a handler's pending `.await` never runs).
    ///
    /// By default they run on, as in aiomas, where a handler's task outlives its connection:
    /// its calls to the gone peer fail at once with a connection-reset error
    /// ([`Error::is_connection_reset`]), its reply is discarded with a `DEBUG` event, and it
    /// may clean up after itself. They run on for at most the
    /// [`drain_timeout`](Self::drain_timeout) after the connection ended, and
    /// [`Connection::drain`] (or the server's) waits for them within the same bound. An
    /// explicit [`Connection::close`] cancels them either way.
    pub fn cancel_on_disconnect(mut self) -> Self {
        self.cancel_on_disconnect = true;
        self
    }

    /// Sets how long [`Connection::drain`] waits for the peer's calls in progress before it
    /// closes the connection (and cancels those left), and how long calls still in progress
    /// when the connection ends run on ([`DEFAULT_DRAIN_TIMEOUT`] by default).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = Some(timeout);
        self
    }

    /// The drain timeout in force.
    pub(super) fn drain_bound(&self) -> Duration {
        self.drain_timeout.unwrap_or(DEFAULT_DRAIN_TIMEOUT)
    }

    /// Holds a token of `tracker` while calls run on after their connection ended.
    pub(super) fn lingering(mut self, tracker: TaskTracker) -> Self {
        self.lingering = Some(tracker);
        self
    }

    /// Shares one limit of `max` requests in progress among every connection started from here.
    pub(super) fn budget(mut self, max: usize) -> Self {
        self.budget = Some(Arc::new(Budget::new(max)));
        self
    }

    pub(super) fn wrapper(&self) -> Option<&WrapStream> {
        self.wrap.as_ref()
    }

    /// Connects to `addr` (`host:port` or `unix:PATH`) and starts the connection.
    ///
    /// # Errors
    /// [`Error::InvalidAddr`], or [`Error::Connect`] when connecting (or wrapping the stream)
    /// failed, after retrying for [`retry_for`](Self::retry_for) if set.
    pub async fn connect(self, addr: impl ToAddr) -> Result<Connection, Error> {
        let addr = addr.to_addr()?;
        let deadline = self.retry_for.map(|d| tokio::time::Instant::now() + d);
        let failed = |source: io::Error| Error::Connect {
            addr: addr.to_string(),
            source: Arc::new(source),
        };
        let conn = loop {
            match transport::connect(&addr).await {
                Ok(c) => break c,
                Err(e) => match deadline {
                    Some(d) if tokio::time::Instant::now() < d => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    _ => return Err(failed(e)),
                },
            }
        };
        let (reader, writer) = conn
            .socket
            .into_wrapped_halves(self.wrap.as_ref(), &addr)
            .await
            .map_err(failed)?;
        Ok(self.start(reader, writer, conn.peer))
    }

    /// Starts the connection on a stream that is already connected (an in-memory
    /// `tokio::io::duplex`, a socket made elsewhere). The stream wrapper does not apply.
    ///
    /// Must be called within a Tokio runtime.
    pub fn open<S>(self, stream: S, peer: impl Into<String>) -> Connection
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(stream);
        self.start(r, w, peer.into())
    }

    pub(super) fn start<R, W>(self, reader: R, writer: W, peer: String) -> Connection
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let tracker = TaskTracker::new();
        if self.quiet_panics && self.service.is_some() {
            crate::service::dispatch::install_panic_hook();
        }
        let handler: Arc<dyn RequestHandler> = match &self.service {
            Some(router) => Arc::new(Serve::new(
                router.clone(),
                tracker.clone(),
                self.budget.clone(),
            )),
            None => Arc::new(NoService),
        };
        let local = self
            .service
            .clone()
            .map(|r| Arc::new(r) as Arc<dyn LocalServices>);
        let drain_timeout = self.drain_bound();
        let run_on = (!self.cancel_on_disconnect).then_some(drain_timeout);
        let channel = self
            .channel
            .peer(peer)
            .handler(handler)
            .run_on(run_on)
            .lingering(self.lingering)
            .open_with_context(reader, writer, &mut |weak| {
                Arc::new(ConnContext::new(weak, local.clone()))
            });
        tracing::debug!(
            target: "rpc_core::connection",
            peer = channel.peer(),
            codec = crate::rpc::trace::codec_name(&channel),
            serves = self.service.is_some(),
            "connection opened"
        );
        Connection {
            inner: Arc::new(Inner {
                channel,
                service: self.service,
                tracker,
                reset: Arc::default(),
                drain_timeout,
            }),
        }
    }
}

#[derive(Default)]
struct ResetState {
    callback: Option<ResetCallback>,
    watcher: Option<JoinHandle<()>>,
}

struct Inner {
    channel: Channel,
    service: Option<Router>,
    tracker: TaskTracker,
    reset: Arc<Mutex<ResetState>>,
    drain_timeout: Duration,
}

/// One side of an RPC connection (aiomas's `RpcClient`): calls the peer through
/// [`remote`](Self::remote) or a typed [`proxy`](Self::proxy) and, when it serves a service,
/// answers the peer's calls. Cheap to clone; all clones are one connection.
///
/// Made by [`open_connection`] or [`Connection::builder`] on the calling side, and handed to
/// the server's `on_connect` callback on the other.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("channel", &self.inner.channel)
            .field(
                "service",
                &self.inner.service.as_ref().map(|r| r.service().type_name()),
            )
            .finish()
    }
}

impl Connection {
    /// Settings for a new connection: MsgPack, the channel's default limits, no service, no
    /// retrying.
    pub fn builder() -> ConnectionBuilder {
        ConnectionBuilder::default()
    }

    /// The connection's channel.
    pub fn channel(&self) -> &Channel {
        &self.inner.channel
    }

    /// The service this side serves, if any.
    pub fn service(&self) -> Option<&Router> {
        self.inner.service.as_ref()
    }

    /// The peer's address.
    pub fn peer(&self) -> &str {
        self.inner.channel.peer()
    }

    /// The root proxy of the peer's service.
    pub fn remote(&self) -> Proxy {
        Proxy::new(self.inner.channel.clone(), "")
    }

    /// A typed proxy of the peer's root service, e.g. `conn.proxy::<CalcProxy>()`.
    pub fn proxy<P: TypedProxy>(&self) -> P {
        P::from(self.remote())
    }

    /// Runs `callback` once when the connection ends (reset by the peer or closed), with the
    /// reason. A second call replaces the callback.
    pub fn on_connection_reset<F>(&self, callback: F)
    where
        F: FnOnce(Error) + Send + 'static,
    {
        let mut state = self.inner.reset.lock().unwrap_or_else(|e| e.into_inner());
        state.callback = Some(Box::new(callback));
        if state.watcher.is_none() {
            let closed = self.inner.channel.closed();
            let reset = self.inner.reset.clone();
            state.watcher = Some(tokio::spawn(async move {
                let err = closed.await;
                let f = reset
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .callback
                    .take();
                if let Some(f) = f {
                    f(err);
                }
            }));
        }
    }

    /// Removes the callback set with [`on_connection_reset`](Self::on_connection_reset).
    pub fn clear_connection_reset(&self) {
        self.inner
            .reset
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .callback = None;
    }

    /// Whether the connection has ended (or is closing).
    pub fn is_closed(&self) -> bool {
        self.inner.channel.is_closed()
    }

    /// Waits until the connection has ended and returns why.
    pub fn closed(&self) -> impl Future<Output = Error> + Send + 'static {
        self.inner.channel.closed()
    }

    /// Closes the connection and waits for all of its tasks (the reset callback included). Calls
    /// of the peer still in progress are cancelled, also those that run on after the peer
    /// left; see [`drain`](Self::drain).
    pub async fn close(&self) {
        self.inner.channel.close().await;
        let watcher = self
            .inner
            .reset
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watcher
            .take();
        if let Some(task) = watcher {
            let _ = task.await;
        }
    }

    /// Waits until none of the peer's calls is in progress (also those that run on after the
    /// connection ended), for at most the [`drain_timeout`](ConnectionBuilder::drain_timeout),
    /// then closes the connection, cancelling the calls left.
    pub async fn drain(&self) {
        let deadline = tokio::time::Instant::now() + self.inner.drain_timeout;
        self.wait_idle(deadline).await;
        self.close().await;
    }

    /// Waits until none of the peer's calls is in progress, or until `deadline`.
    pub(crate) async fn wait_idle(&self, deadline: tokio::time::Instant) {
        self.inner.tracker.close();
        let _ = tokio::time::timeout_at(deadline, self.inner.tracker.wait()).await;
        self.inner.tracker.reopen();
    }
}

/// Connects to `addr` and returns the client side of the connection, serving nothing (aiomas's
/// `open_connection(addr)`); [`Connection::builder`] sets a codec, a service for the peer to
/// call back, retrying and more.
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_core::Error> {
/// let conn = rpc_core::open_connection("127.0.0.1:5555").await?;
/// let sum: i64 = conn.remote().get("add").call((1, 2)).await?;
/// conn.close().await;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`ConnectionBuilder::connect`].
pub async fn open_connection(addr: impl ToAddr) -> Result<Connection, Error> {
    Connection::builder().connect(addr).await
}
