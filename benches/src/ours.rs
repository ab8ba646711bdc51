//! This project: a typed `#[service]` on the server and its generated proxy on the client
//! ([`router`], [`OursClient`]), and the dynamic twin, a [`ServiceDict`] called through
//! [`Proxy::call`] ([`dict_router`], [`DictClient`]), to show what typing saves.

use bytes::Bytes;
use rpc_core::{
    open_connection, service, start_server, Blob, Codec, Connection, DynCall, Proxy, Router,
    Server, ServiceDict,
};

use crate::driver::BenchClient;

/// The benchmark service.
#[service]
#[derive(Debug, Default)]
pub struct Bench {}

#[service]
impl Bench {
    /// Returns `a + b`.
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    /// Returns `data` (a view into the request's frame: no copy on the way in).
    #[expose]
    fn echo(&self, data: Blob) -> Blob {
        data
    }
}

/// The benchmark service, typed: `add(a, b)` and `echo(data)`.
pub fn router() -> Router {
    Router::new(Bench::default())
}

/// The same service as a [`ServiceDict`].
pub fn dict_router() -> Router {
    Router::new(
        ServiceDict::new()
            .function("add", |c: DynCall| {
                Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
            })
            .function("echo", |c: DynCall| c.arg::<Blob>(0, "data")),
    )
}

/// Starts a server on `addr` (`host:port` or `unix:PATH`), typed or with the [`ServiceDict`].
pub async fn serve(addr: &str, dict: bool) -> Result<Server, String> {
    let router = if dict { dict_router() } else { router() };
    start_server(addr, router).await.map_err(|e| e.to_string())
}

/// [`serve`] for the typed service with another codec than MsgPack.
pub async fn serve_with(addr: &str, codec: Codec) -> Result<Server, String> {
    Server::builder(router())
        .codec(codec)
        .bind(addr)
        .await
        .map_err(|e| e.to_string())
}

/// The codec named `msgpack`, `json` or `msgpack-blosc`.
pub fn codec_by_name(name: &str) -> Result<Codec, String> {
    match name {
        "msgpack" => Ok(Codec::msgpack()),
        "json" => Ok(Codec::json()),
        "msgpack-blosc" => Ok(Codec::msgpack_blosc()),
        other => Err(format!(
            "unknown codec {other:?}: msgpack, json or msgpack-blosc"
        )),
    }
}

/// One connection, through the typed proxy that `#[service]` generates.
#[derive(Debug, Clone)]
pub struct OursClient(BenchProxy);

impl OursClient {
    /// Wraps a connection.
    pub fn new(client: &Connection) -> Self {
        OursClient(client.proxy::<BenchProxy>())
    }

    /// Connects to `addr`.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        let client = open_connection(addr).await.map_err(|e| e.to_string())?;
        Ok(Self::new(&client))
    }

    /// Connects to `addr` with `codec`.
    pub async fn connect_with(addr: &str, codec: Codec) -> Result<Self, String> {
        let client = Connection::builder()
            .codec(codec)
            .connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self::new(&client))
    }
}

impl BenchClient for OursClient {
    async fn add(&self, a: i64, b: i64) -> Result<i64, String> {
        self.0.add(a, b).await.map_err(|e| e.to_string())
    }

    async fn echo(&self, data: Bytes) -> Result<usize, String> {
        // Shared, not copied, on the way out; the reply's bytes share its frame.
        let r = self
            .0
            .echo(Blob::from(data))
            .await
            .map_err(|e| e.to_string())?;
        Ok(r.len())
    }
}

/// One connection, with a by-name [`Proxy`] per method.
#[derive(Debug, Clone)]
pub struct DictClient {
    add: Proxy,
    echo: Proxy,
}

impl DictClient {
    /// Wraps a connection.
    pub fn new(client: &Connection) -> Self {
        let remote = client.remote();
        DictClient {
            add: remote.get("add"),
            echo: remote.get("echo"),
        }
    }

    /// Connects to `addr`.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        let client = open_connection(addr).await.map_err(|e| e.to_string())?;
        Ok(Self::new(&client))
    }
}

impl BenchClient for DictClient {
    async fn add(&self, a: i64, b: i64) -> Result<i64, String> {
        self.add
            .call::<i64>((a, b))
            .await
            .map_err(|e| e.to_string())
    }

    async fn echo(&self, data: Bytes) -> Result<usize, String> {
        let r: Blob = self
            .echo
            .call((serde_bytes::Bytes::new(&data),))
            .await
            .map_err(|e| e.to_string())?;
        Ok(r.len())
    }
}
