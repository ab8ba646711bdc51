//! The server of the soak and abuse program (`soak`): serves the benchmark service (`add`,
//! `echo`) on one address and prints `LISTEN addr=<addr>` once it accepts connections.
//!
//! ```text
//! soak_server --addr 127.0.0.1:0 [--max-connections N] [--max-in-flight-total N] [--backlog N]
//! ```
//!
//! The three limit flags need the server-wide limits of issue 14; they are applied only when
//! built with `--features server-limits` (see `scripts/soak.sh`), and refused otherwise.

use std::io::Write;

/// Flags of the server.
#[derive(Debug, Default)]
struct Flags {
    addr: String,
    max_connections: Option<usize>,
    max_in_flight_total: Option<usize>,
    backlog: Option<u32>,
}

fn parse() -> Result<Flags, String> {
    let mut f = Flags {
        addr: "127.0.0.1:0".into(),
        ..Flags::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(key) = args.next() {
        let mut value = || args.next().ok_or(format!("{key} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{v:?}: {e}"));
        match key.as_str() {
            "--addr" => f.addr = value()?,
            "--max-connections" => f.max_connections = Some(number(value()?)?),
            "--max-in-flight-total" => f.max_in_flight_total = Some(number(value()?)?),
            "--backlog" => f.backlog = Some(number(value()?)? as u32),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(f)
}

fn with_limits(
    mut b: rpc_core::ServerBuilder,
    f: &Flags,
) -> Result<rpc_core::ServerBuilder, String> {
    // The server-wide limits of issue 14 (rpc-core's `ServerBuilder`).
    if let Some(n) = f.max_connections {
        b = b.max_connections(n);
    }
    if let Some(n) = f.max_in_flight_total {
        b = b.max_in_flight_total(n);
    }
    if let Some(n) = f.backlog {
        b = b.backlog(n);
    }
    Ok(b)
}

#[tokio::main]
async fn main() {
    let flags = parse().unwrap_or_else(|e| {
        eprintln!("soak_server: {e}");
        std::process::exit(2);
    });
    let builder = with_limits(rpc_core::Server::builder(benches::ours::router()), &flags)
        .unwrap_or_else(|e| {
            eprintln!("soak_server: {e}");
            std::process::exit(2);
        });
    let server = builder.bind(&*flags.addr).await.unwrap_or_else(|e| {
        eprintln!("soak_server: {e}");
        std::process::exit(1);
    });
    println!("LISTEN addr={}", server.local_addr());
    let _ = std::io::stdout().flush();
    // Runs until killed, or until stdin closes (the driver went away).
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await;
    server.shutdown().await;
}
