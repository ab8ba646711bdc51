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
//! [`examples::interop::router`] until Ctrl-C. `--max-connections N` refuses connections over
//! `N` (closed at once, with a warning at most once a second). Its `panic` function panics on
//! purpose, so it reports handler panics through `tracing` (`quiet_handler_panics`) rather than
//! one stderr line each.

use examples::interop::{ServerArgs, USAGE};
use rpc_core::Server;

#[tokio::main]
async fn main() {
    let args = match ServerArgs::parse(std::env::args().skip(1)) {
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
