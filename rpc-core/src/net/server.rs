//! [`Server`]: accept connections and serve a service on each; [`ServerBuilder`] and
//! [`start_server`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use super::addr::{Addr, ToAddr};
use super::connection::{channel_settings, Connection, ConnectionBuilder};
use super::transport::{BoxIoStream, Connected, IoStream, Listener};
#[allow(unused_imports)] // for the docs of the shared settings
use crate::channel::ChannelBuilder;
use crate::error::Error;
use crate::service::Router;
use crate::wire::codec::Codec;

type ConnectCallback = Arc<dyn Fn(Connection) + Send + Sync>;

/// The default most connections a server keeps open at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// The default most requests in progress at once across all connections of a server.
pub const DEFAULT_MAX_IN_FLIGHT_TOTAL: usize = 65_536;

/// The default length of the queue of connections the system holds before they are accepted.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// The shortest and the longest pause after a failed accept.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(1));

/// Settings of a server: the service it serves, the channel settings of each connection, and a
/// callback for each new connection. Made by [`Server::builder`].
///
/// ```no_run
/// # async fn demo(router: rpc_core::Router) -> Result<(), rpc_core::Error> {
/// use rpc_core::{Codec, Server};
/// let server = Server::builder(router)
///     .codec(Codec::json())
///     .on_connect(|conn| println!("{} connected", conn.peer()))
///     .bind("127.0.0.1:5555")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct ServerBuilder {
    conn: ConnectionBuilder,
    on_connect: Option<ConnectCallback>,
    max_connections: usize,
    max_in_flight_total: usize,
    backlog: u32,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("conn", &self.conn)
            .field("on_connect", &self.on_connect.is_some())
            .field("max_connections", &self.max_connections)
            .field("max_in_flight_total", &self.max_in_flight_total)
            .field("backlog", &self.backlog)
            .finish()
    }
}

impl ServerBuilder {
    channel_settings!(conn);

    /// Calls `callback` with each new connection (aiomas's `client_connected_cb`): to call the
    /// peer, or to keep the connection.
    pub fn on_connect(mut self, callback: impl Fn(Connection) + Send + Sync + 'static) -> Self {
        self.on_connect = Some(Arc::new(callback));
        self
    }

    /// Sets the most connections open at once ([`DEFAULT_MAX_CONNECTIONS`] by default). A
    /// connection over it is closed as soon as it is accepted (its peer's calls fail with a
    /// closed connection), with a log line at most once a second.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets the most requests in progress at once across all connections
    /// ([`DEFAULT_MAX_IN_FLIGHT_TOTAL`] by default). A request over it is answered at once with
    /// `RuntimeError: too many requests in progress on this server...`; each connection also has
    /// its own limit ([`max_in_flight`](Self::max_in_flight)).
    pub fn max_in_flight_total(mut self, n: usize) -> Self {
        self.max_in_flight_total = n.max(1);
        self
    }

    /// Drops the peer's calls in progress when their connection ends, instead of letting them
    /// run on as aiomas does; see [`ConnectionBuilder::cancel_on_disconnect`].
    pub fn cancel_on_disconnect(mut self) -> Self {
        self.conn = self.conn.cancel_on_disconnect();
        self
    }

    /// Sets how long [`Server::drain`] waits for calls in progress before it closes the
    /// connections left (cancelling their calls), and how long calls run on after their
    /// connection ended ([`DEFAULT_DRAIN_TIMEOUT`](crate::DEFAULT_DRAIN_TIMEOUT) by default);
    /// see [`ConnectionBuilder::drain_timeout`].
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.conn = self.conn.drain_timeout(timeout);
        self
    }

    /// Keeps handler panics off stderr with a process-wide panic hook, installed once, that
    /// reports them through `tracing` at most once a second; see
    /// [`ConnectionBuilder::quiet_handler_panics`]. Off by default.
    pub fn quiet_handler_panics(mut self) -> Self {
        self.conn = self.conn.quiet_handler_panics();
        self
    }

    /// Sets how many connections the system queues before they are accepted
    /// ([`DEFAULT_BACKLOG`] by default; the system may cap it, e.g. Linux at
    /// `net.core.somaxconn`).
    pub fn backlog(mut self, n: u32) -> Self {
        self.backlog = n.max(1);
        self
    }

    /// Runs each connection over what `wrap` makes of the accepted socket (TLS, logging, ...).
    /// It receives the socket and the address listened on; a connection whose wrapping fails
    /// is dropped with a log line.
    pub fn wrap_stream<F, Fut, S>(mut self, wrap: F) -> Self
    where
        F: Fn(BoxIoStream, Addr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: IoStream,
    {
        self.conn = self.conn.wrap_stream(wrap);
        self
    }

    /// Listens on `addr` (`host:port`, port 0 for any free port, or `unix:PATH`) and starts
    /// accepting connections.
    ///
    /// # Errors
    /// [`Error::InvalidAddr`], or [`Error::Listen`] when the address cannot be bound.
    pub async fn bind(self, addr: impl ToAddr) -> Result<Server, Error> {
        let addr = addr.to_addr()?;
        let failed = |source| Error::Listen {
            addr: addr.to_string(),
            source: Arc::new(source),
        };
        let listener = Listener::bind(&addr, self.backlog).await.map_err(failed)?;
        let local_addr = listener.local_addr().map_err(failed)?;
        tracing::info!(target: "rpc_core::connection", addr = %local_addr, "listening");
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(ServerShared {
            conns: Mutex::new(HashMap::new()),
            stop,
            lingering: TaskTracker::new(),
            drain_timeout: self.conn.drain_bound(),
        });
        let conn = self
            .conn
            .budget(self.max_in_flight_total)
            .lingering(shared.lingering.clone());
        let task = tokio::spawn(accept_loop(
            listener,
            local_addr.clone(),
            conn,
            self.on_connect,
            self.max_connections,
            shared.clone(),
        ));
        Ok(Server {
            local_addr,
            shared,
            accept_task: Mutex::new(Some(task)),
        })
    }
}

struct ServerShared {
    conns: Mutex<HashMap<u64, Connection>>,
    stop: watch::Sender<bool>,
    /// Tokens of connections that ended while calls of theirs still run on.
    lingering: TaskTracker,
    drain_timeout: Duration,
}

/// A running server. Dropping the handle leaves it running; call [`shutdown`](Self::shutdown) or
/// [`drain`](Self::drain) to stop it.
///
/// # Process-wide state
///
/// A server changes nothing outside its own tasks unless asked to. A handler that panics is
/// caught on the connection's task and answered with `Panic: <message>`; the panic is also
/// reported by the program's panic hook, as any panic is (the default hook prints it to
/// stderr). [`ServerBuilder::quiet_handler_panics`] opts in to the library's own hook,
/// installed once per process, which reports handler panics through `tracing` at most once a
/// second and passes every other panic to the hook that was set before it.
pub struct Server {
    local_addr: Addr,
    shared: Arc<ServerShared>,
    accept_task: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("connections", &self.connections().len())
            .finish()
    }
}

/// Starts a server on `addr` that serves `router` on every connection it accepts (aiomas's
/// `start_server(addr, rpc_service)`); [`Server::builder`] sets a codec, an `on_connect`
/// callback and more.
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_core::Error> {
/// use rpc_core::{start_server, DynCall, Router, ServiceDict};
/// let service = ServiceDict::new().function("add", |c: DynCall| Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?));
/// let server = start_server("127.0.0.1:0", Router::new(service)).await?;
/// println!("listening on {}", server.local_addr());
/// server.drain().await;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`ServerBuilder::bind`].
pub async fn start_server(addr: impl ToAddr, router: Router) -> Result<Server, Error> {
    Server::builder(router).bind(addr).await
}

/// What the accept loop takes connections from: a listener, or a stand-in in tests.
pub(crate) trait Accept: Send + Sync + 'static {
    /// The next connection.
    fn accept(&self) -> impl Future<Output = io::Result<Connected>> + Send;
}

impl Accept for Listener {
    fn accept(&self) -> impl Future<Output = io::Result<Connected>> + Send {
        Listener::accept(self)
    }
}

/// Paces retries after failed accepts. Out of descriptors, the refused connection stays queued,
/// so retrying at once would spin a core; and one log line per retry would flood the log.
#[derive(Debug)]
struct Backoff {
    delay: Duration,
    failures: u64,
    last_report: Option<Instant>,
}

impl Backoff {
    fn new() -> Self {
        Backoff {
            delay: ACCEPT_BACKOFF.0,
            failures: 0,
            last_report: None,
        }
    }

    /// After a failed accept: logs (at most once a second) and says how long to pause.
    fn failed(&mut self, e: &io::Error) -> Duration {
        self.failures += 1;
        let now = Instant::now();
        if self
            .last_report
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            tracing::warn!(error = %e, failures = self.failures, retry_in = ?self.delay, "accept failed");
            self.last_report = Some(now);
        }
        let delay = self.delay;
        self.delay = (self.delay * 2).min(ACCEPT_BACKOFF.1);
        delay
    }

    /// After an accepted connection.
    fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting again");
            *self = Backoff::new();
        }
    }
}

/// Says at most once a second that connections are refused for being over the limit.
#[derive(Debug, Default)]
struct Refusals {
    count: u64,
    last_report: Option<Instant>,
}

impl Refusals {
    /// Counts a refused connection; logs at most once a second (and says whether it did).
    fn refused(&mut self, limit: usize, peer: &str) -> bool {
        self.count += 1;
        let now = Instant::now();
        let report = self
            .last_report
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if report {
            tracing::warn!(
                peer,
                limit,
                refused = self.count,
                "closed a connection over the connection limit"
            );
            self.last_report = Some(now);
        }
        report
    }
}

async fn accept_loop<L: Accept>(
    listener: L,
    local_addr: Addr,
    builder: ConnectionBuilder,
    on_connect: Option<ConnectCallback>,
    max_connections: usize,
    shared: Arc<ServerShared>,
) {
    let mut stop = shared.stop.subscribe();
    let next_id = AtomicU64::new(0);
    let mut backoff = Backoff::new();
    let mut refusals = Refusals::default();
    loop {
        let conn = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            conn = listener.accept() => conn,
        };
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                let pause = backoff.failed(&e);
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        };
        backoff.succeeded();
        let open = shared.conns.lock().unwrap_or_else(|e| e.into_inner()).len();
        if open >= max_connections {
            refusals.refused(max_connections, &conn.peer);
            // Closed at once: the peer's calls fail now, not at its timeout.
            drop(conn);
            continue;
        }
        let wraps = builder.wrapper().is_some();
        let builder = builder.clone();
        let shared = shared.clone();
        let on_connect = on_connect.clone();
        let local_addr = local_addr.clone();
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let start = async move {
            let (reader, writer) = match builder.wrapper() {
                None => conn.socket.into_halves(),
                Some(_) => match conn
                    .socket
                    .into_wrapped_halves(builder.wrapper(), &local_addr)
                    .await
                {
                    Ok(halves) => halves,
                    Err(e) => {
                        tracing::warn!(peer = %conn.peer, error = %e, "could not wrap an accepted connection");
                        return;
                    }
                },
            };
            let connection = builder.start(reader, writer, conn.peer);
            shared
                .conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, connection.clone());
            // Forgotten as it ends: a hook, not a task per connection waiting for that.
            let weak = Arc::downgrade(&shared);
            connection.channel().on_closed(move |_| {
                if let Some(shared) = weak.upgrade() {
                    let gone = shared
                        .conns
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&id);
                    // Its last handle may be this one: dropped outside the lock.
                    drop(gone);
                }
            });
            if let Some(cb) = &on_connect {
                cb(connection);
            }
        };
        if wraps {
            // A handshake must not hold up accepting.
            tokio::spawn(start);
        } else {
            start.await;
        }
    }
}

impl Server {
    /// Settings for a server that serves `router` on every connection: MsgPack, the channel's
    /// default limits ([`ChannelBuilder`]), no callback.
    pub fn builder(router: Router) -> ServerBuilder {
        ServerBuilder {
            conn: Connection::builder().serve(router),
            on_connect: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight_total: DEFAULT_MAX_IN_FLIGHT_TOTAL,
            backlog: DEFAULT_BACKLOG,
        }
    }

    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> &Addr {
        &self.local_addr
    }

    /// The connections that are open now.
    pub fn connections(&self) -> Vec<Connection> {
        self.shared
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Stops accepting new connections; open ones go on. The listening socket is closed once
    /// this returns.
    pub async fn stop_accepting(&self) {
        self.shared.stop.send_replace(true);
        let task = self
            .accept_task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Stops accepting, waits until no call is in progress on any connection (also calls that
    /// run on after their connection ended), for at most the
    /// [`drain_timeout`](ServerBuilder::drain_timeout), then closes every connection; calls
    /// still in progress on them are cancelled.
    pub async fn drain(&self) {
        self.stop_accepting().await;
        let deadline = Instant::now() + self.shared.drain_timeout;
        let conns = self.connections();
        for conn in &conns {
            conn.wait_idle(deadline).await;
        }
        self.close_all(conns).await;
        // Calls whose connections ended before run on in their readers, each for at most the
        // drain timeout after its end.
        self.shared.lingering.close();
        let _ = tokio::time::timeout_at(deadline, self.shared.lingering.wait()).await;
        self.shared.lingering.reopen();
    }

    /// Stops accepting and closes every connection now; calls in progress get no reply, and
    /// their callers a connection-reset error.
    pub async fn shutdown(&self) {
        self.stop_accepting().await;
        self.close_all(self.connections()).await;
    }

    /// Closes connections all at once: a peer that does not read holds up only its own.
    async fn close_all(&self, conns: Vec<Connection>) {
        let mut closing = tokio::task::JoinSet::new();
        for conn in conns {
            closing.spawn(async move { conn.close().await });
        }
        while closing.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::io;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::{accept_loop, Accept, ServerShared};
    use crate::net::addr::Addr;
    use crate::net::transport::Connected;
    use crate::net::Connection;
    use crate::service::{Router, ServiceDict};

    /// A listener out of descriptors: every accept fails at once.
    struct OutOfDescriptors {
        attempts: Arc<AtomicUsize>,
    }

    impl Accept for OutOfDescriptors {
        fn accept(&self) -> impl Future<Output = io::Result<Connected>> + Send {
            let n = self.attempts.fetch_add(1, Ordering::SeqCst);
            async move {
                if n >= 10_000 {
                    // Enough to tell a spinning loop: stop here so that the test ends.
                    std::future::pending::<()>().await;
                }
                Err(io::Error::from_raw_os_error(24)) // EMFILE: too many open files
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn refused_connections_are_reported_at_most_once_a_second() {
        let mut refusals = super::Refusals::default();
        let mut reports = 0;
        // 1000 refusals 10 ms apart: 10 s.
        for _ in 0..1000 {
            if refusals.refused(3, "127.0.0.1:1") {
                reports += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(refusals.count, 1000);
        assert_eq!(reports, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn the_accept_loop_backs_off_when_accepting_fails() {
        let attempts = Arc::new(AtomicUsize::new(0));
        let (stop, _) = tokio::sync::watch::channel(false);
        let shared = Arc::new(ServerShared {
            conns: Mutex::default(),
            stop,
            lingering: tokio_util::task::TaskTracker::new(),
            drain_timeout: Duration::from_secs(1),
        });
        let task = tokio::spawn(accept_loop(
            OutOfDescriptors {
                attempts: attempts.clone(),
            },
            Addr::Tcp("127.0.0.1:1".into()),
            Connection::builder().serve(Router::new(ServiceDict::new())),
            None,
            10,
            shared.clone(),
        ));
        tokio::time::sleep(Duration::from_secs(10)).await;
        let n = attempts.load(Ordering::SeqCst);
        // 1 ms doubling up to 1 s: ten tries in the first second, then one a second.
        assert!(
            (10..=25).contains(&n),
            "{n} accept attempts in 10 s of failures"
        );
        shared.stop.send_replace(true);
        task.await.unwrap();
    }
}
