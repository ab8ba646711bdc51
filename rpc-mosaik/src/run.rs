//! Running a [`Simulator`] on a connection to mosaik: as a client (`cmd` in the scenario) or as
//! a server that waits for mosaik (`connect`).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{
    CallError, Codec, Connection, ConnectionBuilder, DynCall, ErrorFormat, Router, ServiceDict,
    Value,
};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Notify};

use crate::mosaik::Mosaik;
use crate::simulator::{SimError, Simulator};
use crate::types::{Params, API_VERSION};

/// Why running a simulator ended in failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Connecting to mosaik at the address given failed (`cmd` mode: mosaik listens there).
    #[error("cannot connect to mosaik at {addr}: {source}")]
    Connect {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: rpc_core::Error,
    },
    /// Listening at the address given failed (`--remote`: mosaik connects there).
    #[error("cannot listen for mosaik at {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// mosaik did not connect in time (`--remote`).
    #[error("mosaik did not connect to {addr} within {timeout:?}")]
    NoConnection {
        /// The address listened at.
        addr: String,
        /// How long was waited.
        timeout: Duration,
    },
}

/// The connection settings mosaik needs: JSON, and error replies as `[type, message,
/// traceback]`.
pub fn connection_builder() -> ConnectionBuilder {
    Connection::builder()
        .codec(Codec::json())
        .error_format(ErrorFormat::Mosaik)
}

/// What ended a simulator's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ended {
    /// mosaik said `stop` (the simulation is over).
    Stopped,
    /// mosaik closed the connection.
    Closed,
}

struct Shared<S> {
    sim: Mutex<S>,
    stop: Notify,
}

fn sim_error(e: SimError) -> CallError {
    e.into_call_error()
}

/// The service mosaik calls: `init`, `create`, `setup_done`, `step`, `get_data`, `stop`, and
/// the simulator's extra methods.
fn router<S: Simulator>(shared: Arc<Shared<S>>, extra: Vec<String>) -> Router {
    let sh = shared.clone();
    let extra_names = extra.clone();
    let mut dict = ServiceDict::new().async_function("init", move |c: DynCall| {
        let sh = sh.clone();
        let extra = extra_names.clone();
        async move {
            let sid: String = c.arg(0, "sid")?;
            let mut params = Params::new();
            let mut time_resolution = 1.0;
            for (k, v) in c.kwargs()? {
                if k == "time_resolution" {
                    time_resolution = c.convert(&v).map_err(|e| {
                        CallError::type_error(format!(
                            "init() argument 'time_resolution': expected a number: {e}"
                        ))
                    })?;
                } else {
                    params.insert(k, v);
                }
            }
            let mut meta = sh
                .sim
                .lock()
                .await
                .init(sid, time_resolution, params)
                .await
                .map_err(sim_error)?;
            for name in extra {
                if !meta.extra_methods.contains(&name) {
                    meta.extra_methods.push(name);
                }
            }
            if meta.api_version.is_empty() {
                meta.api_version = API_VERSION.to_owned();
            }
            Ok(meta)
        }
    });
    let sh = shared.clone();
    dict = dict.async_function("create", move |c: DynCall| {
        let sh = sh.clone();
        async move {
            let num: usize = c.arg(0, "num")?;
            let model: String = c.arg(1, "model")?;
            let params = kwargs(&c, &["num", "model"])?;
            let created = sh
                .sim
                .lock()
                .await
                .create(num, model.clone(), params)
                .await
                .map_err(sim_error)?;
            if created.len() != num {
                return Err(SimError::value_error(format!(
                    "create({num}, {model:?}) returned {} entities; mosaik expects exactly {num}",
                    created.len()
                ))
                .into_call_error());
            }
            Ok(created)
        }
    });
    let sh = shared.clone();
    dict = dict.async_function("setup_done", move |_c: DynCall| {
        let sh = sh.clone();
        async move {
            sh.sim.lock().await.setup_done().await.map_err(sim_error)?;
            Ok(Value::Nil)
        }
    });
    let sh = shared.clone();
    dict = dict.async_function("step", move |c: DynCall| {
        let sh = sh.clone();
        async move {
            let time = c.arg(0, "time")?;
            let inputs = c.arg(1, "inputs")?;
            let max_advance = c.arg(2, "max_advance")?;
            let mosaik = Mosaik::new(c.context().remote());
            sh.sim
                .lock()
                .await
                .step(time, inputs, max_advance, &mosaik)
                .await
                .map_err(sim_error)
        }
    });
    let sh = shared.clone();
    dict = dict.async_function("get_data", move |c: DynCall| {
        let sh = sh.clone();
        async move {
            let outputs = c.arg(0, "outputs")?;
            sh.sim
                .lock()
                .await
                .get_data(outputs)
                .await
                .map_err(sim_error)
        }
    });
    let sh = shared.clone();
    dict = dict.function("stop", move |_c: DynCall| {
        sh.stop.notify_one();
        Ok(Value::Nil)
    });
    for name in extra {
        if matches!(
            name.as_str(),
            "init" | "create" | "setup_done" | "step" | "get_data" | "stop"
        ) {
            tracing::warn!(
                name,
                "an extra method cannot take the name of an API call; ignored"
            );
            continue;
        }
        let sh = shared.clone();
        let n = name.clone();
        dict = dict.async_function(name, move |c: DynCall| {
            let sh = sh.clone();
            let name = n.clone();
            async move {
                let params = c.kwargs()?.into_iter().collect();
                let mosaik = Mosaik::new(c.context().remote());
                sh.sim
                    .lock()
                    .await
                    .extra_method(&name, c.args()?, params, &mosaik)
                    .await
                    .map_err(sim_error)
            }
        });
    }
    Router::new(dict)
}

/// The keyword arguments of `c`, refusing those that repeat a positional parameter.
fn kwargs(c: &DynCall, positional: &[&str]) -> Result<Params, CallError> {
    let mut params = Params::new();
    for (k, v) in c.kwargs()? {
        if positional.contains(&k.as_str()) {
            continue; // already read by `arg`, which refuses a value given twice
        }
        params.insert(k, v);
    }
    Ok(params)
}

/// Serves `sim` on the connection `open` makes from a builder that serves it, and waits until
/// mosaik says `stop` or closes the connection.
async fn serve_until_done<S, F, Fut>(sim: S, open: F) -> Result<Ended, RunError>
where
    S: Simulator,
    F: FnOnce(ConnectionBuilder) -> Fut,
    Fut: std::future::Future<Output = Result<Connection, RunError>>,
{
    let extra = sim.extra_methods();
    let shared = Arc::new(Shared {
        sim: Mutex::new(sim),
        stop: Notify::new(),
    });
    let conn = open(connection_builder().serve(router(shared.clone(), extra))).await?;
    tracing::info!(peer = conn.peer(), "connected to mosaik");
    let closed = conn.closed();
    let ended = tokio::select! {
        () = shared.stop.notified() => Ended::Stopped,
        e = closed => {
            tracing::info!(reason = %e, "mosaik closed the connection");
            Ended::Closed
        }
    };
    // Lets the reply to `stop` go out before the connection closes.
    conn.drain().await;
    Ok(ended)
}

/// Connects to mosaik at `addr` (`HOST:PORT`, the `%(addr)s` of a `cmd` scenario entry) and
/// runs `sim` until mosaik stops it or closes the connection.
pub async fn run_as_client<S: Simulator>(sim: S, addr: &str) -> Result<Ended, RunError> {
    serve_until_done(sim, |builder| async move {
        builder
            .connect(addr)
            .await
            .map_err(|source| RunError::Connect {
                addr: addr.to_owned(),
                source,
            })
    })
    .await
}

/// Listens at `addr` for mosaik (a `connect` scenario entry names the same address), takes the
/// first connection within `timeout`, and runs `sim` on it until mosaik stops it or closes the
/// connection. `ready` is called with the address actually bound (useful with port 0).
pub async fn run_as_server<S: Simulator>(
    sim: S,
    addr: &str,
    timeout: Duration,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<Ended, RunError> {
    let listen_err = |source| RunError::Listen {
        addr: addr.to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(listen_err)?;
    let local = listener.local_addr().map_err(listen_err)?;
    tracing::info!(addr = %local, "waiting for mosaik to connect");
    ready(local);
    let (stream, peer) = match tokio::time::timeout(timeout, listener.accept()).await {
        Ok(accepted) => accepted.map_err(listen_err)?,
        Err(_) => {
            return Err(RunError::NoConnection {
                addr: local.to_string(),
                timeout,
            })
        }
    };
    drop(listener); // one mosaik, one connection
    let _ = stream.set_nodelay(true);
    serve_until_done(sim, |builder| async move {
        Ok(builder.open(stream, peer.to_string()))
    })
    .await
}
