//! Connections over the network: addresses ([`Addr`]), the calling side ([`Connection`],
//! [`open_connection`]) and the serving side ([`Server`], [`start_server`]). The top layer.

mod addr;
mod connection;
mod server;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;

pub use addr::{Addr, ToAddr};
pub use connection::{open_connection, Connection, ConnectionBuilder};
pub use server::{
    start_server, Server, ServerBuilder, DEFAULT_BACKLOG, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_IN_FLIGHT_TOTAL,
};
pub use transport::{BoxIoStream, IoStream};
