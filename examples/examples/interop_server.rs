//! The Rust peer of the aiomas interop tests.
//!
//! ```text
//! cargo run --release -p examples --example interop_server -- --addr 127.0.0.1:0 --codec msgpack
//! ```
//!
//! `--codec` is `msgpack`, `json` or `msgpack-blosc` (aiomas's MsgPackBlosc; the examples crate
//! turns on rpc-core's `msgpack-blosc` feature).
//!
//! Prints `listening on <addr>` (with the real port) once it accepts connections, then serves
//! [`examples::interop::router`] until Ctrl-C.

use rpc_core::{Codec, Server};

const USAGE: &str =
    "usage: interop_server --addr HOST:PORT|unix:PATH --codec msgpack|json|msgpack-blosc";

fn parse_args() -> Result<(String, Codec), String> {
    let mut addr = None;
    let mut codec = Codec::msgpack();
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
                    "msgpack-blosc" => Codec::msgpack_blosc(),
                    other => return Err(format!("unknown codec {other:?}")),
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((addr.ok_or("--addr is required")?, codec))
}

#[tokio::main]
async fn main() {
    let (addr, codec) = match parse_args() {
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
        .codec(codec)
        .bind(&*addr)
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
