//! Frames: a u32 big-endian length, then the payload; fed as scripted chunks.

use bytes::{Bytes, BytesMut};
use rpc_core::wire::frame::FrameDecoder;
use rpc_core::CodecError;
use tokio::io::AsyncReadExt;

use crate::support::frame;

/// Reads every frame from a stream that delivers exactly `chunks`, one per read: after each read
/// every whole frame is cut off, and at the end of the stream what is left must be whole frames.
async fn read_all(chunks: &[&[u8]], max: usize) -> (Vec<Bytes>, Option<CodecError>) {
    let mut mock = tokio_test::io::Builder::new();
    for c in chunks {
        mock.read(c);
    }
    let mut io = mock.build();
    let mut decoder = FrameDecoder::new(max);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    loop {
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
        // Room for a whole chunk, so that each read takes exactly one.
        buf.reserve(8 * 1024);
        let n = io.read_buf(&mut buf).await.expect("the scripted stream");
        if n == 0 {
            loop {
                match decoder.decode_eof(&mut buf) {
                    Ok(Some(f)) => frames.push(f),
                    Ok(None) => return (frames, None),
                    Err(e) => return (frames, Some(e)),
                }
            }
        }
    }
}

#[tokio::test]
async fn header_split_across_reads() {
    let f = frame(b"hello");
    let (frames, err) = read_all(&[&f[..2], &f[2..5], &f[5..]], 1024).await;
    assert!(err.is_none());
    assert_eq!(frames, vec![Bytes::from_static(b"hello")]);
}

#[tokio::test]
async fn one_byte_at_a_time() {
    let mut all = frame(b"abc");
    all.extend(frame(b"defgh"));
    let chunks: Vec<&[u8]> = all.chunks(1).collect();
    let (frames, err) = read_all(&chunks, 1024).await;
    assert!(err.is_none());
    assert_eq!(
        frames,
        vec![Bytes::from_static(b"abc"), Bytes::from_static(b"defgh")]
    );
}

#[tokio::test]
async fn many_frames_in_one_read() {
    let mut all = Vec::new();
    for i in 0..100u8 {
        all.extend(frame(&[i; 3]));
    }
    let (frames, err) = read_all(&[&all], 1024).await;
    assert!(err.is_none());
    assert_eq!(frames.len(), 100);
    assert!(frames
        .iter()
        .enumerate()
        .all(|(i, f)| f[..] == [i as u8; 3]));
}

#[tokio::test]
async fn zero_length_payload_is_a_frame() {
    let mut all = frame(b"");
    all.extend(frame(b"x"));
    let (frames, err) = read_all(&[&all], 1024).await;
    assert!(err.is_none());
    assert_eq!(frames, vec![Bytes::new(), Bytes::from_static(b"x")]);
}

#[tokio::test]
async fn eof_in_the_middle_of_a_frame_is_an_error() {
    let f = frame(b"0123456789");
    let (frames, err) = read_all(&[&f[..7]], 1024).await;
    assert!(frames.is_empty());
    match err {
        Some(CodecError::Truncated { expected, missing }) => {
            assert_eq!((expected, missing), (14, 7));
        }
        other => panic!("expected a truncated-frame error, got {other:?}"),
    }
}

#[tokio::test]
async fn eof_in_the_middle_of_a_header_is_an_error() {
    let (frames, err) = read_all(&[&[0, 0]], 1024).await;
    assert!(frames.is_empty());
    assert!(matches!(
        err,
        Some(CodecError::Truncated {
            expected: 4,
            missing: 2
        })
    ));
}

#[tokio::test]
async fn frame_over_limit_is_an_error_naming_limit_and_length() {
    let f = frame(&[7; 65]);
    let (frames, err) = read_all(&[&f], 64).await;
    assert!(frames.is_empty());
    let err = err.expect("an error");
    assert!(matches!(
        err,
        CodecError::FrameTooLarge { len: 65, limit: 64 }
    ));
    let text = err.to_string();
    assert!(text.contains("65") && text.contains("64"), "{text}");
}

#[test]
fn limit_is_checked_before_any_memory_is_reserved() {
    let mut dec = FrameDecoder::new(1024);
    let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
    let before = buf.capacity();
    assert!(matches!(
        dec.decode(&mut buf),
        Err(CodecError::FrameTooLarge {
            len: 0xffff_ffff,
            limit: 1024
        })
    ));
    assert_eq!(
        buf.capacity(),
        before,
        "no memory was reserved for the announced length"
    );
}

#[test]
fn a_frame_at_the_limit_is_accepted() {
    let mut dec = FrameDecoder::new(4);
    let mut buf = BytesMut::from(&frame(b"abcd")[..]);
    assert_eq!(
        dec.decode(&mut buf).unwrap().unwrap(),
        Bytes::from_static(b"abcd")
    );
    assert!(buf.is_empty());
}

#[test]
fn default_limit_is_documented_value() {
    assert_eq!(
        FrameDecoder::default().max_len(),
        rpc_core::wire::frame::DEFAULT_MAX_FRAME_LEN
    );
    assert_eq!(
        rpc_core::wire::frame::DEFAULT_MAX_FRAME_LEN,
        16 * 1024 * 1024
    );
}

#[test]
fn a_header_alone_reserves_nothing_for_the_announced_length() {
    // [1, 0, 0, 0] announces 16 MiB, exactly the default limit; then one byte arrives.
    let mut dec = FrameDecoder::default();
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&[1, 0, 0, 0, b'x']);
    assert!(dec.decode(&mut buf).unwrap().is_none());
    assert!(
        buf.capacity() < 4096,
        "a header reserved {} bytes before the payload arrived",
        buf.capacity()
    );
}
