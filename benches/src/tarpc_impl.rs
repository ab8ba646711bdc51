//! tarpc 0.38 over `tarpc::serde_transport` with tokio-serde's MessagePack codec, a task spawned
//! per request as tarpc's README does.

use std::net::SocketAddr;

use bytes::Bytes;
use futures::prelude::*;
use tarpc::server::{BaseChannel, Channel};
use tarpc::{client, context};
use tokio::net::{TcpListener, TcpStream};
use tokio_serde::formats::MessagePack;
use tokio_util::codec::LengthDelimitedCodec;

const MAX_FRAME: usize = 64 * 1024 * 1024;

/// The benchmark service.
#[tarpc::service]
pub trait TBench {
    /// Returns `a + b`.
    async fn add(a: i64, b: i64) -> i64;
    /// Returns `data`.
    async fn echo(data: Bytes) -> Bytes;
}

#[derive(Clone)]
struct BenchServer;

impl TBench for BenchServer {
    async fn add(self, _: context::Context, a: i64, b: i64) -> i64 {
        a + b
    }

    async fn echo(self, _: context::Context, data: Bytes) -> Bytes {
        data
    }
}

/// Starts a server on a TCP address and returns the address it listens on.
///
/// Connections get `TCP_NODELAY`, as this project's do, so that Nagle's algorithm does not
/// decide the comparison.
pub async fn serve(addr: &str) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let channel = BaseChannel::with_defaults(transport(stream));
            tokio::spawn(
                channel
                    .execute(BenchServer.serve())
                    .for_each(|response| async move {
                        tokio::spawn(response);
                    }),
            );
        }
    });
    Ok(local)
}

fn transport<Item, SinkItem>(
    stream: TcpStream,
) -> tarpc::serde_transport::Transport<TcpStream, Item, SinkItem, MessagePack<Item, SinkItem>>
where
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    let framed = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_framed(stream);
    tarpc::serde_transport::new(framed, MessagePack::default())
}

/// One connection.
#[derive(Debug, Clone)]
pub struct TarpcClient(TBenchClient);

impl TarpcClient {
    /// Connects to a TCP address.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut config = client::Config::default();
        config.max_in_flight_requests = 10_000;
        Ok(TarpcClient(
            TBenchClient::new(config, transport(stream)).spawn(),
        ))
    }
}

impl crate::driver::BenchClient for TarpcClient {
    async fn add(&self, a: i64, b: i64) -> Result<i64, String> {
        self.0
            .add(context::current(), a, b)
            .await
            .map_err(|e| e.to_string())
    }

    async fn echo(&self, data: Bytes) -> Result<usize, String> {
        Ok(self
            .0
            .echo(context::current(), data)
            .await
            .map_err(|e| e.to_string())?
            .len())
    }
}
