//! Connection, Proxy, open_connection and start_server over real TCP and Unix sockets.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_core::{
    open_connection, start_server, Addr, CallError, Connection, DynCall, Error, Kwargs, Proxy,
    Router, Server, ServiceDict, ServiceRef, Value,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, Notify};

use crate::support::{named_tree, peer_calls_back_root_and_child, unhex};

fn math() -> ServiceDict {
    ServiceDict::new()
        .function("add", |c: DynCall| {
            Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
        })
        .function("fail", |c: DynCall| -> Result<(), CallError> {
            Err(CallError::value_error(c.arg::<String>(0, "msg")?))
        })
        .function("boom", |_: DynCall| -> Result<(), CallError> {
            panic!("kaboom")
        })
        .async_function("async_boom", |_: DynCall| async move {
            tokio::task::yield_now().await;
            if true {
                panic!("async kaboom");
            }
            Ok(())
        })
        .with_sub_router(
            "sub",
            ServiceDict::new()
                .function("mul", |c: DynCall| {
                    Ok(c.arg::<i64>(0, "a")? * c.arg::<i64>(1, "b")?)
                })
                .with_sub_router(
                    "deep",
                    ServiceDict::new().function("neg", |c: DynCall| Ok(-c.arg::<i64>(0, "x")?)),
                ),
        )
}

/// A client of `server` that serves nothing itself.
async fn client_of(server: &Server) -> Connection {
    open_connection(server.local_addr()).await.unwrap()
}

/// Calls `add(a, b)` on the peer of `client`.
async fn add(client: &Connection, a: i64, b: i64) -> Result<i64, Error> {
    client.remote().get("add").call((a, b)).await
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn unix_addr() -> Addr {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("rpc-core-test-{}-{n}.sock", std::process::id()));
    Addr::Unix(path)
}

async fn serve(addr: Addr, service: ServiceDict) -> Server {
    start_server(addr, Router::new(service)).await.unwrap()
}

async fn nested_paths_and_kwargs(addr: Addr) {
    let server = serve(addr, math()).await;
    let client = client_of(&server).await;
    let remote = client.remote();
    assert_eq!(remote.get("add").call::<i64>((1, 2)).await.unwrap(), 3);
    let kw = Kwargs::new().arg("b", 4).arg("a", 3);
    assert_eq!(
        remote
            .get("sub")
            .get("mul")
            .call_kw::<i64>((), kw)
            .await
            .unwrap(),
        12
    );
    let mixed = Kwargs::new().arg("b", 5);
    assert_eq!(
        remote
            .get("sub")
            .get("mul")
            .call_kw::<i64>((3,), mixed)
            .await
            .unwrap(),
        15
    );
    assert_eq!(
        remote.get("sub/deep/neg").call::<i64>((7,)).await.unwrap(),
        -7
    );
    client.close().await;
    server.drain().await;
}

#[tokio::test]
async fn nested_paths_and_kwargs_over_tcp() {
    nested_paths_and_kwargs("127.0.0.1:0".parse().unwrap()).await;
}

#[tokio::test]
async fn nested_paths_and_kwargs_over_unix_socket() {
    nested_paths_and_kwargs(unix_addr()).await;
}

#[tokio::test]
async fn json_codec_end_to_end() {
    let server = Server::builder(Router::new(math()))
        .codec(rpc_core::Codec::json())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = Connection::builder()
        .codec(rpc_core::Codec::json())
        .connect(server.local_addr())
        .await
        .unwrap();
    assert_eq!(
        client
            .remote()
            .get("sub/mul")
            .call::<i64>((6, 7))
            .await
            .unwrap(),
        42
    );
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn remote_error_has_kind_message_text_and_origin() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    let client = client_of(&server).await;
    let err = client
        .remote()
        .get("fail")
        .call::<()>(("bad value",))
        .await
        .unwrap_err();
    let remote = err.remote().expect("a remote error");
    assert_eq!(remote.kind(), "ValueError");
    assert_eq!(remote.message(), "bad value");
    assert_eq!(remote.text(), "ValueError: bad value\n");
    assert_eq!(remote.origin(), server.local_addr().to_string());
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_gets_an_error_reply_and_the_server_keeps_serving() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    let client = client_of(&server).await;
    let err = client
        .remote()
        .get("boom")
        .call::<()>(())
        .await
        .unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!((remote.kind(), remote.message()), ("Panic", "kaboom"));
    let err = client
        .remote()
        .get("async_boom")
        .call::<()>(())
        .await
        .unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!((remote.kind(), remote.message()), ("Panic", "async kaboom"));
    assert_eq!(add(&client, 2, 2).await.unwrap(), 4);
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn calling_the_root_proxy_itself_is_a_local_error() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    let client = client_of(&server).await;
    assert!(matches!(
        client.remote().call::<()>(()).await,
        Err(Error::NoFunctionName)
    ));
    client.close().await;
    server.shutdown().await;
}

/// Holds every call until `n` have arrived, then answers them in reverse order of arrival.
fn hold_and_reverse(n: usize) -> ServiceDict {
    let held: Arc<Mutex<Vec<oneshot::Sender<()>>>> = Arc::default();
    ServiceDict::new().async_function("echo", move |c: DynCall| {
        let held = held.clone();
        async move {
            let i = c.arg::<i64>(0, "i")?;
            let (tx, rx) = oneshot::channel();
            {
                let mut h = held.lock().unwrap();
                h.push(tx);
                if h.len() == n {
                    for tx in h.drain(..).rev() {
                        let _ = tx.send(());
                    }
                }
            }
            let _ = rx.await;
            Ok(i)
        }
    })
}

#[tokio::test]
async fn a_thousand_calls_in_flight_on_one_connection_with_replies_out_of_order() {
    let server = serve("127.0.0.1:0".parse().unwrap(), hold_and_reverse(1000)).await;
    let client = client_of(&server).await;
    let echo = client.remote().get("echo");
    let calls = (0..1000i64).map(|i| {
        let echo = echo.clone();
        async move { echo.call::<i64>((i,)).await.unwrap() }
    });
    let results = futures_util::future::join_all(calls).await;
    assert_eq!(results, (0..1000).collect::<Vec<_>>());
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn callbacks_three_levels_deep() {
    // B (the server): b1(x) calls A's a1(x + 1); b2(x) returns x * 10.
    let b = ServiceDict::new()
        .async_function("b1", |c: DynCall| async move {
            let x = c.arg::<i64>(0, "x")?;
            let r: i64 = c.context().remote().get("a1").call((x + 1,)).await?;
            Ok(r + 1)
        })
        .function("b2", |c: DynCall| Ok(c.arg::<i64>(0, "x")? * 10));
    // A (the client): a1(x) calls B's b2(x + 1).
    let a = ServiceDict::new().async_function("a1", |c: DynCall| async move {
        let x = c.arg::<i64>(0, "x")?;
        let r: i64 = c.context().remote().get("b2").call((x + 1,)).await?;
        Ok(r + 1)
    });
    let server = serve("127.0.0.1:0".parse().unwrap(), b).await;
    let client = Connection::builder()
        .serve(Router::new(a))
        .connect(server.local_addr())
        .await
        .unwrap();
    // b1(1) -> a1(2) -> b2(3) = 30 -> 31 -> 32
    assert_eq!(
        client.remote().get("b1").call::<i64>((1,)).await.unwrap(),
        32
    );
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_side_that_serves_nothing_answers_with_an_error() {
    let (tx, rx) = oneshot::channel::<Connection>();
    let tx = Mutex::new(Some(tx));
    let server = Server::builder(Router::new(math()))
        .on_connect(move |c: Connection| {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(c);
            }
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = client_of(&server).await;
    let server_side = rx.await.unwrap();
    let err = server_side
        .remote()
        .get("anything")
        .call::<()>(())
        .await
        .unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!(remote.kind(), "LookupError");
    assert!(
        remote.message().contains("serves no RPC service"),
        "{}",
        remote.message()
    );
    // A side that serves nothing still watches its connection: the reset callback runs when
    // the server goes away (it used to be refused with `NoServiceTask`).
    let (reset_tx, reset_rx) = oneshot::channel::<Error>();
    client.on_connection_reset(move |e| {
        let _ = reset_tx.send(e);
    });
    server.shutdown().await;
    let reset = tokio::time::timeout(Duration::from_secs(10), reset_rx)
        .await
        .expect("the reset callback runs on a side without a service")
        .unwrap();
    assert!(reset.is_connection_reset(), "{reset}");
    client.close().await;
}

#[tokio::test]
async fn client_connected_callback_can_call_the_client() {
    let (tx, rx) = oneshot::channel::<i64>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let server = Server::builder(Router::new(ServiceDict::new()))
        .on_connect(move |c: Connection| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let v: i64 = c.remote().get("add").call((20, 22)).await.unwrap();
                if let Some(tx) = tx.lock().unwrap().take() {
                    let _ = tx.send(v);
                }
            });
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = Connection::builder()
        .serve(Router::new(math()))
        .connect(server.local_addr())
        .await
        .unwrap();
    assert_eq!(rx.await.unwrap(), 42);
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn service_references_travel_both_ways_and_calls_come_back() {
    // The server calls get_name on a reference it receives, and hands out one of its own.
    let server_tree = ServiceDict::new()
        .async_function("call_me_back", |c: DynCall| async move {
            let proxy: Proxy = c.arg(0, "proxy")?;
            let name: String = proxy.get("get_name").call(()).await?;
            Ok(format!("hello {name}"))
        })
        // The same reference read as a Value first, then converted: the Value keeps the
        // envelope, and converting it binds it to the caller's connection.
        .async_function("call_me_back_by_value", |c: DynCall| async move {
            let value = c.args()?.remove(0);
            assert!(value.get("__type__").is_some(), "{value}");
            let proxy: Proxy = c
                .convert(&value)
                .map_err(|e| rpc_core::CallError::type_error(e.to_string()))?;
            let name: String = proxy.get("get_name").call(()).await?;
            Ok(format!("hello again {name}"))
        })
        .function("give_child", |_: DynCall| Ok(ServiceRef::at("child")))
        .with_sub_router(
            "child",
            ServiceDict::new().function("get_name", |_: DynCall| Ok("server-child")),
        );
    let client_tree = named_tree("client");
    let server = serve("127.0.0.1:0".parse().unwrap(), server_tree).await;
    let client = Connection::builder()
        .serve(Router::new(client_tree))
        .connect(server.local_addr())
        .await
        .unwrap();
    let remote = client.remote();
    peer_calls_back_root_and_child(&remote, "client").await;
    let r: String = remote
        .get("call_me_back_by_value")
        .call((ServiceRef::at("child"),))
        .await
        .unwrap();
    assert_eq!(r, "hello again client-child");
    let child: Proxy = remote.get("give_child").call(()).await.unwrap();
    assert_eq!(child.path(), "child");
    assert_eq!(
        child.get("get_name").call::<String>(()).await.unwrap(),
        "server-child"
    );
    // A reference to a service this side does not have is refused before anything is sent.
    let err = remote
        .get("call_me_back")
        .call::<String>((ServiceRef::at("nope"),))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err}");
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_service_reference_from_a_side_without_a_service_is_refused() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    let client = client_of(&server).await;
    let err = client
        .remote()
        .get("add")
        .call::<i64>((ServiceRef::root(), 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("serves no service"), "{err}");
    client.close().await;
    server.shutdown().await;
}

/// A function that signals when it starts and finishes when released.
fn gated(started: Arc<Notify>, release: Arc<Notify>) -> ServiceDict {
    ServiceDict::new()
        .async_function("wait", move |_: DynCall| {
            let (started, release) = (started.clone(), release.clone());
            async move {
                let released = release.notified();
                started.notify_one();
                released.await;
                Ok("done")
            }
        })
        .function("add", |c: DynCall| {
            Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
        })
}

#[tokio::test]
async fn server_closing_mid_call_fails_the_call_at_once() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let server = serve(
        "127.0.0.1:0".parse().unwrap(),
        gated(started.clone(), release),
    )
    .await;
    let client = client_of(&server).await;
    let remote = client.remote();
    let call = tokio::spawn(async move { remote.get("wait").call::<String>(()).await });
    started.notified().await;
    server.shutdown().await;
    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_connection_reset(), "{err}");
    // Calls after the reset fail at once too.
    assert!(add(&client, 1, 1).await.unwrap_err().is_connection_reset());
}

#[tokio::test]
async fn client_closing_mid_call_fails_its_call_and_runs_the_servers_reset_callback_once() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let resets = Arc::new(AtomicUsize::new(0));
    let reset_seen = Arc::new(Notify::new());
    let (r2, n2) = (resets.clone(), reset_seen.clone());
    let server = Server::builder(Router::new(gated(started.clone(), release.clone())))
        .on_connect(move |c: Connection| {
            let (r2, n2) = (r2.clone(), n2.clone());
            // A first callback, replaced by the second: only the second runs.
            c.on_connection_reset(|_| panic!("replaced callbacks never run"));
            c.on_connection_reset(move |e: Error| {
                assert!(e.is_connection_reset());
                r2.fetch_add(1, Ordering::SeqCst);
                n2.notify_one();
            });
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = client_of(&server).await;
    let remote = client.remote();
    let call = tokio::spawn(async move { remote.get("wait").call::<String>(()).await });
    started.notified().await;
    client.close().await;
    assert!(call.await.unwrap().unwrap_err().is_connection_reset());
    reset_seen.notified().await;
    release.notify_waiters();
    server.shutdown().await;
    assert_eq!(resets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn removing_the_reset_callback_with_clear_connection_reset() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    let client = Connection::builder()
        .serve(Router::new(math()))
        .connect(server.local_addr())
        .await
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    client.on_connection_reset(move |_| {
        r2.fetch_add(1, Ordering::SeqCst);
        panic!("removed callbacks never run")
    });
    client.clear_connection_reset();
    server.shutdown().await;
    client.close().await;
    assert_eq!(ran.load(Ordering::SeqCst), 0, "a removed callback ran");
}

#[tokio::test]
async fn drain_waits_for_calls_in_progress_then_closes() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let server = serve(
        "127.0.0.1:0".parse().unwrap(),
        gated(started.clone(), release.clone()),
    )
    .await;
    let addr = server.local_addr().clone();
    let client = open_connection(&addr).await.unwrap();
    let remote = client.remote();
    let call = tokio::spawn(async move { remote.get("wait").call::<String>(()).await });
    started.notified().await;
    let drained = tokio::spawn(async move {
        server.drain().await;
    });
    // Draining stops accepting at once...
    while open_connection(&addr).await.is_ok() {
        tokio::task::yield_now().await;
    }
    // ...and the call in progress still gets its reply.
    release.notify_one();
    assert_eq!(call.await.unwrap().unwrap(), "done");
    drained.await.unwrap();
    assert!(client.closed().await.is_connection_reset());
}

#[tokio::test]
async fn a_client_reconnects_after_a_server_restart() {
    let addr = unix_addr();
    let server = serve(addr.clone(), math()).await;
    let client = open_connection(&addr).await.unwrap();
    assert_eq!(add(&client, 1, 1).await.unwrap(), 2);
    server.shutdown().await;
    assert!(add(&client, 1, 1).await.unwrap_err().is_connection_reset());

    let server = serve(addr.clone(), math()).await;
    let client = open_connection(&addr).await.unwrap();
    assert_eq!(add(&client, 2, 2).await.unwrap(), 4);
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn open_connection_can_wait_for_a_server_that_starts_later() {
    let addr = unix_addr();
    let a2 = addr.clone();
    let connecting = tokio::spawn(async move {
        Connection::builder()
            .retry_for(Duration::from_secs(30))
            .connect(&a2)
            .await
    });
    tokio::task::yield_now().await;
    let server = serve(addr, math()).await;
    let client = connecting.await.unwrap().unwrap();
    assert_eq!(add(&client, 3, 4).await.unwrap(), 7);
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn connecting_to_nothing_is_an_error_that_names_the_address() {
    let addr = unix_addr();
    let err = open_connection(&addr).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    let err = open_connection("not an address").await.unwrap_err();
    assert!(matches!(err, Error::InvalidAddr { .. }), "{err}");
    assert!(err.to_string().contains("HOST:PORT"), "{err}");
}

#[tokio::test]
async fn a_call_with_a_deadline_times_out_and_the_late_reply_is_dropped() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let server = serve(
        "127.0.0.1:0".parse().unwrap(),
        gated(started.clone(), release.clone()),
    )
    .await;
    let client = client_of(&server).await;
    let err = client
        .remote()
        .with_timeout(Duration::from_millis(20))
        .get("wait")
        .call::<String>(())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
    release.notify_one(); // the late reply arrives and is dropped
    assert_eq!(add(&client, 1, 2).await.unwrap(), 3);
    client.close().await;
    server.shutdown().await;
}

/// Sends one raw msgpack request and returns the raw reply payload.
async fn raw_call(addr: &Addr, payload: &[u8]) -> Value {
    let Addr::Tcp(a) = addr else { unreachable!() };
    let mut s = tokio::net::TcpStream::connect(a.as_str()).await.unwrap();
    s.write_all(&(payload.len() as u32).to_be_bytes())
        .await
        .unwrap();
    s.write_all(payload).await.unwrap();
    let mut len = [0; 4];
    s.read_exact(&mut len).await.unwrap();
    let mut reply = vec![0; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut reply).await.unwrap();
    rpc_core::Codec::msgpack().decode(&reply).unwrap()
}

#[tokio::test]
async fn malformed_requests_get_an_error_reply_that_says_what_was_wrong() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    let addr = server.local_addr().clone();
    let cases = [
        // content with 2 elements (aiomas: no reply, the caller hangs)
        ("93000092a361646490", "TypeError: invalid request: request content must be [path, args, kwargs], got an array of 2 elements"),
        // content not an array
        ("930000a161", "TypeError: invalid request: request content must be [path, args, kwargs], got str"),
        // int path (aiomas: no reply)
        ("93000093019080", "TypeError: invalid request: request path must be a str, got int"),
        // bin path (aiomas: no reply)
        ("93000093c401619080", "TypeError: invalid request: request path must be a str, got bin"),
        // args not an array
        ("93000093a3616464c080", "TypeError: invalid request: request args must be an array, got nil"),
        // kwargs nil (aiomas: TypeError)
        ("93000093a361646492010 2c0", "TypeError: invalid request: request kwargs must be a map, got nil"),
        // a non-str kwargs key (aiomas: TypeError)
        ("93000093a3616464908101 02", "TypeError: invalid request: keywords must be strings, got int"),
        // bytes after the kwargs, inside the message
        ("93000093a3616464920102 80c0", "TypeError: invalid request: 1 trailing bytes after the message"),
        // the path "" and "add/" as aiomas words them
        ("93000093a09080", "LookupError: Name \"\" not found in \"\""),
        ("93000093a46164642f9080", "LookupError: Name \"\" not found in \"add\""),
        // calling a sub-router
        ("93000093a3737562 9080", "TypeError: 'ServiceDict' object is not callable"),
        // a wrong argument count
        ("93000093a3616464910180", "TypeError: add() missing 1 required positional argument: 'b'"),
    ];
    for (hex, want) in cases {
        let hex: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
        let reply = raw_call(&addr, &unhex(&hex)).await;
        let items = reply.as_array().unwrap();
        assert_eq!(items[0], Value::Int(2), "{hex}: {reply}");
        assert_eq!(items[1], Value::Int(0), "{hex}: {reply}");
        let text = items[2].as_str().unwrap();
        assert!(text.starts_with(want), "{hex}: got {text:?}, want {want:?}");
    }
    server.shutdown().await;
}

/// Regression: on a multi-threaded runtime a request could reach the server before its channel
/// had a users' handle, and the stand-in handle closed the connection when the reply was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_connections_survive_their_first_calls_on_a_multi_threaded_runtime() {
    let server = serve("127.0.0.1:0".parse().unwrap(), math()).await;
    for _ in 0..100 {
        let client = Connection::builder()
            .serve(Router::new(math()))
            .connect(server.local_addr())
            .await
            .unwrap();
        assert_eq!(add(&client, 1, 2).await.unwrap(), 3);
        assert_eq!(
            client
                .remote()
                .get("sub/mul")
                .call::<i64>((2, 3))
                .await
                .unwrap(),
            6
        );
        client.close().await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn requests_over_the_in_flight_limit_are_refused_at_once() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let server = Server::builder(Router::new(gated(started.clone(), release.clone())))
        .max_in_flight(2)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = client_of(&server).await;
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let remote = client.remote();
        waiting.push(tokio::spawn(async move {
            remote.get("wait").call::<String>(()).await
        }));
        started.notified().await;
    }
    // Two are in progress: a third is refused, and says why.
    let err = client
        .remote()
        .get("wait")
        .call::<String>(())
        .await
        .unwrap_err();
    let remote = err.remote().expect("a remote error");
    assert_eq!(remote.kind(), "RuntimeError");
    assert!(
        remote.message().contains("too many requests in progress"),
        "{}",
        remote.message()
    );
    assert!(
        remote.message().contains("the limit is 2"),
        "{}",
        remote.message()
    );
    // The two in progress finish normally, and there is room again.
    release.notify_waiters();
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap(), "done");
    }
    assert_eq!(add(&client, 1, 2).await.unwrap(), 3);
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_that_would_overfill_the_outgoing_queue_fails_and_the_connection_lives() {
    // Nobody reads the other end: bytes pile up in the queue.
    let (a, _unread) = tokio::io::duplex(64);
    let ch = rpc_core::Channel::builder().max_queued(10_000).open(a);
    let mut futures = Vec::new();
    let err = loop {
        match ch.request(&Value::Bin(vec![1; 1000])) {
            Ok(f) => futures.push(f),
            Err(e) => break e,
        }
        assert!(futures.len() < 100, "the queue never filled up");
    };
    assert!(
        matches!(err, Error::Overloaded { limit: 10_000, .. }),
        "{err}"
    );
    assert!(!err.is_connection_reset());
    assert!(
        !ch.is_closed(),
        "a refused request does not end the connection"
    );
}

#[tokio::test]
async fn a_peer_that_asks_without_reading_replies_is_disconnected() {
    let (a, mut b) = tokio::io::duplex(64);
    let big = ServiceDict::new().function("big", |_: DynCall| {
        Ok(rpc_core::ByteBuf::from(vec![0u8; 5000]))
    });
    let server = Connection::builder()
        .max_queued(20_000)
        .serve(Router::new(big))
        .open(a, "in-memory peer");
    // [0, i, ["big", [], {}]], over and over, never reading a reply.
    let writer = tokio::spawn(async move {
        for i in 0..100u8 {
            let payload = [
                0x93,
                0x00,
                i & 0x7f,
                0x93,
                0xa3,
                b'b',
                b'i',
                b'g',
                0x90,
                0x80,
            ];
            if b.write_all(&(payload.len() as u32).to_be_bytes())
                .await
                .is_err()
                || b.write_all(&payload).await.is_err()
            {
                break;
            }
        }
        b
    });
    // Replies over the limit close the connection; the reason names the overload.
    let err = server.closed().await;
    match &err {
        Error::Closed(why) => {
            assert!(why.contains("over the limit of 20000"), "{err}");
            assert!(why.contains("does not read fast enough"), "{err}");
        }
        other => panic!("expected Error::Closed for the overload, got {other:?}"),
    }
    assert!(err.is_connection_reset());
    drop(writer.await.unwrap());
}

// ---------------------------------------------------------------------------------------------
// A ServiceDict function and a typed method of the same function answer byte for byte alike

mod dict_and_typed_answer_alike {
    use rpc_core::{
        service, ByteBuf, CallError, Codec, DynCall, Router, Server, ServiceDict, ServiceRef,
    };
    use serde::{Deserialize, Serialize};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[derive(Serialize, Deserialize)]
    struct Reading {
        name: String,
        values: Vec<f64>,
        at: Option<i128>,
    }

    #[derive(Serialize, Deserialize)]
    enum Status {
        Idle,
        Busy { jobs: u32 },
        Failed(String),
    }

    fn reading(name: String, scale: Option<f64>) -> Reading {
        let s = scale.unwrap_or(1.0);
        Reading {
            values: vec![s, s * 0.5, f64::NAN, f64::INFINITY],
            at: (name.len() > 3).then_some(1i128 << 62),
            name,
        }
    }

    fn status(n: u32) -> Status {
        match n {
            0 => Status::Idle,
            1..=9 => Status::Busy { jobs: n },
            _ => Status::Failed(format!("{n} jobs")),
        }
    }

    fn check(n: i64) -> Result<i64, CallError> {
        if n < 0 {
            Err(CallError::value_error(format!("{n} is negative")))
        } else {
            Ok(n)
        }
    }

    #[service]
    struct Twin;

    #[service]
    impl Twin {
        #[expose]
        fn reading(&self, name: String, scale: Option<f64>) -> Reading {
            reading(name, scale)
        }
        #[expose]
        fn status(&self, n: u32) -> Status {
            status(n)
        }
        #[expose]
        fn blob(&self, data: ByteBuf) -> ByteBuf {
            data
        }
        #[expose]
        fn wide(&self, x: i128) -> i128 {
            x * 3
        }
        #[expose]
        fn check(&self, n: i64) -> Result<i64, CallError> {
            check(n)
        }
        #[expose]
        fn me(&self) -> ServiceRef {
            ServiceRef::root()
        }
    }

    fn twin_dict() -> ServiceDict {
        ServiceDict::new()
            .function("reading", |c: DynCall| {
                Ok(reading(c.arg(0, "name")?, c.arg(1, "scale")?))
            })
            .function("status", |c: DynCall| Ok(status(c.arg(0, "n")?)))
            .function("blob", |c: DynCall| c.arg::<ByteBuf>(0, "data"))
            .function("wide", |c: DynCall| Ok(c.arg::<i128>(0, "x")? * 3))
            .function("check", |c: DynCall| check(c.arg(0, "n")?))
            .function("me", |_: DynCall| Ok(ServiceRef::root()))
    }

    /// Sends each request as raw bytes and returns the raw reply frames.
    async fn replies(server: &Server, requests: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut stream = tokio::net::TcpStream::connect(server.local_addr().to_string())
            .await
            .unwrap();
        let mut out = Vec::new();
        for payload in requests {
            let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(payload);
            stream.write_all(&frame).await.unwrap();
            let mut header = [0; 4];
            stream.read_exact(&mut header).await.unwrap();
            let mut reply = vec![0; u32::from_be_bytes(header) as usize];
            stream.read_exact(&mut reply).await.unwrap();
            out.push(reply);
        }
        out
    }

    #[tokio::test]
    async fn every_reply_is_the_same_bytes() {
        use rpc_core::wire::codec::MessageKind::Request;
        use rpc_core::Value;
        let kw = |pairs: &[(&str, Value)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (Value::from(*k), v.clone()))
                    .collect(),
            )
        };
        let none = kw(&[]);
        for codec in [Codec::msgpack(), Codec::json()] {
            let contents: Vec<(&str, Vec<Value>, Value)> = vec![
                ("reading", vec![Value::from("temp")], none.clone()),
                (
                    "reading",
                    vec![Value::from("t")],
                    kw(&[("scale", Value::Float(2.5))]),
                ),
                (
                    "reading",
                    vec![],
                    kw(&[("name", Value::from("by keyword"))]),
                ),
                ("reading", vec![], none.clone()),
                ("reading", vec![Value::from(5)], none.clone()),
                (
                    "reading",
                    vec![Value::from("a")],
                    kw(&[("name", Value::from("b"))]),
                ),
                ("status", vec![Value::from(0)], none.clone()),
                ("status", vec![Value::from(4)], none.clone()),
                ("status", vec![Value::from(12)], none.clone()),
                ("status", vec![Value::from(-1)], none.clone()),
                ("wide", vec![Value::from(1i64 << 60)], none.clone()),
                ("wide", vec![Value::from(5)], none.clone()),
                ("check", vec![Value::from(7)], none.clone()),
                ("check", vec![Value::from(-7)], none.clone()),
                ("check", vec![Value::from("seven")], none.clone()),
                ("me", vec![], none.clone()),
            ];
            let mut contents = contents;
            if codec.kind() == rpc_core::CodecKind::MsgPack {
                contents.push(("blob", vec![Value::Bin(vec![0, 1, 255])], none.clone()));
            }
            let requests: Vec<Vec<u8>> = contents
                .iter()
                .enumerate()
                .map(|(id, (name, args, kwargs))| {
                    codec
                        .encode_message(Request, id as u64, &(name, args, kwargs))
                        .unwrap()
                })
                .collect();
            let serve = |router: Router| {
                Server::builder(router)
                    .codec(codec.clone())
                    .bind("127.0.0.1:0")
            };
            let typed = serve(Router::new(Twin)).await.unwrap();
            let dict = serve(Router::new(twin_dict())).await.unwrap();
            let (a, b) = (
                replies(&typed, &requests).await,
                replies(&dict, &requests).await,
            );
            for ((want, got), content) in a.iter().zip(&b).zip(&contents) {
                assert_eq!(
                    got,
                    want,
                    "{:?} {content:?}:\n dict  {}\n typed {}",
                    codec.kind(),
                    String::from_utf8_lossy(got),
                    String::from_utf8_lossy(want)
                );
            }
            typed.shutdown().await;
            dict.shutdown().await;
        }
    }

    /// A `ServiceDict` function reads a `&str` argument borrowed from the request, not copied.
    #[tokio::test]
    async fn a_dict_function_borrows_str_arguments() {
        let dict = ServiceDict::new().function("len", |c: DynCall| {
            let s: &str = c.arg(0, "s")?;
            let b: &[u8] = c.arg(1, "b")?;
            Ok(s.len() + b.len())
        });
        let server = Server::builder(Router::new(dict))
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let client = rpc_core::open_connection(server.local_addr())
            .await
            .unwrap();
        let n: usize = client
            .remote()
            .get("len")
            .call(("grüße", serde_bytes_slice(&[1, 2, 3])))
            .await
            .unwrap();
        assert_eq!(n, 7 + 3);
        client.close().await;
        server.shutdown().await;
    }

    fn serde_bytes_slice(b: &[u8]) -> ByteBuf {
        ByteBuf::from(b.to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// Blob arguments are views into the received frame, not copies

mod blob_arguments_share_the_frame {
    use rpc_core::{service, Blob, Connection, DynCall, Router, ServiceDict};

    /// How far apart two `Blob` arguments of one request lie in memory: when both are views
    /// into the request's frame, exactly the first one's length plus the second one's bin
    /// header (2 bytes for a bin 8); copies would lie anywhere.
    fn distance(a: &Blob, b: &Blob) -> i64 {
        b.as_ptr() as i64 - a.as_ptr() as i64
    }

    #[service]
    struct Views;

    #[service]
    impl Views {
        #[expose]
        fn apart(&self, a: Blob, b: Blob) -> i64 {
            distance(&a, &b)
        }
        #[expose]
        async fn apart_later(&self, a: Blob, b: Blob) -> i64 {
            tokio::task::yield_now().await;
            distance(&a, &b)
        }
    }

    fn dict() -> ServiceDict {
        ServiceDict::new()
            .function("apart", |c: DynCall| {
                Ok(distance(&c.arg::<Blob>(0, "a")?, &c.arg::<Blob>(1, "b")?))
            })
            .async_function("apart_later", |c: DynCall| async move {
                tokio::task::yield_now().await;
                Ok(distance(&c.arg::<Blob>(0, "a")?, &c.arg::<Blob>(1, "b")?))
            })
    }

    async fn check(router: Router) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let _server = Connection::builder().serve(router).open(a, "client");
        let client = Connection::builder().open(b, "server");
        let proxy = client.remote();
        let (x, y) = (Blob::from(vec![1u8; 100]), Blob::from(vec![2u8; 50]));
        for method in ["apart", "apart_later"] {
            let d: i64 = proxy
                .get(method)
                .call((x.clone(), y.clone()))
                .await
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            assert_eq!(
                d,
                100 + 2,
                "{method}: the arguments are not views into one frame"
            );
        }
    }

    #[tokio::test]
    async fn in_a_typed_service() {
        check(Router::new(Views)).await;
    }

    #[tokio::test]
    async fn in_a_service_dict() {
        check(Router::new(dict())).await;
    }
}

/// A `ServiceDict` function sees how many positional arguments it was given and the keywords,
/// in the order the caller wrote them.
#[tokio::test]
async fn a_dict_function_sees_its_argument_count_and_keywords_in_wire_order() {
    let dict = ServiceDict::new().function("shape", |c: DynCall| {
        Ok((
            c.arg_count(),
            c.keywords().map(str::to_owned).collect::<Vec<_>>(),
        ))
    });
    let server = serve("127.0.0.1:0".parse().unwrap(), dict).await;
    let client = client_of(&server).await;
    let shape = client.remote().get("shape");
    let kw = Kwargs::new().arg("z", 1).arg("a", 2);
    let got: (usize, Vec<String>) = shape.call_kw((1, "two", 3.0), kw).await.unwrap();
    assert_eq!(got, (3, vec!["z".to_owned(), "a".to_owned()]));
    let none: (usize, Vec<String>) = shape.call(()).await.unwrap();
    assert_eq!(none, (0, vec![]));
    client.close().await;
    server.shutdown().await;
}
