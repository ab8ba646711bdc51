//! The example simulators under real mosaik 3.6 (installed into the project's venv by
//! `scripts/python-env.sh`): started by mosaik (`cmd`) and connected to (`connect`), next to
//! mosaik-api-python simulators, with the recorded data checked; calls back into mosaik during
//! `step`; a simulator's error in mosaik's log.
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

fn python() -> Option<PathBuf> {
    let skip = std::env::var_os("RPC_SKIP_PYTHON").is_some_and(|v| !v.is_empty() && v != "0");
    let candidate = match std::env::var_os("RPC_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => crate_dir().join("../target/py-venv/bin/python"),
    };
    if candidate.exists() {
        return Some(candidate);
    }
    if skip {
        eprintln!("RPC_SKIP_PYTHON is set: the mosaik test did NOT run");
        return None;
    }
    panic!(
        "no Python with mosaik at {} (run scripts/test.sh, which builds the venv with \
         scripts/python-env.sh; RPC_SKIP_PYTHON=1 skips these tests)",
        candidate.display()
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

#[test]
fn rust_simulators_run_under_mosaik_by_cmd_and_connect_beside_python_ones() {
    let Some(python) = python() else { return };

    // `connect` mode: the simulator listens (on a free port) and mosaik connects.
    let mut listening = Command::new(example("example_sim"))
        .args(["--remote", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(listening.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("example_sim --remote exited before listening")
            .unwrap();
        if let Some((_, addr)) = line.split_once("waiting for mosaik to connect addr=") {
            break addr.trim().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop)); // keep its stderr drained

    let example_sim = example("example_sim");
    let monitor_sim = example("monitor_sim");
    let (result, printed) = scenario(
        &python,
        &[
            "mixed",
            example_sim.to_str().unwrap(),
            monitor_sim.to_str().unwrap(),
            &addr,
        ],
    );
    assert_eq!(result["errors"], json!([]), "{printed}");

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
        assert_eq!(entry, &json!([t, related]), "related entities at step {t}");
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

    // mosaik said stop: the connect-mode simulator exits by itself, successfully.
    assert!(wait(listening, "example_sim --remote").success());
}

#[test]
fn simulator_error_reaches_mosaiks_log_as_type_and_message() {
    let Some(python) = python() else { return };
    let monitor_sim = example("monitor_sim");
    let (result, printed) = scenario(&python, &["error", monitor_sim.to_str().unwrap()]);
    let errors = result["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{printed}");
    assert_eq!(
        errors[0].as_str().unwrap(),
        "Simulator RustMonitor-0 aborted the simulation with error \
         ValueError(Monitor_0: val 4 is above the limit 3 at time 3). Further information \
         provided:\nValueError: Monitor_0: val 4 is above the limit 3 at time 3\n"
    );
}
