//! Every codec's decoding of a message and of a value.
//!
//! Input: `[options, payload...]`. `options` picks the codec (bit 0: MsgPack or JSON; bit 4:
//! MsgPackBlosc, whatever bit 0 says, so that its payloads are blosc buffers that decompress,
//! through c-blosc, before MsgPack reads them), whether a custom type is registered (bit 1, so
//! that `{"__type__": [0, ...]}` envelopes are known) and the maximum depth (bits 2 and 3).
//! Decoding may fail; it must not panic, and what decodes must encode again into bytes that
//! decode and encode to the same bytes.

use rpc_core::wire::codec::DEFAULT_MAX_DEPTH;
use rpc_core::{Codec, Value};

/// The codec that option byte `b` selects.
pub fn codec(b: u8) -> Codec {
    let codec = if b & 0x10 != 0 {
        Codec::msgpack_blosc()
    } else if b & 1 == 0 {
        Codec::msgpack()
    } else {
        Codec::json()
    };
    let codec = if b & 2 != 0 {
        codec.register::<()>()
    } else {
        codec
    };
    codec.with_max_depth(match (b >> 2) & 3 {
        0 => DEFAULT_MAX_DEPTH,
        1 => 2,
        2 => 5,
        _ => 32,
    })
}

/// Runs the target on one input.
///
/// # Panics
/// When decoding panics, or a decoded message or value does not survive encoding again.
pub fn run(data: &[u8]) {
    let [options, payload @ ..] = data else {
        return;
    };
    let codec = codec(*options);
    if let Ok(msg) = codec.decode_message(payload) {
        // Only ids that are unsigned integers can be written again (as aiomas writes them).
        if let Some(id) = msg.id.as_u64() {
            if let Ok(once) = codec.encode_message(msg.kind, id, &msg.content) {
                let again = codec
                    .decode_message(&once)
                    .unwrap_or_else(|e| panic!("a re-encoded message does not decode: {e}"));
                assert_eq!(again.kind, msg.kind);
                assert_eq!(again.id.as_u64(), Some(id));
                let twice = codec
                    .encode_message(again.kind, id, &again.content)
                    .expect("a decoded message does not encode again");
                assert_eq!(once, twice, "encoding is not stable across a round trip");
            }
        }
    }
    if let Ok(value) = codec.decode::<Value>(payload) {
        if let Ok(once) = codec.encode(&value) {
            let again: Value = codec
                .decode(&once)
                .unwrap_or_else(|e| panic!("a re-encoded value does not decode: {e}"));
            let twice = codec
                .encode(&again)
                .expect("a decoded value does not encode again");
            assert_eq!(once, twice, "encoding is not stable across a round trip");
        }
    }
}
