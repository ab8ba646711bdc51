//! `aiomas`: call, benchmark and serve aiomas endpoints from a shell (what grpcurl and ghz are
//! for gRPC). It talks to any aiomas 2.0.1 peer: Python aiomas, mosaik simulators, rpc-core.
//!
//! ```text
//! aiomas call  ADDR PATH [ARGS...] [--kw NAME=JSON]... [--codec json|msgpack|msgpack-blosc] [--tls] [--ca FILE] [--timeout SECS]
//! aiomas bench ADDR PATH [ARGS...] [--connections N] [--in-flight M] [--duration SECS] [--calls N]
//! aiomas serve [--addr ADDR] [--codec ...] [--cert FILE --key FILE [--client-ca FILE]]
//! ```
//!
//! Arguments are JSON literals (`1`, `"text"`, `[1, 2]`, `{"a": 1}`). A result is printed as
//! JSON (indented on a terminal); an error as `Kind: message` on stderr. Exit status: 0 for a
//! result, 1 for an error reply from the peer, 2 for a usage error, 3 when the endpoint could
//! not be reached or did not answer in time. `RUST_LOG=rpc_core=debug` shows the connection's
//! events and a span per call on stderr.

mod args;
mod bench;
mod call;
mod cmd;
mod failure;
mod histogram;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("OSError: cannot start the runtime: {e}");
            return ExitCode::from(failure::EXIT_UNREACHABLE);
        }
    };
    let outcome = rt.block_on(cmd::run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}: {}", failure.kind, failure.message);
            ExitCode::from(failure.status)
        }
    }
}
