//! Hostile peers and misbehaving handlers: the connection stays sound, bounded and fair.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rpc_core::TypedProxy;
use rpc_core::{service, start_server, Connection, DynCall, Error, Router, ServiceDict};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

async fn fragile_server() -> (rpc_core::Server, Connection) {
    let server = start_server("127.0.0.1:0", Router::new(Fragile))
        .await
        .unwrap();
    let conn = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    (server, conn)
}

#[tokio::test]
async fn a_panic_while_encoding_a_reply_is_answered_and_the_other_calls_on_the_connection_succeed()
{
    let (server, conn) = fragile_server().await;
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
    let (server, conn) = fragile_server().await;
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

/// The raw frame of `[0, id, ["echo", [payload], {}]]` in msgpack.
fn echo_request(id: u8, payload: &[u8]) -> Vec<u8> {
    let content = rpc_core::Codec::msgpack()
        .encode_message(
            rpc_core::wire::codec::MessageKind::Request,
            u64::from(id),
            &(
                "echo",
                (rpc_core::ByteBuf::from(payload.to_vec()),),
                rpc_core::NoKwargs,
            ),
        )
        .unwrap();
    let mut frame = (content.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&content);
    frame
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
