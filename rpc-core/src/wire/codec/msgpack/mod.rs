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

use super::{CodecError, Format, MsgId, ParsedRequest, RawCall, RawMessage};

type Result<T> = std::result::Result<T, CodecError>;

fn eof() -> CodecError {
    CodecError::Decode("unexpected end of data".into())
}

#[inline]
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
#[inline(always)]
pub(crate) fn skip(buf: &[u8], pos: usize, max_depth: usize) -> Result<usize> {
    // Most arguments and ids are numbers of a fixed length: no state needed, and no call.
    let end = match buf.get(pos) {
        Some(0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3) => pos + 1,
        Some(0xcc | 0xd0) => pos + 2,
        Some(0xcd | 0xd1) => pos + 3,
        Some(0xce | 0xd2 | 0xca) => pos + 5,
        Some(0xcf | 0xd3 | 0xcb) => pos + 9,
        Some(0x80..=0x9f | 0xdc..=0xdf) => return skip_nested(buf, pos, max_depth),
        Some(_) => return skip_leaf(buf, pos),
        None => return Err(eof()),
    };
    if end <= buf.len() {
        Ok(end)
    } else {
        Err(eof())
    }
}

/// [`skip`] for a value that holds no others (a number, str, bin or ext).
fn skip_leaf(buf: &[u8], pos: usize) -> Result<usize> {
    match head(buf, pos)? {
        (Head::Leaf(len), p) => p
            .checked_add(len)
            .filter(|&e| e <= buf.len())
            .ok_or_else(eof),
        (Head::Container(_), _) => skip_nested(buf, pos, usize::MAX),
    }
}

/// [`skip`] for a value longer than its first byte.
fn skip_nested(buf: &[u8], mut pos: usize, max_depth: usize) -> Result<usize> {
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

#[inline]
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
#[inline]
fn read_array_len(buf: &[u8], pos: usize) -> Result<Option<(usize, usize)>> {
    let m = *buf.get(pos).ok_or_else(eof)?;
    Ok(match m {
        0x90..=0x9f => Some((usize::from(m & 0x0f), pos + 1)),
        0xdc => Some((read_be(buf, pos + 1, 2)? as usize, pos + 3)),
        0xdd => Some((read_be(buf, pos + 1, 4)? as usize, pos + 5)),
        _ => None,
    })
}

#[inline]
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
#[inline]
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
    if !check_content {
        if let Some(msg) = cut_message(buf) {
            return Ok(msg);
        }
    }
    parse_message_explained(buf, max_depth, check_content)
}

/// [`parse_message`] without the content check, in one [`Cursor`] walk: `None` for anything
/// it would refuse (then [`parse_message_explained`] says why).
#[inline]
fn cut_message(buf: &[u8]) -> Option<RawMessage> {
    let mut c = Cursor { buf, pos: 0 };
    if c.array_len()? != 3 {
        return None;
    }
    let kind = match c.peek()? {
        m @ 0x00..=0x7f => {
            c.pos += 1;
            i64::from(m)
        }
        _ => return None,
    };
    let id_start = c.pos;
    let id_num = match c.peek()? {
        m @ 0x00..=0x7f => {
            c.pos += 1;
            Some(u64::from(m))
        }
        0xcc => Some(c.len_after_marker(1)? as u64),
        0xcd => Some(c.len_after_marker(2)? as u64),
        0xce => Some(c.len_after_marker(4)? as u64),
        _ => return None,
    };
    if c.pos >= buf.len() {
        return None;
    }
    Some(RawMessage {
        kind,
        id: id_start..c.pos,
        id_num,
        content: c.pos..buf.len(),
    })
}

/// [`parse_message`], every case and every error.
fn parse_message_explained(
    buf: &[u8],
    max_depth: usize,
    check_content: bool,
) -> Result<RawMessage> {
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

/// A valid request `[0, id, [path, args, kwargs]]` cut in one walk; `None` for anything else
/// (see [`Format::parse_request`]).
///
/// It accepts what [`parse_message`] with its content check and [`split_request`] accept
/// together, and nothing more: the content's walk limits the depth of the whole content, which
/// puts each argument and keyword value two levels down (inside the content and its args
/// array or kwargs map), so each is walked with two levels fewer.
fn parse_request(buf: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
    // Under two levels the content itself nests too deep; under three, any argument does (the
    // args array or kwargs map holding it is one level too many): the general path says so.
    let arg_depth = max_depth.checked_sub(2)?;
    let mut c = Cursor { buf, pos: 0 };
    if c.array_len()? != 3 {
        return None;
    }
    // The type: 0, as a positive fixint (as every peer writes it) or in a longer form.
    match c.peek()? {
        0 => c.pos += 1,
        _ => match read_uint(buf, c.pos).ok()?? {
            (0, end) => c.pos = end,
            _ => return None,
        },
    }
    let id_start = c.pos;
    c.skip(max_depth)?;
    let id_end = c.pos;
    if c.array_len()? != 3 {
        return None;
    }
    let path = c.str()?;
    let nargs = c.array_len()?;
    if nargs > 0 && arg_depth == 0 {
        return None;
    }
    let mut args = super::ArgList::new();
    for _ in 0..nargs {
        let start = c.pos;
        c.skip(arg_depth)?;
        args.push(&buf[start..c.pos]);
    }
    let nkw = c.map_len()?;
    let mut kwargs = Vec::new();
    if nkw > 0 {
        if arg_depth == 0 {
            return None;
        }
        kwargs.reserve(nkw.min(64));
        for _ in 0..nkw {
            let key = c.str()?;
            let start = c.pos;
            c.skip(arg_depth)?;
            kwargs.push((Cow::Borrowed(key), &buf[start..c.pos]));
        }
    }
    if c.pos != buf.len() {
        return None;
    }
    Some(ParsedRequest {
        id: id_start..id_end,
        content: id_end..buf.len(),
        call: RawCall {
            path: Cow::Borrowed(path),
            args,
            kwargs,
        },
    })
}

/// The longest value [`may_need_scope`] looks into; a longer one is decoded in the scope.
const SCOPE_FREE_MAX: usize = 64;

/// Whether decoding the value `bytes` may need the codec scope or the frame. In MsgPack only a
/// map (a `__type__` envelope: a registered type or a service reference), a bin (a `Blob` that
/// shares the frame) or an ext can; their markers are 0x80-0x8f, 0xde-0xdf, 0xc4-0xc9 and
/// 0xd4-0xd8, and a value that holds one holds its marker byte. So a short value none of whose
/// bytes is such a marker certainly needs neither; one where such a byte occurs inside a
/// number or a str merely takes the scope needlessly. (MsgPack is not human-readable, with a
/// scope or without.)
#[inline]
fn may_need_scope(bytes: &[u8]) -> bool {
    bytes.len() > SCOPE_FREE_MAX
        || bytes
            .iter()
            .any(|&b| matches!(b, 0x80..=0x8f | 0xde | 0xdf | 0xc4..=0xc9 | 0xd4..=0xd8))
}

/// A position in a message for [`parse_request`]'s one walk: each step reads one head and
/// moves past it, or says `None` (anything unexpected, which the general path then explains).
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// `n` big-endian bytes after the marker, as a length; moves past marker and length.
    #[inline(always)]
    fn len_after_marker(&mut self, n: usize) -> Option<usize> {
        let bytes = self.buf.get(self.pos + 1..self.pos + 1 + n)?;
        self.pos += 1 + n;
        Some(
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
        )
    }

    #[inline(always)]
    fn array_len(&mut self) -> Option<usize> {
        match self.peek()? {
            m @ 0x90..=0x9f => {
                self.pos += 1;
                Some(usize::from(m & 0x0f))
            }
            0xdc => self.len_after_marker(2),
            0xdd => self.len_after_marker(4),
            _ => None,
        }
    }

    #[inline(always)]
    fn map_len(&mut self) -> Option<usize> {
        match self.peek()? {
            m @ 0x80..=0x8f => {
                self.pos += 1;
                Some(usize::from(m & 0x0f))
            }
            0xde => self.len_after_marker(2),
            0xdf => self.len_after_marker(4),
            _ => None,
        }
    }

    #[inline(always)]
    fn str(&mut self) -> Option<&'a str> {
        let len = match self.peek()? {
            m @ 0xa0..=0xbf => {
                self.pos += 1;
                usize::from(m & 0x1f)
            }
            0xd9 => self.len_after_marker(1)?,
            0xda => self.len_after_marker(2)?,
            0xdb => self.len_after_marker(4)?,
            _ => return None,
        };
        let bytes = self.buf.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        std::str::from_utf8(bytes).ok()
    }

    /// Moves past one value, whose containers may nest `max_depth` deep (as [`skip`]).
    #[inline(always)]
    fn skip(&mut self, max_depth: usize) -> Option<()> {
        self.pos = skip(self.buf, self.pos, max_depth).ok()?;
        Some(())
    }
}

/// Deserializes a `T` from exactly the bytes of one value, borrowing from them where `T` borrows.
fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(max_depth);
    T::deserialize(&mut de).map_err(|e| match e {
        rmp_serde::decode::Error::DepthLimitExceeded => CodecError::TooDeep { limit: max_depth },
        rmp_serde::decode::Error::TypeMismatch(marker) => CodecError::Decode(format!(
            "invalid type: {}, expected {}",
            type_name_at(&[marker.to_u8()], 0),
            short_type_name(std::any::type_name::<T>())
        )),
        e => CodecError::Decode(e.to_string()),
    })
}

/// A type's name without module paths: `Vec<i64>` for `alloc::vec::Vec<i64>`.
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out + &segment
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

    #[inline]
    fn parse_request(payload: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        parse_request(payload, max_depth)
    }

    #[inline]
    fn may_need_scope(bytes: &[u8]) -> bool {
        may_need_scope(bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general path makes of `buf`: the request cut by a checked `parse_message` and
    /// `split_request`, or `None` when either refuses it or it is no request.
    fn general(buf: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        let msg = parse_message(buf, max_depth, true).ok()?;
        if msg.kind != 0 {
            return None;
        }
        let call = split_request(buf, msg.content.clone(), max_depth).ok()?;
        Some(ParsedRequest {
            id: msg.id,
            content: msg.content,
            call,
        })
    }

    fn same(a: &Option<ParsedRequest<'_>>, b: &Option<ParsedRequest<'_>>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.id == b.id && a.content == b.content && a.call == b.call,
            _ => false,
        }
    }

    /// A value of the wrong type is named by its kind and the type wanted, as serde's own
    /// errors (and the JSON codec's) name them, not by rmp's marker.
    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_kind() {
        use serde::Serialize;
        fn enc<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
            let mut b = BytesMut::new();
            ser::encode_into(&mut b, v).unwrap();
            b.to_vec()
        }
        let cases: [(Vec<u8>, &str); 7] = [
            (enc(&"one"), "str"),
            (enc(&"x".repeat(40)), "str"),
            (enc(&true), "bool"),
            (enc(&()), "nil"),
            (enc(&[1, 2]), "array"),
            (enc(&serde_bytes::Bytes::new(b"ab")), "bin"),
            (vec![0xd4, 1, 0], "ext"),
        ];
        for (bytes, kind) in cases {
            let err = decode::<i64>(&bytes, 8).unwrap_err().to_string();
            let serde_words = match kind {
                "bool" => "boolean `true`".to_owned(),
                "nil" => "unit value".to_owned(),
                k => k.to_owned(),
            };
            assert!(
                err.contains(&format!("invalid type: {serde_words}, expected i64")),
                "{bytes:02x?}: {err}"
            );
        }
        assert_eq!(
            short_type_name("alloc::vec::Vec<core::option::Option<i64>>"),
            "Vec<Option<i64>>"
        );
        assert_eq!(
            short_type_name("(i64, alloc::string::String)"),
            "(i64, String)"
        );
    }

    /// Only values that hold a map, a bin or an ext may need the scope; a short value of
    /// numbers, strs, bools and arrays of them never does.
    #[test]
    fn values_without_maps_bins_or_exts_need_no_scope() {
        use serde::Serialize;
        fn enc<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
            let mut b = BytesMut::new();
            ser::encode_into(&mut b, v).unwrap();
            b.to_vec()
        }
        for free in [
            enc(&3),
            enc(&-70_000i64),
            enc(&"a str"),
            enc(&(1, true, 2.5)),
            enc(&()),
        ] {
            assert!(!may_need_scope(&free), "{free:02x?}");
        }
        let envelope = {
            let mut m = std::collections::BTreeMap::new();
            m.insert("__type__", (0, 1));
            enc(&m)
        };
        let ext = vec![0xd4, 0x01, 0x00];
        let bin = enc(&serde_bytes::Bytes::new(b"xyz"));
        let long = enc(&vec![1; SCOPE_FREE_MAX]);
        for needs in [&envelope, &bin, &ext, &long] {
            assert!(may_need_scope(needs), "{needs:02x?}");
        }
        // A marker byte inside a number only costs entering the scope needlessly.
        assert!(may_need_scope(&enc(&0x85u8)));
    }

    /// The one-pass cut accepts exactly the requests that the general path accepts, and cuts
    /// them the same (and the quick cut of any message agrees with the general one): checked over requests of every shape, each cut short at every length and
    /// with every byte replaced by each of a set of markers, at depth limits from 1 to 8.
    #[test]
    fn one_pass_request_parse_agrees_with_the_general_path() {
        let seeds: Vec<Vec<u8>> = vec![
            // [0, 7, ["add", [1, 2], {}]]
            vec![
                0x93, 0x00, 0x07, 0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x01, 0x02, 0x80,
            ],
            // [0, 300, ["a/b", [[1, [2]], "x"], {"k": {"z": nil}}]]
            vec![
                0x93, 0x00, 0xcd, 0x01, 0x2c, 0x93, 0xa3, b'a', b'/', b'b', 0x92, 0x92, 0x01, 0x91,
                0x02, 0xa1, b'x', 0x81, 0xa1, b'k', 0x81, 0xa1, b'z', 0xc0,
            ],
            // [0, "id", ["", [], {"a": 1, "b": [true]}]]: a str id, keywords only
            vec![
                0x93, 0x00, 0xa2, b'i', b'd', 0x93, 0xa0, 0x90, 0x82, 0xa1, b'a', 0x01, 0xa1, b'b',
                0x91, 0xc3,
            ],
            // [0, 1, ["f", array16 [1], map16 {}]], [0xcc 0 (type 0 in two bytes), ...]
            vec![
                0x93, 0x00, 0x01, 0x93, 0xa1, b'f', 0xdc, 0x00, 0x01, 0x01, 0xde, 0x00, 0x00,
            ],
            vec![0x93, 0xcc, 0x00, 0x01, 0x93, 0xa1, b'f', 0x90, 0x80],
            // a reply: [1, 1, 5]
            vec![0x93, 0x01, 0x01, 0x05],
        ];
        let markers = [
            0x00, 0x01, 0x7f, 0x80, 0x81, 0x90, 0x91, 0x93, 0xa0, 0xa1, 0xc0, 0xc1, 0xc3, 0xcc,
            0xcd, 0xca, 0xcb, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,
            0xde, 0xdf, 0xc4, 0xff,
        ];
        let (mut checked, mut cut) = (0, 0);
        for seed in &seeds {
            let mut variants = vec![seed.clone()];
            for len in 0..seed.len() {
                variants.push(seed[..len].to_vec());
            }
            for at in 0..seed.len() {
                for &m in &markers {
                    let mut v = seed.clone();
                    v[at] = m;
                    variants.push(v);
                }
            }
            let mut longer = seed.clone();
            longer.push(0xc0);
            variants.push(longer);
            for v in &variants {
                for depth in (1..=8).chain([64]) {
                    let fast = parse_request(v, depth);
                    let slow = general(v, depth);
                    assert!(
                        same(&fast, &slow),
                        "{v:02x?} at depth {depth}: one pass {fast:?}, general {slow:?}"
                    );
                    checked += usize::from(slow.is_some());
                    // The quick cut of any message, where it cuts one, cuts it as the general
                    // parse does.
                    if let Some(quick) = cut_message(v) {
                        let general = parse_message_explained(v, depth, false);
                        assert_eq!(Ok(&quick), general.as_ref(), "{v:02x?} at depth {depth}");
                        cut += 1;
                    }
                }
            }
        }
        // Not vacuous: many of the variants are valid requests.
        assert!(checked > 100, "only {checked} variants were valid requests");
        assert!(cut > 100, "only {cut} variants were cut quickly");
    }
}
