//! [`RpcClient`]: one side of an RPC connection, and [`open_connection`].

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::channel::{Channel, ChannelBuilder, IncomingRequest, RequestHandler};
use crate::codec::Codec;
use crate::error::{CallError, ChannelError};
use crate::proxy::{Proxy, TypedProxy};
use crate::service::Router;
use crate::transport::{self, AddrParseError, ToAddr};

pub(crate) use crate::channel::ConnHooks;

type ResetCallback = Box<dyn FnOnce(ChannelError) + Send>;

/// What went wrong when connecting or serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The address does not parse.
    #[error(transparent)]
    Addr(#[from] AddrParseError),
    /// Connecting, binding or accepting failed.
    #[error("cannot connect to or listen on {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// `on_connection_reset` was called on a client that serves nothing, as in aiomas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this RpcClient has no service task: open it with a service to watch for connection resets"
)]
pub struct NoServiceTask;

/// Settings of a connection, for [`open_connection`] and [`start_server`](crate::start_server):
/// the channel's settings ([`ChannelBuilder`]) and how long to keep trying to connect.
#[derive(Debug, Clone)]
#[must_use]
pub struct Options {
    pub(crate) channel: ChannelBuilder,
    pub(crate) retry_for: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            channel: Channel::builder(),
            retry_for: None,
        }
    }
}

impl Options {
    /// The defaults: MsgPack, [`DEFAULT_MAX_FRAME_LEN`](crate::frame::DEFAULT_MAX_FRAME_LEN),
    /// [`DEFAULT_MAX_IN_FLIGHT`](crate::channel::DEFAULT_MAX_IN_FLIGHT),
    /// [`DEFAULT_MAX_QUEUED`](crate::channel::DEFAULT_MAX_QUEUED), no retrying.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the codec. Both peers must use the same one: nothing is negotiated.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.channel = self.channel.codec(codec);
        self
    }

    /// Sets the maximum frame payload, in both directions ([`ChannelBuilder::max_frame_len`]).
    pub fn max_frame_len(mut self, len: usize) -> Self {
        self.channel = self.channel.max_frame_len(len);
        self
    }

    /// Sets how many of the peer's requests may be in progress at once on each connection
    /// ([`ChannelBuilder::max_in_flight`]).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.channel = self.channel.max_in_flight(n);
        self
    }

    /// Sets how many bytes may wait to be written on each connection
    /// ([`ChannelBuilder::max_queued`]).
    pub fn max_queued(mut self, bytes: usize) -> Self {
        self.channel = self.channel.max_queued(bytes);
        self
    }

    /// [`open_connection`] keeps trying to connect for this long (aiomas's `timeout`), so a client
    /// may start before its server.
    pub fn retry_for(mut self, timeout: Duration) -> Self {
        self.retry_for = Some(timeout);
        self
    }
}

/// Counts calls in progress, so that a server can drain.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    busy: AtomicUsize,
    idle: Notify,
}

impl Tracker {
    fn start(self: &Arc<Self>) -> TrackGuard {
        self.busy.fetch_add(1, Ordering::AcqRel);
        TrackGuard(self.clone())
    }

    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.busy.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct TrackGuard(Arc<Tracker>);

impl Drop for TrackGuard {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Serves requests with a router.
struct ServeHandler {
    router: Router,
    tracker: Arc<Tracker>,
}

impl RequestHandler for ServeHandler {
    fn handle(&self, request: IncomingRequest) {
        let guard = self.tracker.start();
        if let Some(fut) = crate::service::dispatch(&self.router, request) {
            tokio::spawn(async move {
                fut.await;
                drop(guard);
            });
        }
    }
}

/// Answers every request with an error: this side serves nothing (aiomas never answers).
struct NoService;

impl RequestHandler for NoService {
    fn handle(&self, request: IncomingRequest) {
        let _ = request.fail(&CallError::lookup_error(
            "this side of the connection serves no RPC service",
        ));
    }
}

struct ClientInner {
    channel: Channel,
    service: Option<Router>,
    reset_cb: Arc<Mutex<Option<ResetCallback>>>,
    service_task: Mutex<Option<JoinHandle<()>>>,
}

/// One side of an RPC connection: calls the peer through [`remote`](Self::remote) and, when it
/// has a service, serves the peer's calls. Cheap to clone; all clones are one connection.
#[derive(Clone)]
pub struct RpcClient {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcClient")
            .field("channel", &self.inner.channel)
            .field(
                "service",
                &self.inner.service.as_ref().map(|r| r.service().type_name()),
            )
            .finish()
    }
}

impl RpcClient {
    /// Makes an RPC client of a fresh channel, serving `service` to the peer if given.
    ///
    /// Without a service, the peer's requests get an error reply saying that nothing is served.
    pub fn new(channel: Channel, service: Option<Router>) -> Self {
        Self::with_tracker(channel, service, Arc::default())
    }

    pub(crate) fn with_tracker(
        channel: Channel,
        service: Option<Router>,
        tracker: Arc<Tracker>,
    ) -> Self {
        let reset_cb: Arc<Mutex<Option<ResetCallback>>> = Arc::default();
        let service_task = match &service {
            Some(router) => {
                channel.set_service(router.clone());
                channel.set_handler(Arc::new(ServeHandler {
                    router: router.clone(),
                    tracker,
                }));
                let closed = channel.closed();
                let cb = reset_cb.clone();
                Some(tokio::spawn(async move {
                    let err = closed.await;
                    let f = cb.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(f) = f {
                        f(err);
                    }
                }))
            }
            None => {
                channel.set_handler(Arc::new(NoService));
                None
            }
        };
        RpcClient {
            inner: Arc::new(ClientInner {
                channel,
                service,
                reset_cb,
                service_task: Mutex::new(service_task),
            }),
        }
    }

    /// The connection's channel.
    pub fn channel(&self) -> &Channel {
        &self.inner.channel
    }

    /// The service this side serves, if any.
    pub fn service(&self) -> Option<&Router> {
        self.inner.service.as_ref()
    }

    /// The root proxy of the peer's service.
    pub fn remote(&self) -> Proxy {
        Proxy::new(self.inner.channel.clone(), "")
    }

    /// A typed proxy of the peer's root service, e.g. `client.proxy::<CalcProxy>()`.
    pub fn proxy<P: TypedProxy>(&self) -> P {
        P::from(self.remote())
    }

    /// Sets the callback that runs once when the connection ends (reset by the peer or closed),
    /// with the reason. A second call replaces the callback; `None` removes it.
    ///
    /// Fails with [`NoServiceTask`] when this side serves nothing, as aiomas raises there.
    pub fn on_connection_reset<F>(&self, callback: Option<F>) -> Result<(), NoServiceTask>
    where
        F: FnOnce(ChannelError) + Send + 'static,
    {
        if self.inner.service.is_none() {
            return Err(NoServiceTask);
        }
        *self
            .inner
            .reset_cb
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = callback.map(|f| Box::new(f) as ResetCallback);
        Ok(())
    }

    /// Waits until the connection has ended and returns why.
    pub fn closed(&self) -> impl Future<Output = ChannelError> + Send + 'static {
        self.inner.channel.closed()
    }

    /// Closes the connection and waits for all of its tasks (the reset callback included).
    pub async fn close(&self) {
        self.inner.channel.close().await;
        let task = self
            .inner
            .service_task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Connects to `addr` and returns the client side of the connection.
///
/// Pass a `service` for the peer to call back (aiomas's `rpc_service`).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use rpc_core::{open_connection, Options};
/// let client = open_connection("127.0.0.1:5555", None, Options::new()).await?;
/// let sum: i64 = client.remote().get("add").call((1, 2)).await?;
/// client.close().await;
/// # Ok(()) }
/// ```
pub async fn open_connection(
    addr: impl ToAddr,
    service: Option<Router>,
    options: Options,
) -> Result<RpcClient, ConnectError> {
    let addr = addr.to_addr()?;
    let deadline = options.retry_for.map(|d| tokio::time::Instant::now() + d);
    let conn = loop {
        match transport::connect(&addr).await {
            Ok(c) => break c,
            Err(e) => match deadline {
                Some(d) if tokio::time::Instant::now() < d => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ => {
                    return Err(ConnectError::Io {
                        addr: addr.to_string(),
                        source: e,
                    })
                }
            },
        }
    };
    let channel = options
        .channel
        .peer(conn.peer)
        .open_split(conn.reader, conn.writer);
    Ok(RpcClient::new(channel, service))
}
