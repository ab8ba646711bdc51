//! TLS over TCP with [rustls](https://docs.rs/rustls) (feature `tls`): [`ServerTls`] for a
//! server, [`ClientTls`] for a client, both from PEM (files or bytes) or from a `rustls` config
//! you build yourself. aiomas passes `ssl=` through to asyncio, so a Python aiomas peer with an
//! `ssl.SSLContext` talks to these directly; TLS sits under the framing and changes nothing of
//! the wire format.
//!
//! ```no_run
//! # async fn demo(router: rpc_core::Router) -> Result<(), Box<dyn std::error::Error>> {
//! use rpc_core::tls::{ClientTls, ServerTls};
//! use rpc_core::{Connection, Server};
//!
//! let server = Server::builder(router)
//!     .tls(ServerTls::pem_files("server.pem", "server.key").build()?)
//!     .bind("127.0.0.1:5555")
//!     .await?;
//! let conn = Connection::builder()
//!     .tls(ClientTls::builder().ca_file("ca.pem").build()?)
//!     .connect("127.0.0.1:5555") // the certificate must name 127.0.0.1
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Client certificates: [`ServerTlsBuilder::client_ca_file`] makes the server require one
//! signed by that CA, and [`ClientTlsBuilder::client_cert_files`] gives the client its own.
//!
//! The feature is off by default: it brings rustls and ring (a C and assembly build) to every
//! user, and most aiomas deployments run on a trusted network or behind a tunnel. The `aiomas`
//! command-line tool turns it on.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{
    AlertDescription, CertificateError, ClientConfig, RootCertStore, ServerConfig,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::addr::Addr;
use super::connection::ConnectionBuilder;
use super::server::ServerBuilder;
use super::transport::BoxIoStream;

/// The `rustls` this crate uses, for building your own [`ServerConfig`] or [`ClientConfig`].
pub use tokio_rustls::rustls;

/// What went wrong setting up TLS, or in a TLS handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read the {what} from {}: {source}", path.display())]
    Read {
        /// What the file should hold ("certificate chain", "private key", "CA certificates").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The PEM holds no item of the kind expected.
    #[error("no {what} found in {origin}: expected PEM with {expected}")]
    Missing {
        /// What was looked for.
        what: &'static str,
        /// Where: a file name, or "the PEM bytes given".
        origin: String,
        /// The PEM header(s) that would have been accepted.
        expected: &'static str,
    },
    /// The PEM is malformed.
    #[error("invalid PEM in {origin}: {reason}")]
    InvalidPem {
        /// Where.
        origin: String,
        /// What the PEM parser said.
        reason: String,
    },
    /// A CA certificate cannot be used as a trust anchor.
    #[error("cannot trust the CA certificate from {origin}: {source}")]
    InvalidCa {
        /// Where it came from.
        origin: String,
        /// Why rustls refused it.
        #[source]
        source: rustls::Error,
    },
    /// The certificates and key do not make a configuration (e.g. the key is not the
    /// certificate's).
    #[error("the certificate chain and private key do not make a TLS configuration: {0}")]
    Config(#[source] rustls::Error),
    /// The client CAs do not make a client-certificate verifier.
    #[error("the client CA certificates do not make a verifier: {0}")]
    ClientVerifier(#[source] rustls::server::VerifierBuilderError),
    /// There is no name to check the server's certificate against (a Unix socket address and no
    /// [`ClientTlsBuilder::server_name`]).
    #[error("no server name to check the certificate of {addr} against: set one with ClientTlsBuilder::server_name")]
    NoServerName {
        /// The address connected to.
        addr: String,
    },
    /// The server name is neither a DNS name nor an IP address.
    #[error("invalid server name {name:?}: expected a DNS name or an IP address")]
    InvalidServerName {
        /// The name given.
        name: String,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake with {peer} failed: {}", explain(source))]
    Handshake {
        /// The peer's address (or, on a server, the address listened on).
        peer: String,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },
    /// The connection failed during the TLS handshake.
    #[error("TLS handshake with {peer} failed: {source} (does the peer speak TLS?)")]
    HandshakeIo {
        /// The peer's address (or, on a server, the address listened on).
        peer: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Says in words what a handshake error means for the user.
fn explain(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "{e}: the peer's certificate is not signed by a CA that this side trusts \
             (give the CA that signed it)"
        ),
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!("{e}: the peer's certificate does not name the address connected to"),
        E::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => format!("{e}: the peer's certificate is outside its validity period"),
        E::NoCertificatesPresented => {
            format!("{e}: this side requires a client certificate and the peer sent none")
        }
        E::AlertReceived(AlertDescription::UnknownCA | AlertDescription::BadCertificate) => {
            format!("{e}: the peer does not trust this side's certificate")
        }
        E::AlertReceived(AlertDescription::CertificateRequired) => {
            format!("{e}: the peer requires a client certificate")
        }
        E::InvalidMessage(_) => format!("{e}: the peer does not speak TLS"),
        _ => e.to_string(),
    }
}

/// Turns what tokio-rustls returns from a handshake into a [`TlsError`], inside an
/// `io::Error` (what the stream wrapper returns; [`Error::Connect`](crate::Error::Connect)
/// keeps it as its source).
fn handshake_error(e: io::Error, peer: &str) -> io::Error {
    let kind = e.kind();
    let err = match e.into_inner() {
        Some(inner) => match inner.downcast::<rustls::Error>() {
            Ok(tls) => TlsError::Handshake {
                peer: peer.to_owned(),
                source: *tls,
            },
            Err(other) => TlsError::HandshakeIo {
                peer: peer.to_owned(),
                source: io::Error::new(kind, other),
            },
        },
        None => TlsError::HandshakeIo {
            peer: peer.to_owned(),
            source: io::Error::from(kind),
        },
    };
    io::Error::new(kind, err)
}

/// PEM from a file or from memory.
#[derive(Clone)]
enum Pem {
    File(PathBuf),
    Bytes(Arc<[u8]>),
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File(p) => write!(f, "{}", p.display()),
            Pem::Bytes(b) => write!(f, "<{} bytes of PEM>", b.len()),
        }
    }
}

impl Pem {
    fn origin(&self) -> String {
        match self {
            Pem::File(p) => p.display().to_string(),
            Pem::Bytes(_) => "the PEM bytes given".to_owned(),
        }
    }

    fn load(&self, what: &'static str) -> Result<Arc<[u8]>, TlsError> {
        match self {
            Pem::File(path) => match std::fs::read(path) {
                Ok(bytes) => Ok(bytes.into()),
                Err(source) => Err(TlsError::Read {
                    what,
                    path: path.clone(),
                    source,
                }),
            },
            Pem::Bytes(b) => Ok(b.clone()),
        }
    }

    fn invalid(&self, e: pem::Error) -> TlsError {
        TlsError::InvalidPem {
            origin: self.origin(),
            reason: e.to_string(),
        }
    }

    fn certs(&self, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let bytes = self.load(what)?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.invalid(e))?;
        if certs.is_empty() {
            return Err(TlsError::Missing {
                what,
                origin: self.origin(),
                expected: "-----BEGIN CERTIFICATE-----",
            });
        }
        Ok(certs)
    }

    fn key(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        let bytes = self.load("private key")?;
        PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
            pem::Error::NoItemsFound => TlsError::Missing {
                what: "private key",
                origin: self.origin(),
                expected: "-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----",
            },
            other => self.invalid(other),
        })
    }

    fn roots(&self, store: &mut RootCertStore) -> Result<(), TlsError> {
        for cert in self.certs("CA certificate")? {
            store.add(cert).map_err(|source| TlsError::InvalidCa {
                origin: self.origin(),
                source,
            })?;
        }
        Ok(())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS settings of a server: its certificate chain and key, and optionally the CAs whose
/// client certificates it requires. Give it to [`ServerBuilder::tls`](crate::ServerBuilder::tls).
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Settings from PEM files: the certificate chain (the server's first) and its private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn pem_files(cert_chain: impl AsRef<Path>, key: impl AsRef<Path>) -> ServerTlsBuilder {
        ServerTlsBuilder {
            chain: Pem::File(cert_chain.as_ref().to_owned()),
            key: Pem::File(key.as_ref().to_owned()),
            client_ca: None,
        }
    }

    /// Settings from PEM text in memory, as [`pem_files`](Self::pem_files).
    pub fn pem(cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> ServerTlsBuilder {
        ServerTlsBuilder {
            chain: Pem::Bytes(cert_chain.as_ref().into()),
            key: Pem::Bytes(key.as_ref().into()),
            client_ca: None,
        }
    }

    /// Settings from a `rustls` server configuration built by the caller (ALPN, resumption,
    /// another crypto provider, ...).
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        ServerTls {
            acceptor: TlsAcceptor::from(config),
        }
    }

    /// Runs the server's side of the handshake on an accepted stream.
    pub(crate) async fn accept(
        &self,
        stream: BoxIoStream,
        local: &Addr,
    ) -> io::Result<tokio_rustls::server::TlsStream<BoxIoStream>> {
        self.acceptor
            .accept(stream)
            .await
            .map_err(|e| handshake_error(e, &format!("a client of {local}")))
    }
}

/// Builds a [`ServerTls`]; made by [`ServerTls::pem_files`] or [`ServerTls::pem`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerTlsBuilder {
    chain: Pem,
    key: Pem,
    client_ca: Option<Pem>,
}

impl ServerTlsBuilder {
    /// Requires every client to present a certificate signed by one of the CAs in this PEM file.
    pub fn client_ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.client_ca = Some(Pem::File(path.as_ref().to_owned()));
        self
    }

    /// As [`client_ca_file`](Self::client_ca_file), from PEM text in memory.
    pub fn client_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.client_ca = Some(Pem::Bytes(pem.as_ref().into()));
        self
    }

    /// Reads and checks the certificates and keys.
    ///
    /// # Errors
    /// [`TlsError::Read`] for a file that cannot be read, [`TlsError::Missing`] or
    /// [`TlsError::InvalidPem`] for PEM without the expected items, [`TlsError::Config`] for a
    /// key that does not match the certificate, [`TlsError::InvalidCa`] and
    /// [`TlsError::ClientVerifier`] for unusable client CAs.
    pub fn build(self) -> Result<ServerTls, TlsError> {
        let chain = self.chain.certs("certificate chain")?;
        let key = self.key.key()?;
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                ca.roots(&mut roots)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .map_err(TlsError::ClientVerifier)?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(TlsError::Config)?;
        Ok(ServerTls::from_config(Arc::new(config)))
    }
}

/// The TLS settings of a client: the CAs it trusts, optionally its own certificate, and the
/// name to check the server's certificate against. Give it to
/// [`ConnectionBuilder::tls`](crate::ConnectionBuilder::tls).
#[derive(Clone)]
pub struct ClientTls {
    connector: TlsConnector,
    server_name: Option<ServerName<'static>>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Settings to build: no trusted CA yet, no client certificate, the server's name taken
    /// from the address connected to.
    pub fn builder() -> ClientTlsBuilder {
        ClientTlsBuilder::default()
    }

    /// Settings from a `rustls` client configuration built by the caller (the platform's
    /// roots, another crypto provider, ...).
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        ClientTls {
            connector: TlsConnector::from(config),
            server_name: None,
        }
    }

    /// Checks the server's certificate against `name` instead of the host connected to.
    ///
    /// # Errors
    /// [`TlsError::InvalidServerName`] when `name` is neither a DNS name nor an IP address.
    pub fn with_server_name(mut self, name: &str) -> Result<Self, TlsError> {
        self.server_name = Some(server_name(name)?);
        Ok(self)
    }

    /// Runs the client's side of the handshake on a connected stream.
    pub(crate) async fn connect(
        &self,
        stream: BoxIoStream,
        addr: &Addr,
    ) -> io::Result<tokio_rustls::client::TlsStream<BoxIoStream>> {
        let name = match &self.server_name {
            Some(n) => n.clone(),
            None => host_name(addr).map_err(io::Error::other)?,
        };
        self.connector
            .connect(name, stream)
            .await
            .map_err(|e| handshake_error(e, &addr.to_string()))
    }
}

fn server_name(name: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(name.to_owned()).map_err(|_| TlsError::InvalidServerName {
        name: name.to_owned(),
    })
}

/// The host part of a TCP address, as the name the server's certificate must carry.
fn host_name(addr: &Addr) -> Result<ServerName<'static>, TlsError> {
    match addr {
        Addr::Tcp(a) => {
            let host = a.rsplit_once(':').map_or(a.as_str(), |(h, _)| h);
            server_name(host.trim_start_matches('[').trim_end_matches(']'))
        }
        other => Err(TlsError::NoServerName {
            addr: other.to_string(),
        }),
    }
}

/// Builds a [`ClientTls`]; made by [`ClientTls::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientTlsBuilder {
    cas: Vec<Pem>,
    client_cert: Option<(Pem, Pem)>,
    server_name: Option<String>,
}

impl ClientTlsBuilder {
    /// Trusts the CA certificates in this PEM file (may be given several times).
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.cas.push(Pem::File(path.as_ref().to_owned()));
        self
    }

    /// Trusts the CA certificates in this PEM text.
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.cas.push(Pem::Bytes(pem.as_ref().into()));
        self
    }

    /// Presents this certificate chain and key when the server asks for one.
    pub fn client_cert_files(
        mut self,
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        self.client_cert = Some((
            Pem::File(cert_chain.as_ref().to_owned()),
            Pem::File(key.as_ref().to_owned()),
        ));
        self
    }

    /// As [`client_cert_files`](Self::client_cert_files), from PEM text in memory.
    pub fn client_cert_pem(mut self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        self.client_cert = Some((
            Pem::Bytes(cert_chain.as_ref().into()),
            Pem::Bytes(key.as_ref().into()),
        ));
        self
    }

    /// Checks the server's certificate against `name` (a DNS name or an IP address) instead
    /// of the host connected to; needed for a Unix socket.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Reads and checks the certificates and keys.
    ///
    /// # Errors
    /// [`TlsError::Missing`] when no CA was given or a PEM lacks what it should hold;
    /// otherwise as [`ServerTlsBuilder::build`], and [`TlsError::InvalidServerName`].
    pub fn build(self) -> Result<ClientTls, TlsError> {
        if self.cas.is_empty() {
            return Err(TlsError::Missing {
                what: "CA certificate",
                origin: "the client's TLS settings".to_owned(),
                expected: "at least one CA (ClientTlsBuilder::ca_file or ca_pem)",
            });
        }
        let mut roots = RootCertStore::empty();
        for ca in &self.cas {
            ca.roots(&mut roots)?;
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.certs("certificate chain")?, key.key()?)
                .map_err(TlsError::Config)?,
        };
        let tls = ClientTls::from_config(Arc::new(config));
        match &self.server_name {
            None => Ok(tls),
            Some(name) => tls.with_server_name(name),
        }
    }
}

impl ConnectionBuilder {
    /// Runs the connection over TLS (feature `tls`): after connecting, the client's handshake
    /// checks the server's certificate against `tls`'s CAs and the host connected to. A
    /// handshake that fails makes [`connect`](Self::connect) fail with
    /// [`Error::Connect`](crate::Error::Connect), whose source is a [`TlsError`] that says why.
    /// Replaces a stream wrapper set before.
    pub fn tls(self, tls: ClientTls) -> Self {
        self.wrap_stream(move |stream, addr| {
            let tls = tls.clone();
            async move { tls.connect(stream, &addr).await }
        })
    }
}

impl ServerBuilder {
    /// Serves over TLS only (feature `tls`): every accepted connection starts with the server's
    /// handshake; one that fails (a client that does not trust the certificate, a missing
    /// client certificate, a client that does not speak TLS) is dropped with a log line.
    /// Replaces a stream wrapper set before.
    pub fn tls(self, tls: ServerTls) -> Self {
        self.wrap_stream(move |stream, local| {
            let tls = tls.clone();
            async move { tls.accept(stream, &local).await }
        })
    }
}
