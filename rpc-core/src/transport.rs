//! Transports: TCP and Unix domain sockets, under one address syntax.
//!
//! | address | meaning |
//! |---|---|
//! | `127.0.0.1:5555`, `localhost:0`, `[::1]:5555` | TCP (`host:port`; port 0 picks a free port when listening) |
//! | `unix:/tmp/rpc.sock`, `unix:relative/path.sock` | a Unix domain socket at that path |

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};

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

/// An address that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address {given:?}: expected HOST:PORT (e.g. 127.0.0.1:5555) or unix:PATH (e.g. unix:/tmp/rpc.sock)")]
pub struct AddrParseError {
    given: String,
}

impl FromStr for Addr {
    type Err = AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddrParseError {
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
    fn to_addr(&self) -> Result<Addr, AddrParseError>;
}

impl ToAddr for Addr {
    fn to_addr(&self) -> Result<Addr, AddrParseError> {
        Ok(self.clone())
    }
}

impl<T: ToAddr + ?Sized> ToAddr for &T {
    fn to_addr(&self) -> Result<Addr, AddrParseError> {
        (**self).to_addr()
    }
}

impl ToAddr for str {
    fn to_addr(&self) -> Result<Addr, AddrParseError> {
        self.parse()
    }
}

impl ToAddr for String {
    fn to_addr(&self) -> Result<Addr, AddrParseError> {
        self.parse()
    }
}

impl ToAddr for std::net::SocketAddr {
    fn to_addr(&self) -> Result<Addr, AddrParseError> {
        Ok(Addr::from(*self))
    }
}

pub(crate) type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
pub(crate) type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// A connected stream, split, with the peer's address.
pub(crate) struct Connected {
    pub(crate) reader: BoxRead,
    pub(crate) writer: BoxWrite,
    pub(crate) peer: String,
}

fn tcp(stream: TcpStream) -> io::Result<Connected> {
    // Requests and replies are small: never wait to fill a segment.
    stream.set_nodelay(true)?;
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let (r, w) = stream.into_split();
    Ok(Connected {
        reader: Box::new(r),
        writer: Box::new(w),
        peer,
    })
}

#[cfg(unix)]
fn unix(stream: UnixStream, path: &Path) -> Connected {
    let (r, w) = stream.into_split();
    Connected {
        reader: Box::new(r),
        writer: Box::new(w),
        peer: format!("unix:{}", path.display()),
    }
}

/// Connects to `addr`.
pub(crate) async fn connect(addr: &Addr) -> io::Result<Connected> {
    match addr {
        Addr::Tcp(a) => tcp(TcpStream::connect(a.as_str()).await?),
        #[cfg(unix)]
        Addr::Unix(p) => Ok(unix(UnixStream::connect(p).await?, p)),
        #[cfg(not(unix))]
        Addr::Unix(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix sockets need a Unix",
        )),
    }
}

/// A bound listener.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener, PathBuf),
}

impl Listener {
    pub(crate) async fn bind(addr: &Addr) -> io::Result<Listener> {
        match addr {
            Addr::Tcp(a) => Ok(Listener::Tcp(TcpListener::bind(a.as_str()).await?)),
            #[cfg(unix)]
            Addr::Unix(p) => {
                // As asyncio does: a stale socket file of an earlier server is replaced.
                if let Ok(meta) = std::fs::symlink_metadata(p) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(p);
                    }
                }
                Ok(Listener::Unix(UnixListener::bind(p)?, p.clone()))
            }
            #[cfg(not(unix))]
            Addr::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "Unix sockets need a Unix",
            )),
        }
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub(crate) fn local_addr(&self) -> io::Result<Addr> {
        match self {
            Listener::Tcp(l) => Ok(Addr::from(l.local_addr()?)),
            #[cfg(unix)]
            Listener::Unix(_, p) => Ok(Addr::Unix(p.clone())),
        }
    }

    pub(crate) async fn accept(&self) -> io::Result<Connected> {
        match self {
            Listener::Tcp(l) => tcp(l.accept().await?.0),
            #[cfg(unix)]
            Listener::Unix(l, p) => Ok(unix(l.accept().await?.0, p)),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Listener::Unix(_, p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}
