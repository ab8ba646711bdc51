//! [`Server`]: accept connections and serve a service on each; [`ServerBuilder`] and
//! [`start_server`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::addr::{Addr, ToAddr};
use super::connection::{channel_settings, Connection, ConnectionBuilder};
use super::transport::{BoxStream, Listener, Stream};
#[allow(unused_imports)] // for the docs of the shared settings
use crate::channel::ChannelBuilder;
use crate::error::Error;
use crate::service::Router;
use crate::wire::codec::Codec;

type ConnectCallback = Arc<dyn Fn(Connection) + Send + Sync>;

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
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("conn", &self.conn)
            .field("on_connect", &self.on_connect.is_some())
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

    /// Runs each connection over what `wrap` makes of the accepted socket (TLS, logging, ...).
    /// It receives the socket and the address listened on; a connection whose wrapping fails
    /// is dropped with a log line.
    pub fn wrap_stream<F, Fut, S>(mut self, wrap: F) -> Self
    where
        F: Fn(BoxStream, Addr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: Stream,
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
        let listener = Listener::bind(&addr).await.map_err(failed)?;
        let local_addr = listener.local_addr().map_err(failed)?;
        tracing::info!(target: "rpc_core::connection", addr = %local_addr, "listening");
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(ServerShared {
            conns: Mutex::new(HashMap::new()),
            stop,
        });
        let task = tokio::spawn(accept_loop(
            listener,
            local_addr.clone(),
            self.conn,
            self.on_connect,
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
}

/// A running server. Dropping the handle leaves it running; call [`shutdown`](Self::shutdown) or
/// [`drain`](Self::drain) to stop it.
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

async fn accept_loop(
    listener: Listener,
    local_addr: Addr,
    builder: ConnectionBuilder,
    on_connect: Option<ConnectCallback>,
    shared: Arc<ServerShared>,
) {
    let mut stop = shared.stop.subscribe();
    let next_id = AtomicU64::new(0);
    loop {
        let conn = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            conn = listener.accept() => conn,
        };
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors or an aborted handshake: log and go on accepting.
                tracing::warn!(error = %e, "accept failed");
                tokio::task::yield_now().await;
                continue;
            }
        };
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
            let closed = connection.closed();
            let weak = Arc::downgrade(&shared);
            tokio::spawn(async move {
                closed.await;
                if let Some(shared) = weak.upgrade() {
                    shared
                        .conns
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&id);
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

    /// Stops accepting, waits until no call is in progress on any connection, then closes every
    /// connection.
    pub async fn drain(&self) {
        self.stop_accepting().await;
        let conns = self.connections();
        for conn in &conns {
            conn.wait_idle().await;
        }
        self.close_all(conns).await;
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
