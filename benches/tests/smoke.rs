//! Runs the whole harness with a tiny duration so that it never rots. Checks only that it
//! completes and prints every row; timing is never asserted.

use std::process::Command;

#[test]
fn harness_runs_every_mode_and_target() {
    let out_file = std::env::temp_dir().join(format!("rpcbench-smoke-{}.json", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_rpcbench"))
        .args(["run", "--smoke", "--no-python", "--out"])
        .arg(&out_file)
        .output()
        .expect("run rpcbench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "rpcbench failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        !stdout.contains("FAILED"),
        "a run failed\n{stdout}\n{stderr}"
    );
    for mode in [
        "idle-10000",
        "sequential",
        "pipelined-100",
        "pipelined-1000",
        "echo-1MiB",
        "conns-200x10",
        "light+200x10",
    ] {
        for target in [
            "floor/tcp",
            "floor/unix",
            "ours/tcp",
            "ours/unix",
            "tarpc/tcp",
        ] {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with(mode) && l.contains(target)),
                "no row for {mode} {target}\n{stdout}"
            );
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).expect("results file"))
            .expect("JSON");
    assert_eq!(json["medians"].as_array().map(Vec::len), Some(35));
    let _ = std::fs::remove_file(&out_file);
}

#[test]
fn codecs_mode_prints_both_codecs_for_both_payloads() {
    let out = Command::new(env!("CARGO_BIN_EXE_rpcbench"))
        .args(["codecs", "--smoke", "--size", "65536"])
        .output()
        .expect("run rpcbench codecs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rpcbench codecs failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for data in ["text", "random"] {
        for codec in ["msgpack ", "msgpack-blosc "] {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with(data) && l.contains(codec)),
                "no {data} {codec}row:\n{stdout}"
            );
        }
    }
}

/// A flag a command does not take is refused with the flags it does take (it used to be
/// ignored, so that `rpcbench run --help` ran the whole suite); `--help` prints the usage.
#[test]
fn an_unknown_flag_is_refused_and_help_prints_the_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_rpcbench"))
        .args(["run", "--bogus", "1"])
        .output()
        .expect("run rpcbench");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown flag --bogus") && stderr.contains("--modes"),
        "{stderr}"
    );
    let help = Command::new(env!("CARGO_BIN_EXE_rpcbench"))
        .args(["run", "--help"])
        .output()
        .expect("run rpcbench --help");
    assert!(help.status.success());
    let stdout = String::from_utf8_lossy(&help.stdout);
    assert!(stdout.contains("rpcbench client --impl"), "{stdout}");
}
