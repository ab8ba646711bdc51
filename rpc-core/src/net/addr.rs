//! [`Addr`]: where to connect or listen, TCP or a Unix domain socket, under one syntax.
//!
//! | address | meaning |
//! |---|---|
//! | `127.0.0.1:5555`, `localhost:0`, `[::1]:5555` | TCP (`host:port`; port 0 picks a free port when listening) |
//! | `unix:/tmp/rpc.sock`, `unix:relative/path.sock` | a Unix domain socket at that path |

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Error;

/// Where to connect or listen: `host:port` or `unix:PATH`.
///
/// ```
/// use rpc_core::Addr;
/// let tcp: Addr = "127.0.0.1:5555".parse().unwrap();
/// let unix: Addr = "unix:/tmp/x.sock".parse().unwrap();
/// assert_eq!(tcp.to_string(), "127.0.0.1:5555");
/// assert_eq!(unix.to_string(), "unix:/tmp/x.sock");
/// assert!("no-port".parse::<Addr>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Addr {
    /// A TCP address, `host:port`.
    Tcp(String),
    /// A Unix domain socket path.
    Unix(PathBuf),
}

impl FromStr for Addr {
    type Err = Error;

    /// Parses `host:port` or `unix:PATH`; anything else is [`Error::InvalidAddr`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || Error::InvalidAddr {
            given: s.to_owned(),
        };
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(err());
            }
            return Ok(Addr::Unix(PathBuf::from(path)));
        }
        let (host, port) = s.rsplit_once(':').ok_or_else(err)?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(err());
        }
        Ok(Addr::Tcp(s.to_owned()))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp(a) => f.write_str(a),
            Addr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl From<std::net::SocketAddr> for Addr {
    fn from(a: std::net::SocketAddr) -> Self {
        Addr::Tcp(a.to_string())
    }
}

/// Anything that names an address: an [`Addr`], a `&str` or `String` in its syntax, a
/// `SocketAddr`.
pub trait ToAddr {
    /// The address, or why it is not one.
    fn to_addr(&self) -> Result<Addr, Error>;
}

impl ToAddr for Addr {
    fn to_addr(&self) -> Result<Addr, Error> {
        Ok(self.clone())
    }
}

impl<T: ToAddr + ?Sized> ToAddr for &T {
    fn to_addr(&self) -> Result<Addr, Error> {
        (**self).to_addr()
    }
}

impl ToAddr for str {
    fn to_addr(&self) -> Result<Addr, Error> {
        self.parse()
    }
}

impl ToAddr for String {
    fn to_addr(&self) -> Result<Addr, Error> {
        self.parse()
    }
}

impl ToAddr for std::net::SocketAddr {
    fn to_addr(&self) -> Result<Addr, Error> {
        Ok(Addr::from(*self))
    }
}
