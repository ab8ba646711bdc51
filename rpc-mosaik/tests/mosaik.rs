//! The example simulators under real mosaik, 3.6.0 (Python 3.11) and 3.7.1 (Python 3.12), both
//! installed by `scripts/python-env.sh`: started by mosaik (`cmd`) and connected to
//! (`connect`), next to mosaik-api-python simulators, with the recorded data checked; calls back
//! into mosaik during `step`, with every field mosaik sends; a simulator's error in mosaik's
//! log; SIGTERM ends a simulator cleanly.
//!
//! Without a Python these tests fail, unless `RPC_SKIP_PYTHON=1` says to skip them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// Bound for a scenario run or a process exit.
const WAIT: Duration = Duration::from_secs(60);

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skip_python() -> bool {
    std::env::var_os("RPC_SKIP_PYTHON").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The Pythons with mosaik: 3.6.0 (`RPC_PYTHON`, else the main venv) and 3.7.1
/// (`RPC_PYTHON_MOSAIK37`, else its venv), each with its label; `None` when skipping.
fn pythons() -> Option<Vec<(&'static str, PathBuf)>> {
    let venv = |var: &str, default: &str| match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => crate_dir().join(default),
    };
    let all = [
        (
            "mosaik 3.6.0",
            venv("RPC_PYTHON", "../target/py-venv/bin/python"),
        ),
        (
            "mosaik 3.7.1",
            venv(
                "RPC_PYTHON_MOSAIK37",
                "../target/py-venv-mosaik37/bin/python",
            ),
        ),
    ];
    if all.iter().all(|(_, p)| p.exists()) {
        return Some(all.into());
    }
    if skip_python() {
        eprintln!("RPC_SKIP_PYTHON is set: the mosaik test did NOT run");
        return None;
    }
    let missing: Vec<String> = all
        .iter()
        .filter(|(_, p)| !p.exists())
        .map(|(label, p)| format!("{label} at {}", p.display()))
        .collect();
    panic!(
        "no Python with {} (run scripts/test.sh, which builds the venvs with \
         scripts/python-env.sh; RPC_SKIP_PYTHON=1 skips these tests)",
        missing.join(", ")
    );
}

/// An example's binary, which `cargo test` builds next to the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: build the examples (cargo test and scripts/test.sh do)",
        path.display()
    );
    path
}

/// Waits for `child` to exit, within `WAIT`.
fn wait(mut child: Child, what: &str) -> std::process::ExitStatus {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        (child, status)
    });
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("{what} did not exit within {WAIT:?}"));
    handle.join().unwrap().1.unwrap()
}

/// Runs `scenario.py` with `args`; returns its `RESULT` and everything it printed.
fn scenario(python: &Path, args: &[&str]) -> (Value, String) {
    let child = Command::new(python)
        .arg("scenario.py")
        .args(args)
        .current_dir(crate_dir().join("tests/python"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(WAIT)
        .expect("the mosaik scenario did not finish in time")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let printed = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the scenario failed:\n{printed}");
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line from the scenario:\n{printed}"));
    (serde_json::from_str(result).unwrap(), printed)
}

fn series(data: &Value, full_id: &str, attr: &str) -> Value {
    data["data"][full_id][attr].clone()
}

/// Starts `example_sim --remote 127.0.0.1:0` and reads the address it prints on stdout once
/// it listens; its stderr is collected and returned by the join handle.
fn listening_example_sim() -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(example("example_sim"))
        .args(["--remote", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            all.push_str(&line.unwrap_or_default());
            all.push('\n');
        }
        all
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut addr = String::new();
    stdout.read_line(&mut addr).unwrap();
    let addr = addr.trim().to_owned();
    assert!(
        addr.parse::<std::net::SocketAddr>().is_ok(),
        "example_sim --remote printed {addr:?}, not its address"
    );
    (child, addr, log)
}

#[test]
fn rust_simulators_run_under_mosaik_by_cmd_and_connect_beside_python_ones() {
    let Some(pythons) = pythons() else { return };
    for (label, python) in pythons {
        mixed_scenario(label, &python);
    }
}

fn mixed_scenario(label: &str, python: &Path) {
    // `connect` mode: the simulator listens (on a free port) and mosaik connects.
    let (listening, addr, log) = listening_example_sim();

    let example_sim = example("example_sim");
    let monitor_sim = example("monitor_sim");
    let (result, printed) = scenario(
        python,
        &[
            "mixed",
            example_sim.to_str().unwrap(),
            monitor_sim.to_str().unwrap(),
            &addr,
        ],
    );
    assert_eq!(result["errors"], json!([]), "{label}: {printed}");

    // The Python twin: val = -1 + (t + 1).
    assert_eq!(
        series(&result, "PyExample-0.P_0", "val"),
        json!([[0, 0.0], [1, 1.0], [2, 2.0], [3, 3.0], [4, 4.0]])
    );
    // Rust (cmd), delta from Python each step: val = 2 + 0 + 1 + ... + t.
    assert_eq!(
        series(&result, "RustCmd-0.C_0", "val"),
        json!([[0, 2.0], [1, 3.0], [2, 5.0], [3, 8.0], [4, 12.0]])
    );
    // Rust (cmd), no input: val = 2 + (t + 1).
    assert_eq!(
        series(&result, "RustCmd-0.C_1", "val"),
        json!([[0, 3.0], [1, 4.0], [2, 5.0], [3, 6.0], [4, 7.0]])
    );
    // Rust (connect), delta from Python: val = 10 + 0 + 1 + ... + t.
    assert_eq!(
        series(&result, "RustConnect-0.N_0", "val"),
        json!([[0, 10.0], [1, 11.0], [2, 13.0], [3, 16.0], [4, 20.0]])
    );

    // The event-based monitor, stepped by each input, asked mosaik during each step.
    let mon = "RustMonitor-0.Monitor_0";
    assert_eq!(
        series(&result, mon, "val"),
        series(&result, "PyExample-0.P_0", "val")
    );
    assert_eq!(
        series(&result, mon, "seen"),
        json!([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])
    );
    let related = json!(["Collector-0.Monitor_0", "PyExample-0.P_0"]);
    for (t, entry) in series(&result, mon, "related")
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(
            entry,
            &json!([t, related]),
            "{label}: related entities at step {t}"
        );
    }
    // Each related entity's simulator id, which mosaik sends with its type.
    for entry in series(&result, mon, "related_sids").as_array().unwrap() {
        assert_eq!(entry[1], json!(["Collector-0", "PyExample-0"]), "{label}");
    }
    let progress: Vec<f64> = series(&result, mon, "progress")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[1].as_f64().unwrap())
        .collect();
    assert_eq!(progress.len(), 5);
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1])
            && progress.iter().all(|p| (0.0..100.0).contains(p)),
        "get_progress() during step gave {progress:?}"
    );

    // mosaik said stop: the connect-mode simulator exits by itself, successfully, after its
    // finalize.
    assert!(wait(listening, "example_sim --remote").success(), "{label}");
    let log = log.join().unwrap();
    assert!(
        log.contains("finalize: simulator done entities=1 total=20"),
        "{label}: {log}"
    );
}

#[test]
fn sigterm_ends_a_simulator_cleanly_after_finalize() {
    let (child, addr, log) = listening_example_sim();
    // A Rust client plays mosaik up to a step, then the process gets SIGTERM.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = rpc_mosaik::connection_builder()
            .connect(addr.as_str())
            .await
            .unwrap();
        let api = conn.proxy::<rpc_mosaik::MosaikApiProxy>();
        api.init("Sim-0".to_owned(), Some(1.0), rpc_mosaik::Params::new())
            .await
            .unwrap();
        let params = rpc_mosaik::Params::from_iter([("init_val", 5)]);
        api.create(2, "ExampleModel".to_owned(), params)
            .await
            .unwrap();
        assert_eq!(
            api.step(0, rpc_mosaik::InputData::new(), 0).await.unwrap(),
            Some(1)
        );
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        // The simulator closes the connection as it ends.
        let _ = conn.closed().await;
    });
    let status = wait(child, "example_sim after SIGTERM");
    let log = log.join().unwrap();
    assert!(status.success(), "exit status {status:?}: {log}");
    assert!(
        log.contains("terminated") || log.contains("Terminated"),
        "{log}"
    );
    assert!(
        log.contains("finalize: simulator done entities=2 total=12"),
        "finalize did not run: {log}"
    );
}

#[test]
fn simulator_error_reaches_mosaiks_log_as_type_and_message() {
    let Some(pythons) = pythons() else { return };
    for (label, python) in pythons {
        simulator_error(label, &python);
    }
}

fn simulator_error(label: &str, python: &Path) {
    let monitor_sim = example("monitor_sim");
    let (result, printed) = scenario(python, &["error", monitor_sim.to_str().unwrap()]);
    let errors = result["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{label}: {printed}");
    assert_eq!(
        errors[0].as_str().unwrap(),
        "Simulator RustMonitor-0 aborted the simulation with error \
         ValueError(Monitor_0: val 4 is above the limit 3 at time 3). Further information \
         provided:\nValueError: Monitor_0: val 4 is above the limit 3 at time 3\n"
    );
}
