//! The MsgPackBlosc codec over live connections: bounded decompression, hostile frames, the
//! limit on what is sent. (Interop with Python aiomas over this codec is in `interop_python.rs`;
//! that a refused frame allocates nothing is shown in `blosc_alloc.rs`.)

use std::time::Duration;

use rpc_core::wire::codec::MessageKind;
use rpc_core::{Codec, CodecError, Connection, Error, Router, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{adder, frame};
use tests::blosc::claiming;

const STEP: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_server_closes_a_connection_whose_frame_claims_too_much() {
    let server = Server::builder(Router::new(adder()))
        .codec(Codec::msgpack_blosc())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let mut raw = TcpStream::connect(server.local_addr().to_string())
        .await
        .unwrap();
    raw.write_all(&frame(&claiming(u32::MAX, 32)))
        .await
        .unwrap();
    let mut rest = Vec::new();
    let n = tokio::time::timeout(STEP, raw.read_to_end(&mut rest))
        .await
        .expect("the server kept the connection open")
        .unwrap_or(0);
    assert_eq!(n, 0, "the server answered instead of closing: {rest:?}");
    // ... and goes on serving everybody else.
    let client = Connection::builder()
        .codec(Codec::msgpack_blosc())
        .connect(server.local_addr())
        .await
        .unwrap();
    let r: i64 = client.remote().get("add").call((40, 2)).await.unwrap();
    assert_eq!(r, 42);
    client.close().await;
    server.shutdown().await;
}

/// A peer that answers the first request with `reply`, a raw payload.
async fn peer_answering(reply: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut len = [0; 4];
        sock.read_exact(&mut len).await.unwrap();
        let mut req = vec![0; u32::from_be_bytes(len) as usize];
        sock.read_exact(&mut req).await.unwrap();
        sock.write_all(&frame(&reply)).await.unwrap();
        // Hold the socket until the client closes it.
        let _ = sock.read_to_end(&mut Vec::new()).await;
    });
    addr
}

#[tokio::test]
async fn a_reply_claiming_too_much_fails_the_call_with_a_typed_error_and_closes() {
    let addr = peer_answering(claiming(100_000, 32)).await;
    let client = Connection::builder()
        .codec(Codec::msgpack_blosc())
        .max_frame_len(65_536)
        .connect(&*addr)
        .await
        .unwrap();
    let err = tokio::time::timeout(STEP, client.remote().get("add").call::<i64>((1, 2)))
        .await
        .expect("the call hung")
        .unwrap_err();
    match &err {
        Error::Decode(CodecError::DecompressedTooLarge { len, limit }) => {
            assert_eq!((*len, *limit), (100_000, 65_536));
        }
        other => panic!("expected DecompressedTooLarge, got {other:?}"),
    }
    let closed = tokio::time::timeout(STEP, client.closed())
        .await
        .expect("the connection stayed open");
    assert!(
        matches!(
            closed,
            Error::Decode(CodecError::DecompressedTooLarge { .. })
        ),
        "{closed:?}"
    );
}

#[tokio::test]
async fn a_reply_that_is_not_blosc_closes_the_connection_with_the_reason() {
    // A plain MsgPack reply to a MsgPackBlosc client: the codecs do not match.
    let plain = Codec::msgpack()
        .encode_message(MessageKind::Result, 0, &3)
        .unwrap();
    let addr = peer_answering(plain).await;
    let client = Connection::builder()
        .codec(Codec::msgpack_blosc())
        .connect(&*addr)
        .await
        .unwrap();
    let err = tokio::time::timeout(STEP, client.remote().get("add").call::<i64>((1, 2)))
        .await
        .expect("the call hung")
        .unwrap_err();
    // Ended as any frame this end cannot read, with the reason and what it looks like.
    match &err {
        Error::Undecodable {
            codec,
            reason,
            hint,
        } => {
            assert_eq!(*codec, "MsgPackBlosc");
            assert!(reason.contains("16-byte blosc header"), "{reason}");
            assert_eq!(
                *hint,
                Some("this looks like MsgPack; this end speaks MsgPackBlosc")
            );
        }
        other => panic!("expected an undecodable frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_that_would_decompress_past_the_limit_is_not_sent() {
    let server = Server::builder(Router::new(adder()))
        .codec(Codec::msgpack_blosc())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = Connection::builder()
        .codec(Codec::msgpack_blosc())
        .max_frame_len(1000)
        .connect(server.local_addr())
        .await
        .unwrap();
    // Compresses to a few dozen bytes, but the peer would have to hold all 5000.
    let big = "a".repeat(5000);
    let err = client
        .remote()
        .get("add")
        .call::<i64>((big.as_str(), 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { len, limit: 1000 } if len > 5000),
        "{err:?}"
    );
    // Nothing was sent; the connection is fine.
    let r: i64 = client.remote().get("add").call((1, 2)).await.unwrap();
    assert_eq!(r, 3);
    client.close().await;
    server.shutdown().await;
}
