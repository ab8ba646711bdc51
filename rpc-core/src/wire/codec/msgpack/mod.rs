//! The MsgPack codec, byte-compatible with `aiomas.codecs.MsgPack`.
//!
//! Encoding goes through this crate's own serializer ([`ser`]), straight into the outgoing
//! buffer: `str` as str, bytes as bin, every float as float64, integers in their smallest form
//! (an `i128` too, and one beyond 64 bits is an error), structs as maps in field order, as
//! Python's `msgpack.packb(use_bin_type=True)` writes them.
//!
//! Decoding first walks the message with [`skip`], a non-recursive scanner that finds where each
//! value ends and checks its nesting depth, so that the typed path can decode each argument
//! straight from its bytes and a hostile 100 000-level value is an error, never a stack overflow.

pub(crate) mod ser;

use std::borrow::Cow;
use std::ops::Range;

use bytes::{BufMut, BytesMut};
use serde::de::Deserialize;
use serde::Serialize;

use super::{CodecError, Format, MsgId, RawCall, RawMessage};

type Result<T> = std::result::Result<T, CodecError>;

fn eof() -> CodecError {
    CodecError::Decode("unexpected end of data".into())
}

fn read_be(buf: &[u8], pos: usize, n: usize) -> Result<u64> {
    let bytes = buf.get(pos..pos + n).ok_or_else(eof)?;
    Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// What one msgpack head says.
enum Head {
    /// A scalar or a string/bin/ext whose body follows: `len` more bytes to skip.
    Leaf(usize),
    /// An array or map: `items` more values follow (maps count keys and values).
    Container(u64),
}

/// Reads the head at `pos`; returns its kind and the position after it.
fn head(buf: &[u8], pos: usize) -> Result<(Head, usize)> {
    let m = *buf.get(pos).ok_or_else(eof)?;
    let p = pos + 1;
    Ok(match m {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (Head::Leaf(0), p),
        0x80..=0x8f => (Head::Container(2 * u64::from(m & 0x0f)), p),
        0x90..=0x9f => (Head::Container(u64::from(m & 0x0f)), p),
        0xa0..=0xbf => (Head::Leaf(usize::from(m & 0x1f)), p),
        0xc1 => return Err(CodecError::Decode("invalid msgpack marker 0xc1".into())),
        0xc4 | 0xd9 => (Head::Leaf(read_be(buf, p, 1)? as usize), p + 1),
        0xc5 | 0xda => (Head::Leaf(read_be(buf, p, 2)? as usize), p + 2),
        0xc6 | 0xdb => (Head::Leaf(read_be(buf, p, 4)? as usize), p + 4),
        0xc7 => (Head::Leaf(read_be(buf, p, 1)? as usize + 1), p + 1),
        0xc8 => (Head::Leaf(read_be(buf, p, 2)? as usize + 1), p + 2),
        0xc9 => (Head::Leaf(read_be(buf, p, 4)? as usize + 1), p + 4),
        0xca => (Head::Leaf(4), p),
        0xcb => (Head::Leaf(8), p),
        0xcc | 0xd0 => (Head::Leaf(1), p),
        0xcd | 0xd1 => (Head::Leaf(2), p),
        0xce | 0xd2 => (Head::Leaf(4), p),
        0xcf | 0xd3 => (Head::Leaf(8), p),
        0xd4 => (Head::Leaf(2), p),
        0xd5 => (Head::Leaf(3), p),
        0xd6 => (Head::Leaf(5), p),
        0xd7 => (Head::Leaf(9), p),
        0xd8 => (Head::Leaf(17), p),
        0xdc => (Head::Container(read_be(buf, p, 2)?), p + 2),
        0xdd => (Head::Container(read_be(buf, p, 4)?), p + 4),
        0xde => (Head::Container(2 * read_be(buf, p, 2)?), p + 2),
        0xdf => (Head::Container(2 * read_be(buf, p, 4)?), p + 4),
    })
}

/// Skips the value at `pos` and returns where it ends.
///
/// It never recurses: a stack of counts of values still to skip, one per open container, is
/// the whole state. Nesting deeper than `max_depth` is [`CodecError::TooDeep`].
pub(crate) fn skip(buf: &[u8], mut pos: usize, max_depth: usize) -> Result<usize> {
    // Most arguments and ids are one-byte values: no state needed.
    match buf.get(pos) {
        Some(0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3) => return Ok(pos + 1),
        Some(_) => {}
        None => return Err(eof()),
    }
    // Eight levels inline: the usual message never touches the heap here.
    let mut pending: smallvec::SmallVec<[u64; 8]> = smallvec::SmallVec::new();
    let mut remaining: u64 = 1;
    loop {
        while remaining == 0 {
            match pending.pop() {
                Some(r) => remaining = r,
                None => return Ok(pos),
            }
        }
        remaining -= 1;
        let (h, p) = head(buf, pos)?;
        match h {
            Head::Leaf(len) => {
                pos = p
                    .checked_add(len)
                    .filter(|&e| e <= buf.len())
                    .ok_or_else(eof)?;
            }
            Head::Container(items) => {
                pos = p;
                if items > 0 {
                    if pending.len() + 1 >= max_depth {
                        return Err(CodecError::TooDeep { limit: max_depth });
                    }
                    // Every item takes at least one byte: a count beyond the data is a lie.
                    if items > (buf.len() - pos) as u64 {
                        return Err(eof());
                    }
                    pending.push(remaining);
                    remaining = items;
                }
            }
        }
    }
}

fn read_uint(buf: &[u8], pos: usize) -> Result<Option<(i64, usize)>> {
    let m = *buf.get(pos).ok_or_else(eof)?;
    let p = pos + 1;
    Ok(Some(match m {
        0x00..=0x7f => (i64::from(m), p),
        0xe0..=0xff => (i64::from(m as i8), p),
        0xcc => (read_be(buf, p, 1)? as i64, p + 1),
        0xcd => (read_be(buf, p, 2)? as i64, p + 2),
        0xce => (read_be(buf, p, 4)? as i64, p + 4),
        0xcf => match i64::try_from(read_be(buf, p, 8)?) {
            Ok(v) => (v, p + 8),
            Err(_) => return Ok(None),
        },
        0xd0 => (i64::from(read_be(buf, p, 1)? as u8 as i8), p + 1),
        0xd1 => (i64::from(read_be(buf, p, 2)? as u16 as i16), p + 2),
        0xd2 => (i64::from(read_be(buf, p, 4)? as u32 as i32), p + 4),
        0xd3 => (read_be(buf, p, 8)? as i64, p + 8),
        _ => return Ok(None),
    }))
}

/// The array length at `pos` and the position after the head, or `None` if it is no array.
fn read_array_len(buf: &[u8], pos: usize) -> Result<Option<(usize, usize)>> {
    let m = *buf.get(pos).ok_or_else(eof)?;
    Ok(match m {
        0x90..=0x9f => Some((usize::from(m & 0x0f), pos + 1)),
        0xdc => Some((read_be(buf, pos + 1, 2)? as usize, pos + 3)),
        0xdd => Some((read_be(buf, pos + 1, 4)? as usize, pos + 5)),
        _ => None,
    })
}

fn read_map_len(buf: &[u8], pos: usize) -> Result<Option<(usize, usize)>> {
    let m = *buf.get(pos).ok_or_else(eof)?;
    Ok(match m {
        0x80..=0x8f => Some((usize::from(m & 0x0f), pos + 1)),
        0xde => Some((read_be(buf, pos + 1, 2)? as usize, pos + 3)),
        0xdf => Some((read_be(buf, pos + 1, 4)? as usize, pos + 5)),
        _ => None,
    })
}

/// The str at `pos` (its bytes' range) and the position after it, or `None` if it is no str.
fn read_str(buf: &[u8], pos: usize) -> Result<Option<(&str, usize)>> {
    let m = *buf.get(pos).ok_or_else(eof)?;
    let (len, start) = match m {
        0xa0..=0xbf => (usize::from(m & 0x1f), pos + 1),
        0xd9 => (read_be(buf, pos + 1, 1)? as usize, pos + 2),
        0xda => (read_be(buf, pos + 1, 2)? as usize, pos + 3),
        0xdb => (read_be(buf, pos + 1, 4)? as usize, pos + 5),
        _ => return Ok(None),
    };
    let bytes = buf.get(start..start + len).ok_or_else(eof)?;
    let s = std::str::from_utf8(bytes)
        .map_err(|e| CodecError::Decode(format!("str is not valid UTF-8: {e}")))?;
    Ok(Some((s, start + len)))
}

/// A name for the type of the value at `pos`, for error messages.
fn type_name_at(buf: &[u8], pos: usize) -> &'static str {
    match buf.get(pos) {
        None => "nothing",
        Some(0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3) => "int",
        Some(0x80..=0x8f | 0xde | 0xdf) => "map",
        Some(0x90..=0x9f | 0xdc | 0xdd) => "array",
        Some(0xa0..=0xbf | 0xd9..=0xdb) => "str",
        Some(0xc0) => "nil",
        Some(0xc2 | 0xc3) => "bool",
        Some(0xc4..=0xc6) => "bin",
        Some(0xca | 0xcb) => "float",
        Some(_) => "ext",
    }
}

/// Cuts a message into `[type, id, content]` without decoding the content.
///
/// With `check_content` the content is walked too (nesting depth, truncation, trailing bytes);
/// without it, the content is taken to run to the end of the payload, and whoever decodes it
/// finds what is wrong with it.
fn parse_message(buf: &[u8], max_depth: usize, check_content: bool) -> Result<RawMessage> {
    let Some((n, pos)) = read_array_len(buf, 0)? else {
        return Err(CodecError::InvalidMessage(format!(
            "expected an array [type, id, content], got {}",
            type_name_at(buf, 0)
        )));
    };
    if n != 3 {
        return Err(CodecError::InvalidMessage(format!(
            "expected an array of 3 elements [type, id, content], got {n} elements"
        )));
    }
    let Some((kind, id_start)) = read_uint(buf, pos)? else {
        return Err(CodecError::InvalidMessage(format!(
            "message type must be an int, got {}",
            type_name_at(buf, pos)
        )));
    };
    let id_end = skip(buf, id_start, max_depth)?;
    let id_num = match read_uint(buf, id_start)? {
        Some((v, end)) if end == id_end => u64::try_from(v).ok(),
        _ => match buf.get(id_start) {
            Some(0xcf) => Some(read_be(buf, id_start + 1, 8)?),
            _ => None,
        },
    };
    if id_end >= buf.len() {
        return Err(eof());
    }
    let msg = RawMessage {
        kind,
        id: id_start..id_end,
        id_num,
        content: id_end..buf.len(),
    };
    if check_content {
        check_message_content(buf, &msg, max_depth)?;
    }
    Ok(msg)
}

/// Walks the content of a message cut by [`parse_message`] without checking it: its nesting
/// depth, that it is whole, and that nothing follows it.
fn check_message_content(buf: &[u8], msg: &RawMessage, max_depth: usize) -> Result<()> {
    let content_end = skip(buf, msg.content.start, max_depth).map_err(|e| {
        CodecError::InvalidMessage(format!(
            "{e} (in the content of message {})",
            msg.id_num
                .map_or_else(|| "with a non-integer id".to_owned(), |i| format!("id {i}"))
        ))
    })?;
    if content_end != buf.len() {
        return Err(CodecError::InvalidMessage(format!(
            "{} trailing bytes after the message",
            buf.len() - content_end
        )));
    }
    Ok(())
}

/// Cuts a request's content into `[path, args, kwargs]`.
fn split_request(buf: &[u8], content: Range<usize>, max_depth: usize) -> Result<RawCall<'_>> {
    let buf = &buf[..content.end];
    let pos = content.start;
    let err = |msg: String| CodecError::InvalidMessage(msg);
    let Some((n, mut pos)) = read_array_len(buf, pos)? else {
        return Err(err(format!(
            "request content must be [path, args, kwargs], got {}",
            type_name_at(buf, pos)
        )));
    };
    if n != 3 {
        return Err(err(format!(
            "request content must be [path, args, kwargs], got an array of {n} elements"
        )));
    }
    let Some((path, p)) = read_str(buf, pos)? else {
        return Err(err(format!(
            "request path must be a str, got {}",
            type_name_at(buf, pos)
        )));
    };
    pos = p;
    let Some((nargs, p)) = read_array_len(buf, pos)? else {
        return Err(err(format!(
            "request args must be an array, got {}",
            type_name_at(buf, pos)
        )));
    };
    pos = p;
    let mut args = super::ArgList::new();
    for _ in 0..nargs {
        let end = skip(buf, pos, max_depth)?;
        args.push(&buf[pos..end]);
        pos = end;
    }
    let Some((nkw, p)) = read_map_len(buf, pos)? else {
        return Err(err(format!(
            "request kwargs must be a map, got {}",
            type_name_at(buf, pos)
        )));
    };
    pos = p;
    let mut kwargs = Vec::with_capacity(nkw.min(64));
    for _ in 0..nkw {
        let Some((key, p)) = read_str(buf, pos)? else {
            return Err(CodecError::InvalidMessage(format!(
                "keywords must be strings, got {}",
                type_name_at(buf, pos)
            )));
        };
        let end = skip(buf, p, max_depth)?;
        kwargs.push((Cow::Borrowed(key), &buf[p..end]));
        pos = end;
    }
    if pos != buf.len() {
        return Err(CodecError::InvalidMessage(format!(
            "{} trailing bytes after the message",
            buf.len() - pos
        )));
    }
    Ok(RawCall {
        path: Cow::Borrowed(path),
        args,
        kwargs,
    })
}

/// Deserializes a `T` from exactly the bytes of one value, borrowing from them where `T` borrows.
fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(max_depth);
    T::deserialize(&mut de).map_err(|e| match e {
        rmp_serde::decode::Error::DepthLimitExceeded => CodecError::TooDeep { limit: max_depth },
        e => CodecError::Decode(e.to_string()),
    })
}

/// Why joining values cut from one frame cannot overflow msgpack's 32-bit lengths.
const FEWER_THAN_2_32: &str = "values cut from one frame are fewer and shorter than 2**32";

/// The MsgPack format (`aiomas.codecs.MsgPack`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MsgPack;

impl Format for MsgPack {
    const NIL: &'static [u8] = b"\xc0";

    fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<()> {
        ser::encode_into(buf, value)
    }

    fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
        decode(bytes, max_depth)
    }

    fn decode_whole<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
        let end = skip(bytes, 0, max_depth)?;
        if end != bytes.len() {
            return Err(CodecError::Decode(format!(
                "{} trailing bytes after the value",
                bytes.len() - end
            )));
        }
        decode(bytes, max_depth)
    }

    fn write_message<C: Serialize + ?Sized>(
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
    ) -> Result<()> {
        buf.put_u8(0x93);
        buf.put_u8(kind);
        match id {
            MsgId::Num(n) => ser::write_uint(buf, n),
            MsgId::Raw(raw) => buf.extend_from_slice(raw),
        }
        ser::encode_into(buf, content)
    }

    fn parse_message(payload: &[u8], max_depth: usize, check_content: bool) -> Result<RawMessage> {
        parse_message(payload, max_depth, check_content)
    }

    fn check_content(payload: &[u8], msg: &RawMessage, max_depth: usize) -> Result<()> {
        check_message_content(payload, msg, max_depth)
    }

    fn split_request(
        payload: &[u8],
        content: Range<usize>,
        max_depth: usize,
    ) -> Result<RawCall<'_>> {
        split_request(payload, content, max_depth)
    }

    fn salvage_request_id(payload: &[u8]) -> Option<Range<usize>> {
        let (n, mut pos) = match *payload.first()? {
            m @ 0x90..=0x9f => (usize::from(m & 0x0f), 1),
            0xdc => (
                usize::from(u16::from_be_bytes([*payload.get(1)?, *payload.get(2)?])),
                3,
            ),
            _ => return None,
        };
        if n < 2 || *payload.get(pos)? != 0 {
            return None;
        }
        pos += 1;
        let end = skip(payload, pos, 8).ok()?;
        Some(pos..end)
    }

    fn write_array(buf: &mut BytesMut, items: &[&[u8]]) {
        ser::write_array_len(buf, items.len()).expect(FEWER_THAN_2_32);
        for item in items {
            buf.extend_from_slice(item);
        }
    }

    fn write_map(buf: &mut BytesMut, items: &[(Cow<'_, str>, &[u8])]) {
        ser::write_map_len(buf, items.len()).expect(FEWER_THAN_2_32);
        for (k, v) in items {
            ser::write_str(buf, k).expect(FEWER_THAN_2_32);
            buf.extend_from_slice(v);
        }
    }
}
