//! The JSON codec, byte-compatible with `aiomas.codecs.JSON` (Python's `json.dumps`).
//!
//! `json.dumps` writes `", "` between items and `": "` after keys, escapes every character
//! outside printable ASCII as `\uXXXX` (`ensure_ascii=True`; surrogate pairs above U+FFFF), and
//! writes floats as Python's `repr` does (`1e+16`, `1.5e-05`, `NaN`, `Infinity`). [`PyFormatter`]
//! makes serde_json write the same bytes. Bytes cannot be sent, as in aiomas.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use bytes::{BufMut, BytesMut};
use serde::de::{DeserializeOwned, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};
use serde_json::value::RawValue;

use super::{MsgId, RawCall, RawMessage};
use crate::error::CodecError;

type Result<T> = std::result::Result<T, CodecError>;

/// A serde_json [`Formatter`] that writes what Python's `json.dumps` writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PyFormatter;

/// The marker of the I/O error that [`PyFormatter`] raises for bytes.
const BYTES_MARKER: &str = "rpc-core: bytes in JSON";

impl Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Python escapes everything outside ' '..='~'; serde_json already escaped what is below ' '.
        let plain = |c: char| c.is_ascii() && c != '\x7f';
        if fragment.chars().all(plain) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if plain(c) {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(w, "\\u{byte:04x}"),
        };
        w.write_all(s)
    }

    fn write_byte_array<W: ?Sized + Write>(&mut self, _w: &mut W, _value: &[u8]) -> io::Result<()> {
        Err(io::Error::other(BYTES_MARKER))
    }
}

/// Formats a float as Python's `repr` (and so `json.dumps`) does.
pub(crate) fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as Python's repr does.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        if exp >= 0 {
            let int_len = exp + 1;
            if n <= int_len {
                format!("{sign}{digits}{}.0", "0".repeat((int_len - n) as usize))
            } else {
                let (a, b) = digits.split_at(int_len as usize);
                format!("{sign}{a}.{b}")
            }
        } else {
            format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let (a, b) = digits.split_at(1);
        let frac = if b.is_empty() {
            String::new()
        } else {
            format!(".{b}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{a}{frac}e{esign}{:02}", exp.abs())
    }
}

fn encode_error(e: serde_json::Error) -> CodecError {
    if e.to_string().contains(BYTES_MARKER) {
        CodecError::BytesInJson
    } else {
        CodecError::Encode(e.to_string())
    }
}

/// Serializes `value` at the end of `buf` as `json.dumps` would.
pub(crate) fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(buf.writer(), PyFormatter);
    value.serialize(&mut ser).map_err(encode_error)
}

/// Writes `[type, id, content]`.
pub(crate) fn write_message<C: Serialize + ?Sized>(
    buf: &mut BytesMut,
    kind: u8,
    id: MsgId<'_>,
    content: &C,
) -> Result<()> {
    buf.put_u8(b'[');
    buf.put_u8(b'0' + kind);
    buf.extend_from_slice(b", ");
    match id {
        MsgId::Num(n) => buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        MsgId::Raw(raw) => buf.extend_from_slice(raw),
    }
    buf.extend_from_slice(b", ");
    encode_into(buf, content)?;
    buf.put_u8(b']');
    Ok(())
}

fn de_error(e: serde_json::Error) -> CodecError {
    if e.to_string().starts_with("recursion limit exceeded") {
        CodecError::TooDeep { limit: 128 }
    } else {
        CodecError::Decode(e.to_string())
    }
}

fn offset_in(buf: &[u8], raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - buf.as_ptr() as usize;
    start..start + raw.get().len()
}

fn json_type_name(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'[') => "array",
        Some(b'{') => "map",
        Some(b'"') => "str",
        Some(b'n') => "nil",
        Some(b't' | b'f') => "bool",
        Some(b'N' | b'I') => "float",
        Some(b'-' | b'0'..=b'9') if raw.contains(['.', 'e', 'E']) => "float",
        Some(b'-' | b'0'..=b'9') => "int",
        _ => "nothing",
    }
}

/// Python's `json` writes `NaN`, `Infinity` and `-Infinity` bare, and serde_json reads none of
/// them. This returns a copy of `buf` in which each of them, outside strings, is replaced by a
/// number of the same length (`0e0`, `0.000000`), so that where values start and end in the
/// copy is where they do in `buf`; `None` when there are none.
fn mask_non_finite(buf: &[u8]) -> Option<Vec<u8>> {
    let mut masked: Option<Vec<u8>> = None;
    let (mut in_str, mut escaped) = (false, false);
    let mut i = 0;
    while i < buf.len() {
        let c = buf[i];
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let with: &[u8] = match c {
            b'"' => {
                in_str = true;
                i += 1;
                continue;
            }
            b'N' if buf[i..].starts_with(b"NaN") => b"0e0",
            b'I' if buf[i..].starts_with(b"Infinity") => b"0.000000",
            _ => {
                i += 1;
                continue;
            }
        };
        masked.get_or_insert_with(|| buf.to_vec())[i..i + with.len()].copy_from_slice(with);
        i += with.len();
    }
    masked
}

/// Cuts a message into `[type, id, content]` without decoding the content.
pub(crate) fn parse_message(buf: &[u8]) -> Result<RawMessage> {
    match parse_message_in(buf) {
        Ok(msg) => Ok(msg),
        Err(e) => match mask_non_finite(buf) {
            // Same offsets: the ranges found in the masked copy hold for `buf`.
            Some(masked) => parse_message_in(&masked).map_err(|_| e),
            None => Err(e),
        },
    }
}

fn parse_message_in(buf: &[u8]) -> Result<RawMessage> {
    let items: Vec<&RawValue> = match serde_json::from_slice::<Vec<&RawValue>>(buf) {
        Ok(items) => items,
        Err(e) if e.is_data() => {
            let got = std::str::from_utf8(buf)
                .map(|s| json_type_name(s.trim_start()))
                .unwrap_or("invalid UTF-8");
            return Err(CodecError::InvalidMessage(format!(
                "expected an array [type, id, content], got {got}"
            )));
        }
        Err(e) => return Err(de_error(e)),
    };
    if items.len() != 3 {
        return Err(CodecError::InvalidMessage(format!(
            "expected an array of 3 elements [type, id, content], got {} elements",
            items.len()
        )));
    }
    let kind: i64 = serde_json::from_str(items[0].get()).map_err(|_| {
        CodecError::InvalidMessage(format!(
            "message type must be an int, got {}",
            json_type_name(items[0].get())
        ))
    })?;
    let id_num = serde_json::from_str::<u64>(items[1].get()).ok();
    Ok(RawMessage {
        kind,
        id: offset_in(buf, items[1]),
        id_num,
        content: offset_in(buf, items[2]),
    })
}

/// Cuts a request's content into `[path, args, kwargs]`.
pub(crate) fn split_request(buf: &[u8], content: Range<usize>) -> Result<RawCall<'_>> {
    let e = match split_request_in(buf, content.clone()) {
        Ok(raw) => return Ok(raw),
        Err(e) => e,
    };
    let Some(masked) = mask_non_finite(&buf[..content.end]) else {
        return Err(e);
    };
    let raw = split_request_in(&masked, content).map_err(|_| e)?;
    // Point the arguments back into `buf`, at the same offsets.
    let base = masked.as_ptr() as usize;
    let in_buf = |s: &[u8]| {
        let start = s.as_ptr() as usize - base;
        &buf[start..start + s.len()]
    };
    let mut args = super::ArgList::new();
    for a in raw.args.iter() {
        args.push(in_buf(a));
    }
    Ok(RawCall {
        path: Cow::Owned(raw.path.into_owned()),
        args,
        kwargs: raw
            .kwargs
            .iter()
            .map(|(k, v)| (Cow::Owned(k.to_string()), in_buf(v)))
            .collect(),
    })
}

fn split_request_in(buf: &[u8], content: Range<usize>) -> Result<RawCall<'_>> {
    let text = std::str::from_utf8(&buf[content.clone()])
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    let err = |m: String| CodecError::InvalidMessage(m);
    let parts: Vec<&RawValue> = serde_json::from_str(text).map_err(|_| {
        err(format!(
            "request content must be [path, args, kwargs], got {}",
            json_type_name(text)
        ))
    })?;
    if parts.len() != 3 {
        return Err(err(format!(
            "request content must be [path, args, kwargs], got an array of {} elements",
            parts.len()
        )));
    }
    let path: Cow<'_, str> = serde_json::from_str(parts[0].get()).map_err(|_| {
        err(format!(
            "request path must be a str, got {}",
            json_type_name(parts[0].get())
        ))
    })?;
    let args: Vec<&RawValue> = serde_json::from_str(parts[1].get()).map_err(|_| {
        err(format!(
            "request args must be an array, got {}",
            json_type_name(parts[1].get())
        ))
    })?;
    let kw_text = parts[2].get();
    if !kw_text.starts_with('{') {
        return Err(err(format!(
            "request kwargs must be a map, got {}",
            json_type_name(kw_text)
        )));
    }
    let mut de = serde_json::Deserializer::from_str(kw_text);
    let kwargs = de.deserialize_map(KwVisitor).map_err(de_error)?;
    Ok(RawCall {
        path,
        args: {
            let mut list = super::ArgList::new();
            for a in args {
                list.push(&buf[offset_in(buf, a)]);
            }
            list
        },
        kwargs: kwargs
            .into_iter()
            .map(|(k, v)| (k, &buf[offset_in(buf, v)]))
            .collect(),
    })
}

struct KwVisitor;

impl<'de> Visitor<'de> for KwVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map of keyword arguments")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            out.push((k, map.next_value()?));
        }
        Ok(out)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> std::result::Result<Self::Value, A::Error> {
        Err(serde::de::Error::custom(
            "request kwargs must be a map, got array",
        ))
    }
}

/// Deserializes a `T` from exactly the bytes of one value.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let e = match serde_json::from_slice(bytes) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let Some(masked) = mask_non_finite(bytes) else {
        return Err(de_error(e));
    };
    // serde_json checks the masked copy's syntax and depth first, so json5, which reads the bare
    // NaN and Infinity, only ever sees well-formed input of bounded depth.
    serde_json::from_slice::<serde::de::IgnoredAny>(&masked).map_err(|_| de_error(e))?;
    let text = std::str::from_utf8(bytes).map_err(|e| CodecError::Decode(e.to_string()))?;
    json5::from_str(text).map_err(|e| CodecError::Decode(e.to_string()))
}
