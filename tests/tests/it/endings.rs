//! How a connection ends, answered at once and in words: a frame of the wrong codec, a handler
//! still running when its connection goes, a peer that stops reading, a quiet connection.
//!
//! The Python side of the wrong-codec case is in `interop_python.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_core::{Codec, Connection, DynCall, Error, Router, Server, ServiceDict};
use tokio::sync::oneshot;

use crate::support::adder;

/// Bound for any one step: a hang fails the test instead of holding the suite.
const STEP: Duration = Duration::from_secs(30);

/// A server with `codec` that hands the first connection it accepts to the test.
async fn server_with(codec: Codec) -> (Server, oneshot::Receiver<Connection>) {
    let (tx, rx) = oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let server = Server::builder(Router::new(adder()))
        .codec(codec)
        .on_connect(move |conn| {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(conn);
            }
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    (server, rx)
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(STEP, f)
        .await
        .expect("no answer within the step bound: something waits silently")
}

/// A client of one codec against a server of the other fails at once, with the connection
/// closed by the peer; the server says why, with a hint at the other codec.
#[tokio::test]
async fn a_frame_of_the_other_codec_ends_the_connection_at_once_both_ways() {
    for (server_codec, client_codec, hint) in [
        (
            Codec::msgpack(),
            Codec::json(),
            "this looks like JSON; this end speaks MsgPack",
        ),
        (
            Codec::json(),
            Codec::msgpack(),
            "this looks like MsgPack; this end speaks JSON",
        ),
    ] {
        let (server, accepted) = server_with(server_codec).await;
        let client = Connection::builder()
            .codec(client_codec)
            .connect(server.local_addr())
            .await
            .unwrap();
        let err = bounded(client.remote().get("add").call::<i64>((1, 2)))
            .await
            .unwrap_err();
        assert!(err.is_connection_reset(), "{err:?}");
        assert!(
            err.to_string().contains("the peer closed the connection"),
            "{err}"
        );
        let server_side = accepted.await.unwrap();
        let why = bounded(server_side.closed()).await;
        assert!(matches!(why, Error::Undecodable { .. }), "{why:?}");
        let text = why.to_string();
        assert!(text.contains(hint), "{text}");
        client.close().await;
        server.shutdown().await;
    }
}

/// Replies queued before the bad frame still go out: the connection ends after them, and says
/// so once at `WARN`, with the peer and the codec, however many bad frames follow.
#[tokio::test]
async fn replies_queued_before_an_undecodable_frame_are_sent_first() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tracing_subscriber::layer::SubscriberExt;
    let events = Events::default();
    let _log =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(events.clone()));
    let (server, accepted) = server_with(Codec::msgpack()).await;
    let addr = server.local_addr().to_string();
    let mut sock = tokio::net::TcpStream::connect(addr.as_str()).await.unwrap();
    let add = Codec::msgpack()
        .encode_message(
            rpc_core::wire::codec::MessageKind::Request,
            0,
            &(
                "add",
                (1, 2),
                std::collections::HashMap::<String, i64>::new(),
            ),
        )
        .unwrap();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&(add.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&add);
    // Then frames that are nothing at all: no id to answer.
    for _ in 0..3 {
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(&[0xc1, 0xc1, 0xc1]);
    }
    sock.write_all(&bytes).await.unwrap();
    let mut got = Vec::new();
    bounded(sock.read_to_end(&mut got)).await.unwrap();
    let reply = Codec::msgpack()
        .decode_message(&got[4..])
        .expect("the reply to the request before the bad frame");
    assert_eq!(reply.content.as_i64(), Some(3), "{reply:?}");
    let why = bounded(accepted.await.unwrap().closed()).await;
    assert!(
        matches!(why, Error::Undecodable { hint: None, .. }),
        "{why:?}"
    );
    server.shutdown().await;
    // Said once at WARN, naming the peer and the codec, for three bad frames.
    let events = events.0.lock().unwrap();
    let warned: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with("WARN") && e.contains("not a MsgPack message"))
        .collect();
    assert_eq!(warned.len(), 1, "{events:#?}");
    assert!(
        warned[0].contains("peer=") && warned[0].contains("codec=\"MsgPack\""),
        "{warned:?}"
    );
}

/// A bad frame whose request id can be read is still answered, and the connection lives.
#[tokio::test]
async fn a_bad_request_with_a_readable_id_is_answered_and_the_connection_lives() {
    let (server, _accepted) = server_with(Codec::json()).await;
    let client = Connection::builder()
        .codec(Codec::json())
        .connect(server.local_addr())
        .await
        .unwrap();
    let proxy = client.remote().get("add");
    assert_eq!(bounded(proxy.call::<i64>((1, 2))).await.unwrap(), 3);
    // A path that is not a string: answered with an error, as before.
    let reply = bounded(client.channel().request(&(1, [1, 2], ())).unwrap()).await;
    assert!(reply.as_ref().is_ok_and(|r| r.is_error()), "{reply:?}");
    assert!(!client.is_closed());
    assert_eq!(bounded(proxy.call::<i64>((2, 2))).await.unwrap(), 4);
    client.close().await;
    server.shutdown().await;
}

/// What the test's slow handler went through.
#[derive(Debug, Default)]
struct Trace {
    /// The handler started.
    started: Option<oneshot::Sender<()>>,
    /// What its call back to the gone peer gave.
    call_back: Option<Result<i64, Error>>,
    /// It ran to its end.
    finished: bool,
    /// Its future was dropped before its end.
    cancelled: bool,
}

/// Sets `cancelled` when dropped before `finished` is set.
struct DropWatch(Arc<Mutex<Trace>>);

impl Drop for DropWatch {
    fn drop(&mut self) {
        let mut t = self.0.lock().unwrap();
        if !t.finished {
            t.cancelled = true;
        }
    }
}

/// A service whose `slow` says it started, waits for `go`, calls the peer back, and returns.
fn slow_service(trace: Arc<Mutex<Trace>>, go: Arc<tokio::sync::Notify>) -> Router {
    Router::new(
        ServiceDict::new().async_function("slow", move |c: DynCall| {
            let (trace, go) = (trace.clone(), go.clone());
            async move {
                let watch = DropWatch(trace.clone());
                let started = trace.lock().unwrap().started.take();
                if let Some(tx) = started {
                    let _ = tx.send(());
                }
                go.notified().await;
                let back = c.context().remote().get("add").call::<i64>((1, 2)).await;
                let mut t = watch.0.lock().unwrap();
                t.call_back = Some(back);
                t.finished = true;
                Ok(7)
            }
        }),
    )
}

/// A server connection serving `slow` over an in-memory stream, the client at the other end,
/// and the signal that the handler started.
fn slow_pair(
    builder: rpc_core::ConnectionBuilder,
    trace: &Arc<Mutex<Trace>>,
    go: &Arc<tokio::sync::Notify>,
) -> (Connection, Connection, oneshot::Receiver<()>) {
    let (started_tx, started) = oneshot::channel();
    trace.lock().unwrap().started = Some(started_tx);
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = builder
        .serve(slow_service(trace.clone(), go.clone()))
        .open(a, "client");
    let client = Connection::builder()
        .serve(Router::new(adder()))
        .open(b, "server");
    (server, client, started)
}

/// Calls `slow` on a task of its own.
fn spawn_slow(client: &Connection) -> tokio::task::JoinHandle<Result<i64, Error>> {
    let proxy = client.remote().get("slow");
    tokio::spawn(async move { proxy.call::<i64>(()).await })
}

/// By default, as in aiomas, a handler in progress when its connection ends runs on: its call
/// back to the gone peer fails at once with a connection-reset error, and its reply is dropped
/// with a DEBUG event.
#[tokio::test(start_paused = true)]
async fn a_handler_in_progress_runs_on_when_its_connection_ends() {
    use tracing_subscriber::layer::SubscriberExt;
    let events = Events::default();
    let _log =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(events.clone()));
    let trace = Arc::new(Mutex::new(Trace::default()));
    let go = Arc::new(tokio::sync::Notify::new());
    let (server, client, started) = slow_pair(Connection::builder(), &trace, &go);
    let call = spawn_slow(&client);
    started.await.unwrap();
    client.close().await;
    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_connection_reset(), "{err:?}");
    // The server's side of the connection ends too...
    let why = server.closed().await;
    assert!(why.is_connection_reset(), "{why:?}");
    // ...and the handler goes on once it may.
    go.notify_one();
    server.drain().await;
    let t = trace.lock().unwrap();
    assert!(t.finished && !t.cancelled, "{t:?}");
    let back = t.call_back.as_ref().unwrap();
    assert!(
        back.as_ref().is_err_and(Error::is_connection_reset),
        "the call back gave {back:?}"
    );
    let events = events.0.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("DEBUG") && e.contains("reply is discarded")),
        "{events:#?}"
    );
}

/// With `cancel_on_disconnect`, a handler in progress is dropped when its connection ends (Rust's
/// cancellation): the code after its `.await` never runs.
#[tokio::test(start_paused = true)]
async fn with_cancel_on_disconnect_a_handler_in_progress_is_dropped() {
    let trace = Arc::new(Mutex::new(Trace::default()));
    let go = Arc::new(tokio::sync::Notify::new());
    let (server, client, started) =
        slow_pair(Connection::builder().cancel_on_disconnect(), &trace, &go);
    let call = spawn_slow(&client);
    started.await.unwrap();
    client.close().await;
    assert!(call.await.unwrap().unwrap_err().is_connection_reset());
    server.closed().await;
    server.drain().await;
    go.notify_one();
    tokio::task::yield_now().await;
    let t = trace.lock().unwrap();
    assert!(t.cancelled && !t.finished, "{t:?}");
}

/// `drain` waits for a handler whose connection ended, but no longer than its timeout; a
/// handler still running then is cancelled.
#[tokio::test(start_paused = true)]
async fn drain_waits_for_a_handler_that_runs_on_bounded_by_its_timeout() {
    let trace = Arc::new(Mutex::new(Trace::default()));
    let go = Arc::new(tokio::sync::Notify::new());
    let (server, client, started) = slow_pair(
        Connection::builder().drain_timeout(Duration::from_secs(10)),
        &trace,
        &go,
    );
    let call = spawn_slow(&client);
    started.await.unwrap();
    client.close().await;
    let _ = call.await;
    server.closed().await;
    // Released 4 s into the drain: drain returns when the handler is done, not before.
    let release = {
        let go = go.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            go.notify_one();
        })
    };
    let t0 = tokio::time::Instant::now();
    server.drain().await;
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(10),
        "{took:?}"
    );
    release.await.unwrap();
    assert!(trace.lock().unwrap().finished);

    // Never released: drain gives up after its timeout, and the handler is dropped.
    let trace = Arc::new(Mutex::new(Trace::default()));
    let (server, client, started) = slow_pair(
        Connection::builder().drain_timeout(Duration::from_secs(10)),
        &trace,
        &go,
    );
    let call = spawn_slow(&client);
    started.await.unwrap();
    client.close().await;
    let _ = call.await;
    server.closed().await;
    let t0 = tokio::time::Instant::now();
    server.drain().await;
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(11),
        "{took:?}"
    );
    tokio::task::yield_now().await;
    let t = trace.lock().unwrap();
    assert!(t.cancelled && !t.finished, "{t:?}");
}

/// A server's `drain` waits for the handlers of connections whose peers are gone already.
#[tokio::test]
async fn server_drain_waits_for_handlers_of_connections_that_ended() {
    let trace = Arc::new(Mutex::new(Trace::default()));
    let go = Arc::new(tokio::sync::Notify::new());
    let (started_tx, started) = oneshot::channel();
    trace.lock().unwrap().started = Some(started_tx);
    let server = Server::builder(slow_service(trace.clone(), go.clone()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = Connection::builder()
        .connect(server.local_addr())
        .await
        .unwrap();
    let call = spawn_slow(&client);
    bounded(started).await.unwrap();
    client.close().await;
    let _ = call.await;
    bounded(async {
        while !server.connections().is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let server = Arc::new(server);
    let drain = tokio::spawn({
        let server = server.clone();
        async move { server.drain().await }
    });
    // Not done while the handler runs (a wait that can only hide a failure, never cause one).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!drain.is_finished(), "drain returned while a handler ran");
    go.notify_one();
    bounded(drain).await.unwrap();
    assert!(trace.lock().unwrap().finished);
}

/// Every event of target `rpc_core*`, as `LEVEL message; field=value; ...` lines.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("; {}={value:?}", field.name()));
            }
        }
        let meta = event.metadata();
        if meta.target().starts_with("rpc_core") {
            let mut fields = Fields(meta.level().to_string());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
}

/// A service whose `blob(n)` returns a string of `n` bytes, and whose `wait(s)` takes `s`
/// seconds.
fn blob_service() -> Router {
    Router::new(
        ServiceDict::new()
            .function("blob", |c: DynCall| Ok("x".repeat(c.arg::<usize>(0, "n")?)))
            .async_function("wait", |c: DynCall| async move {
                let s = c.arg::<u64>(0, "s")?;
                tokio::time::sleep(Duration::from_secs(s)).await;
                Ok(s)
            }),
    )
}

/// A raw peer that sends requests and reads replies only when told.
struct RawPeer {
    io: tokio::io::DuplexStream,
    next_id: u64,
}

impl RawPeer {
    async fn call(&mut self, path: &str, arg: u64) {
        use tokio::io::AsyncWriteExt;
        let msg = Codec::msgpack()
            .encode_message(
                rpc_core::wire::codec::MessageKind::Request,
                self.next_id,
                &(path, (arg,), rpc_core::NoKwargs),
            )
            .unwrap();
        self.next_id += 1;
        self.io
            .write_all(&(msg.len() as u32).to_be_bytes())
            .await
            .unwrap();
        self.io.write_all(&msg).await.unwrap();
    }
}

/// A server connection of `builder` serving [`blob_service`] to a raw peer, over a stream that
/// buffers `buffer` bytes.
fn raw_pair(builder: rpc_core::ConnectionBuilder, buffer: usize) -> (Connection, RawPeer) {
    let (a, b) = tokio::io::duplex(buffer);
    let server = builder.serve(blob_service()).open(a, "raw");
    (server, RawPeer { io: b, next_id: 0 })
}

/// Waits for the end of `conn` for up to an hour of (paused) time, and says how long it took.
async fn end_of(conn: &Connection) -> (Error, Duration) {
    let t0 = tokio::time::Instant::now();
    let why = tokio::time::timeout(Duration::from_secs(3600), conn.closed())
        .await
        .expect("the connection was still open an hour later");
    (why, t0.elapsed())
}

/// A peer that stops reading while a reply waits: the connection is aborted once nothing could
/// be written for the write-stall timeout (60 s by default).
#[tokio::test(start_paused = true)]
async fn a_peer_that_stops_reading_is_cut_off_after_the_write_stall_timeout() {
    for (builder, timeout) in [
        (Connection::builder(), Duration::from_secs(60)),
        (
            Connection::builder().write_stall_timeout(Some(Duration::from_secs(10))),
            Duration::from_secs(10),
        ),
    ] {
        let (server, mut peer) = raw_pair(builder, 1024);
        peer.call("blob", 100_000).await;
        let (why, took) = end_of(&server).await;
        assert!(
            matches!(why, Error::WriteStalled { timeout: t } if t == timeout),
            "{why:?}"
        );
        assert!(why.is_connection_reset());
        assert!(
            took >= timeout && took <= timeout + timeout / 4 + Duration::from_secs(1),
            "{took:?} for {timeout:?}"
        );
    }
}

/// A slow reader is not a stalled one: as long as bytes go out, the connection lives.
#[tokio::test(start_paused = true)]
async fn a_slow_reader_is_not_cut_off() {
    use tokio::io::AsyncReadExt;
    let (server, mut peer) = raw_pair(Connection::builder(), 16 * 1024);
    peer.call("blob", 200_000).await;
    let mut got = 0;
    let mut buf = vec![0; 16 * 1024];
    while got < 200_000 {
        tokio::time::sleep(Duration::from_secs(50)).await;
        got += peer.io.read(&mut buf).await.unwrap();
        assert!(!server.is_closed(), "closed after {got} bytes");
    }
    assert!(!server.is_closed());
    // Off, the timeout never cuts anyone off.
    let (server, mut peer) = raw_pair(Connection::builder().write_stall_timeout(None), 1024);
    peer.call("blob", 100_000).await;
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    assert!(!server.is_closed());
}

/// With an idle timeout, a connection on which nothing is read or written and no call is in
/// progress is closed once that long has passed; traffic or a call in progress keeps it open.
#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    use tokio::io::AsyncReadExt;
    let idle = Duration::from_secs(60);
    // Quiet from the start.
    let (server, _peer) = raw_pair(Connection::builder().idle_timeout(idle), 1 << 16);
    let (why, took) = end_of(&server).await;
    assert!(
        matches!(why, Error::Idle { timeout } if timeout == idle),
        "{why:?}"
    );
    assert!(took >= idle && took <= idle + idle / 4, "{took:?}");

    // A call every 40 s keeps it open; once they stop, it closes.
    let (server, mut peer) = raw_pair(Connection::builder().idle_timeout(idle), 1 << 16);
    let mut buf = vec![0; 1024];
    for _ in 0..10 {
        peer.call("blob", 1).await;
        let _ = peer.io.read(&mut buf).await.unwrap();
        tokio::time::sleep(Duration::from_secs(40)).await;
        assert!(!server.is_closed());
    }
    let (why, _) = end_of(&server).await;
    assert!(matches!(why, Error::Idle { .. }), "{why:?}");

    // A call in progress for 10 minutes is not idleness.
    let (server, mut peer) = raw_pair(Connection::builder().idle_timeout(idle), 1 << 16);
    peer.call("wait", 600).await;
    tokio::time::sleep(Duration::from_secs(599)).await;
    assert!(!server.is_closed());
    let _ = peer.io.read(&mut buf).await.unwrap();
    let (why, took) = end_of(&server).await;
    assert!(matches!(why, Error::Idle { .. }), "{why:?}");
    assert!(took <= idle + idle / 4 + Duration::from_secs(1), "{took:?}");

    // Without one (the default), a quiet connection stays.
    let (server, _peer) = raw_pair(Connection::builder(), 1 << 16);
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    assert!(!server.is_closed());
}
