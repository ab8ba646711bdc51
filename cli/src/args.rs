//! What the client commands (`call`, `bench`) share: how to reach the endpoint
//! ([`ConnectArgs`], [`CodecArg`]), which function to call with what ([`Target`]), and the
//! parser of `--timeout`-like seconds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args as ClapArgs, ValueEnum};
use rpc_core::tls::{rustls, ClientTls};
use rpc_core::{Codec, Connection, Error, Proxy};

use crate::failure::Failure;

/// The codec: aiomas's default is JSON (and mosaik's), rpc-core's MsgPack.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CodecArg {
    /// JSON (aiomas's default).
    Json,
    /// MsgPack.
    Msgpack,
    /// MsgPack, each message compressed with blosc (aiomas's MsgPackBlosc).
    MsgpackBlosc,
}

impl CodecArg {
    pub(crate) fn codec(self) -> Codec {
        match self {
            CodecArg::Json => Codec::json(),
            CodecArg::Msgpack => Codec::msgpack(),
            CodecArg::MsgpackBlosc => Codec::msgpack_blosc(),
        }
    }
}

/// How to reach the endpoint.
#[derive(Debug, Clone, ClapArgs)]
pub(crate) struct ConnectArgs {
    /// The endpoint: HOST:PORT or unix:PATH.
    pub(crate) addr: String,
    /// The codec both sides use; nothing is negotiated.
    #[arg(long, value_enum, default_value = "json")]
    pub(crate) codec: CodecArg,
    /// Connect over TLS, trusting the platform's CAs (or those of --ca).
    #[arg(long)]
    pub(crate) tls: bool,
    /// Trust the CA certificates in this PEM file (implies --tls).
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// Present this client certificate (PEM; with --key; implies --tls).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Check the server's certificate against this name instead of the host of ADDR.
    #[arg(long, value_name = "NAME")]
    pub(crate) server_name: Option<String>,
}

/// Which function to call, and with what.
#[derive(Debug, Clone, ClapArgs)]
pub(crate) struct Target {
    /// The function's path, e.g. `add` or `sub/mul`.
    pub(crate) path: String,
    /// Positional arguments, each a JSON literal: 1, 2.5, '"text"', '[1, 2]', '{"a": 1}', null.
    #[arg(allow_negative_numbers = true)]
    pub(crate) args: Vec<String>,
    /// A keyword argument, NAME=JSON (repeatable).
    #[arg(long = "kw", value_name = "NAME=JSON")]
    pub(crate) kwargs: Vec<String>,
}

/// Parses a number of seconds (`0.5`, `10`).
pub(crate) fn seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {s:?}"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("expected a non-negative number of seconds, got {s:?}"))
}

/// The positional and keyword arguments, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) args: Vec<serde_json::Value>,
    pub(crate) kwargs: serde_json::Map<String, serde_json::Value>,
}

impl Target {
    pub(crate) fn parse(&self) -> Result<Parsed, Failure> {
        let args = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                serde_json::from_str(a).map_err(|e| {
                    Failure::usage(format!(
                        "argument {} ({a:?}) is not a JSON literal: {e}; quote strings as '\"text\"'",
                        i + 1
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut kwargs = serde_json::Map::new();
        for kw in &self.kwargs {
            let (name, json) = kw.split_once('=').ok_or_else(|| {
                Failure::usage(format!("--kw {kw:?}: expected NAME=JSON, e.g. --kw b=5"))
            })?;
            if name.is_empty() {
                return Err(Failure::usage(format!(
                    "--kw {kw:?}: the name before '=' is empty"
                )));
            }
            let value = serde_json::from_str(json).map_err(|e| {
                Failure::usage(format!(
                    "--kw {name}: {json:?} is not a JSON literal: {e}; quote strings as '\"text\"'"
                ))
            })?;
            kwargs.insert(name.to_owned(), value);
        }
        Ok(Parsed { args, kwargs })
    }

    /// The proxy of the path on `conn`.
    pub(crate) fn proxy(&self, conn: &Connection) -> Proxy {
        conn.remote().get(&self.path)
    }
}

impl ConnectArgs {
    fn tls(&self) -> Result<Option<ClientTls>, Failure> {
        if !(self.tls || self.ca.is_some() || self.cert.is_some()) {
            return Ok(None);
        }
        let tls_failure = |e: rpc_core::tls::TlsError| Failure::tls(e.to_string());
        let tls = match (&self.ca, &self.cert, &self.key) {
            (Some(ca), cert, key) => {
                let mut b = ClientTls::builder().ca_file(ca);
                if let (Some(c), Some(k)) = (cert, key) {
                    b = b.client_cert_files(c, k);
                }
                b.build().map_err(tls_failure)?
            }
            (None, None, _) => ClientTls::from_config(Arc::new(platform_roots()?)),
            (None, Some(_), _) => {
                return Err(Failure::usage(
                    "--cert needs --ca: give the CA that signed the server's certificate",
                ))
            }
        };
        match &self.server_name {
            None => Ok(Some(tls)),
            Some(name) => tls.with_server_name(name).map(Some).map_err(tls_failure),
        }
    }

    /// Connects as these options say.
    pub(crate) async fn connect(&self) -> Result<Connection, Failure> {
        let mut builder = Connection::builder().codec(self.codec.codec());
        if let Some(tls) = self.tls()? {
            builder = builder.tls(tls);
        }
        Ok(builder.connect(&*self.addr).await?)
    }
}

/// A client configuration trusting the platform's CA certificates.
fn platform_roots() -> Result<rustls::ClientConfig, Failure> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(Failure::tls(
            "no CA certificates found on this system; give one with --ca FILE",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::usage(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// The failure for `e`, with a hint to try the other codec when the peer closed the connection
/// before answering: an aiomas endpoint closes a connection whose frames it cannot decode, and
/// a wrong `--codec` is the most common reason for that.
pub(crate) fn codec_hint(e: Error, ours: CodecArg) -> Failure {
    let closed_by_peer = e.is_connection_reset() && e.to_string().contains("the peer closed");
    let mut failure = Failure::from(e);
    if closed_by_peer {
        let other = match ours {
            CodecArg::Json => "msgpack or --codec msgpack-blosc",
            CodecArg::Msgpack => "json or --codec msgpack-blosc",
            CodecArg::MsgpackBlosc => "msgpack or --codec json",
        };
        failure.message.push_str(&format!(
            "; the endpoint may speak another codec: try --codec {other}"
        ));
    }
    failure
}
