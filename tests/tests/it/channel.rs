//! The channel over an in-memory stream, with a scripted peer on the other end that reads and
//! writes raw frames.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use rpc_core::{Channel, Codec, CodecError, Connection, Error, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};

use crate::support::unhex;

/// The scripted end of the connection.
struct Peer {
    io: DuplexStream,
}

impl Peer {
    async fn send(&mut self, payload: &[u8]) {
        self.io
            .write_all(&(payload.len() as u32).to_be_bytes())
            .await
            .unwrap();
        self.io.write_all(payload).await.unwrap();
    }

    async fn send_hex(&mut self, hex: &str) {
        self.send(&unhex(hex)).await;
    }

    async fn recv(&mut self) -> Vec<u8> {
        let mut len = [0; 4];
        self.io.read_exact(&mut len).await.unwrap();
        let mut payload = vec![0; u32::from_be_bytes(len) as usize];
        self.io.read_exact(&mut payload).await.unwrap();
        payload
    }

    async fn recv_value(&mut self) -> Value {
        Codec::msgpack().decode(&self.recv().await).unwrap()
    }
}

fn pair(codec: Codec) -> (Channel, Peer) {
    let (a, b) = tokio::io::duplex(1 << 20);
    let channel = Channel::builder().codec(codec).peer("scripted").open(a);
    (channel, Peer { io: b })
}

fn msg(kind: i64, id: Value, content: Value) -> Value {
    Value::Array(vec![Value::Int(kind), id, content])
}

#[tokio::test]
async fn requests_count_ids_from_zero_and_replies_match_in_any_order() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let a = ch.request("first").unwrap();
    let b = ch.request("second").unwrap();
    assert_eq!((a.id(), b.id()), (0, 1));
    assert_eq!(peer.recv_value().await, msg(0, 0.into(), "first".into()));
    assert_eq!(peer.recv_value().await, msg(0, 1.into(), "second".into()));
    peer.send_hex("930101a3747764").await; // [1, 1, "twd"]
    peer.send_hex("930100a3626f6e").await; // [1, 0, "bon"]
    assert_eq!(b.await.unwrap().content().unwrap(), Value::from("twd"));
    assert_eq!(a.await.unwrap().content().unwrap(), Value::from("bon"));
}

#[tokio::test]
async fn a_thousand_requests_in_flight_are_answered_in_reverse() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let futs: Vec<_> = (0..1000i64).map(|i| ch.request(&i).unwrap()).collect();
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let v = peer.recv_value().await;
        ids.push(v.as_array().unwrap()[1].as_i64().unwrap());
    }
    assert_eq!(ids, (0..1000).collect::<Vec<_>>());
    for id in ids.iter().rev() {
        let reply = Codec::msgpack()
            .encode(&msg(1, Value::Int(*id), Value::Int(id * 10)))
            .unwrap();
        peer.send(&reply).await;
    }
    for (i, f) in futs.into_iter().enumerate() {
        assert_eq!(f.await.unwrap().decode::<i64>().unwrap(), i as i64 * 10);
    }
}

#[tokio::test]
async fn replies_match_ids_written_in_wider_int_forms() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let futs: Vec<_> = (0..3).map(|i| ch.request(&i).unwrap()).collect();
    for _ in 0..3 {
        peer.recv().await;
    }
    peer.send_hex("9301cf0000000000000000a161").await; // [1, 0, "a"], the id as uint64
    peer.send_hex("9301ce00000001a162").await; // [1, 1, "b"], the id as uint32
    peer.send_hex("9301cc02a163").await; // [1, 2, "c"], the id as uint8
    let mut got = Vec::new();
    for f in futs {
        got.push(f.await.unwrap().decode::<String>().unwrap());
    }
    assert_eq!(got, ["a", "b", "c"]);
}

#[tokio::test]
async fn incoming_request_ids_are_echoed_exactly_as_they_came() {
    let (ch, mut peer) = pair(Codec::msgpack());
    // ids: "x", -1, 2**32+5, 7 written as uint32, nil
    for id in ["a178", "ff", "cf0000000100000005", "ce00000007", "c0"] {
        peer.send_hex(&format!("9300{id}a26869")).await;
        let req = ch.recv().await.unwrap();
        assert_eq!(req.raw_id(), &unhex(id)[..]);
        assert_eq!(req.content().unwrap(), Value::from("hi"));
        req.reply("ok").unwrap();
        assert_eq!(peer.recv().await, unhex(&format!("9301{id}a26f6b")));
    }
}

#[tokio::test]
async fn json_ids_are_echoed_exactly_too() {
    let (ch, mut peer) = pair(Codec::json());
    peer.send(br#"[0, "abc", "hi"]"#).await;
    let req = ch.recv().await.unwrap();
    req.fail(&rpc_core::CallError::value_error("no")).unwrap();
    assert_eq!(peer.recv().await, br#"[2, "abc", "ValueError: no\n"]"#);
}

#[tokio::test]
async fn reply_to_unknown_id_is_dropped_and_the_connection_lives() {
    let (ch, mut peer) = pair(Codec::msgpack());
    peer.send_hex("930163a46c617465").await; // [1, 99, "late"]
    let f = ch.request("still here?").unwrap();
    assert_eq!(
        peer.recv_value().await,
        msg(0, 0.into(), "still here?".into())
    );
    peer.send_hex("930100c3").await;
    assert_eq!(f.await.unwrap().content().unwrap(), Value::Bool(true));
    assert!(!ch.is_closed());
}

#[tokio::test]
async fn a_dropped_request_forgets_its_id_and_the_late_reply_is_dropped() {
    let (ch, mut peer) = pair(Codec::msgpack());
    drop(ch.request("never mind").unwrap());
    peer.recv().await;
    peer.send_hex("930100c3").await; // the late reply to id 0
    let f = ch.request("next").unwrap();
    assert_eq!(f.id(), 1);
    peer.recv().await;
    peer.send_hex("930101c2").await;
    assert_eq!(f.await.unwrap().content().unwrap(), Value::Bool(false));
}

/// A reply that came before a frame that ends the connection reaches its caller, though both
/// arrived in one read (the reader hands a read's replies over after cutting it).
#[tokio::test]
async fn a_reply_read_together_with_a_fatal_frame_still_reaches_its_caller() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let answered = ch.request("first").unwrap();
    let unanswered = ch.request("second").unwrap();
    peer.recv().await;
    peer.recv().await;
    // [1, 0, "ok"], then a payload that is no message, in one write.
    let mut both = Vec::new();
    for payload in [unhex("930100a26f6b"), unhex("c1")] {
        both.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        both.extend_from_slice(&payload);
    }
    peer.io.write_all(&both).await.unwrap();
    let reply = answered.await.expect("the reply came before the bad frame");
    assert_eq!(reply.content().unwrap(), Value::from("ok"));
    let err = unanswered.await.unwrap_err();
    assert!(err.is_connection_reset(), "{err:?}");
}

/// A payload with no request id to answer ends the connection (as in aiomas), with the reason;
/// what comes after it is not read.
#[tokio::test]
async fn undecodable_payload_ends_the_connection_with_the_reason() {
    for junk in [
        "c1",       // a marker that never appears in msgpack
        "",         // an empty payload
        "a3616263", // not an array
        "9300",     // too short
    ] {
        let (ch, mut peer) = pair(Codec::msgpack());
        peer.send_hex(junk).await;
        peer.send_hex("930000a26869").await; // a good request after it
        let err = ch.recv().await.unwrap_err();
        assert!(
            matches!(
                &err,
                rpc_core::Error::Undecodable {
                    codec: "MsgPack",
                    hint: None,
                    ..
                }
            ),
            "{junk}: {err:?}"
        );
        assert!(err.is_connection_reset());
        // The peer sees the end of the stream.
        let mut rest = Vec::new();
        peer.io.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "{junk}: {rest:?}");
    }
}

#[tokio::test]
async fn malformed_request_with_a_readable_id_gets_an_error_reply() {
    let (ch, mut peer) = pair(Codec::msgpack());
    // [0, 5, <str of 9 bytes with 2 present>]: the content is cut short.
    peer.send_hex("930005a96869").await;
    let reply = peer.recv_value().await;
    let items = reply.as_array().unwrap();
    assert_eq!((items[0].as_i64(), items[1].as_i64()), (Some(2), Some(5)));
    let text = items[2].as_str().unwrap();
    assert!(text.starts_with("ValueError: invalid request:"), "{text}");
    assert!(text.ends_with('\n'));
    // A four-element request is answered too.
    peer.send_hex("940006c0c0").await;
    let reply = peer.recv_value().await;
    assert!(
        reply.as_array().unwrap()[2]
            .as_str()
            .unwrap()
            .contains("3 elements"),
        "{reply}"
    );
    assert!(!ch.is_closed());
}

#[tokio::test]
async fn unknown_message_type_is_skipped() {
    let (ch, mut peer) = pair(Codec::msgpack());
    peer.send_hex("930300c0").await; // [3, 0, nil]
    peer.send_hex("930000c3").await;
    assert_eq!(
        ch.recv().await.unwrap().content().unwrap(),
        Value::Bool(true)
    );
}

#[tokio::test]
async fn deeply_nested_request_gets_an_error_reply_not_a_stack_overflow() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let mut payload = unhex("930009");
    payload.extend(std::iter::repeat_n(0x91u8, 100_000));
    payload.push(0xc0);
    peer.send(&payload).await;
    let reply = peer.recv_value().await;
    let text = reply.as_array().unwrap()[2].as_str().unwrap().to_owned();
    assert!(text.contains("nested deeper than the limit"), "{text}");
    peer.send_hex("930000c3").await;
    assert_eq!(
        ch.recv().await.unwrap().content().unwrap(),
        Value::Bool(true)
    );
}

#[tokio::test]
async fn frame_over_the_limit_closes_the_connection_and_fails_pending_requests_with_it() {
    let (a, mut b) = tokio::io::duplex(1 << 16);
    let ch = Channel::builder().max_frame_len(1000).open(a);
    let pending = ch.request("x").unwrap();
    b.write_all(&5000u32.to_be_bytes()).await.unwrap();
    let err = pending.await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                len: 5000,
                limit: 1000
            }
        ),
        "{err}"
    );
    assert!(err.is_connection_reset());
    assert!(ch.is_closed());
    // Later requests fail at once with the same reason.
    assert!(matches!(
        ch.request("y"),
        Err(Error::FrameTooLarge {
            len: 5000,
            limit: 1000
        })
    ));
}

#[tokio::test]
async fn outgoing_frame_over_the_limit_is_refused_before_sending() {
    let (a, _b) = tokio::io::duplex(64);
    let ch = Channel::builder().max_frame_len(10).open(a);
    let err = ch.request(&"x".repeat(100)).unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { limit: 10, .. }),
        "{err}"
    );
    assert!(!err.is_connection_reset());
    assert!(
        !ch.is_closed(),
        "refusing one frame does not end the connection"
    );
}

#[tokio::test]
async fn peer_closing_fails_every_pending_request_at_once() {
    let (ch, peer) = pair(Codec::msgpack());
    let a = ch.request("a").unwrap();
    let b = ch.request("b").unwrap();
    drop(peer);
    for f in [a, b] {
        let err = f.await.unwrap_err();
        assert!(matches!(err, Error::Closed(_)), "{err}");
    }
    assert!(ch.closed().await.is_connection_reset());
    assert!(ch.recv().await.is_err());
}

#[tokio::test]
async fn eof_in_the_middle_of_a_frame_fails_pending_requests() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let a = ch.request("a").unwrap();
    peer.io.write_all(&[0, 0, 0, 9, 1, 2]).await.unwrap();
    drop(peer);
    let err = a.await.unwrap_err();
    // 6 of the 13 bytes of the frame (header included) came.
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected: 13,
                missing: 7
            }
        ),
        "{err}"
    );
    assert!(err.is_connection_reset());
}

#[tokio::test]
async fn close_flushes_what_is_queued_then_ends_the_stream() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let futs: Vec<_> = (0..10).map(|i| ch.request(&i).unwrap()).collect();
    ch.close().await;
    for i in 0..10 {
        assert_eq!(
            peer.recv_value().await,
            msg(0, Value::Int(i), Value::Int(i))
        );
    }
    let mut rest = Vec::new();
    peer.io.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    for f in futs {
        assert!(f.await.unwrap_err().is_connection_reset());
    }
}

#[tokio::test]
async fn encoding_failure_uses_up_the_id_and_sends_nothing() {
    let (ch, mut peer) = pair(Codec::json());
    let err = ch.request(&Value::Bin(vec![1])).unwrap_err();
    assert!(
        matches!(err, Error::Encode(CodecError::BytesInJson)),
        "{err}"
    );
    let f = ch.request("ok").unwrap();
    assert_eq!(f.id(), 1);
    assert_eq!(peer.recv().await, br#"[0, 1, "ok"]"#);
}

/// Counts the writes that reach the socket.
struct CountingWriter {
    inner: DuplexStream,
    writes: Arc<AtomicUsize>,
}

impl AsyncWrite for CountingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

struct NeverReads;

impl AsyncRead for NeverReads {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_lone_request_goes_out_at_once_and_a_burst_in_one_write() {
    let (a, b) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = CountingWriter {
        inner: a,
        writes: writes.clone(),
    };
    let ch = Channel::builder().open_split(NeverReads, writer);
    // The first request is alone in flight: it is written by the caller at once, without
    // waiting for the writer task (which cannot run before this test yields).
    let first = ch.request(&0).unwrap();
    assert_eq!(writes.load(Ordering::Relaxed), 1);
    // The other 99 are queued behind it, and the writer task sends them in one write.
    let _rest: Vec<_> = (1..100).map(|i| ch.request(&i).unwrap()).collect();
    assert_eq!(writes.load(Ordering::Relaxed), 1);
    let mut peer = Peer { io: b };
    for i in 0..100 {
        assert_eq!(
            peer.recv_value().await,
            msg(0, Value::Int(i), Value::Int(i))
        );
    }
    assert_eq!(writes.load(Ordering::Relaxed), 2);
    drop(first);
}

#[tokio::test]
async fn dropping_every_handle_closes_the_connection() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let clone = ch.clone();
    drop(ch);
    assert!(!clone.is_closed(), "a clone keeps the channel open");
    drop(clone.request("last words").unwrap());
    drop(clone);
    assert_eq!(
        peer.recv_value().await,
        msg(0, 0.into(), "last words".into())
    );
    let mut rest = Vec::new();
    peer.io.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "the stream ends after what was queued");
}

/// The raw frame of `[0, x, ["id", [x], {}]]` in msgpack (`x` below 128: a positive fixint).
fn id_request(x: u8) -> [u8; 14] {
    [
        0, 0, 0, 10, 0x93, 0x00, x, 0x93, 0xa2, b'i', b'd', 0x91, x, 0x80,
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn replies_to_one_read_of_requests_go_out_in_one_write() {
    // Requests come in on one stream, replies go out on another, through a counting writer.
    let (a, b) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(AtomicUsize::new(0));
    let (w_inner, w_outer) = tokio::io::duplex(1 << 20);
    let writer = CountingWriter {
        inner: w_inner,
        writes: writes.clone(),
    };
    let service =
        rpc_core::ServiceDict::new().function("id", |c: rpc_core::DynCall| c.arg::<i64>(0, "x"));
    let _conn = Connection::builder()
        .serve(rpc_core::Router::new(service))
        .open(tokio::io::join(a, writer), "scripted");
    // Fewer than the reader handles in one turn (32): a longer read may be written in parts,
    // when the writer task runs while the reader lets the other tasks have their turn.
    let requests: Vec<u8> = (0..30u8).flat_map(id_request).collect();
    let mut peer = Peer { io: b };
    peer.io.write_all(&requests).await.unwrap();
    let mut replies = Peer { io: w_outer };
    for i in 0..30 {
        assert_eq!(
            replies.recv_value().await,
            msg(1, Value::Int(i), Value::Int(i))
        );
    }
    assert_eq!(writes.load(Ordering::Relaxed), 1, "30 replies, one write");
}

#[tokio::test]
async fn non_string_error_content_is_kept_as_is() {
    let (ch, mut peer) = pair(Codec::msgpack());
    let proxy = rpc_core::Proxy::new(ch.clone(), "");
    let call = tokio::spawn(async move { proxy.get("f").call::<Value>(()).await });
    peer.recv().await;
    // [2, 0, ["ValueError", "bad", "tb"]] (mosaik's form) instead of a str
    peer.send_hex("93020093aa56616c75654572726f72a3626164a27462")
        .await;
    let err = call.await.unwrap().unwrap_err();
    let remote = err.remote().expect("a remote error");
    assert_eq!(remote.kind(), "ValueError");
    assert_eq!(remote.message(), "bad");
    assert_eq!(
        remote.content(),
        &Value::Array(vec!["ValueError".into(), "bad".into(), "tb".into()])
    );
    assert_eq!(remote.origin(), "scripted");
}

#[tokio::test(start_paused = true)]
async fn close_gives_up_flushing_to_a_peer_that_never_reads() {
    // A pipe of 64 bytes that nobody reads: a 100 kB request can never be flushed.
    let (a, _never_read) = tokio::io::duplex(64);
    let ch = Channel::builder().open(a);
    let pending = ch.request(&Value::Bin(vec![7; 100_000]));
    let pending = pending.unwrap();
    // With the clock paused, the flush deadline passes as soon as nothing else can run.
    ch.close().await;
    assert!(ch.is_closed());
    assert!(pending.await.unwrap_err().is_connection_reset());
}

/// A reply that came but was never taken holds a handle of the channel; dropping its future
/// after the users' last handle drops that handle, which closes the channel (and must not
/// deadlock on the waiting requests' lock while doing so).
#[tokio::test]
async fn dropping_an_untaken_reply_after_the_last_handle_closes_the_channel() {
    let (chan, mut peer) = pair(Codec::msgpack());
    let untaken = chan.request(&Value::from("first")).unwrap();
    let second = chan.request(&Value::from("second")).unwrap();
    let closed = chan.closed();
    for id in 0..2 {
        let _ = peer.recv().await;
        peer.send_hex(&format!("9301{id:02x}c0")).await;
    }
    // The replies are handled in order: once the second is here, the first waits untaken.
    let reply = second.await.unwrap();
    drop(reply);
    drop(chan);
    drop(untaken);
    let err = closed.await;
    assert!(matches!(err, Error::Closed(_)), "{err:?}");
}

/// A connection holds no read buffer until the peer sends something (a server's idle clients
/// cost no buffers); the buffer comes with the first bytes.
#[tokio::test]
async fn a_connection_holds_no_read_buffer_until_the_peer_sends() {
    let (chan, mut peer) = pair(Codec::msgpack());
    tokio::task::yield_now().await;
    assert_eq!(chan.buffer_capacity(), 0);
    let reply = chan.request(&Value::from("x")).unwrap();
    let _ = peer.recv().await;
    peer.send_hex("930100c0").await;
    reply.await.unwrap();
    assert!(chan.buffer_capacity() > 0);
}

/// Counts the reads that bring bytes.
struct CountingReader {
    inner: DuplexStream,
    reads: Arc<AtomicUsize>,
}

impl AsyncRead for CountingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.reads.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

#[tokio::test]
async fn a_burst_is_read_in_large_reads_although_reads_end_inside_frames() {
    let (a, b) = tokio::io::duplex(1 << 20);
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = CountingReader {
        inner: a,
        reads: reads.clone(),
    };
    let (w_inner, w_outer) = tokio::io::duplex(1 << 20);
    let service =
        rpc_core::ServiceDict::new().function("id", |c: rpc_core::DynCall| c.arg::<i64>(0, "x"));
    let _conn = Connection::builder()
        .serve(rpc_core::Router::new(service))
        .open(tokio::io::join(reader, w_inner), "scripted");
    // 4 000 requests of 14 bytes (56 000 bytes) waiting at once: reads of a few KiB end inside
    // a frame almost every time.
    let requests: Vec<u8> = (0..4000u32)
        .flat_map(|i| id_request((i % 100) as u8))
        .collect();
    let mut peer = Peer { io: b };
    peer.io.write_all(&requests).await.unwrap();
    let mut replies = Peer { io: w_outer };
    for i in 0..4000u32 {
        let x = i64::from(i % 100);
        assert_eq!(
            replies.recv_value().await,
            msg(1, Value::Int(x), Value::Int(x))
        );
    }
    // A read buffer of 16 KiB takes them in 4; small reads after a frame cut in two took ~100.
    let n = reads.load(Ordering::Relaxed);
    assert!(n <= 12, "56 000 bytes came in {n} reads");
}
