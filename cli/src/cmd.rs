//! The command line, the connection options the commands share, and `call`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use rpc_core::tls::{rustls, ClientTls};
use rpc_core::{Codec, Connection, Error, Proxy, Value};

/// Exit status for an error reply from the peer.
pub(crate) const EXIT_REMOTE: u8 = 1;
/// Exit status for a usage error (bad arguments, bad TLS files).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status when the endpoint could not be reached or did not answer in time.
pub(crate) const EXIT_UNREACHABLE: u8 = 3;

/// Call, benchmark and serve aiomas endpoints (Python aiomas, mosaik, rpc-core).
#[derive(Debug, Parser)]
#[command(name = "aiomas", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Calls one function and prints its result as JSON.
    Call(CallArgs),
    /// Drives an endpoint with N connections x M calls in flight and prints latency percentiles.
    Bench(crate::bench::BenchArgs),
    /// Serves a small built-in tree (echo, add, sleep) for trying a client.
    Serve(crate::serve::ServeArgs),
}

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

#[derive(Debug, ClapArgs)]
struct CallArgs {
    #[command(flatten)]
    conn: ConnectArgs,
    #[command(flatten)]
    target: Target,
    /// Give up after this many seconds without a reply.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    timeout: Duration,
    /// Indent the JSON even when stdout is not a terminal.
    #[arg(long)]
    pretty: bool,
}

/// Parses a number of seconds (`0.5`, `10`).
pub(crate) fn seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {s:?}"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("expected a non-negative number of seconds, got {s:?}"))
}

/// Why a command failed: printed as `Kind: message`, exits with `status`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) status: u8,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: "UsageError".to_owned(),
            message: message.into(),
            status: EXIT_USAGE,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if let Some(remote) = e.remote() {
            return Failure {
                kind: remote.kind().to_owned(),
                message: remote.message().to_owned(),
                status: EXIT_REMOTE,
            };
        }
        let kind = match &e {
            Error::Timeout(_) => "TimeoutError",
            Error::Connect { .. } => "ConnectionError",
            Error::InvalidAddr { .. } | Error::NoFunctionName => "UsageError",
            e if e.is_connection_reset() => "ConnectionResetError",
            _ => "RpcError",
        };
        let status = if kind == "UsageError" {
            EXIT_USAGE
        } else {
            EXIT_UNREACHABLE
        };
        Failure {
            kind: kind.to_owned(),
            message: e.to_string(),
            status,
        }
    }
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

pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Call(args) => call(args).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Serve(args) => crate::serve::run(args).await,
    }
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
        let tls_failure = |e: rpc_core::tls::TlsError| Failure {
            kind: "TlsError".to_owned(),
            message: e.to_string(),
            status: EXIT_USAGE,
        };
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
        return Err(Failure {
            kind: "TlsError".to_owned(),
            message: "no CA certificates found on this system; give one with --ca FILE".to_owned(),
            status: EXIT_USAGE,
        });
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::usage(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

async fn call(args: CallArgs) -> Result<(), Failure> {
    let parsed = args.target.parse()?;
    let conn = args.conn.connect().await?;
    let proxy = args.target.proxy(&conn).with_timeout(args.timeout);
    let result: Result<Value, Error> = proxy.call_kw(parsed.args, &parsed.kwargs).await;
    conn.close().await;
    let value = result.map_err(|e| codec_hint(e, args.conn.codec))?;
    let json = to_json(&value);
    let stdout = std::io::stdout();
    let text = if args.pretty || stdout.is_terminal() {
        serde_json::to_string_pretty(&json)
    } else {
        serde_json::to_string(&json)
    }
    .map_err(|e| Failure::usage(format!("cannot print the result: {e}")))?;
    let mut out = stdout.lock();
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// A result as JSON: bytes become an array of numbers, map keys that are not strings their
/// JSON text, NaN and infinities `null` (JSON has none), and integers beyond 64 bits a string of
/// their digits (serde_json's numbers stop at 64 bits; the digits are kept exactly).
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::BigInt(i) => J::String(i.to_string()),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Bin(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Str(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}
