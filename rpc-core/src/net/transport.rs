//! Sockets: TCP (with `TCP_NODELAY`) and Unix domain sockets, and the hook that wraps a
//! connection's byte stream (for logging or TLS) before the channel runs on it.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};

use super::addr::Addr;

/// A byte stream a connection can run over: a socket, or a wrapper around one (TLS, logging).
///
/// An I/O stream in tokio's sense (`TcpStream`, `UnixStream`, `TlsStream`), not a `futures`
/// `Stream` of items: any `AsyncRead + AsyncWrite + Send + Unpin + 'static` type is one.
pub trait IoStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> IoStream for T {}

/// A boxed [`IoStream`], as the stream wrapper receives and returns it.
pub type BoxIoStream = Box<dyn IoStream>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A stream wrapper, as set with `wrap_stream` on the connection and server builders: it
/// receives the socket and the address connected to (or listened on).
#[derive(Clone)]
pub(crate) struct WrapStream(
    Arc<dyn Fn(BoxIoStream, Addr) -> BoxFuture<io::Result<BoxIoStream>> + Send + Sync>,
);

impl WrapStream {
    pub(crate) fn new<F, Fut, S>(f: F) -> Self
    where
        F: Fn(BoxIoStream, Addr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: IoStream,
    {
        WrapStream(Arc::new(move |stream, addr| {
            let fut = f(stream, addr);
            Box::pin(async move { Ok(Box::new(fut.await?) as BoxIoStream) })
        }))
    }

    pub(crate) async fn wrap(&self, stream: BoxIoStream, addr: Addr) -> io::Result<BoxIoStream> {
        (self.0)(stream, addr).await
    }
}

pub(crate) type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
pub(crate) type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// A connected socket.
pub(crate) enum Socket {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Socket {
    /// The socket, split into halves without a lock between them.
    pub(crate) fn into_halves(self) -> (BoxRead, BoxWrite) {
        match self {
            Socket::Tcp(s) => {
                let (r, w) = s.into_split();
                (Box::new(r), Box::new(w))
            }
            #[cfg(unix)]
            Socket::Unix(s) => {
                let (r, w) = s.into_split();
                (Box::new(r), Box::new(w))
            }
        }
    }

    /// The socket as one stream, for a wrapper.
    pub(crate) fn into_stream(self) -> BoxIoStream {
        match self {
            Socket::Tcp(s) => Box::new(s),
            #[cfg(unix)]
            Socket::Unix(s) => Box::new(s),
        }
    }

    /// The socket's halves, through `wrap` if given.
    pub(crate) async fn into_wrapped_halves(
        self,
        wrap: Option<&WrapStream>,
        addr: &Addr,
    ) -> io::Result<(BoxRead, BoxWrite)> {
        match wrap {
            None => Ok(self.into_halves()),
            Some(w) => {
                let stream = w.wrap(self.into_stream(), addr.clone()).await?;
                let (r, w) = tokio::io::split(stream);
                Ok((Box::new(r), Box::new(w)))
            }
        }
    }
}

/// A connected socket and the peer's address.
pub(crate) struct Connected {
    pub(crate) socket: Socket,
    pub(crate) peer: String,
}

fn tcp(stream: TcpStream) -> io::Result<Connected> {
    // Requests and replies are small: never wait to fill a segment.
    stream.set_nodelay(true)?;
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    Ok(Connected {
        socket: Socket::Tcp(stream),
        peer,
    })
}

#[cfg(unix)]
fn unix(stream: UnixStream, path: &std::path::Path) -> Connected {
    Connected {
        socket: Socket::Unix(stream),
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
    /// Listens on `addr` with room for `backlog` connections not yet accepted.
    pub(crate) async fn bind(addr: &Addr, backlog: u32) -> io::Result<Listener> {
        match addr {
            Addr::Tcp(a) => {
                let mut last = None;
                for sa in tokio::net::lookup_host(a.as_str()).await? {
                    let socket = if sa.is_ipv4() {
                        tokio::net::TcpSocket::new_v4()?
                    } else {
                        tokio::net::TcpSocket::new_v6()?
                    };
                    // As tokio's TcpListener::bind: a restarted server can take its port again.
                    #[cfg(unix)]
                    socket.set_reuseaddr(true)?;
                    match socket.bind(sa).and_then(|()| socket.listen(backlog)) {
                        Ok(l) => return Ok(Listener::Tcp(l)),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "the address resolved to nothing",
                    )
                }))
            }
            #[cfg(unix)]
            Addr::Unix(p) => {
                // As asyncio does: a stale socket file of an earlier server is replaced.
                if let Ok(meta) = std::fs::symlink_metadata(p) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(p);
                    }
                }
                let socket = tokio::net::UnixSocket::new_stream()?;
                socket.bind(p)?;
                Ok(Listener::Unix(socket.listen(backlog)?, p.clone()))
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
