//! A live connection over an in-memory pipe, fed raw bytes.
//!
//! Input: `[options, chunking, bytes...]`. `options` picks the codec (bits 0 and 1, as in
//! [`codec::codec`](crate::codec::codec)) and the maximum frame length (bits 2 and 3); the
//! bytes are written as they are, cut by `chunking`, to a [`Connection`](rpc_core::Connection)
//! that serves the fuzz service. Afterwards, by how the bytes end:
//!
//! - on a frame boundary: a good request (`add(1, 2)`) is answered with `3`, or the connection
//!   has closed;
//! - inside a frame: after end of stream, the connection closes;
//! - at a header over the limit: the connection closes by itself.
//!
//! In every case the run ends: a hang is a panic, on a paused clock.

use rpc_core::wire::codec::MessageKind;
use rpc_core::{Codec, Value};

use crate::frame::{reference, End};
use crate::live::{self, Peer};

/// The id of the good request: an unsigned integer unlike the small ones of the seeds.
pub const PROBE_ID: u64 = 0x7072_6f62_6521;

/// The maximum frame length that option bits `b` select (kept above the probe's size).
pub fn limit(b: u8) -> usize {
    match b & 3 {
        0 => 256,
        1 => 4096,
        2 => 1 << 20,
        _ => rpc_core::wire::frame::DEFAULT_MAX_FRAME_LEN,
    }
}

/// Runs the target on one input.
///
/// # Panics
/// When the connection neither answers the good request nor closes, hangs, or panics.
pub fn run(data: &[u8]) {
    let [options, chunking, bytes @ ..] = data else {
        return;
    };
    let codec = crate::codec::codec(options & 3);
    let max_len = limit(options >> 2);
    let (_, end) = reference(bytes, max_len);
    live::block_on("channel", async move {
        let (conn, mut peer) = live::open(codec.clone(), max_len);
        let mut written = true;
        for chunk in crate::chunks(bytes, *chunking) {
            if peer.write(chunk).await.is_err() {
                written = false;
                break;
            }
            if chunk.is_empty() {
                tokio::task::yield_now().await;
            }
        }
        let closed = match end {
            End::Clean if written => !probe(&codec, &mut peer).await,
            End::Clean => {
                peer.until_closed().await;
                true
            }
            End::Truncated => {
                peer.shutdown().await;
                peer.until_closed().await;
                true
            }
            End::TooLarge => {
                peer.until_closed().await;
                true
            }
        };
        if closed {
            // It closed with a reason, and says so.
            let _why = conn.closed().await;
            assert!(conn.is_closed());
        }
        conn.close().await;
    });
}

/// Sends `add(1, 2)` and waits for its answer: `true` when it came, `false` when the
/// connection closed first.
async fn probe(codec: &Codec, peer: &mut Peer) -> bool {
    let request = codec
        .encode_message(
            MessageKind::Request,
            PROBE_ID,
            &("add", (1, 2), rpc_core::NoKwargs),
        )
        .expect("the probe encodes");
    if peer.write_frame(&request).await.is_err() {
        peer.until_closed().await;
        return false;
    }
    while let Some(frame) = peer.next_frame().await {
        // Replies to the fuzz input may carry ids that do not decode here; skip them.
        let Ok(msg) = codec.decode_message(&frame) else {
            continue;
        };
        // The input may send a request with the probe's id too: only `3` is the probe's answer
        // (the dispatch target checks answers one by one).
        if msg.id.as_u64() == Some(PROBE_ID)
            && msg.kind == MessageKind::Result
            && msg.content == Value::Int(3)
        {
            return true;
        }
    }
    false
}
