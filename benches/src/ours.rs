//! This project: a [`ServiceDict`] on the server and [`Proxy::call`] on the client.
//!
//! When the `#[service]` macro lands, switch to it here: [`router`] returns
//! `Router::new(Bench)` and [`OursClient`] wraps the generated `BenchProxy`.

use bytes::Bytes;
use rpc_core::{
    open_connection, start_server, ByteBuf, DynCall, Options, Proxy, Router, Server, ServiceDict,
};

use crate::driver::BenchClient;

/// The benchmark service: `add(a, b)` and `echo(data)`.
pub fn router() -> Router {
    Router::new(
        ServiceDict::new()
            .function("add", |c: DynCall| {
                Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
            })
            .function("echo", |c: DynCall| c.arg::<ByteBuf>(0, "data")),
    )
}

/// Starts a server on `addr` (`host:port` or `unix:PATH`).
pub async fn serve(addr: &str) -> Result<Server, String> {
    start_server(addr, router(), None, Options::new())
        .await
        .map_err(|e| e.to_string())
}

/// One connection, with a proxy per method.
#[derive(Debug, Clone)]
pub struct OursClient {
    add: Proxy,
    echo: Proxy,
}

impl OursClient {
    /// Wraps a connection.
    pub fn new(client: &rpc_core::RpcClient) -> Self {
        let remote = client.remote();
        OursClient {
            add: remote.get("add"),
            echo: remote.get("echo"),
        }
    }

    /// Connects to `addr`.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        let client = open_connection(addr, None, Options::new())
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self::new(&client))
    }
}

impl BenchClient for OursClient {
    async fn add(&self, a: i64, b: i64) -> Result<i64, String> {
        self.add
            .call::<i64>((a, b))
            .await
            .map_err(|e| e.to_string())
    }

    async fn echo(&self, data: Bytes) -> Result<usize, String> {
        let r: ByteBuf = self
            .echo
            .call((serde_bytes::Bytes::new(&data),))
            .await
            .map_err(|e| e.to_string())?;
        Ok(r.len())
    }
}
