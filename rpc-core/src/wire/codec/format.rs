//! The interface each format (MsgPack, JSON, MsgPackBlosc) implements for [`Codec`](super::Codec).

use std::borrow::Cow;
use std::ops::Range;

use bytes::BytesMut;
use serde::{Deserialize, Serialize};

use super::{MsgId, ParsedRequest, RawCall, RawMessage, REQUEST};
use crate::wire::CodecError;

/// What one format knows: everything above this module goes through [`Codec`](super::Codec),
/// which picks the format in one place (`with_format!` in `codec/mod.rs`).
pub(crate) trait Format {
    /// The encoded `nil` (what a parameter that was left out decodes from).
    const NIL: &'static [u8];
    /// Serializes `value` at the end of `buf`.
    fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<(), CodecError>;
    /// Deserializes a `T` from exactly the bytes of one value, already cut, borrowing from them
    /// where `T` borrows.
    fn decode<'de, T: Deserialize<'de>>(
        bytes: &'de [u8],
        max_depth: usize,
    ) -> Result<T, CodecError>;
    /// Deserializes a `T` from bytes that should hold one value and nothing after it.
    fn decode_whole<'de, T: Deserialize<'de>>(
        bytes: &'de [u8],
        max_depth: usize,
    ) -> Result<T, CodecError>;
    /// Writes `[type, id, content]`.
    fn write_message<C: Serialize + ?Sized>(
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
    ) -> Result<(), CodecError>;
    /// Cuts a message into `[type, id, content]`; with `check_content`, walks the content too.
    fn parse_message(
        payload: &[u8],
        max_depth: usize,
        check_content: bool,
    ) -> Result<RawMessage, CodecError>;
    /// Walks the content of a message that [`parse_message`](Self::parse_message) did not check.
    fn check_content(payload: &[u8], msg: &RawMessage, max_depth: usize) -> Result<(), CodecError>;
    /// Cuts a request's content into `[path, args, kwargs]`.
    fn split_request(
        payload: &[u8],
        content: Range<usize>,
        max_depth: usize,
    ) -> Result<RawCall<'_>, CodecError>;
    /// A whole request, cut in one pass: where its id is, where its content is, and the content
    /// cut into `[path, args, kwargs]`. `None` for anything else (a reply, or a request with
    /// anything wrong in it), which then goes the general way, [`parse_message`] (checked) and
    /// [`split_request`], to be read or answered with the exact error: so this must accept
    /// exactly the requests that those two accept, and cut them the same.
    ///
    /// [`parse_message`]: Self::parse_message
    /// [`split_request`]: Self::split_request
    fn parse_request(payload: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        let msg = Self::parse_message(payload, max_depth, true).ok()?;
        if msg.kind != i64::from(REQUEST) {
            return None;
        }
        let call = Self::split_request(payload, msg.content.clone(), max_depth).ok()?;
        Some(ParsedRequest {
            id: msg.id,
            content: msg.content,
            call,
        })
    }
    /// Whether decoding `bytes` (one encoded value) may look at the codec scope or the frame:
    /// for a `__type__` envelope (a registered type, a service reference), a `Blob` sharing the
    /// frame, or values that read differently where the codec is human-readable. `true` unless
    /// the format can tell cheaply that none of these can occur; a false `true` only costs
    /// entering the scope.
    fn may_need_scope(_bytes: &[u8]) -> bool {
        true
    }
    /// The id of a malformed message that looks like a request (`[0, id, ...]`), if readable.
    fn salvage_request_id(payload: &[u8]) -> Option<Range<usize>>;
    /// Writes already-encoded values as one array.
    fn write_array(buf: &mut BytesMut, items: &[&[u8]]);
    /// Writes already-encoded values under string keys as one map.
    fn write_map(buf: &mut BytesMut, items: &[(Cow<'_, str>, &[u8])]);

    /// Whether whole payloads (a message, or a value encoded alone) are compressed, as by
    /// aiomas's `MsgPackBlosc`. The methods above then read and write the plain bytes, and
    /// [`seal`](Self::seal) and [`open`](Self::open) compress and decompress a whole payload.
    /// A constant, so that the formats that do not compress pay nothing for it.
    const COMPRESSED: bool = false;
    /// Compresses a whole plain payload onto the end of `out` (a copy for formats that do not
    /// compress; [`Codec`](super::Codec) calls it only when [`COMPRESSED`](Self::COMPRESSED)).
    fn seal(plain: &[u8], out: &mut BytesMut) -> Result<(), CodecError> {
        out.extend_from_slice(plain);
        Ok(())
    }
    /// Deserializes a `T` from the whole of a decompressed payload, which `T` cannot borrow from
    /// (it is dropped afterwards): only asked of formats that are
    /// [`COMPRESSED`](Self::COMPRESSED).
    fn decode_whole_detached<'de, T: Deserialize<'de>>(
        _plain: &[u8],
        _max_depth: usize,
    ) -> Result<T, CodecError> {
        Err(CodecError::Decode(
            "this format does not compress; its payloads are decoded in place".to_owned(),
        ))
    }
    /// The plain bytes of a received payload, or `None` when the payload is plain already. A
    /// payload that would decompress to more than `max_len` bytes is refused before anything is
    /// allocated for it.
    fn open(_payload: &[u8], _max_len: usize) -> Result<Option<Vec<u8>>, CodecError> {
        Ok(None)
    }
}
