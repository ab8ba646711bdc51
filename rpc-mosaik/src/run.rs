//! Running a [`Simulator`] on a connection to mosaik: as a client (`cmd` in the scenario) or as
//! a server that waits for mosaik (`connect`), set up through a [`Runner`].

use std::future::Future;
use std::io;
use std::time::Duration;

use rpc_core::{Codec, Connection, ConnectionBuilder, ErrorFormat, Router, Service};
use tokio::net::TcpListener;

use crate::api::{NoExtras, SimHandle, SimService};
use crate::simulator::{SimError, Simulator};

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
    /// The simulator's [`finalize`](Simulator::finalize) failed (the simulator is dropped).
    #[error("finalize() failed: {0}")]
    Finalize(SimError),
    /// The simulator was gone when the run ended and came to take it back (it is taken out
    /// only there, once; seeing this is a bug in rpc-mosaik).
    #[error("the simulator was gone at the end of the run")]
    Lost,
}

/// The connection settings mosaik needs: JSON, and error replies as `[type, message,
/// traceback]`. [`Runner::connection`] starts from these.
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
    /// The process got SIGTERM or Ctrl-C ([`Runner::run`], [`Runner::main`]).
    Terminated,
}

/// A finished run: what ended it and the simulator, after its
/// [`finalize`](Simulator::finalize).
#[derive(Debug)]
#[non_exhaustive]
pub struct Finished<S> {
    /// What ended the run.
    pub ended: Ended,
    /// The simulator, handed back.
    pub sim: S,
}

type MakeExtras<S, E> = Box<dyn FnOnce(SimHandle<S>) -> E + Send>;

/// How to run a simulator: its extra methods and connection settings, then one of the `run_*`
/// methods or [`main`](Self::main).
///
/// ```no_run
/// # use rpc_mosaik::*;
/// # #[derive(Default)] struct MySim;
/// # impl Simulator for MySim {
/// #     async fn init(&mut self, _: SimId, _: f64, _: Params) -> Result<Meta, SimError> { todo!() }
/// #     async fn create(&mut self, _: usize, _: ModelName, _: Params) -> Result<Vec<CreateResult>, SimError> { todo!() }
/// #     async fn step(&mut self, _: Time, _: InputData, _: Time, _: &Mosaik) -> Result<Option<Time>, SimError> { todo!() }
/// #     async fn get_data(&mut self, _: OutputRequest) -> Result<OutputData, SimError> { todo!() }
/// # }
/// fn main() -> std::process::ExitCode {
///     Runner::new(MySim::default())
///         .connection(|c| c.max_frame_len(256 << 20)) // mosaik's messages can be large
///         .main()
/// }
/// ```
pub struct Runner<S, E = NoExtras> {
    sim: S,
    extras: MakeExtras<S, E>,
    connection: ConnectionBuilder,
}

impl<S, E> std::fmt::Debug for Runner<S, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl<S: Simulator> Runner<S> {
    /// A runner for `sim`, with no extra methods and mosaik's connection settings
    /// ([`connection_builder`]).
    pub fn new(sim: S) -> Self {
        Runner {
            sim,
            extras: Box::new(|_| NoExtras),
            connection: connection_builder(),
        }
    }
}

impl<S: Simulator, E: Service> Runner<S, E> {
    /// Serves the exposed methods of `make(handle)` as mosaik's extra methods (named in the
    /// meta for you): a `#[service]` of your own, typed like any other, that reaches the
    /// simulator through the [`SimHandle`] it is given, and mosaik through `#[context]`:
    ///
    /// ```
    /// use rpc_mosaik::*;
    /// use rpc_mosaik::rpc_core::{service, CallContext};
    /// # #[derive(Default)] struct MySim { scale: f64 }
    /// # impl Simulator for MySim {
    /// #     async fn init(&mut self, _: SimId, _: f64, _: Params) -> Result<Meta, SimError> { todo!() }
    /// #     async fn create(&mut self, _: usize, _: ModelName, _: Params) -> Result<Vec<CreateResult>, SimError> { todo!() }
    /// #     async fn step(&mut self, _: Time, _: InputData, _: Time, _: &Mosaik) -> Result<Option<Time>, SimError> { todo!() }
    /// #     async fn get_data(&mut self, _: OutputRequest) -> Result<OutputData, SimError> { todo!() }
    /// # }
    ///
    /// #[service]
    /// struct Extras {
    ///     sim: SimHandle<MySim>,
    /// }
    ///
    /// #[service]
    /// impl Extras {
    ///     /// `sim.set_scale(2.5)` in a scenario.
    ///     #[expose]
    ///     async fn set_scale(&self, scale: f64) -> Result<f64, SimError> {
    ///         let mut sim = self.sim.lock().await?;
    ///         Ok(std::mem::replace(&mut sim.scale, scale))
    ///     }
    ///
    ///     /// Calls mosaik back, as a step may.
    ///     #[expose]
    ///     async fn progress(&self, #[context] cx: CallContext) -> Result<f64, SimError> {
    ///         Ok(Mosaik::new(cx.remote()).get_progress().await?)
    ///     }
    /// }
    ///
    /// let runner = Runner::new(MySim::default()).extra_methods(|sim| Extras { sim });
    /// ```
    pub fn extra_methods<E2: Service>(
        self,
        make: impl FnOnce(SimHandle<S>) -> E2 + Send + 'static,
    ) -> Runner<S, E2> {
        Runner {
            sim: self.sim,
            extras: Box::new(make),
            connection: self.connection,
        }
    }

    /// Changes the connection settings: `configure` gets [`connection_builder`] (JSON, mosaik's
    /// error form) and returns the builder to use (a frame limit, a stream wrapper, another
    /// codec, ...).
    #[must_use]
    pub fn connection(
        mut self,
        configure: impl FnOnce(ConnectionBuilder) -> ConnectionBuilder,
    ) -> Self {
        self.connection = configure(self.connection);
        self
    }

    /// Serves the simulator on the connection `open` makes from a builder that serves it,
    /// until mosaik says `stop`, closes the connection, or `shutdown` resolves; then runs
    /// `finalize` and hands the simulator back.
    async fn serve<F, Fut>(
        self,
        open: F,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Finished<S>, RunError>
    where
        F: FnOnce(ConnectionBuilder) -> Fut,
        Fut: Future<Output = Result<Connection, RunError>>,
    {
        let handle = SimHandle::new(self.sim);
        let service = SimService::new(handle.clone(), (self.extras)(handle.clone()));
        let conn = open(self.connection.serve(Router::new(service))).await?;
        tracing::info!(peer = conn.peer(), "connected to mosaik");
        let closed = conn.closed();
        let ended = tokio::select! {
            () = handle.0.stop.notified() => Ended::Stopped,
            e = closed => {
                tracing::info!(reason = %e, "mosaik closed the connection");
                Ended::Closed
            }
            () = shutdown => Ended::Terminated,
        };
        match ended {
            // Lets the reply to `stop` go out before the connection closes.
            Ended::Stopped => conn.drain().await,
            _ => conn.close().await,
        }
        drop(conn);
        let mut sim = handle.take().await.ok_or(RunError::Lost)?;
        sim.finalize().await.map_err(RunError::Finalize)?;
        Ok(Finished { ended, sim })
    }

    /// Connects to mosaik at `addr` (`HOST:PORT`, the `%(addr)s` of a `cmd` scenario entry) and
    /// runs the simulator until mosaik stops it or closes the connection.
    pub async fn run_as_client(self, addr: &str) -> Result<Finished<S>, RunError> {
        self.run_as_client_until(addr, std::future::pending()).await
    }

    async fn run_as_client_until(
        self,
        addr: &str,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Finished<S>, RunError> {
        let open = |builder: ConnectionBuilder| async move {
            builder
                .connect(addr)
                .await
                .map_err(|source| RunError::Connect {
                    addr: addr.to_owned(),
                    source,
                })
        };
        self.serve(open, shutdown).await
    }

    /// Listens at `addr` for mosaik (a `connect` scenario entry names the same address), takes
    /// the first connection within `timeout`, and runs the simulator on it until mosaik stops
    /// it or closes the connection. `ready` is called with the address actually bound (useful
    /// with port 0).
    pub async fn run_as_server(
        self,
        addr: &str,
        timeout: Duration,
        ready: impl FnOnce(std::net::SocketAddr),
    ) -> Result<Finished<S>, RunError> {
        self.run_as_server_until(addr, timeout, ready, std::future::pending())
            .await
    }

    async fn run_as_server_until(
        self,
        addr: &str,
        timeout: Duration,
        ready: impl FnOnce(std::net::SocketAddr),
        shutdown: impl Future<Output = ()>,
    ) -> Result<Finished<S>, RunError> {
        let listen_err = |source| RunError::Listen {
            addr: addr.to_owned(),
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(listen_err)?;
        let local = listener.local_addr().map_err(listen_err)?;
        tracing::info!(addr = %local, "waiting for mosaik to connect");
        ready(local);
        let mut shutdown = std::pin::pin!(shutdown);
        let (stream, peer) = tokio::select! {
            accepted = tokio::time::timeout(timeout, listener.accept()) => match accepted {
                Ok(accepted) => accepted.map_err(listen_err)?,
                Err(_) => {
                    return Err(RunError::NoConnection {
                        addr: local.to_string(),
                        timeout,
                    })
                }
            },
            () = &mut shutdown => {
                // Terminated before mosaik came: the simulator still ends cleanly.
                let mut sim = self.sim;
                sim.finalize().await.map_err(RunError::Finalize)?;
                return Ok(Finished { ended: Ended::Terminated, sim });
            }
        };
        drop(listener); // one mosaik, one connection
        let _ = stream.set_nodelay(true);
        self.serve(
            |builder| async move { Ok(builder.open(stream, peer.to_string())) },
            shutdown,
        )
        .await
    }

    /// Runs the simulator as the command line `cl` says, until mosaik is done with it or the
    /// process gets SIGTERM or Ctrl-C. With `--remote`, prints the address it listens at on
    /// stdout (one line, `HOST:PORT`) once it is ready for mosaik.
    pub async fn run(self, cl: &crate::CommandLine) -> Result<Finished<S>, RunError> {
        let shutdown = crate::cli::terminated();
        let finished = if cl.remote {
            let ready = |addr: std::net::SocketAddr| {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{addr}");
                let _ = out.flush();
            };
            self.run_as_server_until(&cl.addr, cl.timeout, ready, shutdown)
                .await?
        } else {
            self.run_as_client_until(&cl.addr, shutdown).await?
        };
        tracing::info!(ended = ?finished.ended, "simulator finished");
        Ok(finished)
    }
}

/// Connects to mosaik at `addr` and runs `sim` ([`Runner::run_as_client`] with the default
/// settings).
pub async fn run_as_client<S: Simulator>(sim: S, addr: &str) -> Result<Finished<S>, RunError> {
    Runner::new(sim).run_as_client(addr).await
}

/// Listens at `addr` for mosaik and runs `sim` ([`Runner::run_as_server`] with the default
/// settings).
pub async fn run_as_server<S: Simulator>(
    sim: S,
    addr: &str,
    timeout: Duration,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<Finished<S>, RunError> {
    Runner::new(sim).run_as_server(addr, timeout, ready).await
}
