//! aiomas's third codec, `MsgPackBlosc`: a whole message packed as MsgPack, then compressed
//! with blosc (feature `msgpack-blosc`).
//!
//! aiomas 2.0.1 (`aiomas/codecs.py`):
//!
//! ```text
//! encode: blosc.compress(msgpack.packb(data, default=..., use_bin_type=True), TYPESIZE)
//! decode: msgpack.unpackb(blosc.decompress(bytes(data)), object_hook=..., use_list=False, ...)
//! ```
//!
//! with `TYPESIZE = 8` on a 64-bit Python and python-blosc 1.x's other defaults
//! (`blosc/toplevel.py`: `clevel=9, shuffle=blosc.SHUFFLE, cname='blosclz'`). So a frame's
//! payload is one blosc 1 buffer, and what it decompresses to is exactly the MsgPack codec's
//! message:
//!
//! ```text
//! +----------------+---------------------------------------------------------------+
//! | length: u32 BE | blosc buffer: 16-byte header (version 2, flags, typesize 8,   |
//! |                | nbytes, blocksize, cbytes: u32 LE), then the compressed data  |
//! +----------------+---------------------------------------------------------------+
//!                    decompressed: [type, id, content] as MsgPack
//! ```
//!
//! Compression is per message, as in aiomas: the values inside a message (arguments, results)
//! are plain MsgPack, so this format hands every value-level operation to
//! [`MsgPack`](super::msgpack::MsgPack) and only [`seal`](Format::seal)s and
//! [`open`](Format::open)s whole payloads. The reader opens each frame before it cuts the
//! message; the writer packs a message into a reused buffer and compresses it into the
//! outgoing one.
//!
//! The compression itself is c-blosc 1.21.6, the library python-blosc 1.11 bundles, through
//! the workspace crate `rpc-blosc` (a safe wrapper of three calls over `blosc-src`, which builds
//! c-blosc with the `cc` crate: no system library, no cmake, no bindgen). No pure-Rust
//! implementation of the blosc 1 format (its `blosclz` compressor and shuffle filter) exists to
//! our knowledge; the `blosc` crate links a system libblosc and marks its decompression
//! `unsafe`, and `blosc-rs` generates its bindings with bindgen (libclang) and builds with
//! cmake.

use std::borrow::Cow;
use std::ops::Range;

use bytes::BytesMut;
use serde::{Deserialize, Serialize};

use super::msgpack::{self, MsgPack};
use super::{CodecError, Format, MsgId, ParsedRequest, RawCall, RawMessage};

/// How aiomas compresses: python-blosc 1.x's defaults with aiomas's typesize.
const PARAMS: rpc_blosc::Params = rpc_blosc::Params::PYTHON;

/// The MsgPackBlosc format (`aiomas.codecs.MsgPackBlosc`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MsgPackBlosc;

impl Format for MsgPackBlosc {
    const NIL: &'static [u8] = MsgPack::NIL;
    const COMPRESSED: bool = true;

    fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<(), CodecError> {
        MsgPack::encode_into(buf, value)
    }

    fn decode<'de, T: Deserialize<'de>>(
        bytes: &'de [u8],
        max_depth: usize,
    ) -> Result<T, CodecError> {
        MsgPack::decode(bytes, max_depth)
    }

    fn decode_whole<'de, T: Deserialize<'de>>(
        bytes: &'de [u8],
        max_depth: usize,
    ) -> Result<T, CodecError> {
        MsgPack::decode_whole(bytes, max_depth)
    }

    fn decode_whole_detached<'de, T: Deserialize<'de>>(
        plain: &[u8],
        max_depth: usize,
    ) -> Result<T, CodecError> {
        let end = msgpack::skip(plain, 0, max_depth)?;
        if end != plain.len() {
            return Err(CodecError::Decode(format!(
                "{} trailing bytes after the value",
                plain.len() - end
            )));
        }
        // A reader that copies what it hands out, so that `T` borrows nothing from `plain`
        // (a `T` that must borrow, such as `&str`, is an error that says so).
        let mut de = rmp_serde::Deserializer::new(plain);
        de.set_max_depth(max_depth);
        T::deserialize(&mut de).map_err(|e| match e {
            rmp_serde::decode::Error::DepthLimitExceeded => {
                CodecError::TooDeep { limit: max_depth }
            }
            e => CodecError::Decode(e.to_string()),
        })
    }

    fn write_message<C: Serialize + ?Sized>(
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
    ) -> Result<(), CodecError> {
        MsgPack::write_message(buf, kind, id, content)
    }

    fn parse_message(
        payload: &[u8],
        max_depth: usize,
        check_content: bool,
    ) -> Result<RawMessage, CodecError> {
        MsgPack::parse_message(payload, max_depth, check_content)
    }

    fn check_content(payload: &[u8], msg: &RawMessage, max_depth: usize) -> Result<(), CodecError> {
        MsgPack::check_content(payload, msg, max_depth)
    }

    fn split_request(
        payload: &[u8],
        content: Range<usize>,
        max_depth: usize,
    ) -> Result<RawCall<'_>, CodecError> {
        MsgPack::split_request(payload, content, max_depth)
    }

    fn parse_request(payload: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        MsgPack::parse_request(payload, max_depth)
    }

    fn may_need_scope(bytes: &[u8]) -> bool {
        MsgPack::may_need_scope(bytes)
    }

    fn salvage_request_id(payload: &[u8]) -> Option<Range<usize>> {
        MsgPack::salvage_request_id(payload)
    }

    fn write_array(buf: &mut BytesMut, items: &[&[u8]]) {
        MsgPack::write_array(buf, items)
    }

    fn write_map(buf: &mut BytesMut, items: &[(Cow<'_, str>, &[u8])]) {
        MsgPack::write_map(buf, items)
    }

    fn seal(plain: &[u8], out: &mut BytesMut) -> Result<(), CodecError> {
        let start = out.len();
        // With this much room c-blosc always succeeds; the zeroing is a memset next to the
        // compression of the same bytes.
        out.resize(start + plain.len() + rpc_blosc::MAX_OVERHEAD, 0);
        match rpc_blosc::compress(plain, &PARAMS, &mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(CodecError::Encode(format!(
                    "blosc cannot compress the message: {e}"
                )))
            }
        }
    }

    fn open(payload: &[u8], max_len: usize) -> Result<Option<Vec<u8>>, CodecError> {
        let bad = |e: rpc_blosc::BloscError| CodecError::Decompress(e.to_string());
        let header = rpc_blosc::header(payload).map_err(bad)?;
        // Both checks read the header only: nothing is allocated for a payload that fails them.
        if header.nbytes > max_len {
            return Err(CodecError::DecompressedTooLarge {
                len: header.nbytes,
                limit: max_len,
            });
        }
        if header.cbytes != payload.len() {
            return Err(CodecError::Decompress(format!(
                "the blosc header says the buffer is {} bytes long, the frame holds {}",
                header.cbytes,
                payload.len()
            )));
        }
        let mut plain = vec![0; header.nbytes];
        rpc_blosc::decompress(payload, &mut plain).map_err(bad)?;
        Ok(Some(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Codec, MessageKind};
    use crate::wire::{CodecError, Value};

    /// A blosc header claiming `nbytes` decompressed bytes, on a buffer of `cbytes` in all.
    pub(crate) fn hostile(nbytes: u32, cbytes: u32) -> Vec<u8> {
        let mut b = vec![2, 1, 0x01, 8];
        b.extend_from_slice(&nbytes.to_le_bytes());
        b.extend_from_slice(&65536u32.to_le_bytes());
        b.extend_from_slice(&cbytes.to_le_bytes());
        b.resize(cbytes as usize, 0);
        b
    }

    #[test]
    fn a_message_decompresses_to_exactly_the_msgpack_codecs_message() {
        let blosc = Codec::msgpack_blosc();
        let content = ("sub/mul", (3, "x".repeat(500)), Value::Map(vec![]));
        let packed = blosc
            .encode_message(MessageKind::Request, 9, &content)
            .unwrap();
        let plain = Codec::msgpack()
            .encode_message(MessageKind::Request, 9, &content)
            .unwrap();
        assert!(packed.len() < plain.len(), "500 x's compress");
        let header = rpc_blosc::header(&packed).unwrap();
        assert_eq!((header.version, header.typesize), (2, 8));
        assert_eq!(header.nbytes, plain.len());
        let mut back = vec![0; header.nbytes];
        rpc_blosc::decompress(&packed, &mut back).unwrap();
        assert_eq!(back, plain);
        let msg = blosc.decode_message(&packed).unwrap();
        assert_eq!(msg.id, Value::from(9));
        // A value alone is compressed too, as aiomas's codec.encode does.
        let one = blosc.encode(&[1u8, 2, 3]).unwrap();
        assert_eq!(rpc_blosc::header(&one).unwrap().nbytes, 4);
        assert_eq!(blosc.decode::<Vec<u8>>(&one).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn a_value_alone_decodes_owned_since_it_was_decompressed_into_a_buffer_of_its_own() {
        let blosc = Codec::msgpack_blosc();
        let packed = blosc.encode(&("text", [1u8, 2])).unwrap();
        let owned: (String, Vec<u8>) = blosc.decode(&packed).unwrap();
        assert_eq!(owned, ("text".to_owned(), vec![1, 2]));
        // MsgPack lends a `&str` from the bytes given; here those are compressed.
        let plain = Codec::msgpack().encode(&"text").unwrap();
        assert_eq!(Codec::msgpack().decode::<&str>(&plain).unwrap(), "text");
        match blosc.decode::<&str>(&blosc.encode(&"text").unwrap()) {
            Err(CodecError::Decode(m)) => assert!(m.contains("borrowed"), "{m}"),
            other => panic!("expected a decode error, got {other:?}"),
        }
        let trailing = {
            let mut p = Codec::msgpack().encode(&1).unwrap();
            p.push(0xc0);
            let mut out = bytes::BytesMut::new();
            <super::MsgPackBlosc as super::Format>::seal(&p, &mut out).unwrap();
            out
        };
        match blosc.decode::<i64>(&trailing) {
            Err(CodecError::Decode(m)) => assert!(m.contains("1 trailing bytes"), "{m}"),
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn a_payload_claiming_more_than_the_limit_is_refused_by_its_header() {
        let blosc = Codec::msgpack_blosc();
        for codec_call in [0, 1] {
            let frame = hostile(u32::MAX, 32);
            let err = if codec_call == 0 {
                blosc.decode_message(&frame).unwrap_err()
            } else {
                blosc.decode::<Value>(&frame).unwrap_err()
            };
            assert_eq!(
                err,
                CodecError::DecompressedTooLarge {
                    len: u32::MAX as usize,
                    limit: crate::wire::frame::DEFAULT_MAX_FRAME_LEN
                }
            );
            assert!(err.to_string().contains("4294967295"), "{err}");
        }
    }

    #[test]
    fn payloads_that_are_not_blosc_buffers_say_why() {
        let blosc = Codec::msgpack_blosc();
        let plain = Codec::msgpack().encode(&[1, 2, 3]).unwrap();
        let cases: [(Vec<u8>, &str); 3] = [
            (plain, "shorter than the 16-byte blosc header"),
            (hostile(100, 40)[..30].to_vec(), "the frame holds 30"),
            (hostile(100, 40), "blosc"),
        ];
        for (payload, says) in cases {
            match blosc.decode_message(&payload) {
                Err(CodecError::Decompress(m)) => assert!(m.contains(says), "{m:?}: {says:?}"),
                other => panic!("expected a decompression error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_message_too_large_to_decompress_is_refused_when_written() {
        let blosc = Codec::msgpack_blosc();
        let mut buf = bytes::BytesMut::from(&b"keep"[..]);
        let err = blosc
            .write_message(&mut buf, 1, super::MsgId::Num(1), &"y".repeat(100), 50)
            .unwrap_err();
        assert!(
            matches!(err, CodecError::FrameTooLarge { len, limit: 50 } if len > 100),
            "{err:?}"
        );
        assert_eq!(&buf[..], b"keep", "nothing is left of the message");
    }
}
