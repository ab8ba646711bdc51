//! The client side common to every Rust implementation: keep `inflight` calls going on each
//! connection, count those that complete inside the measured window, and time each of them.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::cpu::process_cpu_seconds;
use crate::{Data, Measurement, Op, Workload};

/// One connection of an RPC client under test. Clones share the connection.
pub trait BenchClient: Clone + Send + Sync + 'static {
    /// Calls `add(a, b)` and returns the sum.
    fn add(&self, a: i64, b: i64) -> impl Future<Output = Result<i64, String>> + Send;
    /// Calls `echo(data)` and returns the length of what came back.
    fn echo(&self, data: Bytes) -> impl Future<Output = Result<usize, String>> + Send;
}

/// Flags shared by the tasks of one client run.
#[derive(Debug, Default)]
pub struct Window {
    /// Calls completing now are counted.
    pub measuring: AtomicBool,
    /// Tasks stop starting calls.
    pub stop: AtomicBool,
}

/// What one task saw: calls completed in the window and their latencies in nanoseconds.
pub type TaskResult = (u64, Vec<u64>);

/// The payload of an `echo` workload.
pub fn payload(w: &Workload) -> Bytes {
    Bytes::from(payload_bytes(w.data, w.size))
}

/// `size` bytes of the given kind (the same bytes on every call, for a given size).
pub fn payload_bytes(data: Data, size: usize) -> Vec<u8> {
    match data {
        Data::Pattern => (0..size).map(|i| i as u8).collect(),
        Data::Text => {
            let mut out = Vec::with_capacity(size + 128);
            let mut i = 0u64;
            while out.len() < size {
                let line = format!(
                    "{{\"t\": {}, \"sensor\": \"node-{:02}\", \"kind\": \"{}\", \"value\": {:.4}}}\n",
                    1_700_000_000 + i * 15,
                    i % 37,
                    ["voltage", "current", "power"][(i % 3) as usize],
                    (i as f64 * 0.37).sin() * 230.0
                );
                out.extend_from_slice(line.as_bytes());
                i += 1;
            }
            out.truncate(size);
            out
        }
        Data::Random => {
            let mut out = vec![0; size];
            fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15).fill(&mut out);
            out
        }
    }
}

/// Runs the window: waits out the warm-up, measures for the duration, then stops the tasks and
/// collects what they counted. `tasks` must already be running.
pub async fn measure(
    w: &Workload,
    window: Arc<Window>,
    tasks: Vec<tokio::task::JoinHandle<Result<TaskResult, String>>>,
    server_pid: u32,
) -> Result<Measurement, String> {
    let me = std::process::id();
    tokio::time::sleep(Duration::from_secs_f64(w.warmup)).await;
    let (c0, s0) = (process_cpu_seconds(me), process_cpu_seconds(server_pid));
    let t0 = Instant::now();
    window.measuring.store(true, Ordering::Release);
    tokio::time::sleep(Duration::from_secs_f64(w.duration)).await;
    window.measuring.store(false, Ordering::Release);
    let secs = t0.elapsed().as_secs_f64();
    let (c1, s1) = (process_cpu_seconds(me), process_cpu_seconds(server_pid));
    window.stop.store(true, Ordering::Release);
    let mut calls = 0;
    let mut lats = Vec::new();
    for t in tasks {
        let (n, l) = t.await.map_err(|e| format!("task failed: {e}"))??;
        calls += n;
        lats.extend(l);
    }
    let size = if w.op == Op::Echo { w.size } else { 0 };
    Ok(Measurement::finish(
        calls,
        secs,
        &mut lats,
        size,
        c1 - c0,
        s1 - s0,
    ))
}

/// Runs a workload with one [`BenchClient`] per connection, `inflight` looping tasks on each.
pub async fn drive<C: BenchClient>(
    clients: Vec<C>,
    w: &Workload,
    server_pid: u32,
) -> Result<Measurement, String> {
    let window = Arc::new(Window::default());
    let tasks = spawn_callers(clients, w, &window);
    measure(w, window, tasks, server_pid).await
}

/// The resident set size of process `pid`, in KiB (`VmRSS` of `/proc/<pid>/status`; 0 when
/// unreadable).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Starts `w.inflight` looping callers on each client; they count calls while
/// `window.measuring` and stop at `window.stop`.
pub fn spawn_callers<C: BenchClient>(
    clients: Vec<C>,
    w: &Workload,
    window: &Arc<Window>,
) -> Vec<tokio::task::JoinHandle<Result<TaskResult, String>>> {
    let data = payload(w);
    let mut tasks = Vec::new();
    for client in clients {
        for slot in 0..w.inflight {
            let (client, window, data, op) = (client.clone(), window.clone(), data.clone(), w.op);
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                let mut lats = Vec::new();
                let mut i = slot as i64;
                while !window.stop.load(Ordering::Acquire) {
                    let t = Instant::now();
                    match op {
                        Op::Add => {
                            let r = client.add(i, 1).await?;
                            if r != i + 1 {
                                return Err(format!("add({i}, 1) returned {r}"));
                            }
                        }
                        Op::Echo => {
                            let r = client.echo(data.clone()).await?;
                            if r != data.len() {
                                return Err(format!(
                                    "echo returned {r} bytes, sent {}",
                                    data.len()
                                ));
                            }
                        }
                    }
                    if window.measuring.load(Ordering::Acquire) {
                        n += 1;
                        lats.push(t.elapsed().as_nanos() as u64);
                    }
                    i = i.wrapping_add(1) & 0xFFFF;
                }
                Ok((n, lats))
            }));
        }
    }
    tasks
}
