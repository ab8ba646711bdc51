//! The benchmark suite: this project against a raw framed floor, tarpc and Python aiomas.
//!
//! Every implementation has a server and a client side; `rpcbench run` starts each server in its
//! own process and then, for every mode and round, runs a client process against it, in turn.
//! See `docs/performance.md`.

pub mod cpu;
pub mod driver;
pub mod floor;
pub mod ours;
pub mod tarpc_impl;

use serde::{Deserialize, Serialize};

/// What one client run does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workload {
    /// `add` (two small ints) or `echo` (a `bytes` payload sent back).
    pub op: Op,
    /// Payload size for `echo`, in bytes.
    pub size: usize,
    /// Connections.
    pub conns: usize,
    /// Calls in flight per connection.
    pub inflight: usize,
    /// Measured time, in seconds.
    pub duration: f64,
    /// Time run before measuring, in seconds.
    pub warmup: f64,
    /// What the `echo` payload holds.
    #[serde(default)]
    pub data: Data,
}

/// The bytes of an `echo` payload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Data {
    /// `0, 1, ..., 255, 0, 1, ...`: what every `echo` mode of `rpcbench run` sends.
    #[default]
    Pattern,
    /// Text-like records (JSON lines of sensor readings): compressible, as real payloads are.
    Text,
    /// Pseudo-random bytes: incompressible.
    Random,
}

impl std::str::FromStr for Data {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pattern" => Ok(Data::Pattern),
            "text" => Ok(Data::Text),
            "random" => Ok(Data::Random),
            _ => Err(format!("unknown --data {s:?}: pattern, text or random")),
        }
    }
}

/// The call a workload makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// `add(a, b) -> a + b`.
    Add,
    /// `echo(data: bytes) -> data`.
    Echo,
}

impl std::str::FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "add" => Ok(Op::Add),
            "echo" => Ok(Op::Echo),
            _ => Err(format!("unknown op {s:?}")),
        }
    }
}

/// What one client run measured; printed by the client as one JSON line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Measurement {
    /// Calls completed in the measured window.
    pub calls: u64,
    /// Length of the measured window, in seconds.
    pub secs: f64,
    /// Calls per second.
    pub calls_per_sec: f64,
    /// Payload MiB per second (echo only: request payload bytes, each also sent back).
    pub mib_per_sec: f64,
    /// Median latency, in microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, in microseconds.
    pub p99_us: f64,
    /// user+sys CPU seconds of the client process in the window.
    pub cpu_client_s: f64,
    /// user+sys CPU seconds of the server process in the window.
    pub cpu_server_s: f64,
    /// (client + server) CPU microseconds per call.
    pub cpu_us_per_call: f64,
    /// The idle-connection mode: growth of the server's resident set per connection, in KiB.
    #[serde(default)]
    pub kib_per_conn: f64,
}

impl Measurement {
    /// Fills in the derived figures from raw counts.
    pub fn finish(
        calls: u64,
        secs: f64,
        latencies_ns: &mut [u64],
        payload: usize,
        cpu_client_s: f64,
        cpu_server_s: f64,
    ) -> Self {
        latencies_ns.sort_unstable();
        let pct = |p: f64| -> f64 {
            if latencies_ns.is_empty() {
                return 0.0;
            }
            let i = ((latencies_ns.len() as f64 - 1.0) * p).round() as usize;
            latencies_ns[i] as f64 / 1000.0
        };
        let calls_per_sec = calls as f64 / secs;
        Measurement {
            calls,
            secs,
            calls_per_sec,
            mib_per_sec: calls_per_sec * payload as f64 / (1024.0 * 1024.0),
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            cpu_client_s,
            cpu_server_s,
            cpu_us_per_call: if calls > 0 {
                (cpu_client_s + cpu_server_s) * 1e6 / calls as f64
            } else {
                0.0
            },
            kib_per_conn: 0.0,
        }
    }
}
