//! The frame decoder, fed arbitrary chunkings.
//!
//! Input: `[limit, chunking, bytes...]`. `limit` picks the decoder's maximum payload length,
//! `chunking` how `bytes` is cut into the reads the decoder sees. The frames cut from the chunks
//! must be exactly those a plain reading of the length prefixes gives, with the same ending: a
//! frame over the limit, a truncated frame at the end, or a clean end.

use bytes::BytesMut;
use rpc_core::wire::frame::{FrameDecoder, DEFAULT_MAX_FRAME_LEN, HEADER_LEN};
use rpc_core::CodecError;

/// The maximum payload length that option byte `b` selects.
pub fn limit(b: u8) -> usize {
    match b % 8 {
        0 => 0,
        1 => 1,
        2 => 8,
        3 => 300,
        4 => 4096,
        5 => 1 << 20,
        _ => DEFAULT_MAX_FRAME_LEN,
    }
}

/// How a stream of bytes ends, for a given limit.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every byte belongs to a whole frame.
    Clean,
    /// The last frame (or header) is incomplete.
    Truncated,
    /// A header announces more than the limit.
    TooLarge,
}

/// Reads the length prefixes of `bytes` the plain way: the payloads and how the stream ends.
pub fn reference(bytes: &[u8], max_len: usize) -> (Vec<&[u8]>, End) {
    let mut frames = Vec::new();
    let mut rest = bytes;
    loop {
        if rest.is_empty() {
            return (frames, End::Clean);
        }
        if rest.len() < HEADER_LEN {
            return (frames, End::Truncated);
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len > max_len {
            return (frames, End::TooLarge);
        }
        if rest.len() < HEADER_LEN + len {
            return (frames, End::Truncated);
        }
        frames.push(&rest[HEADER_LEN..HEADER_LEN + len]);
        rest = &rest[HEADER_LEN + len..];
    }
}

/// Runs the target on one input.
///
/// # Panics
/// When the decoder cuts other frames than [`reference()`], ends otherwise, or panics.
pub fn run(data: &[u8]) {
    let [sel, chunking, bytes @ ..] = data else {
        return;
    };
    let max_len = limit(*sel);
    let (expected, expected_end) = reference(bytes, max_len);

    let mut decoder = FrameDecoder::new(max_len);
    assert_eq!(decoder.max_len(), max_len);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut end = None;
    'feed: for chunk in crate::chunks(bytes, *chunking) {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= max_len, "a frame over the limit was cut");
                    got.push(frame);
                }
                Ok(None) => break,
                Err(CodecError::FrameTooLarge { len, limit }) => {
                    assert!(len > max_len && limit == max_len, "{len} / {limit}");
                    end = Some(End::TooLarge);
                    break 'feed;
                }
                Err(e) => panic!("decode failed with {e:?}"),
            }
        }
    }
    let end = match end {
        Some(end) => end,
        None => match decoder.decode_eof(&mut buf) {
            Ok(None) => End::Clean,
            Ok(Some(frame)) => panic!("decode_eof cut a frame decode left: {frame:?}"),
            Err(CodecError::Truncated { expected, missing }) => {
                assert!(missing > 0 && missing <= expected, "{expected} / {missing}");
                assert_eq!(expected - missing, buf.len(), "truncation miscounted");
                End::Truncated
            }
            Err(e) => panic!("decode_eof failed with {e:?}"),
        },
    };
    assert_eq!(got.len(), expected.len(), "not the same number of frames");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(&g[..], *e, "frame {i} differs");
    }
    assert_eq!(end, expected_end);
}
