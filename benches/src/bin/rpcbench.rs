//! `rpcbench`: the benchmark driver.
//!
//! ```text
//! rpcbench run [--quick | --smoke] [--rounds N] [--duration S] [--warmup S] [--no-python]
//!              [--python PATH] [--pin none|split|same] [--only TARGET,...] [--modes MODE,...]
//!              [--dict] [--out FILE]
//!              [--idle-conns N]
//! rpcbench codecs [--quick | --smoke] [--rounds N] [--duration S] [--warmup S] [--size N]
//! rpcbench server --impl floor|ours|ours-dict|tarpc --tcp HOST:PORT [--unix PATH] [--codec C]
//! rpcbench client --impl floor|ours|ours-dict|tarpc --addr ADDR --op add|echo [--size N] [--conns N]
//!                 [--inflight N] [--duration S] [--warmup S] [--server-pid PID] [--idle N]
//!                 [--codec msgpack|json|msgpack-blosc] [--data pattern|text|random]
//! ```
//!
//! `codecs` compares MsgPack with MsgPackBlosc (aiomas's compressed codec) on `ours` over TCP:
//! a 1 MiB `bytes` argument echoed back, one call at a time, once text-like (compressible) and
//! once pseudo-random; the two servers run in their own processes, a client process per
//! measurement, the codecs alternating in order each round. It prints calls/s, MiB/s, p50,
//! CPU per call (client + server) and the bytes of one message on the wire, with ratios to
//! MsgPack. `--codec` picks the codec of `ours` (server and client; MsgPack by default),
//! `--data` what an `echo` payload holds.
//!
//! `--idle N` opens N connections that send nothing and reports the growth of the server's
//! resident set per connection (mode `idle-10000`). In mode `light+200x10` the driver starts a
//! client process with 200 connections x 10 calls in flight, then measures a second client
//! process making one call at a time: the server's fairness, apart from the loaded client's own
//! scheduling.
//!
//! `run` starts every server in its own process, then for each round, mode and implementation
//! (the order of implementations rotates each round) runs one client process, and prints a
//! table of medians. Nothing here asserts timing.
//!
//! `ours` is a typed `#[service]` called through its generated proxy; `--dict` adds `ours-dict`,
//! the same service as a `ServiceDict` called by name. `--pin split` puts servers on CPU 0 and
//! clients on CPU 1, `--pin same` puts both on CPU 0 (with `taskset`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::driver::{drive, measure, rss_kib, Window};
use benches::ours::{DictClient, OursClient};
use benches::tarpc_impl::TarpcClient;
use benches::{floor, Data, Measurement, Op, Workload};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        usage();
    };
    if cmd == "--help" || cmd == "-h" || rest.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return;
    }
    let flags = Flags::parse(rest);
    let known: &[&str] = match cmd.as_str() {
        "run" => &[
            "quick",
            "smoke",
            "rounds",
            "duration",
            "warmup",
            "no-python",
            "python",
            "pin",
            "only",
            "modes",
            "dict",
            "out",
            "idle-conns",
        ],
        "codecs" => &["quick", "smoke", "rounds", "duration", "warmup", "size"],
        "server" => &["impl", "tcp", "unix", "codec"],
        "client" => &[
            "impl",
            "addr",
            "op",
            "size",
            "conns",
            "inflight",
            "duration",
            "warmup",
            "server-pid",
            "idle",
            "codec",
            "data",
        ],
        _ => usage(),
    };
    // A flag this command does not take is a mistake, not something to run the suite without.
    if let Some(unknown) = flags.0.keys().find(|k| !known.contains(&k.as_str())) {
        eprintln!(
            "rpcbench {cmd}: unknown flag --{unknown}; it takes --{}",
            known.join(", --")
        );
        std::process::exit(2);
    }
    let result = match cmd.as_str() {
        "run" => run(&flags),
        "codecs" => codecs(&flags),
        "server" => server(&flags),
        "client" => client(&flags),
        _ => usage(),
    };
    if let Err(e) = result {
        eprintln!("rpcbench {cmd}: {e}");
        std::process::exit(1);
    }
}

/// The commands and their flags, as `--help` prints them (the top of this file says more).
const HELP: &str = "\
rpcbench run [--quick | --smoke] [--rounds N] [--duration S] [--warmup S] [--no-python]
             [--python PATH] [--pin none|split|same] [--only TARGET,...] [--modes MODE,...]
             [--dict] [--out FILE] [--idle-conns N]
rpcbench codecs [--quick | --smoke] [--rounds N] [--duration S] [--warmup S] [--size N]
rpcbench server --impl floor|ours|ours-dict|tarpc --tcp HOST:PORT [--unix PATH] [--codec C]
rpcbench client --impl floor|ours|ours-dict|tarpc --addr ADDR --op add|echo [--size N] [--conns N]
                [--inflight N] [--duration S] [--warmup S] [--server-pid PID] [--idle N]
                [--codec msgpack|json|msgpack-blosc] [--data pattern|text|random]";

fn usage() -> ! {
    eprintln!("usage:\n{HELP}\n(more at the top of benches/src/bin/rpcbench.rs)");
    std::process::exit(2);
}

/// `--name value` and `--switch` flags.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Self {
        let mut map = HashMap::new();
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                eprintln!("unexpected argument {a:?}");
                usage();
            };
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().cloned().unwrap_or_default(),
                _ => String::new(),
            };
            map.insert(name.to_owned(), value);
        }
        Flags(map)
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.get(name) {
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("--{name}: not a number: {v:?}");
                usage()
            }),
            None => default,
        }
    }
}

/// Tokio's multi-threaded runtime, with `RPCBENCH_WORKERS` worker threads when that is set
/// (tokio's default, one per CPU, otherwise): an experiment knob for how much cross-thread
/// wake-ups cost each implementation.
fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("RPCBENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        builder.worker_threads(n.max(1));
    }
    builder.enable_all().build().expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// server

fn server(f: &Flags) -> Result<(), String> {
    let imp = f.get("impl").ok_or("--impl is required")?.to_owned();
    let tcp = f.get("tcp").unwrap_or("127.0.0.1:0").to_owned();
    let unix = f.get("unix").map(str::to_owned);
    let rt = runtime();
    rt.block_on(async move {
        let mut line = String::from("LISTEN");
        let mut keep = Vec::new();
        match imp.as_str() {
            "ours" if f.has("codec") => {
                let codec = benches::ours::codec_by_name(f.get("codec").unwrap_or_default())?;
                let s = benches::ours::serve_with(&tcp, codec).await?;
                line += &format!(" tcp={}", s.local_addr());
                keep.push(s);
            }
            "ours" | "ours-dict" => {
                let dict = imp == "ours-dict";
                let s = benches::ours::serve(&tcp, dict).await?;
                line += &format!(" tcp={}", s.local_addr());
                keep.push(s);
                if let Some(p) = &unix {
                    let s = benches::ours::serve(&format!("unix:{p}"), dict).await?;
                    line += &format!(" unix={p}");
                    keep.push(s);
                }
            }
            "floor" => {
                let l = tokio::net::TcpListener::bind(&tcp)
                    .await
                    .map_err(|e| e.to_string())?;
                line += &format!(" tcp={}", l.local_addr().map_err(|e| e.to_string())?);
                tokio::spawn(async move {
                    while let Ok((s, _)) = l.accept().await {
                        let _ = s.set_nodelay(true);
                        tokio::spawn(floor::serve_conn(s));
                    }
                });
                if let Some(p) = &unix {
                    let _ = std::fs::remove_file(p);
                    let l = tokio::net::UnixListener::bind(p).map_err(|e| e.to_string())?;
                    line += &format!(" unix={p}");
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            tokio::spawn(floor::serve_conn(s));
                        }
                    });
                }
            }
            "tarpc" => {
                let a = benches::tarpc_impl::serve(&tcp).await?;
                line += &format!(" tcp={a}");
            }
            other => return Err(format!("unknown --impl {other:?}")),
        }
        println!("{line}");
        std::io::stdout().flush().map_err(|e| e.to_string())?;
        // Serve until stdin closes (the driver holds its write end), then exit.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .map_err(|e| e.to_string())?;
        drop(keep);
        if let Some(p) = &unix {
            let _ = std::fs::remove_file(p);
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// client

fn client(f: &Flags) -> Result<(), String> {
    let imp = f.get("impl").ok_or("--impl is required")?.to_owned();
    let addr = f.get("addr").ok_or("--addr is required")?.to_owned();
    let w = Workload {
        op: f.get("op").unwrap_or("add").parse()?,
        size: f.num("size", 1 << 20),
        conns: f.num("conns", 1),
        inflight: f.num("inflight", 1),
        duration: f.num("duration", 1.0),
        warmup: f.num("warmup", 0.2),
        data: f.get("data").unwrap_or("pattern").parse()?,
    };
    let server_pid: u32 = f.num("server-pid", 0);
    let idle: usize = f.num("idle", 0);
    let codec = f
        .get("codec")
        .map(benches::ours::codec_by_name)
        .transpose()?;
    let m = runtime().block_on(async {
        if idle > 0 {
            idle_conns(&addr, idle, server_pid).await
        } else if let (Some(codec), "ours") = (codec, imp.as_str()) {
            let mut clients = Vec::new();
            for _ in 0..w.conns {
                clients.push(OursClient::connect_with(&addr, codec.clone()).await?);
            }
            drive(clients, &w, server_pid).await
        } else {
            run_client(&imp, &addr, &w, server_pid).await
        }
    })?;
    println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
    Ok(())
}

/// The idle-connection mode: opens `n` connections that send nothing and reports how much the
/// server's resident set grew per connection (the same raw connections for every server).
async fn idle_conns(addr: &str, n: usize, server_pid: u32) -> Result<Measurement, String> {
    let settle = Duration::from_millis(500);
    tokio::time::sleep(settle).await;
    let before = rss_kib(server_pid);
    let mut keep: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(n);
    for _ in 0..n {
        if let Some(path) = addr.strip_prefix("unix:") {
            // A Unix socket refuses (EAGAIN) rather than waits while the accept backlog is full.
            let s = loop {
                match tokio::net::UnixStream::connect(path).await {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    other => break other.map_err(|e| e.to_string())?,
                }
            };
            keep.push(Box::new(s));
        } else {
            let s = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            keep.push(Box::new(s));
        }
    }
    // Let the server accept them all and set each up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(server_pid);
    drop(keep);
    Ok(Measurement {
        calls: n as u64,
        kib_per_conn: after.saturating_sub(before) as f64 / n as f64,
        ..Measurement::default()
    })
}

async fn run_client(
    imp: &str,
    addr: &str,
    w: &Workload,
    server_pid: u32,
) -> Result<Measurement, String> {
    match imp {
        "ours" => {
            let mut clients = Vec::new();
            for _ in 0..w.conns {
                clients.push(OursClient::connect(addr).await?);
            }
            drive(clients, w, server_pid).await
        }
        "ours-dict" => {
            let mut clients = Vec::new();
            for _ in 0..w.conns {
                clients.push(DictClient::connect(addr).await?);
            }
            drive(clients, w, server_pid).await
        }
        "tarpc" => {
            let mut clients = Vec::new();
            for _ in 0..w.conns {
                clients.push(TarpcClient::connect(addr).await?);
            }
            drive(clients, w, server_pid).await
        }
        "floor" => {
            let window = Arc::new(Window::default());
            let mut tasks = Vec::new();
            for _ in 0..w.conns {
                let (w2, window) = (w.clone(), window.clone());
                if let Some(path) = addr.strip_prefix("unix:") {
                    let s = tokio::net::UnixStream::connect(path)
                        .await
                        .map_err(|e| e.to_string())?;
                    tasks.push(tokio::spawn(floor::client_conn(s, w2, window)));
                } else {
                    let s = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(|e| e.to_string())?;
                    s.set_nodelay(true).map_err(|e| e.to_string())?;
                    tasks.push(tokio::spawn(floor::client_conn(s, w2, window)));
                }
            }
            measure(w, window, tasks, server_pid).await
        }
        other => Err(format!("unknown --impl {other:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// run

/// What a mode measures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// All connections' calls.
    Calls,
    /// One light client's calls (one at a time, in a process of its own) while another client
    /// process keeps `conns` x `inflight` calls going, saturating the server.
    Light,
    /// Server memory per idle connection, `conns` of them.
    Idle,
}

struct Mode {
    name: &'static str,
    kind: Kind,
    op: Op,
    size: usize,
    conns: usize,
    inflight: usize,
}

const MODES: &[Mode] = &[
    // First, so that in the first round the servers have not yet grown (and kept) the memory of
    // the busy modes, which new connections would reuse; the table shows the largest figure
    // over rounds, which is the first round's.
    Mode {
        kind: Kind::Idle,
        name: "idle-10000",
        op: Op::Add,
        size: 0,
        conns: 10_000,
        inflight: 0,
    },
    Mode {
        kind: Kind::Calls,
        name: "sequential",
        op: Op::Add,
        size: 0,
        conns: 1,
        inflight: 1,
    },
    Mode {
        kind: Kind::Calls,
        name: "pipelined-100",
        op: Op::Add,
        size: 0,
        conns: 1,
        inflight: 100,
    },
    Mode {
        kind: Kind::Calls,
        name: "pipelined-1000",
        op: Op::Add,
        size: 0,
        conns: 1,
        inflight: 1000,
    },
    Mode {
        kind: Kind::Calls,
        name: "echo-1MiB",
        op: Op::Echo,
        size: 1 << 20,
        conns: 1,
        inflight: 1,
    },
    Mode {
        kind: Kind::Calls,
        name: "conns-200x10",
        op: Op::Add,
        size: 0,
        conns: 200,
        inflight: 10,
    },
    Mode {
        kind: Kind::Light,
        name: "light+200x10",
        op: Op::Add,
        size: 0,
        conns: 200,
        inflight: 10,
    },
];

/// One implementation over one transport, with its server process.
struct Target {
    name: String,
    imp: String,
    transport: &'static str,
    addr: String,
    server_pid: u32,
    python: Option<PathBuf>,
}

struct ServerProc {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pinned(pin: &str, role: &str, mut cmd: Vec<String>) -> Vec<String> {
    let cpu = match (pin, role) {
        ("split", "server") => "0",
        ("split", _) => "1",
        ("same", _) => "0",
        _ => return cmd,
    };
    let mut v = vec!["taskset".to_owned(), "-c".to_owned(), cpu.to_owned()];
    v.append(&mut cmd);
    v
}

fn start_server(cmd: Vec<String>) -> Result<(ServerProc, HashMap<String, String>), String> {
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let proc = ServerProc { child, stdin };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let Some(rest) = line.trim().strip_prefix("LISTEN") else {
        return Err(format!("server {cmd:?} did not start (said {line:?})"));
    };
    let addrs = rest
        .split_whitespace()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    Ok((proc, addrs))
}

fn run_client_proc(cmd: Vec<String>, timeout: Duration) -> Result<Measurement, String> {
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("client {cmd:?} timed out"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("client {cmd:?} failed: {status}"));
    }
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("client {cmd:?} printed {out:?}: {e}"))
}

fn python_path(f: &Flags) -> Option<PathBuf> {
    if f.has("no-python") {
        return None;
    }
    let p = f
        .get("python")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("RPC_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| workspace_root().join("target/py-venv/bin/python"));
    p.exists().then_some(p)
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    json!({ "nproc": nproc, "cpu_model": model, "os": std::env::consts::OS })
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run(f: &Flags) -> Result<(), String> {
    let (mut duration, mut warmup, mut rounds) = (1.0, 0.2, 3usize);
    if f.has("quick") {
        (duration, warmup, rounds) = (0.3, 0.1, 1);
    }
    if f.has("smoke") {
        (duration, warmup, rounds) = (0.05, 0.02, 1);
    }
    let duration: f64 = f.num("duration", duration);
    let warmup: f64 = f.num("warmup", warmup);
    let rounds: usize = f.num("rounds", rounds);
    // The smoke test checks that the idle mode runs, not what it measures.
    let n_idle: usize = f.num("idle-conns", if f.has("smoke") { 500 } else { 10_000 });
    let pin = f.get("pin").unwrap_or("none").to_owned();
    let only: Option<Vec<String>> = f
        .get("only")
        .map(|s| s.split(',').map(str::to_owned).collect());
    let modes: Vec<usize> = match f.get("modes") {
        None => (0..MODES.len()).collect(),
        Some(list) => {
            let names: Vec<&str> = list.split(',').collect();
            if let Some(bad) = names.iter().find(|n| !MODES.iter().any(|m| m.name == **n)) {
                let known: Vec<&str> = MODES.iter().map(|m| m.name).collect();
                return Err(format!(
                    "unknown mode {bad:?}: the modes are {}",
                    known.join(", ")
                ));
            }
            (0..MODES.len())
                .filter(|&i| names.contains(&MODES[i].name))
                .collect()
        }
    };
    let out = PathBuf::from(f.get("out").map(str::to_owned).unwrap_or_else(|| {
        workspace_root()
            .join("target/bench/results.json")
            .to_string_lossy()
            .into_owned()
    }));
    let me = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .to_string_lossy()
        .into_owned();
    let python = python_path(f);
    let peer_py = workspace_root()
        .join("benches/python/aiomas_peer.py")
        .to_string_lossy()
        .into_owned();
    let sock_dir = std::env::temp_dir().join(format!("rpcbench-{}", std::process::id()));
    std::fs::create_dir_all(&sock_dir).map_err(|e| e.to_string())?;

    // Start every server once; each waits idle while the others are measured.
    let mut procs = Vec::new();
    let mut targets = Vec::new();
    let mut imps: Vec<&str> = vec!["floor", "ours", "tarpc"];
    if f.has("dict") {
        imps.insert(2, "ours-dict");
    }
    if python.is_some() {
        imps.push("python");
    } else {
        eprintln!(
            "rpcbench: no Python venv (RPC_PYTHON or target/py-venv/bin/python): skipping aiomas"
        );
    }
    for imp in imps {
        let unix = matches!(imp, "floor" | "ours").then(|| sock_dir.join(format!("{imp}.sock")));
        let mut cmd = match (imp, &python) {
            ("python", Some(py)) => vec![
                py.to_string_lossy().into_owned(),
                peer_py.clone(),
                "server".into(),
            ],
            _ => vec![me.clone(), "server".into(), "--impl".into(), imp.into()],
        };
        cmd.extend(["--tcp".into(), "127.0.0.1:0".into()]);
        if let Some(u) = &unix {
            cmd.extend(["--unix".into(), u.to_string_lossy().into_owned()]);
        }
        let (proc, addrs) = start_server(pinned(&pin, "server", cmd))?;
        let pid = proc.child.id();
        for transport in ["tcp", "unix"] {
            let Some(addr) = addrs.get(transport) else {
                continue;
            };
            let name = format!("{imp}/{transport}");
            if only
                .as_ref()
                .is_some_and(|o| !o.iter().any(|x| *x == name || x == imp))
            {
                continue;
            }
            let addr = if transport == "unix" {
                format!("unix:{addr}")
            } else {
                addr.clone()
            };
            targets.push(Target {
                name,
                imp: imp.to_owned(),
                transport,
                addr,
                server_pid: pid,
                python: (imp == "python").then(|| python.clone()).flatten(),
            });
        }
        procs.push(proc);
    }

    eprintln!(
        "rpcbench: {} rounds x {} modes x {} targets, {duration} s each (+{warmup} s warm-up), pin={pin}",
        rounds,
        modes.len(),
        targets.len()
    );
    let timeout = Duration::from_secs_f64(duration + warmup + 60.0);
    let mut runs = Vec::new();
    let mut results: BTreeMap<(usize, usize), Vec<Measurement>> = BTreeMap::new();
    for round in 0..rounds {
        for (mi, mode) in MODES.iter().enumerate().filter(|(i, _)| modes.contains(i)) {
            for k in 0..targets.len() {
                let ti = (k + round) % targets.len();
                let t = &targets[ti];
                let python = t.python.as_ref().filter(|_| mode.kind != Kind::Idle);
                let imp = if t.python.is_some() { "floor" } else { &t.imp };
                let client = |conns: usize, inflight: usize, duration: f64, warmup: f64| {
                    let mut cmd = match python {
                        Some(py) => vec![
                            py.to_string_lossy().into_owned(),
                            peer_py.clone(),
                            "client".into(),
                        ],
                        None => vec![me.clone(), "client".into(), "--impl".into(), imp.into()],
                    };
                    if mode.kind == Kind::Idle {
                        cmd.extend(["--idle".into(), n_idle.to_string()]);
                    }
                    let op = if mode.op == Op::Add { "add" } else { "echo" };
                    for (k, v) in [
                        ("--addr", t.addr.clone()),
                        ("--op", op.into()),
                        ("--size", mode.size.to_string()),
                        ("--conns", conns.to_string()),
                        ("--inflight", inflight.to_string()),
                        ("--duration", duration.to_string()),
                        ("--warmup", warmup.to_string()),
                        ("--server-pid", t.server_pid.to_string()),
                    ] {
                        cmd.push(k.into());
                        cmd.push(v);
                    }
                    pinned(&pin, "client", cmd)
                };
                // The fairness mode: the load comes from a process of its own, which runs
                // longer than the light client's warm-up and window; the light client measures.
                let heavy = match mode.kind {
                    Kind::Light => {
                        let cmd = client(mode.conns, mode.inflight, duration + warmup + 2.0, 0.5);
                        let child = Command::new(&cmd[0])
                            .args(&cmd[1..])
                            .stdin(Stdio::null())
                            .stdout(Stdio::null())
                            .stderr(Stdio::inherit())
                            .spawn()
                            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
                        std::thread::sleep(Duration::from_millis(500));
                        Some(child)
                    }
                    _ => None,
                };
                let cmd = match mode.kind {
                    Kind::Light => client(1, 1, duration, warmup),
                    _ => client(mode.conns, mode.inflight, duration, warmup),
                };
                let measured = run_client_proc(cmd, timeout);
                if let Some(mut h) = heavy {
                    let _ = h.kill();
                    let _ = h.wait();
                }
                match measured {
                    Ok(m) => {
                        if mode.kind == Kind::Idle {
                            eprintln!(
                                "  round {round} {:<15} {:<14} {:>10.2} KiB/conn",
                                mode.name, t.name, m.kib_per_conn
                            );
                        } else {
                            eprintln!(
                                "  round {round} {:<15} {:<14} {:>10.0} calls/s",
                                mode.name, t.name, m.calls_per_sec
                            );
                        }
                        runs.push(json!({ "round": round, "mode": mode.name, "target": t.name, "result": m }));
                        results.entry((mi, ti)).or_default().push(m);
                    }
                    Err(e) => {
                        eprintln!(
                            "  round {round} {:<15} {:<14} FAILED: {e}",
                            mode.name, t.name
                        );
                        runs.push(json!({ "round": round, "mode": mode.name, "target": t.name, "error": e }));
                    }
                }
            }
        }
    }
    drop(procs);
    let _ = std::fs::remove_dir_all(&sock_dir);

    // Medians, then ratios within this run.
    let med = |mi: usize, ti: usize| -> Option<Measurement> {
        let v = results.get(&(mi, ti))?;
        let m = |g: fn(&Measurement) -> f64| median(v.iter().map(g).collect());
        Some(Measurement {
            calls: median(v.iter().map(|x| x.calls as f64).collect()) as u64,
            secs: m(|x| x.secs),
            calls_per_sec: m(|x| x.calls_per_sec),
            mib_per_sec: m(|x| x.mib_per_sec),
            p50_us: m(|x| x.p50_us),
            p99_us: m(|x| x.p99_us),
            cpu_client_s: m(|x| x.cpu_client_s),
            cpu_server_s: m(|x| x.cpu_server_s),
            cpu_us_per_call: m(|x| x.cpu_us_per_call),
            // The largest: later rounds meet servers whose allocators kept the memory of the
            // earlier ones' connections (and of the busy modes), and reuse it.
            kib_per_conn: v.iter().map(|x| x.kib_per_conn).fold(0.0, f64::max),
        })
    };
    let find = |name: &str| targets.iter().position(|t| t.name == name);
    let ratio = |a: f64, b: Option<f64>| match b {
        Some(b) if b > 0.0 && a > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    };
    let mut medians = Vec::new();
    println!();
    println!(
        "{:<15} {:<14} {:>11} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>8}",
        "mode",
        "target",
        "calls/s",
        "x floor",
        "x tarpc",
        "x python",
        "p50 us",
        "x floor",
        "p99 us",
        "MiB/s",
        "cpu us/c",
        "x floor"
    );
    for (mi, mode) in MODES.iter().enumerate().filter(|(i, _)| modes.contains(i)) {
        for (ti, t) in targets.iter().enumerate() {
            let Some(m) = med(mi, ti) else {
                println!("{:<15} {:<14} {:>11}", mode.name, t.name, "FAILED");
                continue;
            };
            let floor = find(&format!(
                "floor/{}",
                if t.transport == "unix" { "unix" } else { "tcp" }
            ))
            .and_then(|fi| med(mi, fi));
            let tarpc = find("tarpc/tcp").and_then(|ti| med(mi, ti));
            let python = find("python/tcp").and_then(|ti| med(mi, ti));
            if mode.kind == Kind::Idle {
                println!(
                    "{:<15} {:<14} {:>11} {:>8} {:>8} {:>8}   {:.2} KiB of server RSS per idle connection ({:.2}x floor)",
                    mode.name,
                    t.name,
                    "-",
                    "-",
                    "-",
                    "-",
                    m.kib_per_conn,
                    m.kib_per_conn / floor.as_ref().map_or(f64::NAN, |f| f.kib_per_conn),
                );
                medians.push(json!({
                    "mode": mode.name, "target": t.name, "conns": n_idle, "median": m,
                }));
                continue;
            }
            println!(
                "{:<15} {:<14} {:>11.0} {:>8} {:>8} {:>8} {:>9.1} {:>8} {:>9.1} {:>9} {:>9.2} {:>8}",
                mode.name,
                t.name,
                m.calls_per_sec,
                ratio(m.calls_per_sec, floor.as_ref().map(|f| f.calls_per_sec)),
                ratio(m.calls_per_sec, tarpc.as_ref().map(|f| f.calls_per_sec)),
                ratio(m.calls_per_sec, python.as_ref().map(|f| f.calls_per_sec)),
                m.p50_us,
                ratio(m.p50_us, floor.as_ref().map(|f| f.p50_us)),
                m.p99_us,
                if mode.op == Op::Echo {
                    format!("{:.0}", m.mib_per_sec)
                } else {
                    "-".into()
                },
                m.cpu_us_per_call,
                ratio(m.cpu_us_per_call, floor.as_ref().map(|f| f.cpu_us_per_call)),
            );
            medians.push(json!({
                "mode": mode.name, "target": t.name, "op": if mode.op == Op::Add { "add" } else { "echo" },
                "size": mode.size, "conns": mode.conns, "inflight": mode.inflight,
                "median": m,
                "vs_floor_calls_per_sec": floor.as_ref().map(|f| m.calls_per_sec / f.calls_per_sec),
                "vs_tarpc_calls_per_sec": tarpc.as_ref().map(|f| m.calls_per_sec / f.calls_per_sec),
                "vs_python_calls_per_sec": python.as_ref().map(|f| m.calls_per_sec / f.calls_per_sec),
                "vs_floor_p50": floor.as_ref().map(|f| m.p50_us / f.p50_us),
                "vs_floor_cpu_per_call": floor.as_ref().map(|f| m.cpu_us_per_call / f.cpu_us_per_call),
            }));
        }
    }
    println!("\n(medians of {rounds} round(s); ratios compare within this run; x floor of p50 and cpu: lower is better;");
    println!(" light+200x10: one client, one call at a time, while another process keeps 200 connections x 10 calls going;
 its cpu column divides the light client's and the server's CPU by the light client's calls: ignore it)");
    let doc = json!({
        "machine": machine(),
        "config": { "rounds": rounds, "duration_s": duration, "warmup_s": warmup, "pin": pin },
        "medians": medians,
        "runs": runs,
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    println!("results: {}", out.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// codecs

/// `rpcbench codecs`: MsgPack against MsgPackBlosc, echoing a compressible and an incompressible
/// payload over TCP (see the top of this file).
fn codecs(f: &Flags) -> Result<(), String> {
    let (mut duration, mut warmup, mut rounds) = (1.0, 0.2, 3usize);
    if f.has("quick") {
        (duration, warmup, rounds) = (0.3, 0.1, 1);
    }
    if f.has("smoke") {
        (duration, warmup, rounds) = (0.05, 0.02, 1);
    }
    let duration: f64 = f.num("duration", duration);
    let warmup: f64 = f.num("warmup", warmup);
    let rounds: usize = f.num("rounds", rounds);
    let size: usize = f.num("size", 1 << 20);
    let me = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .to_string_lossy()
        .into_owned();
    let codecs = ["msgpack", "msgpack-blosc"];
    let datas = [("text", Data::Text), ("random", Data::Random)];
    let mut servers = Vec::new();
    for codec in codecs {
        let cmd = vec![
            me.clone(),
            "server".into(),
            "--impl".into(),
            "ours".into(),
            "--codec".into(),
            codec.into(),
            "--tcp".into(),
            "127.0.0.1:0".into(),
        ];
        let (proc, addrs) = start_server(cmd)?;
        let addr = addrs
            .get("tcp")
            .cloned()
            .ok_or("the server gave no address")?;
        servers.push((codec, proc.child.id(), addr, proc));
    }
    let mut results: BTreeMap<(&str, &str), Vec<Measurement>> = BTreeMap::new();
    for round in 0..rounds {
        for (data_name, _) in datas {
            for i in 0..codecs.len() {
                let (codec, pid, addr, _) = &servers[(i + round) % servers.len()];
                let cmd = vec![
                    me.clone(),
                    "client".into(),
                    "--impl".into(),
                    "ours".into(),
                    "--codec".into(),
                    codec.to_string(),
                    "--addr".into(),
                    addr.clone(),
                    "--op".into(),
                    "echo".into(),
                    "--size".into(),
                    size.to_string(),
                    "--data".into(),
                    data_name.into(),
                    "--duration".into(),
                    duration.to_string(),
                    "--warmup".into(),
                    warmup.to_string(),
                    "--server-pid".into(),
                    pid.to_string(),
                ];
                let timeout = Duration::from_secs_f64(duration + warmup + 30.0);
                let m = run_client_proc(cmd, timeout)?;
                results.entry((data_name, codec)).or_default().push(m);
            }
        }
    }
    drop(servers);
    println!(
        "\n{:<8} {:<14} {:>10} {:>9} {:>9} {:>12} {:>11} {:>10} {:>10}",
        "payload",
        "codec",
        "calls/s",
        "MiB/s",
        "p50 ms",
        "CPU us/call",
        "wire bytes",
        "x calls/s",
        "x CPU"
    );
    for (data_name, data) in datas {
        let wire = |codec: &str| -> Result<usize, String> {
            let value = rpc_core::ByteBuf::from(benches::driver::payload_bytes(data, size));
            benches::ours::codec_by_name(codec)?
                .encode_message(rpc_core::wire::codec::MessageKind::Result, 1, &value)
                .map(|b| b.len())
                .map_err(|e| e.to_string())
        };
        let stat = |codec: &str, pick: fn(&Measurement) -> f64| {
            median(results[&(data_name, codec)].iter().map(pick).collect())
        };
        let base_calls = stat("msgpack", |m| m.calls_per_sec);
        let base_cpu = stat("msgpack", |m| m.cpu_us_per_call);
        for codec in codecs {
            let calls = stat(codec, |m| m.calls_per_sec);
            let cpu = stat(codec, |m| m.cpu_us_per_call);
            println!(
                "{:<8} {:<14} {:>10.1} {:>9.1} {:>9.3} {:>12.0} {:>11} {:>9.2}x {:>9.2}x",
                data_name,
                codec,
                calls,
                stat(codec, |m| m.mib_per_sec),
                stat(codec, |m| m.p50_us) / 1000.0,
                cpu,
                wire(codec)?,
                calls / base_calls,
                cpu / base_cpu,
            );
        }
    }
    println!(
        "\n(medians of {rounds} round(s) of {duration} s; {size} bytes echoed, one call at a time, \
         over loopback TCP; CPU = client + server process; x = against msgpack in this run)"
    );
    Ok(())
}
