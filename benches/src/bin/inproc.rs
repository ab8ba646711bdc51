//! `inproc`: N pipelined calls through the full stack in one process and one thread, over
//! `tokio::io::duplex`, for instruction counts under callgrind (`scripts/callgrind.sh`).
//!
//! ```text
//! inproc --impl ours|ours-dict|floor --calls N [--window W] [--subscriber off|info|debug]
//! ```
//!
//! `--subscriber` installs a `tracing` fmt subscriber writing to nowhere: `info` lets the call
//! spans (DEBUG) be filtered out, as a production `RUST_LOG=info` does; `debug` records and
//! formats every span of every call. `off` (the default) installs none.
//!
//! `ours` (typed `#[service]` and its proxy; `ours-dict`: a `ServiceDict` called by name) opens a
//! [`Connection`] serving the benchmark router on each end of the duplex, then keeps `W` `add`
//! calls in flight until `N` have completed: encoding, framing, the channel's reader and writer
//! tasks, dispatch and the reply, on both sides. `floor` runs the raw framed floor's client and
//! server over the same kind of stream.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use benches::driver::{BenchClient, Window};
use benches::ours::{dict_router, router, DictClient, OursClient};
use benches::{floor, Op, Workload};
use futures::stream::{FuturesUnordered, StreamExt};
use rpc_core::Connection;

const DUPLEX_BUF: usize = 64 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let imp = get("--impl").unwrap_or_else(|| "ours".into());
    let calls: u64 = get("--calls")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let window: usize = get("--window").and_then(|v| v.parse().ok()).unwrap_or(100);
    let level = match get("--subscriber").as_deref() {
        None | Some("off") => None,
        Some("info") => Some(tracing::Level::INFO),
        Some("debug") => Some(tracing::Level::DEBUG),
        Some(other) => {
            eprintln!("inproc: unknown --subscriber {other:?}: expected off, info or debug");
            std::process::exit(2);
        }
    };
    if let Some(level) = level {
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::sink)
            .init();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let done = rt.block_on(async move {
        match imp.as_str() {
            "ours" => ours(calls, window, false).await,
            "ours-dict" => ours(calls, window, true).await,
            "floor" => floor_calls(calls, window).await,
            other => Err(format!("unknown --impl {other:?}")),
        }
    });
    match done {
        Ok(n) => println!("{n} calls"),
        Err(e) => {
            eprintln!("inproc: {e}");
            std::process::exit(1);
        }
    }
}

async fn ours(calls: u64, window: usize, dict: bool) -> Result<u64, String> {
    let (a, b) = tokio::io::duplex(DUPLEX_BUF);
    let r = if dict { dict_router } else { router };
    let server = Connection::builder().serve(r()).open(a, "client");
    let client = Connection::builder().serve(r()).open(b, "server");
    if dict {
        run_calls(DictClient::new(&client), calls, window).await?;
    } else {
        run_calls(OursClient::new(&client), calls, window).await?;
    }
    client.close().await;
    server.close().await;
    Ok(calls)
}

async fn run_calls<C: BenchClient>(proxy: C, calls: u64, window: usize) -> Result<u64, String> {
    let mut pending = FuturesUnordered::new();
    let (mut issued, mut done) = (0u64, 0u64);
    while done < calls {
        while issued < calls && pending.len() < window {
            let (p, i) = (proxy.clone(), (issued & 0xFFFF) as i64);
            pending.push(async move { (p.add(i, 1).await, i) });
            issued += 1;
        }
        match pending.next().await {
            Some((Ok(r), i)) if r == i + 1 => done += 1,
            Some((r, i)) => return Err(format!("add({i}, 1) gave {r:?}")),
            None => break,
        }
    }
    Ok(done)
}

async fn floor_calls(calls: u64, window: usize) -> Result<u64, String> {
    let (a, b) = tokio::io::duplex(DUPLEX_BUF);
    let server = tokio::spawn(floor::serve_conn(a));
    let w = Workload {
        op: Op::Add,
        size: 0,
        conns: 1,
        inflight: window,
        duration: 0.0,
        warmup: 0.0,
        data: Default::default(),
    };
    let win = Arc::new(Window::default());
    win.measuring.store(true, Ordering::Release);
    win.stop.store(false, Ordering::Release);
    let (n, _) = floor::client_calls(b, w, win, calls).await?;
    server.abort();
    Ok(n)
}
