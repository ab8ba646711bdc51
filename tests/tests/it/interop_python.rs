//! Interop with the real Python aiomas 2.0.1, both ways, all three codecs (MsgPackBlosc with
//! python-blosc 1.11.4).
//!
//! The Python peers live in `tests/python/`; `scripts/python-env.sh` builds the venv they run
//! in, and `scripts/test.sh` runs this suite with `RPC_PYTHON` pointing at it. Without a Python
//! the tests fail (they never pass silently), unless `RPC_SKIP_PYTHON=1` says to skip them.
//!
//! The Rust side of "Python client → Rust server" is `examples::interop::router()`, the tree the
//! `interop_server` example serves, run in-process on a free port or a temporary Unix socket.

use std::path::Path;
use std::time::Duration;

use examples::interop;
use rpc_core::wire::codec::MessageKind;
use rpc_core::{
    Codec, Connection, ConnectionBuilder, DynCall, Error, Kwargs, NoKwargs, Router, Server,
    ServiceDict, ServiceRef, Value,
};
use tempfile::TempDir;
use tests::python::{python, workspace, Proc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    hex, named_tree, peer_calls_back_root_and_child, python_defaults, unhex, DefaultsProxy,
};

/// Bound for any one step that waits on a peer (a readiness line, a reply, a process exit).
const STEP: Duration = Duration::from_secs(30);
/// Bound for a whole test.
const WHOLE: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    MsgPack,
    Json,
    MsgPackBlosc,
}

impl Kind {
    fn codec(self) -> Codec {
        match self {
            Kind::MsgPack => Codec::msgpack(),
            Kind::Json => Codec::json(),
            Kind::MsgPackBlosc => Codec::msgpack_blosc(),
        }
    }
    /// The codec of the values inside a message: MsgPackBlosc compresses whole messages only.
    fn value_codec(self) -> Codec {
        match self {
            Kind::MsgPackBlosc => Codec::msgpack(),
            other => other.codec(),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::MsgPack => "msgpack",
            Kind::Json => "json",
            Kind::MsgPackBlosc => "msgpack-blosc",
        }
    }
    /// A connection with this codec, serving nothing yet.
    fn connection(self) -> ConnectionBuilder {
        Connection::builder().codec(self.codec())
    }
}

#[derive(Clone, Copy, Debug)]
enum Transport {
    Tcp,
    Unix,
}

fn listen_addr(transport: Transport, tmp: &TempDir) -> String {
    match transport {
        Transport::Tcp => "127.0.0.1:0".to_owned(),
        Transport::Unix => format!("unix:{}", tmp.path().join("s.sock").display()),
    }
}

/// A Python aiomas server of `peer_services.Calc`, with the address it listens on.
async fn python_server(
    python: &Path,
    kind: Kind,
    transport: Transport,
    tmp: &TempDir,
) -> (Proc, String) {
    python_server_with(python, kind, transport, tmp, &[]).await
}

/// [`python_server`] with extra arguments (`points`: register the `Point` serializer).
async fn python_server_with(
    python: &Path,
    kind: Kind,
    transport: Transport,
    tmp: &TempDir,
    extra: &[&str],
) -> (Proc, String) {
    let addr = listen_addr(transport, tmp);
    let mut args = vec![addr.as_str(), kind.name()];
    args.extend_from_slice(extra);
    let mut proc = Proc::python(python, "aiomas_server.py", &args);
    let real = proc.expect_line("listening on ").await;
    (proc, real)
}

/// What the Rust client serves, so that Python can call it back.
fn client_service() -> Router {
    Router::new(named_tree("rust"))
}

async fn connect(addr: &str, kind: Kind) -> Connection {
    tokio::time::timeout(
        STEP,
        kind.connection().serve(client_service()).connect(addr),
    )
    .await
    .expect("connect timed out")
    .expect("connect failed")
}

fn remote_err<T: std::fmt::Debug>(r: Result<T, Error>) -> rpc_core::RemoteError {
    match r {
        Err(Error::Remote(e)) => *e,
        other => panic!("expected a remote error, got {other:?}"),
    }
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(WHOLE, f)
        .await
        .expect("the test did not finish in time")
}

/// One test per codec: `name::msgpack`, `name::json` and `name::msgpack_blosc`.
macro_rules! each_codec {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn msgpack() {
                super::bounded(super::$name(super::Kind::MsgPack)).await
            }
            #[tokio::test]
            async fn json() {
                super::bounded(super::$name(super::Kind::Json)).await
            }
            #[tokio::test]
            async fn msgpack_blosc() {
                super::bounded(super::$name(super::Kind::MsgPackBlosc)).await
            }
        }
    )*};
}

each_codec!(
    rust_client_args,
    rust_client_args_unix,
    rust_client_sub_routers,
    rust_client_python_errors,
    rust_client_none_uses_python_defaults,
    rust_client_trait_proxy,
    python_client_of_rust_trait_service,
    rust_client_service_refs,
    rust_client_custom_types,
    rust_channel_to_python_channel,
    python_channel_to_rust_channel,
    rust_client_concurrent_100,
    rust_client_echo_every_type,
    rust_client_reset_by_python,
    rust_client_closes_with_call_pending,
    python_client_checks_tcp,
    python_client_checks_unix,
    rust_client_of_the_other_codec_fails_at_once,
    python_client_of_the_other_codec_fails_at_once,
);

// ---------------------------------------------------------------------------------------------
// Rust client → Python aiomas server

async fn args_over(kind: Kind, transport: Transport) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, transport, &tmp).await;
    let client = connect(&addr, kind).await;
    let remote = client.remote();
    let r: i64 = remote.get("add").call((1, 2)).await.unwrap();
    assert_eq!(r, 3, "positional");
    let r: i64 = remote
        .get("add")
        .call_kw((), Kwargs::new().arg("a", 1).arg("b", 2))
        .await
        .unwrap();
    assert_eq!(r, 3, "keyword");
    let r: i64 = remote
        .get("sub")
        .get("mul")
        .call_kw((3,), Kwargs::new().arg("b", 5))
        .await
        .unwrap();
    assert_eq!(r, 15, "mixed");
    let r: i64 = remote
        .get("add")
        .call((-(1i64 << 40), i64::MAX - 5))
        .await
        .unwrap();
    assert_eq!(r, i64::MAX - 5 - (1i64 << 40), "large ints");
    client.close().await;
}

async fn rust_client_args(kind: Kind) {
    args_over(kind, Transport::Tcp).await;
}

async fn rust_client_args_unix(kind: Kind) {
    args_over(kind, Transport::Unix).await;
}

async fn rust_client_sub_routers(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let remote = client.remote();
    let r: i64 = remote.get("sub").get("mul").call((6, 7)).await.unwrap();
    assert_eq!(r, 42);
    let r: i64 = remote
        .get("sub")
        .get("deep")
        .get("square")
        .call((9,))
        .await
        .unwrap();
    assert_eq!(r, 81, "two levels deep");
    let r: i64 = remote
        .get("sub/deep/square")
        .call_kw((), Kwargs::new().arg("x", -4))
        .await
        .unwrap();
    assert_eq!(r, 16, "a path with slashes in one step");
    let r: String = remote
        .get("tools")
        .get("shout")
        .call(("hey",))
        .await
        .unwrap();
    assert_eq!(r, "HEY!", "a ServiceDict sub-router");
    client.close().await;
}

async fn rust_client_python_errors(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let remote = client.remote();

    let e = remote_err(remote.get("fail").call::<Value>(("boom ü",)).await);
    assert_eq!((e.kind(), e.message()), ("ValueError", "boom ü"));
    assert!(
        e.text().starts_with("Traceback (most recent call last):\n"),
        "{}",
        e.text()
    );
    assert!(!e.origin().is_empty());

    let cases: &[(&str, &str, &str)] = &[
        ("nope", "LookupError", r#"Name "nope" not found in """#),
        (
            "sub/nope",
            "LookupError",
            r#"Name "nope" not found in "sub""#,
        ),
        (
            "sub/deep/nope",
            "LookupError",
            r#"Name "nope" not found in "sub/deep""#,
        ),
        ("add/", "LookupError", r#"Name "" not found in "add""#),
        (
            "hidden",
            "LookupError",
            r#""peer_services.Calc.hidden" is not exposed"#,
        ),
        ("sub", "TypeError", "'Sub' object is not callable"),
    ];
    for (path, kind_name, message) in cases {
        let e = remote_err(remote.get(path).call::<Value>(()).await);
        assert_eq!(
            (e.kind(), e.message()),
            (*kind_name, *message),
            "path {path:?}"
        );
        let last = e.text().lines().rev().find(|l| !l.is_empty()).unwrap();
        assert_eq!(
            last,
            format!("{kind_name}: {message}"),
            "last traceback line for {path:?}"
        );
    }
    let e = remote_err(remote.get("add").call::<Value>((1,)).await);
    assert_eq!(e.kind(), "TypeError");
    // The connection is fine after all that.
    let r: i64 = remote.get("add").call((2, 2)).await.unwrap();
    assert_eq!(r, 4);
    client.close().await;
}

async fn rust_client_none_uses_python_defaults(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let p = client.proxy::<DefaultsProxy>();
    let list =
        |b: Value, c: i64, label: &str| Value::Array(vec![4.into(), b, c.into(), label.into()]);
    // Trailing `None`s are left out.
    let r = p.defaults(4, None, None, None).await.unwrap();
    assert_eq!(r, list(2.into(), 3, "default"));
    // A `Some` after a `None` goes by keyword, so Python still applies `b=2`.
    let r = p.defaults(4, None, Some(6), None).await.unwrap();
    assert_eq!(r, list(2.into(), 6, "default"));
    let r = p
        .defaults(4, Some(5), None, Some("x".to_owned()))
        .await
        .unwrap();
    assert_eq!(r, list(5.into(), 3, "x"));
    // `Null` sends `None` itself.
    let r = p.defaults(4, rpc_core::Null, None, None).await.unwrap();
    assert_eq!(r, list(Value::Nil, 3, "default"));
    // Keyword-style: a `None` value is left out, `Null` is sent.
    let r: Value = client
        .remote()
        .get("defaults")
        .call_kw(
            (4,),
            Kwargs::new()
                .arg("b", None::<i64>)
                .arg("c", 7)
                .arg("label", rpc_core::Null),
        )
        .await
        .unwrap();
    assert_eq!(
        r,
        Value::Array(vec![4.into(), 2.into(), 7.into(), Value::Nil])
    );
    client.close().await;
}

/// The Python peer's `Point`, sent as `[x, y]` by its `extra_serializers` entry.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point(i64, i64);

async fn rust_client_custom_types(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server_with(&py, kind, Transport::Tcp, &tmp, &["points"]).await;
    // Both sides register Point first: it takes typeid 0, service references typeid 1.
    let client = tokio::time::timeout(
        STEP,
        Connection::builder()
            .codec(kind.codec().register::<Point>())
            .serve(client_service())
            .connect(&addr),
    )
    .await
    .expect("connect timed out")
    .expect("connect failed");
    let remote = client.remote();
    let p: rpc_core::Custom<Point> = remote.get("make_point").call((3, -4)).await.unwrap();
    assert_eq!(p.0, Point(3, -4));
    let n: i64 = remote
        .get("point_norm1")
        .call((rpc_core::Custom(Point(3, -4)),))
        .await
        .unwrap();
    assert_eq!(n, 7);
    let swapped: rpc_core::Custom<Point> = remote
        .get("point_swap")
        .call((rpc_core::Custom(Point(1, 2)),))
        .await
        .unwrap();
    assert_eq!(swapped.0, Point(2, 1));
    // A service reference now travels as typeid 1, and Python still calls it back.
    let r: String = remote
        .get("call_me_back")
        .call((ServiceRef::at("child"),))
        .await
        .unwrap();
    assert_eq!(r, "hello rust-child");
    client.close().await;
}

/// A bare `Channel` (no RPC layer) against a bare aiomas channel server: request, reply, and
/// `req.fail(ValueError(42))` arriving as `"ValueError: 42\n"` (checklist A1-A3).
async fn rust_channel_to_python_channel(kind: Kind) {
    let Some(py) = python() else { return };
    let mut server = Proc::python(
        &py,
        "aiomas_channel_peer.py",
        &["server", "127.0.0.1:0", kind.name()],
    );
    let addr = server.expect_line("listening on ").await;
    let stream = tokio::net::TcpStream::connect(addr.as_str()).await.unwrap();
    let channel = rpc_core::Channel::builder()
        .codec(kind.codec())
        .open(stream);
    let reply = channel.request("ohai").unwrap().await.unwrap();
    assert!(!reply.is_error());
    assert_eq!(
        reply.content().unwrap(),
        Value::Array(vec!["echo".into(), "ohai".into()])
    );
    let err = channel.request("fail").unwrap().await.unwrap();
    assert!(err.is_error());
    assert_eq!(err.content().unwrap(), Value::from("ValueError: 42\n"));
    channel.close().await;
}

/// A bare aiomas channel client against a bare `Channel` answering from `recv()`.
async fn python_channel_to_rust_channel(kind: Kind) {
    let Some(py) = python() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut client = Proc::python(
        &py,
        "aiomas_channel_peer.py",
        &["client", &addr, kind.name()],
    );
    let (stream, _) = listener.accept().await.unwrap();
    let channel = rpc_core::Channel::builder()
        .codec(kind.codec())
        .open(stream);
    for _ in 0..3 {
        let req = channel.recv().await.unwrap();
        let content = req.content().unwrap();
        if content == Value::from("fail") {
            req.fail(&rpc_core::CallError::value_error("42")).unwrap();
        } else {
            req.reply(&Value::Array(vec!["echo".into(), content]))
                .unwrap();
        }
    }
    assert_eq!(client.expect_line("reply: ").await, r#"["echo", "ohai"]"#);
    assert_eq!(
        client.expect_line("reply: ").await,
        r#"["echo", ["numbers", 1, 2.5]]"#
    );
    assert_eq!(client.expect_line("error: ").await, "ValueError: 42");
    assert!(channel.closed().await.is_connection_reset());
}

/// Python writes NaN and the infinities bare in JSON, and reads them back; so do we.
#[tokio::test]
async fn rust_client_json_non_finite_floats() {
    bounded(async {
        let Some(py) = python() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let (_server, addr) = python_server(&py, Kind::Json, Transport::Tcp, &tmp).await;
        let client = connect(&addr, Kind::Json).await;
        let sent = Value::Array(vec![
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(1.5),
        ]);
        let back: Value = client.remote().get("echo").call((sent,)).await.unwrap();
        let items = back.as_array().expect("an array");
        assert!(items[0].as_f64().is_some_and(f64::is_nan), "{back}");
        assert_eq!(
            &items[1..],
            &[
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(1.5)
            ]
        );
        client.close().await;
    })
    .await
}

async fn rust_client_service_refs(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let remote = client.remote();
    peer_calls_back_root_and_child(&remote, "rust").await;
    // As a keyword argument, through `Kwargs` (encoded at send time, in the connection's scope).
    let r: String = remote
        .get("call_me_back")
        .call_kw((), Kwargs::new().arg("proxy", ServiceRef::at("child")))
        .await
        .unwrap_or_else(|e| panic!("a service reference as a keyword argument: {e}"));
    assert_eq!(r, "hello rust-child");
    client.close().await;
}

async fn rust_client_concurrent_100(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..100i64 {
        let proxy = client.remote().get("sleep_add");
        // Later calls sleep less, so that replies come back out of order.
        set.spawn(async move { (i, proxy.call::<i64>((i, 1000, 100 - i)).await) });
    }
    let mut seen = 0;
    while let Some(done) = set.join_next().await {
        let (i, r) = done.unwrap();
        assert_eq!(r.unwrap(), i + 1000, "call {i}");
        seen += 1;
    }
    assert_eq!(seen, 100);
    client.close().await;
}

/// Every msgpack type, the edges of each encoding included. JSON has no bin and only str keys.
fn echo_values(kind: Kind) -> Vec<Value> {
    let s = |t: &str| Value::Str(t.to_owned());
    let mut v = vec![
        Value::Nil,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(0),
        Value::Int(127),
        Value::Int(128),
        Value::Int(255),
        Value::Int(256),
        Value::Int(65535),
        Value::Int(65536),
        Value::Int(u32::MAX as i64),
        Value::Int(1 << 32),
        Value::Int(1 << 40),
        Value::Int(i64::MAX),
        Value::UInt(1 << 63),
        Value::UInt(u64::MAX - 1),
        Value::UInt(u64::MAX),
        Value::Int(-1),
        Value::Int(-32),
        Value::Int(-33),
        Value::Int(-128),
        Value::Int(-129),
        Value::Int(-32768),
        Value::Int(-32769),
        Value::Int(i32::MIN as i64 - 1),
        Value::Int(i64::MIN),
        Value::Float(1.5),
        Value::Float(-0.1),
        Value::Float(std::f64::consts::PI),
        Value::Float(1e-300),
        s(""),
        s("grüße, 日本語, 😀, \u{7f} \"quoted\" \\ \n\t"),
        s(&"x".repeat(31)),
        s(&"x".repeat(32)),
        s(&"é".repeat(200)),
        s(&"y".repeat(70_000)),
        Value::Array(vec![]),
        Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![Value::Int(2), Value::Array(vec![])]),
        ]),
        Value::Array((0..20).map(Value::Int).collect()),
        Value::Map(vec![]),
        Value::Map(vec![
            (s("k"), s("v")),
            (
                s("nested"),
                Value::Map(vec![(
                    s("a"),
                    Value::Array(vec![Value::Nil, Value::Float(2.5)]),
                )]),
            ),
        ]),
        Value::Map(
            (0..20)
                .map(|i| (s(&format!("key{i}")), Value::Int(i)))
                .collect(),
        ),
    ];
    if kind != Kind::Json {
        v.extend([
            Value::Bin(vec![]),
            Value::Bin(vec![0, 1, 0xff]),
            Value::Bin((0..=255).collect()),
            Value::Bin(vec![7; 70_000]),
            Value::Map(vec![
                (Value::Int(1), s("int key")),
                (Value::Bin(vec![1]), Value::Bool(true)),
            ]),
            Value::Array(vec![
                Value::Bin(b"in".to_vec()),
                Value::Map(vec![(s("bin"), Value::Bin(vec![0]))]),
            ]),
        ]);
    }
    v
}

async fn rust_client_echo_every_type(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    // The content as it sits in the (decompressed) message.
    let codec = kind.value_codec();
    for value in echo_values(kind) {
        let sent = codec.encode(&value).unwrap();
        let reply = client
            .channel()
            .request(&("echo", [&value], NoKwargs))
            .unwrap()
            .await
            .unwrap();
        assert!(
            !reply.is_error(),
            "echo of {value:?} failed: {:?}",
            reply.content()
        );
        assert_eq!(
            reply.raw_content(),
            &sent[..],
            "the bytes of {value:?} came back changed"
        );
        assert_eq!(reply.content().unwrap(), value);
    }
    client.close().await;
}

async fn rust_client_reset_by_python(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let err = client
        .remote()
        .get("hang_up")
        .call::<Value>(())
        .await
        .unwrap_err();
    assert!(
        err.is_connection_reset(),
        "expected a connection reset, got {err:?}"
    );
    let later = client
        .remote()
        .get("add")
        .call::<i64>((1, 2))
        .await
        .unwrap_err();
    assert!(
        later.is_connection_reset(),
        "a call after the reset: {later:?}"
    );
    server.expect_line("connection reset: ").await;
    client.close().await;
}

async fn rust_client_closes_with_call_pending(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    // Queued before `request` returns, and `close` flushes the queue: the call is on the wire.
    let pending = client
        .channel()
        .request(&("sleep_add", (1, 2, 60_000), NoKwargs))
        .unwrap();
    client.close().await;
    let err = tokio::time::timeout(STEP, pending)
        .await
        .expect("the pending call hung")
        .unwrap_err();
    assert!(
        err.is_connection_reset(),
        "expected a connection reset, got {err:?}"
    );
    let line = server.expect_line("connection reset: ").await;
    assert_eq!(
        line, "ConnectionResetError()",
        "the Python server sees our EOF"
    );
    // The Python server still serves others.
    let other = connect(&addr, kind).await;
    let r: i64 = other.remote().get("add").call((2, 3)).await.unwrap();
    assert_eq!(r, 5);
    other.close().await;
}

// ---------------------------------------------------------------------------------------------
// Python aiomas client → Rust server

async fn rust_server(kind: Kind, transport: Transport, tmp: &TempDir) -> Server {
    Server::builder(interop::router())
        .codec(kind.codec())
        .bind(&*listen_addr(transport, tmp))
        .await
        .unwrap()
}

const PYTHON_CHECKS: &[&str] = &[
    "add_positional",
    "add_keyword",
    "sub_mul_mixed",
    "sub_mul_keyword",
    "sub_deep_square",
    "error_value_error",
    "error_not_found_root",
    "error_not_found_sub",
    "error_not_found_deep",
    "error_not_exposed",
    "error_not_callable",
    "error_wrong_args",
    "error_panic",
    "alive_after_panic",
    "callback_root",
    "callback_child",
    "concurrent_100",
    "echo_every_type_bytes_equal",
    "reset_by_server",
    "reset_by_client",
    "server_alive_after_resets",
];

async fn python_client_checks(kind: Kind, transport: Transport) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let server = rust_server(kind, transport, &tmp).await;
    let addr = server.local_addr().to_string();
    let proc = Proc::python(&py, "aiomas_client.py", &[&addr, kind.name()]);
    let (lines, status) = proc.finish_within(WHOLE).await;
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for line in &lines {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            failed.push(format!("unparsable line: {line}"));
            continue;
        };
        if let Some(name) = v.get("check").and_then(|c| c.as_str()) {
            if v.get("ok") == Some(&serde_json::Value::Bool(true)) {
                passed.push(name.to_owned());
            } else {
                failed.push(line.clone());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "failed Python checks:\n{}",
        failed.join("\n")
    );
    for want in PYTHON_CHECKS {
        assert!(
            passed.iter().any(|p| p == want),
            "the Python client did not report {want:?}: {lines:#?}"
        );
    }
    assert!(
        status.success(),
        "the Python client exited with {status}: {lines:#?}"
    );
    // Still serving after the panics and resets.
    let client = kind.connection().connect(&*addr).await.unwrap();
    let r: i64 = client.remote().get("add").call((40, 2)).await.unwrap();
    assert_eq!(r, 42);
    client.close().await;
    server.shutdown().await;
}

impl Kind {
    /// The codec that is not this one.
    fn other(self) -> Kind {
        match self {
            Kind::MsgPack => Kind::Json,
            Kind::Json | Kind::MsgPackBlosc => Kind::MsgPack,
        }
    }
}

/// A Rust client of the other codec against a Python aiomas server of `kind`: aiomas closes a
/// connection whose frame it cannot decode, and the call fails at once with the connection
/// closed by the peer (not after a timeout).
async fn rust_client_of_the_other_codec_fails_at_once(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = kind.other().connection().connect(&*addr).await.unwrap();
    let err = tokio::time::timeout(STEP, client.remote().get("add").call::<i64>((1, 2)))
        .await
        .expect("the call waited instead of failing at once")
        .unwrap_err();
    assert!(err.is_connection_reset(), "{err:?}");
    assert!(
        err.to_string().contains("the peer closed the connection"),
        "{err}"
    );
    client.close().await;
}

/// A Python aiomas client of the other codec against a Rust server of `kind`: the server ends
/// the connection on the first frame it cannot decode, so aiomas raises ConnectionResetError at
/// once (its own timeout is 60 s, the step bound 30 s); the server says why, with a hint.
async fn python_client_of_the_other_codec_fails_at_once(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let server = Server::builder(interop::router())
        .codec(kind.codec())
        .on_connect(move |conn| {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(conn);
            }
        })
        .bind(listen_addr(Transport::Tcp, &tmp).as_str())
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let mut proc = Proc::python(&py, "wrong_codec_client.py", &[&addr, kind.other().name()]);
    let line = proc.expect_line("error: ").await;
    assert!(line.starts_with("ConnectionResetError"), "{line}");
    let conn = rx.await.unwrap();
    let why = tokio::time::timeout(STEP, conn.closed()).await.unwrap();
    let hint = match kind {
        Kind::MsgPack => "this looks like JSON; this end speaks MsgPack",
        Kind::Json => "this looks like MsgPack; this end speaks JSON",
        Kind::MsgPackBlosc => "this looks like MsgPack; this end speaks MsgPackBlosc",
    };
    assert!(matches!(why, Error::Undecodable { .. }), "{why:?}");
    assert!(why.to_string().contains(hint), "{why}");
    let _ = proc.finish().await;
    server.shutdown().await;
}

async fn python_client_checks_tcp(kind: Kind) {
    python_client_checks(kind, Transport::Tcp).await;
}

async fn python_client_checks_unix(kind: Kind) {
    python_client_checks(kind, Transport::Unix).await;
}

// ---------------------------------------------------------------------------------------------
// The captured aiomas frames, replayed raw against the Rust interop server

/// The message type of a frame's payload (`[type, id, content]`), read from the raw bytes.
fn msg_type(payload: &[u8]) -> u8 {
    if payload[0] == 0x93 {
        payload[1]
    } else {
        let text = std::str::from_utf8(payload).unwrap();
        text.trim_start_matches('[').trim_start().as_bytes()[0] - b'0'
    }
}

/// The capture's server had `echo(*args, **kwargs)`; ours has `echo(value)` and keeps the
/// variadic one as `echo_types`. Renames the path in the raw msgpack frame, nothing else.
fn rename_echo(frame: &[u8]) -> Vec<u8> {
    let from = b"\xa4echo";
    let to = b"\xaaecho_types";
    let payload = &frame[4..];
    let at = payload.windows(from.len()).position(|w| w == from).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(&payload[..at]);
    out.extend_from_slice(to);
    out.extend_from_slice(&payload[at + from.len()..]);
    let mut framed = (out.len() as u32).to_be_bytes().to_vec();
    framed.extend(out);
    framed
}

async fn read_frame(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut header = [0u8; 4];
    tokio::time::timeout(STEP, stream.read_exact(&mut header))
        .await
        .expect("no frame from the Rust server in time")
        .unwrap();
    let mut payload = vec![0u8; u32::from_be_bytes(header) as usize];
    stream.read_exact(&mut payload).await.unwrap();
    let mut frame = header.to_vec();
    frame.extend(payload);
    frame
}

#[tokio::test]
async fn replay_captured_vectors() {
    bounded(async {
        let text = std::fs::read_to_string(workspace().join("tests/data/vectors.json")).unwrap();
        let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut replayed = Vec::new();
        for sc in vectors["scenarios"].as_array().unwrap() {
            let name = sc["name"].as_str().unwrap();
            if name == "error_result_not_serializable" {
                // The capture's server returned a Python `object()`; every Rust return value
                // is encodable, so the Rust tree has no such function.
                continue;
            }
            let kind = if sc["codec"] == "JSON" {
                Kind::Json
            } else {
                Kind::MsgPack
            };
            replay(name, kind, sc).await;
            replayed.push(name.to_owned());
        }
        assert!(replayed.len() >= 14, "replayed only {replayed:?}");
    })
    .await
}

async fn replay(name: &str, kind: Kind, sc: &serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let server = rust_server(kind, Transport::Tcp, &tmp).await;
    let mut stream = tokio::net::TcpStream::connect(server.local_addr().to_string())
        .await
        .unwrap();
    let frames = sc["frames"].as_array().unwrap();
    let c2s: Vec<Vec<u8>> = frames
        .iter()
        .filter(|f| f["dir"] == "c2s")
        .map(|f| {
            let raw = unhex(f["hex"].as_str().unwrap());
            if name == "echo_types" {
                rename_echo(&raw)
            } else {
                raw
            }
        })
        .collect();
    let s2c: Vec<&serde_json::Value> = frames.iter().filter(|f| f["dir"] == "s2c").collect();

    let (requests, mut replies): (Vec<_>, Vec<_>) =
        c2s.into_iter().partition(|f| msg_type(&f[4..]) == 0);
    replies.reverse();
    for f in &requests {
        stream.write_all(f).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < s2c.len() {
        let frame = read_frame(&mut stream).await;
        if msg_type(&frame[4..]) == 0 {
            // The server calls us back: answer with the captured reply.
            let reply = replies
                .pop()
                .unwrap_or_else(|| panic!("{name}: an unexpected request {}", hex(&frame)));
            stream.write_all(&reply).await.unwrap();
        }
        got.push(frame);
    }
    // Replies may come in any order (each request runs in its own task); match as a multiset.
    let mut want_hex: Vec<String> = s2c
        .iter()
        .filter_map(|f| f["hex"].as_str().map(str::to_owned))
        .collect();
    let mut got_hex: Vec<String> = got.iter().map(|f| hex(f)).collect();
    if want_hex.len() == s2c.len() {
        want_hex.sort();
        got_hex.sort();
        assert_eq!(
            got_hex, want_hex,
            "{name}: the server's frames differ from the capture"
        );
    } else {
        // Error replies carry a traceback, whose hex was not captured: compare the shape and
        // the last line.
        assert_eq!(got.len(), 1, "{name}");
        let (t, id, text): (u8, u64, String) = kind.codec().decode(&got[0][4..]).unwrap();
        assert_eq!((t, id), (2, 0), "{name}");
        let detail = sc["outcome_detail"].as_str().unwrap();
        let want_last = detail.lines().rev().find(|l| !l.is_empty()).unwrap();
        let got_last = text.lines().rev().find(|l| !l.is_empty()).unwrap();
        if name == "error_not_exposed" {
            // aiomas names the Python module and class; ours names the Rust service type.
            assert!(
                got_last.starts_with("LookupError: \"")
                    && got_last.ends_with(".hidden\" is not exposed"),
                "{name}: {got_last:?}"
            );
        } else {
            assert_eq!(got_last, want_last, "{name}");
        }
    }
    assert!(
        replies.is_empty(),
        "{name}: the server did not call back as captured"
    );
    drop(stream);
    server.shutdown().await;
}

/// How many random doubles, and random decimal literals, go through both codecs against Python.
const RANDOM_DOUBLES: usize = 100_000;

fn bits_of(xs: &[f64]) -> Vec<u64> {
    xs.iter()
        .map(|x| if x.is_nan() { f64::NAN } else { *x }.to_bits())
        .collect()
}

/// 100 000 random doubles (every bit pattern, subnormals and the edges included) round-trip
/// through both codecs bit for bit, Python reads Rust's bytes to the same doubles and writes
/// the same bytes, and 100 000 random decimal literals (up to 25 digits, so mostly not the
/// shortest form of any double) decode to the double Python reads for them.
#[tokio::test]
async fn doubles_both_codecs_bit_exact_against_python() {
    bounded(async {
        let Some(py) = python() else { return };
        // A fixed seed, so that a failure can be replayed.
        let mut rng = fastrand::Rng::with_seed(0x05ee_d0ff_10a7);
        let mut doubles = vec![
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            2e-28,
            0.1,
            1e16,
            1e-5,
            9007199254740993.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        while doubles.len() < RANDOM_DOUBLES {
            let x = f64::from_bits(rng.u64(..));
            doubles.push(if x.is_nan() { f64::NAN } else { x });
        }
        let mut decimals = vec!["2e-28".to_owned(), "1e400".to_owned(), "-1e-400".to_owned()];
        while decimals.len() < RANDOM_DOUBLES {
            let digits = rng.usize(1..=25);
            // JSON allows no leading zero.
            let mut s: String = (0..digits)
                .map(|i| char::from(b'0' + rng.u8(u8::from(i == 0)..10)))
                .collect();
            if rng.bool() {
                s.insert(rng.usize(1..=digits), '.');
                if s.ends_with('.') {
                    s.push('0');
                }
            }
            let exp = rng.i32(-340..320);
            let sign = if rng.bool() { "-" } else { "" };
            decimals.push(format!("{sign}{s}e{exp}"));
        }

        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let raw: Vec<u8> = doubles.iter().flat_map(|x| x.to_be_bytes()).collect();
        std::fs::write(dir.join("doubles.bits"), &raw).unwrap();
        for kind in [Kind::Json, Kind::MsgPack] {
            let bytes = kind.codec().encode(&doubles).unwrap();
            let back: Vec<f64> = kind.codec().decode(&bytes).unwrap();
            assert_eq!(bits_of(&back), bits_of(&doubles), "{kind:?}: a round trip");
            let dynamic: Value = kind.codec().decode(&bytes).unwrap();
            assert_eq!(
                kind.codec().encode(&dynamic).unwrap(),
                bytes,
                "{kind:?}: as a Value"
            );
            std::fs::write(dir.join(format!("doubles.{}", kind.name())), &bytes).unwrap();
        }
        std::fs::write(dir.join("decimals.txt"), decimals.join("\n")).unwrap();
        std::fs::write(dir.join("texts.json"), json_texts().join("\n")).unwrap();

        let out = tokio::process::Command::new(&py)
            .arg(workspace().join("tests/python/numbers_check.py"))
            .arg(dir)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "Python disagrees: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout.trim(), format!("ok {}", 2 * RANDOM_DOUBLES));

        let python: Vec<f64> = std::fs::read(dir.join("decimals.bits"))
            .unwrap()
            .chunks(8)
            .map(|c| f64::from_be_bytes(c.try_into().unwrap()))
            .collect();
        let ours: Vec<f64> = Codec::json()
            .decode(format!("[{}]", decimals.join(", ")).as_bytes())
            .unwrap();
        assert_eq!(python.len(), decimals.len());
        for ((text, ours), python) in decimals.iter().zip(&ours).zip(&python) {
            assert_eq!(
                ours.to_bits(),
                python.to_bits(),
                "{text}: {ours:e} / Python {python:e}"
            );
        }
    })
    .await
}

/// JSON texts that Python must write back byte for byte: typed non-finite floats anywhere in
/// a structure, and integers beyond 64 bits (typed and as `Value`).
fn json_texts() -> Vec<String> {
    #[derive(serde::Serialize)]
    struct Reading {
        value: f64,
        history: Vec<f32>,
        bounds: (f64, f64),
        missing: Option<f64>,
    }
    let json = |v: &dyn erased::Ser| String::from_utf8(v.encode()).unwrap();
    let big = Value::from(1i128 << 80);
    let texts = vec![
        json(&f64::NAN),
        json(&vec![1.5, f64::NEG_INFINITY]),
        json(&Reading {
            value: f64::NAN,
            history: vec![f32::INFINITY, 0.5, f32::NAN],
            bounds: (f64::NEG_INFINITY, f64::INFINITY),
            missing: Some(f64::NAN),
        }),
        json(&std::collections::BTreeMap::from([("k", f64::INFINITY)])),
        json(&(1i128 << 80)),
        json(&-(1i128 << 100)),
        json(&big),
        json(&Value::Array(vec![
            Value::from(i128::MIN),
            Value::from(i128::MAX),
            Value::Float(f64::NAN),
        ])),
    ];
    // What these texts are, in case the encoding changes under us.
    assert_eq!(texts[1], "[1.5, -Infinity]");
    assert_eq!(
        texts[2],
        r#"{"value": NaN, "history": [Infinity, 0.5, NaN], "bounds": [-Infinity, Infinity], "missing": NaN}"#
    );
    assert_eq!(texts[6], "1208925819614629174706176");
    texts
}

/// A `Serialize` value behind a reference, encoded with the JSON codec.
mod erased {
    pub(super) trait Ser {
        fn encode(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn encode(&self) -> Vec<u8> {
            rpc_core::Codec::json().encode(self).unwrap()
        }
    }
}

/// Integers beyond 64 bits travel exactly to Python and back in JSON: Python computes with
/// them; msgpack, which cannot carry one, refuses to send it and says why.
#[tokio::test]
async fn big_integers_reach_python_exactly_in_json_and_are_refused_in_msgpack() {
    bounded(async {
        let Some(py) = python() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let (_server, addr) = python_server(&py, Kind::Json, Transport::Tcp, &tmp).await;
        let client = connect(&addr, Kind::Json).await;
        let add = client.remote().get("add");
        let sum: Value = add.call((Value::from(1i128 << 80), 1)).await.unwrap();
        assert_eq!(sum, Value::BigInt((1 << 80) + 1));
        let typed: i128 = add.call((-(1i128 << 100), -1)).await.unwrap();
        assert_eq!(typed, -(1 << 100) - 1);
        // Beyond 128 bits (Python's 2**127 + 2**127) a Value refuses, and says so.
        let err = add
            .call::<Value>((Value::from(i128::MAX), Value::from(i128::MAX)))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("beyond 128 bits"), "{err}");
        client.close().await;

        let (_server, addr) = python_server(&py, Kind::MsgPack, Transport::Tcp, &tmp).await;
        let client = connect(&addr, Kind::MsgPack).await;
        let err = client
            .remote()
            .get("add")
            .call::<Value>((Value::from(1i128 << 80), 1))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Encode(_)), "{err:?}");
        assert!(err.to_string().contains("beyond 64 bits"), "{err}");
        // Nothing was sent: the connection still works.
        let three: i64 = client.remote().get("add").call((1, 2)).await.unwrap();
        assert_eq!(three, 3);
        client.close().await;
    })
    .await
}

/// Typed non-finite floats go to Python as `NaN`/`Infinity`/`-Infinity` (not `null`), and
/// come back as the same floats.
#[tokio::test]
async fn rust_client_json_typed_non_finite_floats() {
    bounded(async {
        let Some(py) = python() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let (_server, addr) = python_server(&py, Kind::Json, Transport::Tcp, &tmp).await;
        let client = connect(&addr, Kind::Json).await;
        let echo = client.remote().get("echo");
        let back: Vec<f64> = echo.call((vec![1.5, f64::NEG_INFINITY],)).await.unwrap();
        assert_eq!(back, [1.5, f64::NEG_INFINITY]);
        let back: (f32, Option<f64>) = echo.call(((f32::NAN, Some(f64::INFINITY)),)).await.unwrap();
        assert!(back.0.is_nan());
        assert_eq!(back.1, Some(f64::INFINITY));
        client.close().await;
    })
    .await
}

/// A Rust server whose `fail` errors in the default form and, with `format`, in mosaik's; its
/// `custom` answers with a content of the handler's own.
async fn error_server(kind: Kind, format: Option<rpc_core::ErrorFormat>) -> Server {
    let dict = ServiceDict::new()
        .function("fail", |c| {
            let msg: String = c.arg(0, "msg")?;
            Err::<(), _>(rpc_core::CallError::value_error(msg))
        })
        .function("custom", |_| {
            Err::<(), _>(
                rpc_core::CallError::value_error("boom")
                    .with_content(Value::Map(vec![(Value::from("code"), Value::from(7))])),
            )
        });
    let mut builder = Server::builder(Router::new(dict)).codec(kind.codec());
    if let Some(format) = format {
        builder = builder.error_format(format);
    }
    builder.bind("127.0.0.1:0").await.unwrap()
}

/// Python reads the error content a handler or a connection chooses: aiomas's string by
/// default, mosaik's `[type, message, traceback]` when the connection says so, and a
/// handler's own structure in either case; a Rust client reads all of them.
async fn error_content_both_forms(kind: Kind) {
    let Some(py) = python() else { return };
    let mosaik = Some(rpc_core::ErrorFormat::Mosaik);
    for (format, fail) in [
        (None, r#""ValueError: boom\n""#),
        (mosaik, r#"["ValueError", "boom", "ValueError: boom\n"]"#),
    ] {
        let server = error_server(kind, format).await;
        let addr = server.local_addr().to_string();
        let proc = Proc::python(
            &py,
            "error_content_client.py",
            &[&addr, kind.name(), "fail", "custom"],
        );
        let (lines, status) = proc.finish_within(WHOLE).await;
        assert!(status.success(), "{format:?}: {lines:?}");
        assert_eq!(
            lines,
            [
                format!("content: {fail}"),
                r#"content: {"code": 7}"#.to_owned()
            ],
            "{format:?}"
        );

        let client = kind
            .connection()
            .connect(server.local_addr())
            .await
            .unwrap();
        let err = client
            .remote()
            .get("fail")
            .call::<()>(("boom",))
            .await
            .unwrap_err();
        let remote = err.remote().unwrap();
        assert_eq!((remote.kind(), remote.message()), ("ValueError", "boom"));
        assert_eq!(remote.text(), "ValueError: boom\n");
        let err = client
            .remote()
            .get("custom")
            .call::<()>(())
            .await
            .unwrap_err();
        let content = err.remote().unwrap().content();
        assert_eq!(content.get("code"), Some(&Value::Int(7)), "{content}");
        client.close().await;
        server.drain().await;
    }
}

each_codec!(error_content_both_forms);

// ---------------------------------------------------------------------------------------------
// One interface, declared as a trait: a typed proxy of the Python server, and a Rust service
// that Python calls

/// The interface of the Python interop server's root, `peer_services.Calc` (in part).
#[rpc_core::service]
trait PyCalc {
    fn add(&self, a: i64, b: i64) -> i64;
    fn defaults(&self, a: i64, b: Option<i64>, c: Option<i64>, label: Option<String>) -> Value;
    fn gather(
        &self,
        a: i64,
        #[args] rest: Vec<Value>,
        #[kwargs] kwargs: std::collections::BTreeMap<String, Value>,
    ) -> Value;
    fn fail(&self, msg: String) -> Result<Value, rpc_core::CallError>;
    async fn call_me_back(&self, proxy: PyNamedProxy) -> Result<String, Error>;
    #[sub_router]
    fn sub(&self) -> &impl PySub;
}

/// `peer_services.Sub`.
#[rpc_core::service]
trait PySub {
    fn mul(&self, a: i64, b: i64) -> i64;
    #[sub_router]
    fn deep(&self) -> &impl PyDeep;
}

/// `peer_services.Deep`.
#[rpc_core::service]
trait PyDeep {
    fn square(&self, x: i64) -> i64;
}

/// What a caller serves for `call_me_back`.
#[rpc_core::service]
trait PyNamed {
    fn get_name(&self) -> String;
}

async fn rust_client_trait_proxy(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let calc = client.proxy::<PyCalcProxy>();
    assert_eq!(calc.add(1, 2).await.unwrap(), 3);
    // Python's defaults apply to what is left out; a later `Some` goes by keyword.
    let r = calc.defaults(4, None, Some(6), None).await.unwrap();
    let expected = vec![4.into(), 2.into(), 6.into(), "default".into()];
    assert_eq!(r, Value::Array(expected));
    let kwargs = std::collections::BTreeMap::from([("k".to_owned(), Value::from("v"))]);
    let r = calc
        .gather(1, vec![Value::from(2), Value::from(3)], kwargs)
        .await
        .unwrap();
    let expected = Value::Array(vec![
        1.into(),
        Value::Array(vec![2.into(), 3.into()]),
        Value::Map(vec![("k".into(), "v".into())]),
    ]);
    assert_eq!(r, expected);
    let e = remote_err(calc.fail("boom".to_owned()).await);
    assert_eq!((e.kind(), e.message()), ("ValueError", "boom"));
    let r = calc.call_me_back(ServiceRef::root()).await.unwrap();
    assert_eq!(r, "hello rust-root", "Python called our service back");
    assert_eq!(calc.sub().mul(6, 7).await.unwrap(), 42);
    assert_eq!(calc.sub().deep().square(9).await.unwrap(), 81);
    client.close().await;
}

/// `PyCalc` in Rust, answering as the Python `Calc` does.
#[derive(Default)]
struct RustCalc {
    sub: RustSub,
}

#[derive(Default)]
struct RustSub {
    deep: RustDeep,
}

#[derive(Default)]
struct RustDeep;

#[rpc_core::service]
impl PyCalc for RustCalc {
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    fn defaults(&self, a: i64, b: Option<i64>, c: Option<i64>, label: Option<String>) -> Value {
        python_defaults(a, b, c, label)
    }

    fn gather(
        &self,
        a: i64,
        rest: Vec<Value>,
        kwargs: std::collections::BTreeMap<String, Value>,
    ) -> Value {
        let kwargs = kwargs.into_iter().map(|(k, v)| (k.into(), v)).collect();
        Value::Array(vec![a.into(), Value::Array(rest), Value::Map(kwargs)])
    }

    fn fail(&self, msg: String) -> Result<Value, rpc_core::CallError> {
        Err(rpc_core::CallError::value_error(msg))
    }

    async fn call_me_back(&self, proxy: PyNamedProxy) -> Result<String, Error> {
        Ok(format!("hello {}", proxy.get_name().await?))
    }

    fn sub(&self) -> &impl PySub {
        &self.sub
    }
}

#[rpc_core::service]
impl PySub for RustSub {
    fn mul(&self, a: i64, b: i64) -> i64 {
        a * b
    }

    fn deep(&self) -> &impl PyDeep {
        &self.deep
    }
}

#[rpc_core::service]
impl PyDeep for RustDeep {
    fn square(&self, x: i64) -> i64 {
        x * x
    }
}

const TRAIT_CHECKS: &[&str] = &[
    "add",
    "add_keyword",
    "defaults_all_left_out",
    "defaults_keyword",
    "defaults_none",
    "gather",
    "sub_mul",
    "sub_deep_square",
    "fail",
    "call_me_back",
    "call_me_back_child",
];

async fn python_client_of_rust_trait_service(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::builder(Router::new(RustCalc::default()))
        .codec(kind.codec())
        .bind(&*listen_addr(Transport::Tcp, &tmp))
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let proc = Proc::python(&py, "trait_client.py", &[&addr, kind.name()]);
    let (lines, status) = proc.finish_within(WHOLE).await;
    let mut passed = Vec::new();
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("unparsable line {line:?}: {e}"));
        if let Some(name) = v.get("check").and_then(|c| c.as_str()) {
            assert_eq!(v["ok"], serde_json::Value::Bool(true), "{line}");
            passed.push(name.to_owned());
        }
    }
    assert_eq!(passed, TRAIT_CHECKS, "{lines:#?}");
    assert!(status.success(), "the Python client exited with {status}");
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 128-bit integers, exactly, both ways

/// Doubles 128-bit integers, for the Python client's checks.
#[rpc_core::service]
struct Wide;

#[rpc_core::service]
impl Wide {
    #[expose]
    fn double(&self, x: i128) -> Result<i128, rpc_core::CallError> {
        x.checked_mul(2).ok_or_else(|| {
            rpc_core::CallError::new("OverflowError", format!("{x} * 2 overflows 128 bits"))
        })
    }

    #[expose]
    fn double_u(&self, x: u128) -> Result<u128, rpc_core::CallError> {
        x.checked_mul(2).ok_or_else(|| {
            rpc_core::CallError::new("OverflowError", format!("{x} * 2 overflows 128 bits"))
        })
    }
}

/// A Python aiomas client sends and receives 128-bit integers through a typed service and a
/// `ServiceDict`: plain ints in both codecs (never the 16 bytes of a `bin`), every digit in
/// JSON, and an error that says why for one beyond 64 bits in MsgPack.
async fn python_client_int128(kind: Kind) {
    let Some(py) = python() else { return };
    let root = ServiceDict::new()
        .function("double_dyn", |c: DynCall| {
            let x: i128 = c.arg(0, "x")?;
            x.checked_mul(2)
                .ok_or_else(|| rpc_core::CallError::new("OverflowError", "overflow"))
        })
        .with_sub_router("typed", Wide);
    let server = Server::builder(Router::new(root))
        .codec(kind.codec())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let proc = Proc::python(&py, "int128_client.py", &[&addr, kind.name()]);
    let (lines, status) = proc.finish_within(WHOLE).await;
    let failed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("\"ok\": false"))
        .collect();
    assert!(failed.is_empty(), "failed Python checks: {failed:#?}");
    let passed = lines.iter().filter(|l| l.contains("\"ok\": true")).count();
    let want = if kind == Kind::Json { 12 } else { 9 };
    assert_eq!(passed, want, "{lines:#?}");
    assert!(status.success(), "{status}: {lines:#?}");
    server.shutdown().await;
}

/// A Rust client sends 128-bit integers to Python aiomas as the ints Python's msgpack and json
/// write, and reads Python's ints back into `i128`/`u128` and `Value`.
async fn rust_client_int128(kind: Kind) {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, addr) = python_server(&py, kind, Transport::Tcp, &tmp).await;
    let client = connect(&addr, kind).await;
    let echo = client.remote().get("echo");
    // Python echoes what it decoded: an int comes back as an int, a bin would come back as one.
    for x in [5i128, -5, i128::from(i64::MIN), i128::from(u64::MAX)] {
        let back: Value = echo.call((x,)).await.unwrap();
        assert_eq!(
            back.as_i128(),
            Some(x),
            "{kind:?}: {x} came back as {back:?}"
        );
        let typed: i128 = echo.call((x,)).await.unwrap();
        assert_eq!(typed, x);
    }
    let typed: u128 = echo.call((u128::from(u64::MAX),)).await.unwrap();
    assert_eq!(typed, u128::from(u64::MAX));
    let wide = 1i128 << 100;
    match kind {
        Kind::Json => {
            let back: Value = echo.call((wide,)).await.unwrap();
            assert_eq!(back, Value::BigInt(wide));
            let typed: u128 = echo.call((u128::MAX >> 1,)).await.unwrap();
            assert_eq!(typed, u128::MAX >> 1);
        }
        Kind::MsgPack | Kind::MsgPackBlosc => {
            let err = echo.call::<Value>((wide,)).await.unwrap_err();
            assert!(matches!(err, Error::Encode(_)), "{err:?}");
            assert!(err.to_string().contains("beyond 64 bits"), "{err}");
        }
    }
    client.close().await;
}

each_codec!(python_client_int128, rust_client_int128);

// ---------------------------------------------------------------------------------------------
// MsgPackBlosc frames, byte for byte

/// aiomas's MsgPackBlosc, both ways at the level of payloads: Python (aiomas 2.0.1 with
/// python-blosc 1.11.4) decodes every payload Rust writes and writes the decoded message again;
/// Rust decodes what Python wrote to the same message, and the bytes are the same: stored,
/// compressed, random and 1 MiB messages alike. (All of these are one blosc block at level 9;
/// python-blosc compresses a message of several blocks on several threads, which place the
/// blocks in the order they finish, so such a message may differ in byte order, never in
/// what it decodes to.)
#[tokio::test]
async fn msgpack_blosc_payloads_both_ways() {
    bounded(async {
        let Some(py) = python() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let codec = Codec::msgpack_blosc();
        let s = |t: &str| Value::from(t);
        let mut noise = 0x9e37_79b9_7f4a_7c15u64;
        let random: Vec<u8> = (0..200_000)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                noise as u8
            })
            .collect();
        let messages: Vec<(MessageKind, u64, Value)> = vec![
            (
                MessageKind::Request,
                0,
                Value::Array(vec![
                    s("add"),
                    Value::Array(vec![1.into(), 2.into()]),
                    Value::Map(vec![]),
                ]),
            ),
            (MessageKind::Result, 1, Value::from(3)),
            (MessageKind::Error, 2, s("ValueError: boom\n")),
            (
                MessageKind::Request,
                3,
                Value::Array(vec![
                    s("sub/echo"),
                    Value::Array(vec![Value::Bin((0..=255).collect())]),
                    Value::Map(vec![(s("k"), s(&"x".repeat(1000)))]),
                ]),
            ),
            (MessageKind::Result, 4, s(&"ab".repeat(3000))),
            (MessageKind::Result, 5, Value::Bin(random)),
            (
                MessageKind::Result,
                6,
                Value::Bin(b"compressible ".repeat(80_000)),
            ),
        ];
        let frames: Vec<Vec<u8>> = messages
            .iter()
            .map(|(k, id, content)| codec.encode_message(*k, *id, content).unwrap())
            .collect();
        let text: Vec<String> = frames.iter().map(|f| hex(f)).collect();
        let path = tmp.path().join("frames.hex");
        std::fs::write(&path, text.join("\n")).unwrap();
        let proc = Proc::python(&py, "blosc_frames.py", &[path.to_str().unwrap()]);
        let (lines, status) = proc.finish_within(WHOLE).await;
        assert!(status.success(), "blosc_frames.py exited with {status}");
        assert_eq!(lines.len(), frames.len() + 1, "{lines:.200?}");
        assert_eq!(lines.last().map(String::as_str), Some("done"));
        let le = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        for (i, ((ours, (kind, id, content)), line)) in
            frames.iter().zip(&messages).zip(&lines).enumerate()
        {
            let theirs = unhex(line);
            let msg = codec.decode_message(&theirs).unwrap();
            assert_eq!(msg.kind, *kind, "message {i}");
            assert_eq!(msg.id.as_u64(), Some(*id), "message {i}");
            assert!(msg.content == *content, "message {i}: the content changed");
            assert_eq!(
                hex(&theirs),
                hex(ours),
                "message {i} (nbytes {}, blocksize {}, flags {:#x}): other bytes",
                le(ours, 4),
                le(ours, 8),
                ours[2]
            );
        }
    })
    .await
}
