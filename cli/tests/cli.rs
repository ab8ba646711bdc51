//! `aiomas` end to end: the binary run as a user would, against the interop tree
//! (`examples::interop`, what `cargo run -p examples --example interop_server` serves; here in
//! the test's process on a free port), against a Python aiomas server, and against its own
//! `serve`, with and without TLS.

use std::process::Output;
use std::time::Duration;

use examples::interop;
use rpc_core::{Codec, Connection, Server};
use tests::certs::Pki;
use tests::python::{python, Proc};
use tokio::process::Command;

const STEP: Duration = Duration::from_secs(60);

/// Runs `aiomas ARGS...` to the end.
async fn aiomas(args: &[&str]) -> Output {
    aiomas_logging(args, None).await
}

/// Runs `aiomas ARGS...` to the end, with `RUST_LOG` set to `log` if given.
async fn aiomas_logging(args: &[&str], log: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aiomas"));
    cmd.args(args).env_remove("RUST_LOG");
    if let Some(filter) = log {
        cmd.env("RUST_LOG", filter);
    }
    let out = cmd.kill_on_drop(true).output();
    tokio::time::timeout(STEP, out)
        .await
        .expect("aiomas did not finish in time")
        .expect("cannot run aiomas")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Checks the exit status and what was printed.
#[track_caller]
fn expect(o: &Output, status: i32, out: &str, err: &str) {
    assert_eq!(
        (o.status.code(), stdout(o).as_str(), stderr(o).as_str()),
        (Some(status), out, err)
    );
}

async fn interop_server(codec: Codec) -> Server {
    Server::builder(interop::router())
        .codec(codec)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}

#[tokio::test]
async fn call_prints_the_result_as_json_with_each_codec() {
    for (codec, name) in [
        (Codec::msgpack(), "msgpack"),
        (Codec::json(), "json"),
        (Codec::msgpack_blosc(), "msgpack-blosc"),
    ] {
        let server = interop_server(codec).await;
        let addr = server.local_addr().to_string();
        let c = ["--codec", name];
        expect(
            &aiomas(&["call", &addr, "add", "1", "2", c[0], c[1]]).await,
            0,
            "3\n",
            "",
        );
        expect(
            &aiomas(&["call", &addr, "add", "-1", "-2", c[0], c[1]]).await,
            0,
            "-3\n",
            "",
        );
        expect(
            &aiomas(&["call", &addr, "sub/mul", "3", "--kw", "b=5", c[0], c[1]]).await,
            0,
            "15\n",
            "",
        );
        expect(
            &aiomas(&[
                "call",
                &addr,
                "echo",
                r#"{"a": [1, 2.5, "x", null, true]}"#,
                c[0],
                c[1],
            ])
            .await,
            0,
            "{\"a\":[1,2.5,\"x\",null,true]}\n",
            "",
        );
        expect(
            &aiomas(&["call", &addr, "echo", "[1]", "--pretty", c[0], c[1]]).await,
            0,
            "[\n  1\n]\n",
            "",
        );
        // Errors from the peer: `Kind: message`, exit status 1.
        expect(
            &aiomas(&["call", &addr, "fail", "\"boom\"", c[0], c[1]]).await,
            1,
            "",
            "ValueError: boom\n",
        );
        expect(
            &aiomas(&["call", &addr, "nope", c[0], c[1]]).await,
            1,
            "",
            "LookupError: Name \"nope\" not found in \"\"\n",
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn rust_log_shows_the_connection_and_the_span_of_the_call() {
    let server = interop_server(Codec::json()).await;
    let addr = server.local_addr().to_string();
    let o = aiomas_logging(&["call", &addr, "fail", "\"boom\""], Some("rpc_core=debug")).await;
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let opened = err
        .lines()
        .find(|l| l.contains("connection opened"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(opened.contains(&format!("peer=\"{addr}\"")), "{opened}");
    let span = err
        .lines()
        .find(|l| l.contains("rpc.call{"))
        .unwrap_or_else(|| panic!("{err}"));
    for field in [
        "path=fail".to_owned(),
        format!("peer=\"{addr}\""),
        "codec=\"json\"".to_owned(),
        "id=0".to_owned(),
        "outcome=\"error\"".to_owned(),
        "error.kind=\"ValueError\"".to_owned(),
    ] {
        assert!(span.contains(&field), "{field} in {span}");
    }
    assert!(err.ends_with("ValueError: boom\n"), "{err}");
    // Without RUST_LOG: the error alone.
    let o = aiomas(&["call", &addr, "fail", "\"boom\""]).await;
    assert_eq!(stderr(&o), "ValueError: boom\n");
    server.shutdown().await;
}

#[tokio::test]
async fn call_reports_bad_input_and_unreachable_endpoints() {
    let server = interop_server(Codec::json()).await;
    let addr = server.local_addr().to_string();
    expect(
        &aiomas(&["call", &addr, "add", "1", "x"]).await,
        2,
        "",
        "UsageError: argument 2 (\"x\") is not a JSON literal: expected value at line 1 column 1; quote strings as '\"text\"'\n",
    );
    expect(
        &aiomas(&["call", &addr, "add", "1", "--kw", "b"]).await,
        2,
        "",
        "UsageError: --kw \"b\": expected NAME=JSON, e.g. --kw b=5\n",
    );
    expect(
        &aiomas(&["call", &addr, "add", "1", "--kw", "=2"]).await,
        2,
        "",
        "UsageError: --kw \"=2\": the name before '=' is empty\n",
    );
    expect(
        &aiomas(&["call", "no-port", "add"]).await,
        2,
        "",
        "UsageError: invalid address \"no-port\": expected HOST:PORT (e.g. 127.0.0.1:5555) or unix:PATH (e.g. unix:/tmp/rpc.sock)\n",
    );
    // A call that outlives --timeout.
    expect(
        &aiomas(&[
            "call",
            &addr,
            "sleep_add",
            "1",
            "2",
            "5000",
            "--timeout",
            "0.05",
        ])
        .await,
        3,
        "",
        "TimeoutError: no reply within 50ms\n",
    );
    let o = aiomas(&["call", &addr, "add", "--codec", "xml"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value 'xml' for '--codec <CODEC>'"),
        "{}",
        stderr(&o)
    );
    let o = aiomas(&["call", &addr, "add", "--timeout", "soon"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("expected a number of seconds, got \"soon\""),
        "{}",
        stderr(&o)
    );
    server.shutdown().await;

    // Nobody listens there any more.
    let o = aiomas(&["call", &addr, "add", "1", "2"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("ConnectionError: cannot connect to {addr}: ")),
        "{}",
        stderr(&o)
    );
}

/// A call with the wrong codec fails at once (the server closes the connection on a frame it
/// cannot decode) and says to try the other codec, in both directions.
#[tokio::test]
async fn call_with_the_wrong_codec_fails_at_once_with_a_hint() {
    for (server_codec, ours, other) in [
        (Codec::msgpack(), "json", "msgpack or --codec msgpack-blosc"),
        (Codec::json(), "msgpack", "json or --codec msgpack-blosc"),
        (
            Codec::msgpack_blosc(),
            "msgpack",
            "json or --codec msgpack-blosc",
        ),
    ] {
        let server = interop_server(server_codec).await;
        let addr = server.local_addr().to_string();
        // --timeout far above the step bound: a hang would fail the test, not time out.
        let o = aiomas(&[
            "call",
            &addr,
            "add",
            "1",
            "2",
            "--codec",
            ours,
            "--timeout",
            "3600",
        ])
        .await;
        expect(
            &o,
            3,
            "",
            &format!(
                "ConnectionResetError: connection closed: the peer closed the connection; \
                 the endpoint may speak another codec: try --codec {other}\n"
            ),
        );
        server.shutdown().await;
    }
}

/// `serve --max-connections N` closes a connection over the limit at once.
#[tokio::test]
async fn serve_closes_connections_over_max_connections() {
    let (_server, addr) = serve(&[
        "--addr",
        "127.0.0.1:0",
        "--codec",
        "msgpack",
        "--max-connections",
        "1",
    ])
    .await;
    let held = Connection::builder().connect(&*addr).await.unwrap();
    let v: i64 = held.remote().get("add").call((1, 2)).await.unwrap();
    assert_eq!(v, 3);
    let o = aiomas(&[
        "call",
        &addr,
        "add",
        "1",
        "2",
        "--codec",
        "msgpack",
        "--timeout",
        "3600",
    ])
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .starts_with("ConnectionResetError: connection closed: the peer closed the connection"),
        "{}",
        stderr(&o)
    );
    held.close().await;
}

#[tokio::test]
async fn bench_prints_throughput_percentiles_and_a_histogram() {
    let server = interop_server(Codec::msgpack()).await;
    let addr = server.local_addr().to_string();
    let o = aiomas(&[
        "bench", &addr, "add", "1", "2", "--codec", "msgpack", "-c", "2", "-m", "3", "-n", "60",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!("{addr} add: 2 connection(s) x 3 in flight, ")),
        "{out}"
    );
    assert!(out.contains("\n  calls       60 ok, 0 failed, "), "{out}");
    for p in ["p50", "p90", "p99", "p99.9"] {
        assert!(out.contains(&format!("\n    {p:<6} ")), "{p}: {out}");
    }
    assert!(out.contains("\n  histogram\n    <= "), "{out}");

    // Every call failing: the error, and a non-zero exit status.
    let o = aiomas(&["bench", &addr, "nope", "--codec", "msgpack", "-n", "5"]).await;
    expect(
        &o,
        1,
        "",
        "LookupError: every call failed (5); the first kind: Name \"nope\" not found in \"\"\n",
    );
    let o = aiomas(&["bench", &addr, "add", "-c", "0"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    server.shutdown().await;
}

#[tokio::test]
async fn call_and_bench_against_a_python_aiomas_server() {
    let Some(py) = python() else { return };
    for codec in ["json", "msgpack", "msgpack-blosc"] {
        let mut server = Proc::python(&py, "aiomas_server.py", &["127.0.0.1:0", codec]);
        let addr = server.expect_line("listening on ").await;
        let c = ["--codec", codec];
        expect(
            &aiomas(&["call", &addr, "add", "1", "2", c[0], c[1]]).await,
            0,
            "3\n",
            "",
        );
        expect(
            &aiomas(&["call", &addr, "sub/mul", "3", "--kw", "b=5", c[0], c[1]]).await,
            0,
            "15\n",
            "",
        );
        expect(
            &aiomas(&["call", &addr, "fail", "\"boom\"", c[0], c[1]]).await,
            1,
            "",
            "ValueError: boom\n",
        );
        let o = aiomas(&[
            "bench", &addr, "add", "1", "2", c[0], c[1], "-m", "2", "-n", "20",
        ])
        .await;
        assert_eq!(o.status.code(), Some(0), "{codec}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("20 ok, 0 failed"),
            "{codec}: {}",
            stdout(&o)
        );
        assert!(
            stdout(&o).contains("\n    p99    "),
            "{codec}: {}",
            stdout(&o)
        );
    }
}

/// `aiomas serve ARGS...`, and the address it listens on.
async fn serve(args: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aiomas"));
    cmd.arg("serve").args(args).env_remove("RUST_LOG");
    let mut proc = Proc::spawn(cmd);
    let addr = proc.expect_line("listening on ").await;
    (proc, addr)
}

#[tokio::test]
async fn serve_answers_echo_add_and_sleep() {
    let (_server, addr) = serve(&["--addr", "127.0.0.1:0", "--codec", "msgpack"]).await;
    let c = ["--codec", "msgpack"];
    expect(
        &aiomas(&["call", &addr, "add", "1", "2", c[0], c[1]]).await,
        0,
        "3\n",
        "",
    );
    expect(
        &aiomas(&["call", &addr, "add", "1", "0.5", c[0], c[1]]).await,
        0,
        "1.5\n",
        "",
    );
    expect(
        &aiomas(&["call", &addr, "add", "1", "\"x\"", c[0], c[1]]).await,
        1,
        "",
        "TypeError: unsupported operand types for +: 'int' and 'str'\n",
    );
    expect(
        &aiomas(&["call", &addr, "echo", "[\"hi\", {}]", c[0], c[1]]).await,
        0,
        "[\"hi\",{}]\n",
        "",
    );
    expect(
        &aiomas(&["call", &addr, "sleep", "0.01", c[0], c[1]]).await,
        0,
        "null\n",
        "",
    );
    expect(
        &aiomas(&["call", &addr, "sleep", "-1", c[0], c[1]]).await,
        1,
        "",
        "ValueError: seconds must be a non-negative number, got -1\n",
    );
    // A library client too.
    let conn = Connection::builder().connect(&*addr).await.unwrap();
    let v: i64 = conn.remote().get("add").call((20, 22)).await.unwrap();
    assert_eq!(v, 42);
    conn.close().await;

    let o = aiomas(&["serve", "--addr", &addr]).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("OSError: cannot listen on {addr}: ")),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn serve_and_call_over_tls() {
    let pki = Pki::new("test CA");
    let other = Pki::new("another CA");
    let tmp = tempfile::tempdir().unwrap();
    let f = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (ca, cert, key) = (
        f("ca.pem", &pki.ca.cert),
        f("server.pem", &pki.server.cert),
        f("server.key", &pki.server.key),
    );
    let (client_cert, client_key) = (
        f("client.pem", &pki.client.cert),
        f("client.key", &pki.client.key),
    );
    let other_ca = f("other.pem", &other.ca.cert);
    let (_server, addr) = serve(&[
        "--addr",
        "127.0.0.1:0",
        "--cert",
        &cert,
        "--key",
        &key,
        "--client-ca",
        &ca,
    ])
    .await;
    expect(
        &aiomas(&[
            "call",
            &addr,
            "add",
            "1",
            "2",
            "--ca",
            &ca,
            "--cert",
            &client_cert,
            "--key",
            &client_key,
        ])
        .await,
        0,
        "3\n",
        "",
    );
    let o = aiomas(&["call", &addr, "add", "1", "2", "--ca", &other_ca]).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not signed by a CA that this side trusts"),
        "{}",
        stderr(&o)
    );
    let missing = tmp.path().join("missing.pem").display().to_string();
    expect(
        &aiomas(&["call", &addr, "add", "--ca", &missing]).await,
        2,
        "",
        &format!("TlsError: cannot read the CA certificate from {missing}: No such file or directory (os error 2)\n"),
    );
    let o = aiomas(&[
        "call",
        &addr,
        "add",
        "--cert",
        &client_cert,
        "--key",
        &client_key,
    ])
    .await;
    expect(
        &o,
        2,
        "",
        "UsageError: --cert needs --ca: give the CA that signed the server's certificate\n",
    );

    // The library's TLS client talks to `aiomas serve` too.
    let tls = rpc_core::tls::ClientTls::builder()
        .ca_pem(&pki.ca.cert)
        .client_cert_pem(&pki.client.cert, &pki.client.key)
        .build()
        .unwrap();
    let conn = Connection::builder()
        .codec(Codec::json())
        .tls(tls)
        .connect(&*addr)
        .await
        .unwrap();
    let v: String = conn.remote().get("echo").call(("over TLS",)).await.unwrap();
    assert_eq!(v, "over TLS");
    conn.close().await;
}

#[tokio::test]
async fn serve_call_and_bench_speak_msgpack_blosc() {
    let (_server, addr) = serve(&["--addr", "127.0.0.1:0", "--codec", "msgpack-blosc"]).await;
    let c = ["--codec", "msgpack-blosc"];
    expect(
        &aiomas(&["call", &addr, "add", "1", "2", c[0], c[1]]).await,
        0,
        "3\n",
        "",
    );
    let long = format!("\"{}\"", "ab".repeat(5000));
    let o = aiomas(&["call", &addr, "echo", &long, c[0], c[1]]).await;
    expect(&o, 0, &format!("{long}\n"), "");
    let o = aiomas(&[
        "bench", &addr, "add", "1", "2", c[0], c[1], "-m", "2", "-n", "20",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("20 ok, 0 failed"), "{}", stdout(&o));
    // The wrong codec against this server: the call fails, it does not hang.
    let o = aiomas(&[
        "call",
        &addr,
        "add",
        "1",
        "2",
        "--codec",
        "msgpack",
        "--timeout",
        "5",
    ])
    .await;
    assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
}
