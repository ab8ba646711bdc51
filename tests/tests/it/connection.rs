//! What the connection and server builders add: local errors that leave the connection up, a
//! graceful drain on either side, the reset callback, and the stream wrapper hook.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rpc_core::{
    service, start_server, ByteBuf, Connection, DynCall, Error, Router, Server, ServiceDict,
};
use tokio::sync::Notify;

fn echo_service() -> ServiceDict {
    ServiceDict::new()
        .function("echo", |c: DynCall| c.arg::<ByteBuf>(0, "data"))
        .function("big", |c: DynCall| {
            Ok(ByteBuf::from(vec![7u8; c.arg::<usize>(0, "len")?]))
        })
}

/// Two ends of one in-memory connection: `a` serves `service`, `b` serves nothing.
fn pair(service: Router, max_frame_len: usize) -> (Connection, Connection) {
    let (x, y) = tokio::io::duplex(1 << 16);
    let a = Connection::builder()
        .serve(service)
        .max_frame_len(max_frame_len)
        .open(x, "b");
    let b = Connection::builder()
        .max_frame_len(max_frame_len)
        .open(y, "a");
    (a, b)
}

#[tokio::test]
async fn a_request_too_large_to_send_fails_locally_and_the_connection_stays_up() {
    let (a, b) = pair(Router::new(echo_service()), 1024);
    let echo = b.remote().get("echo");
    let err = echo
        .call::<ByteBuf>((ByteBuf::from(vec![0u8; 4096]),))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { limit: 1024, len } if len > 4096),
        "{err:?}"
    );
    assert!(!err.is_connection_reset(), "nothing was sent: {err}");
    assert!(!b.is_closed());
    // The same connection carries the next call.
    let back: ByteBuf = echo.call((ByteBuf::from(vec![1u8; 16]),)).await.unwrap();
    assert_eq!(back.len(), 16);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn a_reply_too_large_to_send_is_answered_with_an_error_and_the_connection_stays_up() {
    let (a, b) = pair(Router::new(echo_service()), 1024);
    let err = b
        .remote()
        .get("big")
        .call::<ByteBuf>((4096,))
        .await
        .unwrap_err();
    let remote = err.remote().expect("an error reply");
    assert_eq!(remote.kind(), "SerializationError");
    assert!(
        remote.message().contains("maximum frame length of 1024"),
        "{remote}"
    );
    let ok: ByteBuf = b.remote().get("big").call((10,)).await.unwrap();
    assert_eq!(ok.len(), 10);
    a.close().await;
    b.close().await;
}

#[service]
struct Slow {
    started: Notify,
    release: Notify,
}

#[service]
impl Slow {
    #[expose]
    async fn wait(&self) -> String {
        self.started.notify_one();
        self.release.notified().await;
        "done".to_owned()
    }
}

#[tokio::test]
async fn drain_waits_for_the_peers_calls_in_progress_then_closes() {
    let slow = Arc::new(Slow {
        started: Notify::new(),
        release: Notify::new(),
    });
    let (a, b) = pair(Router::new(slow.clone()), 1 << 20);
    let call = tokio::spawn({
        let b = b.clone();
        async move { b.remote().get("wait").call::<String>(()).await }
    });
    slow.started.notified().await;
    let drain = tokio::spawn({
        let a = a.clone();
        async move { a.drain().await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!drain.is_finished(), "drain waits for the call in progress");
    assert!(!a.is_closed());
    slow.release.notify_one();
    drain.await.unwrap();
    assert_eq!(call.await.unwrap().unwrap(), "done");
    assert!(a.is_closed());
    b.close().await;
}

#[tokio::test]
async fn the_reset_callback_runs_once_and_can_be_removed() {
    let (a, b) = pair(Router::new(echo_service()), 1 << 20);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    a.on_connection_reset(move |e: Error| log.lock().unwrap().push(e.is_connection_reset()));
    b.close().await;
    a.closed().await;
    a.close().await; // waits for the callback
    assert_eq!(*seen.lock().unwrap(), [true]);

    // Removed: it does not run. A side that serves nothing can watch too.
    let (c, d) = pair(Router::new(echo_service()), 1 << 20);
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    d.on_connection_reset(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    d.clear_connection_reset();
    c.close().await;
    d.closed().await;
    d.close().await;
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_stream_wrapper_sees_every_connection_on_both_sides() {
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    let server: Server = Server::builder(Router::new(echo_service()))
        .wrap_stream(move |stream, _listening| {
            seen.fetch_add(1, Ordering::SeqCst);
            async move { Ok(stream) }
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let dialed = Arc::new(Mutex::new(None));
    let record = dialed.clone();
    let conn = Connection::builder()
        .wrap_stream(move |stream, addr| {
            *record.lock().unwrap() = Some(addr);
            async move { Ok(stream) }
        })
        .connect(server.local_addr())
        .await
        .unwrap();
    let back: ByteBuf = conn
        .remote()
        .get("echo")
        .call((ByteBuf::from(b"hi".to_vec()),))
        .await
        .unwrap();
    assert_eq!(back.as_slice(), b"hi");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(dialed.lock().unwrap().as_ref(), Some(server.local_addr()));
    conn.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_wrapper_that_fails_fails_the_connect_with_its_reason() {
    let server = start_server("127.0.0.1:0", Router::new(echo_service()))
        .await
        .unwrap();
    let err = Connection::builder()
        .wrap_stream(|_stream, _addr| async move {
            Err::<rpc_core::BoxIoStream, _>(std::io::Error::other("handshake refused"))
        })
        .connect(server.local_addr())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("handshake refused"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn an_address_that_does_not_parse_is_an_error_that_shows_the_syntax() {
    let err = rpc_core::open_connection("no-port").await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidAddr { given } if given == "no-port"),
        "{err:?}"
    );
    assert!(err.to_string().contains("HOST:PORT"), "{err}");
}

/// Large `Blob`s go out from where they are (a vectored write of the frame's pieces), small
/// ones are copied: mixed, concurrent, both ways, through a pipe so small that nearly every
/// write is partial, each arrives whole and in its place.
#[tokio::test]
async fn large_blobs_written_from_shared_memory_arrive_whole_through_partial_writes() {
    use rpc_core::Blob;
    let service = ServiceDict::new().function("echo", |c: DynCall| c.arg::<Blob>(0, "data"));
    let (x, y) = tokio::io::duplex(1000);
    let a = Connection::builder()
        .serve(Router::new(service))
        .open(x, "b");
    let b = Connection::builder().open(y, "a");
    let echo = b.remote().get("echo");
    let sizes = [0, 10, 70_000, 1 << 20, 65_535, 65_536, 200_000, 3, 300_000];
    let calls = sizes.iter().enumerate().map(|(i, &n)| {
        let echo = echo.clone();
        async move {
            let data: Vec<u8> = (0..n).map(|k| (k * 7 + i) as u8).collect();
            let back: Blob = echo.call((Blob::from(data.clone()),)).await.unwrap();
            assert_eq!(back.len(), n, "call {i}");
            assert!(
                back[..] == data[..],
                "call {i} of {n} bytes came back changed"
            );
        }
    });
    futures_util::future::join_all(calls).await;
    // The connection is still in step: a small call after them all.
    let back: Blob = echo.call((Blob::from(vec![1, 2, 3]),)).await.unwrap();
    assert_eq!(&back[..], [1, 2, 3]);
    b.close().await;
    a.close().await;
}
