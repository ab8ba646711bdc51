//! The command line: parses it and hands each command to its module.

use clap::{Parser, Subcommand};

use crate::failure::Failure;
use crate::{bench, call, serve};

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
    Call(call::CallArgs),
    /// Drives an endpoint with N connections x M calls in flight and prints latency percentiles.
    Bench(bench::BenchArgs),
    /// Serves a small built-in tree (echo, add, sleep) for trying a client.
    Serve(serve::ServeArgs),
}

pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Call(args) => call::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Serve(args) => serve::run(args).await,
    }
}
