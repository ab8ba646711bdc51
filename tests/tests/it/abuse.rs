//! Hostile peers and misbehaving handlers: the connection stays sound, bounded and fair.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rpc_core::TypedProxy;
use rpc_core::{service, start_server, Connection, DynCall, Error, Router, ServiceDict};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{adder, serve_and_connect};

/// A value whose encoding panics half-way through, after some bytes were written.
struct Exploding;

/// (The typed proxy needs to read one back; it never gets one.)
impl<'de> Deserialize<'de> for Exploding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Exploding)
    }
}

impl Serialize for Exploding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(3))?;
        seq.serialize_element("some bytes are out already")?;
        panic!("encoding exploded");
    }
}

#[service]
struct Fragile;

#[service]
impl Fragile {
    #[expose]
    fn explode(&self) -> Exploding {
        Exploding
    }

    #[expose]
    async fn explode_later(&self) -> Exploding {
        tokio::task::yield_now().await;
        Exploding
    }

    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

#[tokio::test]
async fn a_panic_while_encoding_a_reply_is_answered_and_the_other_calls_on_the_connection_succeed()
{
    let (server, conn) = serve_and_connect(Fragile).await;
    let p = conn.proxy::<FragileProxy>();
    for method in ["explode", "explode_later"] {
        let mut calls = Vec::new();
        for i in 0..12i64 {
            let p = p.clone();
            calls.push(tokio::spawn(async move {
                if i == 5 {
                    let r: Result<i64, Error> = p.proxy().get(method).call(()).await;
                    r
                } else {
                    p.add(i, 1).await
                }
            }));
        }
        for (i, call) in calls.into_iter().enumerate() {
            let result = call.await.unwrap();
            if i == 5 {
                let err = result.unwrap_err();
                let remote = err.remote().unwrap_or_else(|| panic!("{method}: {err:?}"));
                assert_eq!(
                    (remote.kind(), remote.message()),
                    ("Panic", "encoding exploded")
                );
            } else {
                assert_eq!(result.unwrap(), i as i64 + 1, "{method}: call {i}");
            }
        }
    }
    conn.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_panic_while_encoding_a_request_leaves_the_connection_sound() {
    let (server, conn) = serve_and_connect(Fragile).await;
    let remote = conn.remote();
    let panicked = tokio::spawn({
        let remote = remote.clone();
        async move { remote.get("add").call::<i64>((Exploding,)).await }
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    let p = conn.proxy::<FragileProxy>();
    for i in 0..5 {
        assert_eq!(p.add(i, i).await.unwrap(), 2 * i);
    }
    conn.close().await;
    server.shutdown().await;
}

/// The raw frame (length prefix and msgpack payload) of the request `[0, id, content]`.
fn request_frame(id: u64, content: &impl Serialize) -> Vec<u8> {
    let payload = rpc_core::Codec::msgpack()
        .encode_message(rpc_core::wire::codec::MessageKind::Request, id, content)
        .unwrap();
    let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&payload);
    frame
}

/// The raw frame of `[0, id, ["echo", [payload], {}]]` in msgpack.
fn echo_request(id: u8, payload: &[u8]) -> Vec<u8> {
    let data = rpc_core::ByteBuf::from(payload.to_vec());
    request_frame(u64::from(id), &("echo", (data,), rpc_core::NoKwargs))
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_asks_without_reading_is_cut_off_and_its_requests_stop_running() {
    let handled = Arc::new(AtomicUsize::new(0));
    let count = handled.clone();
    let service = ServiceDict::new().function("echo", move |c: DynCall| {
        count.fetch_add(1, Ordering::SeqCst);
        c.arg::<rpc_core::ByteBuf>(0, "data")
    });
    // A small pipe, and little room for replies the peer does not read.
    let (ours, mut peer) = tokio::io::duplex(4096);
    let conn = Connection::builder()
        .serve(Router::new(service))
        .max_queued(16 * 1024)
        .open(ours, "flooder");
    let request = echo_request(1, &[7; 1000]);
    // The peer writes requests and never reads, until the connection is cut off.
    let flood = tokio::spawn(async move {
        let mut sent = 0usize;
        loop {
            if peer.write_all(&request).await.is_err() {
                return (sent, peer);
            }
            sent += 1;
            if sent > 10_000 {
                return (sent, peer);
            }
        }
    });
    let why = tokio::time::timeout(std::time::Duration::from_secs(10), conn.closed())
        .await
        .expect("the overloaded connection closes");
    assert!(
        why.to_string().contains("does not read fast enough"),
        "{why}"
    );
    let at_close = handled.load(Ordering::SeqCst);
    let (sent, mut peer) = tokio::time::timeout(std::time::Duration::from_secs(10), flood)
        .await
        .expect("the socket is closed within a bounded time, so the peer's writes fail")
        .unwrap();
    assert!(
        sent < 10_000,
        "the peer could write {sent} requests after the overload"
    );
    assert_eq!(
        handled.load(Ordering::SeqCst),
        at_close,
        "no request of the peer runs once the connection is overloaded"
    );
    // What the peer finds when it finally reads: what was written, then the end.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        peer.read_to_end(&mut rest),
    )
    .await
    .expect("the peer reads to the end: the connection is closed");
}

/// Yields until `done` holds, at most `rounds` times; whether it came to hold.
async fn eventually(rounds: usize, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..rounds {
        if done() {
            return true;
        }
        tokio::task::yield_now().await;
    }
    done()
}

#[tokio::test]
async fn a_quiet_connection_gives_back_the_buffers_a_large_message_grew() {
    let service =
        ServiceDict::new().function("echo", |c: DynCall| c.arg::<rpc_core::ByteBuf>(0, "data"));
    let (x, y) = tokio::io::duplex(64 * 1024);
    let server = Connection::builder()
        .serve(Router::new(service))
        .open(x, "client");
    let client = Connection::builder().open(y, "server");
    let big = rpc_core::ByteBuf::from(vec![9u8; 1 << 20]);
    let back: rpc_core::ByteBuf = client.remote().get("echo").call((big,)).await.unwrap();
    assert_eq!(back.len(), 1 << 20);
    let held = || server.channel().buffer_capacity() + client.channel().buffer_capacity();
    assert!(
        eventually(10_000, || held() <= 32 * 1024).await,
        "the two quiet ends still hold {} bytes of buffers",
        held()
    );
    client.close().await;
    server.close().await;
}

/// A service whose `wait` holds its call until released, beside `add`.
fn gate(started: Arc<tokio::sync::Semaphore>, release: Arc<tokio::sync::Semaphore>) -> ServiceDict {
    adder().async_function("wait", move |_: DynCall| {
        let (started, release) = (started.clone(), release.clone());
        async move {
            started.add_permits(1);
            release.acquire().await.unwrap().forget();
            Ok(1)
        }
    })
}

#[tokio::test]
async fn requests_over_the_servers_limit_are_answered_with_an_error() {
    let started = Arc::new(tokio::sync::Semaphore::new(0));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let server = rpc_core::Server::builder(Router::new(gate(started.clone(), release.clone())))
        .max_in_flight_total(2)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let a = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let b = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let waits: Vec<_> = [&a, &b]
        .into_iter()
        .map(|c| {
            let p = c.remote().get("wait");
            tokio::spawn(async move { p.call::<i64>(()).await })
        })
        .collect();
    started.acquire_many(2).await.unwrap().forget();
    // Two calls in progress, one on each connection: a third is over the server's limit.
    let err = a.remote().get("add").call::<i64>((1, 2)).await.unwrap_err();
    let remote = err.remote().expect("an error reply");
    assert_eq!(remote.kind(), "RuntimeError");
    assert!(
        remote
            .message()
            .contains("too many requests in progress on this server (the limit is 2)"),
        "{remote}"
    );
    release.add_permits(2);
    for w in waits {
        assert_eq!(w.await.unwrap().unwrap(), 1);
    }
    assert_eq!(b.remote().get("add").call::<i64>((1, 2)).await.unwrap(), 3);
    a.close().await;
    b.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_servers_limit_are_closed() {
    let server = rpc_core::Server::builder(Router::new(gate(
        Arc::new(tokio::sync::Semaphore::new(0)),
        Arc::new(tokio::sync::Semaphore::new(0)),
    )))
    .max_connections(2)
    .backlog(16)
    .bind("127.0.0.1:0")
    .await
    .unwrap();
    let a = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let b = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    for c in [&a, &b] {
        assert_eq!(c.remote().get("add").call::<i64>((1, 1)).await.unwrap(), 2);
    }
    let c = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let err = c.remote().get("add").call::<i64>((1, 1)).await.unwrap_err();
    assert!(err.is_connection_reset(), "{err:?}");
    // When one leaves, a newcomer is served again.
    a.close().await;
    let mut served = None;
    for _ in 0..1000 {
        let d = rpc_core::open_connection(server.local_addr())
            .await
            .unwrap();
        if let Ok(n) = d.remote().get("add").call::<i64>((2, 2)).await {
            served = Some(n);
            d.close().await;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(served, Some(4));
    b.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_with_a_backlog_serves_tcp_and_unix_sockets() {
    let path = std::env::temp_dir().join(format!("rpc-core-backlog-{}.sock", std::process::id()));
    for addr in ["127.0.0.1:0".to_owned(), format!("unix:{}", path.display())] {
        let server = rpc_core::Server::builder(Router::new(gate(
            Arc::new(tokio::sync::Semaphore::new(0)),
            Arc::new(tokio::sync::Semaphore::new(0)),
        )))
        .backlog(1)
        .bind(addr.as_str())
        .await
        .unwrap();
        let conn = rpc_core::open_connection(server.local_addr())
            .await
            .unwrap();
        assert_eq!(
            conn.remote().get("add").call::<i64>((3, 4)).await.unwrap(),
            7,
            "{addr}"
        );
        conn.close().await;
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_connections_burst_does_not_hold_up_another_connection() {
    // Every call of either connection takes a ticket: the order in which they ran.
    let tickets = Arc::new(AtomicUsize::new(0));
    let count = tickets.clone();
    let service = ServiceDict::new().function("ticket", move |_: DynCall| {
        Ok(count.fetch_add(1, Ordering::SeqCst))
    });
    let router = Router::new(service);
    let (flood_ours, mut flood_peer) = tokio::io::duplex(1 << 22);
    let (calm_ours, calm_peer) = tokio::io::duplex(1 << 16);
    let flood = Connection::builder()
        .serve(router.clone())
        .open(flood_ours, "flood");
    let calm_server = Connection::builder().serve(router).open(calm_ours, "calm");
    let calm = Connection::builder().open(calm_peer, "server");
    // 20 000 requests are waiting on one connection before anything runs...
    let burst: Vec<u8> = (0..20_000u64)
        .flat_map(|id| request_frame(id, &("ticket", [0i64; 0], rpc_core::NoKwargs)))
        .collect();
    flood_peer.write_all(&burst).await.unwrap();
    // ... and one on the other.
    let ticket: usize = calm.remote().get("ticket").call(()).await.unwrap();
    assert!(
        ticket < 2_000,
        "the calm connection's call ran after {ticket} calls of the flooding one"
    );
    drop(flood_peer);
    flood.close().await;
    calm.close().await;
    calm_server.close().await;
}

/// The raw frames of `n` `add(id, 1)` requests in msgpack, ids from 0.
fn add_requests(n: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|id| request_frame(id, &("add", (id, 1), rpc_core::NoKwargs)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_does_not_read_its_replies_is_not_read_either_until_it_does() {
    const CALLS: u64 = 200_000;
    let handled = Arc::new(AtomicUsize::new(0));
    let count = handled.clone();
    let service = ServiceDict::new().function("add", move |c: DynCall| {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(c.arg::<u64>(0, "a")? + c.arg::<u64>(1, "b")?)
    });
    let (ours, peer) = tokio::io::duplex(64 * 1024);
    // Backpressure alone: the write-stall timeout would end this connection after a minute of
    // the peer's not reading (`endings.rs`).
    let conn = Connection::builder()
        .write_stall_timeout(None)
        .serve(Router::new(service))
        .open(ours, "flooder");
    let (mut peer_rx, mut peer_tx) = tokio::io::split(peer);
    // About 4 MiB of requests whose replies (2 MiB) fit in the default `max_queued` many times
    // over: without backpressure the server reads them all and queues every reply.
    let frames = add_requests(CALLS);
    let mut flood = tokio::spawn(async move {
        peer_tx.write_all(&frames).await.unwrap();
        peer_tx
    });
    // Virtual time: the timeout fires only once nothing can move any more.
    let stalled = tokio::time::timeout(std::time::Duration::from_secs(3600), &mut flood).await;
    assert!(
        stalled.is_err(),
        "the server read all {CALLS} requests of a peer that reads no reply"
    );
    let when_stalled = handled.load(Ordering::SeqCst);
    assert!(
        when_stalled < 60_000,
        "{when_stalled} requests ran before the server stopped reading"
    );
    assert!(!conn.is_closed(), "backpressure, not a cut-off");
    assert!(
        conn.channel().buffer_capacity() <= 1 << 20,
        "the stalled connection holds {} bytes of buffers",
        conn.channel().buffer_capacity()
    );
    // Once the peer reads, everything is answered, in order, and nothing was lost.
    let reading = tokio::spawn(async move {
        let mut replies = 0u64;
        let codec = rpc_core::Codec::msgpack();
        while replies < CALLS {
            let len = peer_rx.read_u32().await.unwrap() as usize;
            let mut payload = vec![0; len];
            peer_rx.read_exact(&mut payload).await.unwrap();
            let (kind, id, result): (u8, u64, u64) = codec.decode(&payload).unwrap();
            assert_eq!((kind, id, result), (1, replies, replies + 1));
            replies += 1;
        }
        replies
    });
    let _peer_tx = flood.await.unwrap();
    assert_eq!(reading.await.unwrap(), CALLS);
    assert_eq!(handled.load(Ordering::SeqCst), CALLS as usize);
    conn.close().await;
}

#[tokio::test(start_paused = true)]
async fn two_peers_that_flood_each_other_both_get_every_reply() {
    // Each side waits for replies while the other's requests pile up: neither may stop reading,
    // or both would wait forever.
    let echo =
        || ServiceDict::new().function("echo", |c: DynCall| c.arg::<rpc_core::ByteBuf>(0, "data"));
    let (x, y) = tokio::io::duplex(64 * 1024);
    let a = Connection::builder()
        .serve(Router::new(echo()))
        .open(x, "b");
    let b = Connection::builder()
        .serve(Router::new(echo()))
        .open(y, "a");
    let calls = |conn: &Connection| {
        let remote = conn.remote();
        futures_util::future::join_all((0..2_000u32).map(move |i| {
            let remote = remote.clone();
            async move {
                let data = rpc_core::ByteBuf::from(vec![(i % 251) as u8; 1024]);
                let back: rpc_core::ByteBuf =
                    remote.get("echo").call((data.clone(),)).await.unwrap();
                assert_eq!(back, data);
            }
        }))
    };
    // Virtual time: were both readers to stop, the timeout would fire at once.
    tokio::time::timeout(
        std::time::Duration::from_secs(3600),
        futures_util::future::join(calls(&a), calls(&b)),
    )
    .await
    .expect("both peers got every reply");
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn an_idle_connection_holds_no_read_buffer() {
    let service = adder();
    let (x, y) = tokio::io::duplex(64 * 1024);
    let server = Connection::builder()
        .serve(Router::new(service))
        .open(x, "client");
    let client = Connection::builder().open(y, "server");
    for i in 0..10i64 {
        let sum: i64 = client.remote().get("add").call((i, 1)).await.unwrap();
        assert_eq!(sum, i + 1);
    }
    // What is left is at most the write buffer kept for the next replies (a few dozen bytes
    // here): the bytes read were handled, and a read buffer is the thread's, not the
    // connection's.
    let held = || server.channel().buffer_capacity() + client.channel().buffer_capacity();
    assert!(
        eventually(100, || held() < 1024).await,
        "two idle ends hold {} bytes of buffers",
        held()
    );
    client.close().await;
    server.close().await;
}

#[tokio::test]
async fn a_served_connection_costs_its_reader_and_writer_tasks_and_no_other() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let service = adder();
    let server = start_server("127.0.0.1:0", Router::new(service))
        .await
        .unwrap();
    let before = metrics.num_alive_tasks();
    let mut clients = Vec::new();
    for _ in 0..20 {
        let conn = rpc_core::open_connection(server.local_addr())
            .await
            .unwrap();
        let _: i64 = conn.remote().get("add").call((1, 2)).await.unwrap();
        clients.push(conn);
    }
    assert!(eventually(10_000, || server.connections().len() == 20).await);
    // Two tasks on each side of each connection: nothing waits per connection for it to end.
    assert_eq!(metrics.num_alive_tasks() - before, 20 * 4);
    drop(clients);
    assert!(
        eventually(10_000, || server.connections().is_empty()).await,
        "the server forgets connections as they end"
    );
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_does_not_read_large_replies_is_stopped_within_the_pause_mark() {
    let service =
        ServiceDict::new().function("echo", |c: DynCall| c.arg::<rpc_core::ByteBuf>(0, "data"));
    let (ours, peer) = tokio::io::duplex(64 * 1024);
    // Backpressure alone, without the write-stall timeout.
    let conn = Connection::builder()
        .write_stall_timeout(None)
        .serve(Router::new(service))
        .open(ours, "flooder");
    let (_peer_rx, mut peer_tx) = tokio::io::split(peer);
    // 8 MiB of 64 KiB echo requests: the replies of one turn of the reader (32 frames) alone
    // are 2 MiB.
    let request = echo_request(1, &[7; 64 * 1024]);
    let flood = tokio::spawn(async move {
        for _ in 0..128 {
            peer_tx.write_all(&request).await.unwrap();
        }
        peer_tx
    });
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert!(!flood.is_finished(), "the server read every request");
    let held = conn.channel().buffer_capacity();
    assert!(
        held <= 1 << 20,
        "a stalled connection holds {held} bytes of buffers"
    );
    flood.abort();
    conn.close().await;
}

#[tokio::test(start_paused = true)]
async fn close_gives_up_flushing_in_time_when_the_peer_stops_reading_in_the_middle_of_a_write() {
    let (ours, _peer) = tokio::io::duplex(1024);
    let channel = rpc_core::Channel::builder().open(ours);
    // Larger than the pipe: the writer is in the middle of it, waiting for room, when the
    // channel is closed.
    let _reply = channel
        .request(&rpc_core::ByteBuf::from(vec![1u8; 64 * 1024]))
        .unwrap();
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(3600), channel.close())
        .await
        .expect("close() returns although the peer never reads");
    // Channel::close documents 5 seconds (the crate's CLOSE_FLUSH_TIMEOUT).
    assert!(start.elapsed() <= std::time::Duration::from_secs(5));
}

/// `interop_server --max-connections N` (its argument parsing, shared with the example): the
/// limit reaches the server, and a connection over it is closed at once.
#[tokio::test]
async fn interop_server_takes_max_connections() {
    use examples::interop::ServerArgs;
    let parse = |args: &[&str]| ServerArgs::parse(args.iter().map(|a| a.to_string()));
    let args = parse(&["--addr", "127.0.0.1:0", "--max-connections", "1"]).unwrap();
    assert_eq!(args.max_connections, 1);
    assert_eq!(
        parse(&["--addr", "x:1"]).unwrap().max_connections,
        rpc_core::DEFAULT_MAX_CONNECTIONS
    );
    for bad in ["0", "-1", "many"] {
        let err = parse(&["--addr", "x:1", "--max-connections", bad]).unwrap_err();
        assert_eq!(
            err,
            format!("--max-connections needs a positive integer, got {bad:?}")
        );
    }
    let server = rpc_core::Server::builder(examples::interop::router())
        .codec(args.codec)
        .max_connections(args.max_connections)
        .bind(args.addr.as_str())
        .await
        .unwrap();
    let first = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    assert_eq!(
        first.remote().get("add").call::<i64>((1, 1)).await.unwrap(),
        2
    );
    let second = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        second.remote().get("add").call::<i64>((1, 1)),
    )
    .await
    .expect("a refused connection is closed at once")
    .unwrap_err();
    assert!(err.is_connection_reset(), "{err:?}");
    first.close().await;
    server.shutdown().await;
}
