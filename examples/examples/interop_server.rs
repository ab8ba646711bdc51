//! The Rust peer of the aiomas interop tests.
//!
//! ```text
//! cargo run --release -p examples --example interop_server -- --addr 127.0.0.1:0 --codec msgpack
//! ```
//!
//! Prints `listening on <addr>` (with the real port) once it accepts connections, then serves
//! [`examples::interop::router`] until Ctrl-C. `--max-connections N` refuses connections over
//! `N` (closed at once, with a warning at most once a second). Its `panic` function panics on
//! purpose, so it reports handler panics through `tracing` (`quiet_handler_panics`) rather than
//! one stderr line each.

use rpc_core::{Codec, Server, DEFAULT_MAX_CONNECTIONS};

const USAGE: &str =
    "usage: interop_server --addr HOST:PORT|unix:PATH --codec msgpack|json [--max-connections N]";

/// What the command line asks for.
struct Args {
    addr: String,
    codec: Codec,
    max_connections: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut addr = None;
    let mut codec = Codec::msgpack();
    let mut max_connections = DEFAULT_MAX_CONNECTIONS;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{key} needs a value"))
        };
        match key.as_str() {
            "--addr" => addr = Some(value()?),
            "--codec" => {
                codec = match value()?.as_str() {
                    "msgpack" => Codec::msgpack(),
                    "json" => Codec::json(),
                    other => return Err(format!("unknown codec {other:?}")),
                }
            }
            "--max-connections" => {
                let v = value()?;
                max_connections = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(format!(
                            "--max-connections needs a positive integer, got {v:?}"
                        ))
                    }
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        addr: addr.ok_or("--addr is required")?,
        codec,
        max_connections,
    })
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(parsed) => parsed,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("interop_server: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let server = match Server::builder(examples::interop::router())
        .codec(args.codec)
        .max_connections(args.max_connections)
        .quiet_handler_panics()
        .bind(&*args.addr)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("interop_server: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on {}", server.local_addr());
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
}
