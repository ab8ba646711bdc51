//! [`start_server`]: accept connections and serve a service on each.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::client::{ConnectError, Options, RpcClient, Tracker};
use crate::service::Router;
use crate::transport::{Addr, Listener, ToAddr};

type ConnectCallback = Arc<dyn Fn(RpcClient) + Send + Sync>;

struct ServerShared {
    clients: Mutex<HashMap<u64, RpcClient>>,
    tracker: Arc<Tracker>,
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

/// Starts a server on `addr` that serves `service` on every connection it accepts.
///
/// `on_connect` is called with each new connection's [`RpcClient`] (aiomas's
/// `client_connected_cb`); use it to call the peer, or to keep the client.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use rpc_core::{start_server, DynCall, Options, Router, ServiceDict};
/// let service = ServiceDict::new().function("add", |c: DynCall| Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?));
/// let server = start_server("127.0.0.1:0", Router::new(service), None, Options::new()).await?;
/// println!("listening on {}", server.local_addr());
/// server.drain().await;
/// # Ok(()) }
/// ```
pub async fn start_server(
    addr: impl ToAddr,
    service: Router,
    on_connect: Option<Box<dyn Fn(RpcClient) + Send + Sync>>,
    options: Options,
) -> Result<Server, ConnectError> {
    let addr = addr.to_addr()?;
    let io_err = |source| ConnectError::Io {
        addr: addr.to_string(),
        source,
    };
    let listener = Listener::bind(&addr).await.map_err(io_err)?;
    let local_addr = listener.local_addr().map_err(io_err)?;
    let (stop, _) = watch::channel(false);
    let shared = Arc::new(ServerShared {
        clients: Mutex::new(HashMap::new()),
        tracker: Arc::default(),
        stop,
    });
    let on_connect: Option<ConnectCallback> = on_connect.map(Arc::from);
    let task = tokio::spawn(accept_loop(
        listener,
        service,
        on_connect,
        options,
        shared.clone(),
    ));
    Ok(Server {
        local_addr,
        shared,
        accept_task: Mutex::new(Some(task)),
    })
}

async fn accept_loop(
    listener: Listener,
    service: Router,
    on_connect: Option<ConnectCallback>,
    options: Options,
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
        let channel = options
            .channel
            .clone()
            .peer(conn.peer)
            .open_split(conn.reader, conn.writer);
        let client =
            RpcClient::with_tracker(channel, Some(service.clone()), shared.tracker.clone());
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, client.clone());
        let closed = client.closed();
        let weak = Arc::downgrade(&shared);
        tokio::spawn(async move {
            closed.await;
            if let Some(shared) = weak.upgrade() {
                shared
                    .clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            }
        });
        if let Some(cb) = &on_connect {
            cb(client);
        }
    }
}

impl Server {
    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> &Addr {
        &self.local_addr
    }

    /// The connections that are open now.
    pub fn connections(&self) -> Vec<RpcClient> {
        self.shared
            .clients
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

    /// Stops accepting, waits for the calls in progress to be answered, then closes every
    /// connection.
    pub async fn drain(&self) {
        self.stop_accepting().await;
        self.shared.tracker.wait_idle().await;
        self.close_all().await;
    }

    /// Stops accepting and closes every connection now; calls in progress get no reply, and
    /// their callers a connection-reset error.
    pub async fn shutdown(&self) {
        self.stop_accepting().await;
        self.close_all().await;
    }

    /// Closes every connection, all at once: a peer that does not read holds up only its own.
    async fn close_all(&self) {
        let mut closing = tokio::task::JoinSet::new();
        for client in self.connections() {
            closing.spawn(async move { client.close().await });
        }
        while closing.join_next().await.is_some() {}
    }
}
