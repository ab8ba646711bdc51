//! `aiomas serve`: a small built-in tree to try a client against.
//!
//! | path | does |
//! |---|---|
//! | `echo(value)` | returns `value` |
//! | `add(a, b)` | `a + b` for numbers (integers stay integers) |
//! | `sleep(seconds)` | waits, then returns `null` |

use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;
use rpc_core::tls::ServerTls;
use rpc_core::{service, CallError, Router, Server, Value};

use crate::args::CodecArg;
use crate::failure::{Failure, EXIT_UNREACHABLE};

#[derive(Debug, ClapArgs)]
pub(crate) struct ServeArgs {
    /// Where to listen: HOST:PORT (port 0: any free port) or unix:PATH.
    #[arg(long, default_value = "127.0.0.1:5555")]
    addr: String,
    /// The codec clients must use.
    #[arg(long, value_enum, default_value = "json")]
    codec: CodecArg,
    /// Serve over TLS with this certificate chain (PEM; with --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Require client certificates signed by the CAs in this PEM file.
    #[arg(long, value_name = "FILE", requires = "cert")]
    client_ca: Option<PathBuf>,
    /// Refuse connections over this many open at once: each is closed as soon as it is
    /// accepted, with a warning at most once a second.
    #[arg(long, value_name = "N", default_value_t = rpc_core::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_connections: usize,
}

/// The built-in tree.
#[service]
#[derive(Debug, Default)]
pub(crate) struct Builtin {}

#[service]
impl Builtin {
    /// Returns `value`.
    #[expose]
    fn echo(&self, value: Value) -> Value {
        value
    }

    /// `a + b` for numbers; integers stay integers.
    #[expose]
    fn add(&self, a: Value, b: Value) -> Result<Value, CallError> {
        if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
            if let (Value::Int(_), Value::Int(_)) = (&a, &b) {
                return x
                    .checked_add(y)
                    .map(Value::Int)
                    .ok_or_else(|| CallError::new("OverflowError", "integer overflow"));
            }
        }
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => Ok(Value::Float(x + y)),
            _ => Err(CallError::type_error(format!(
                "unsupported operand types for +: '{}' and '{}'",
                a.type_name(),
                b.type_name()
            ))),
        }
    }

    /// Waits `seconds`, then returns `null`.
    #[expose]
    async fn sleep(&self, seconds: f64) -> Result<(), CallError> {
        let d = Duration::try_from_secs_f64(seconds).map_err(|_| {
            CallError::value_error(format!(
                "seconds must be a non-negative number, got {seconds}"
            ))
        })?;
        tokio::time::sleep(d).await;
        Ok(())
    }
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), Failure> {
    let mut builder = Server::builder(Router::new(Builtin::default()))
        .codec(args.codec.codec())
        .max_connections(args.max_connections);
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let mut tls = ServerTls::pem_files(cert, key);
        if let Some(ca) = &args.client_ca {
            tls = tls.client_ca_file(ca);
        }
        let tls = tls.build().map_err(|e| Failure::tls(e.to_string()))?;
        builder = builder.tls(tls);
    }
    let server = builder.bind(&*args.addr).await.map_err(|e| Failure {
        kind: "OSError".to_owned(),
        message: e.to_string(),
        status: EXIT_UNREACHABLE,
    })?;
    println!("listening on {}", server.local_addr());
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(())
}
