//! The JSON codec, byte-compatible with `aiomas.codecs.JSON` (Python's `json.dumps`).
//!
//! `json.dumps` writes `", "` between items and `": "` after keys, escapes every character
//! outside printable ASCII as `\uXXXX` (`ensure_ascii=True`; surrogate pairs above U+FFFF), and
//! writes floats as Python's `repr` does (`1e+16`, `1.5e-05`, `NaN`, `Infinity`). `write.rs` makes
//! serde_json write the same bytes, for typed `f32`/`f64` NaN and infinities at any depth too.
//! Integers up to 128 bits are written with every digit. Bytes cannot be sent, as in aiomas.
//!
//! Reading goes through one reader (`read/`) with Python's rules, for cutting messages and
//! for decoding alike: `NaN`, `Infinity` and `-Infinity` are numbers, a float is rounded to the
//! nearest double (`1e400` is infinity), integers keep every digit up to 128 bits and are refused
//! beyond, and nesting is bounded by the codec's depth limit.

mod read;
mod write;

/// Hooks into the JSON reader for the tests crate's Python cross-checks and for the benchmarks
/// (feature `__bench`): not a public API, and not semver-stable.
#[cfg(feature = "__bench")]
pub mod hooks {
    /// Reads exactly one JSON value from `bytes`, as the codec reads any JSON it is given;
    /// the error is the reader's message.
    pub fn from_slice<T: serde::de::DeserializeOwned>(
        bytes: &[u8],
        max_depth: usize,
    ) -> Result<T, String> {
        super::read::from_slice(bytes, max_depth).map_err(|e| e.to_string())
    }

    /// Where the JSON value at the start of `bytes` begins and ends, as the codec's message
    /// cutter finds it (whitespace skipped in front, not behind).
    pub fn skip_value(bytes: &[u8], max_depth: usize) -> Result<(usize, usize), String> {
        super::read::skip_value(bytes, 0, max_depth).map_err(|e| e.to_string())
    }

    /// Whether the message cutter takes the whole of `bytes` as one value (whitespace around
    /// it allowed): what [`from_slice`] accepts, it must accept too.
    pub fn skips_whole(bytes: &[u8], max_depth: usize) -> bool {
        matches!(skip_value(bytes, max_depth), Ok((_, end))
            if bytes[end..].iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')))
    }
}

use std::borrow::Cow;
use std::ops::Range;

use bytes::{BufMut, BytesMut};
use serde::de::Deserialize;
use serde::Serialize;

use super::{CodecError, Format, MsgId, ParsedRequest, RawCall, RawMessage};
use read::ReadError;

type Result<T> = std::result::Result<T, CodecError>;

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
    // Rust's `{:e}` gives the shortest digits that round-trip, as Python's repr does. Where two
    // strings of that length round-trip and `x` lies exactly halfway between them, Python takes
    // the even one (`-82247559806759.62` for ...759.625) and Rust's shortest mode need not:
    // `{:.N$e}` rounds the exact value half to even. Such a tie needs 16 digits or more (two
    // candidates 10^-15 apart, relatively, are never both within half an ulp).
    let split = |sci: &str| -> (bool, String, i32) {
        let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
        let exp: i32 = exp.parse().expect("`{:e}` writes a decimal exponent");
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        (
            negative,
            mantissa.chars().filter(|c| *c != '.').collect(),
            exp,
        )
    };
    let (mut negative, mut digits, mut exp) = split(&format!("{x:e}"));
    if digits.len() >= 16 {
        (negative, digits, exp) = split(&format!("{x:.*e}", digits.len() - 1));
    }
    let sign = if negative { "-" } else { "" };
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
    if e.to_string().contains(write::BYTES_MARKER) {
        CodecError::BytesInJson
    } else {
        CodecError::Encode(e.to_string())
    }
}

/// Serializes `value` at the end of `buf` as `json.dumps` would.
fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<()> {
    write::to_writer(buf.writer(), value).map_err(encode_error)
}

/// Writes `[type, id, content]`.
fn write_message<C: Serialize + ?Sized>(
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

fn read_error(e: ReadError) -> CodecError {
    match e {
        ReadError::TooDeep { limit } => CodecError::TooDeep { limit },
        ReadError::Syntax(m) => CodecError::Decode(m),
    }
}

/// An invalid message: `what` the reader said was wrong.
fn invalid(e: ReadError) -> CodecError {
    match e {
        ReadError::TooDeep { limit } => CodecError::TooDeep { limit },
        ReadError::Syntax(m) => CodecError::InvalidMessage(m),
    }
}

/// The array at `pos`, cut into its elements, with nothing but whitespace after it up to `end`.
fn whole_array(
    buf: &[u8],
    pos: usize,
    end: usize,
    max_depth: usize,
    what: &str,
) -> Result<Vec<(usize, usize)>> {
    if read::kind_at(buf, pos) != "array" {
        return Err(CodecError::InvalidMessage(format!(
            "expected {what}, got {}",
            read::kind_at(buf, pos)
        )));
    }
    let (items, after) = read::array_items(&buf[..end], pos, max_depth).map_err(invalid)?;
    if let Some(extra) = buf[after..end].iter().position(|b| !b" \t\n\r".contains(b)) {
        return Err(CodecError::InvalidMessage(format!(
            "trailing characters after the message at byte {}",
            after + extra
        )));
    }
    Ok(items)
}

/// Cuts a message into `[type, id, content]`, checking every part.
fn parse_message(buf: &[u8], max_depth: usize) -> Result<RawMessage> {
    let items = whole_array(buf, 0, buf.len(), max_depth, "an array [type, id, content]")?;
    let [kind, id, content] = items[..] else {
        return Err(CodecError::InvalidMessage(format!(
            "expected an array of 3 elements [type, id, content], got {} elements",
            items.len()
        )));
    };
    let kind: i64 = read::from_slice(&buf[kind.0..kind.1], max_depth).map_err(|_| {
        CodecError::InvalidMessage(format!(
            "message type must be an int, got {}",
            read::kind_at(buf, kind.0)
        ))
    })?;
    Ok(RawMessage {
        kind,
        id: id.0..id.1,
        id_num: read::from_slice::<u64>(&buf[id.0..id.1], max_depth).ok(),
        content: content.0..content.1,
    })
}

/// Cuts a request's content into `[path, args, kwargs]`.
fn split_request(buf: &[u8], content: Range<usize>, max_depth: usize) -> Result<RawCall<'_>> {
    let err = |m: String| CodecError::InvalidMessage(m);
    let parts = whole_array(
        buf,
        content.start,
        content.end,
        max_depth,
        "request content [path, args, kwargs]",
    )
    .map_err(|e| match e {
        CodecError::InvalidMessage(m) if m.starts_with("expected") => err(format!(
            "request content must be [path, args, kwargs], got {}",
            read::kind_at(buf, content.start)
        )),
        other => other,
    })?;
    let [path, args, kwargs] = parts[..] else {
        return Err(err(format!(
            "request content must be [path, args, kwargs], got an array of {} elements",
            parts.len()
        )));
    };
    if read::kind_at(buf, path.0) != "str" {
        return Err(err(format!(
            "request path must be a str, got {}",
            read::kind_at(buf, path.0)
        )));
    }
    let (path, _) = read::string_at(buf, path.0).map_err(invalid)?;
    if read::kind_at(buf, args.0) != "array" {
        return Err(err(format!(
            "request args must be an array, got {}",
            read::kind_at(buf, args.0)
        )));
    }
    let (arg_ranges, _) = read::array_items(&buf[..args.1], args.0, max_depth).map_err(invalid)?;
    if read::kind_at(buf, kwargs.0) != "map" {
        return Err(err(format!(
            "request kwargs must be a map, got {}",
            read::kind_at(buf, kwargs.0)
        )));
    }
    let (entries, _) =
        read::object_entries(&buf[..kwargs.1], kwargs.0, max_depth).map_err(invalid)?;
    let mut list = super::ArgList::new();
    for (s, e) in arg_ranges {
        list.push(&buf[s..e]);
    }
    Ok(RawCall {
        path,
        args: list,
        kwargs: entries
            .into_iter()
            .map(|(k, (s, e))| (k, &buf[s..e]))
            .collect(),
    })
}

/// Deserializes a `T` from the bytes of one value, with Python's rules.
fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
    read::from_slice(bytes, max_depth).map_err(read_error)
}

/// The JSON format (`aiomas.codecs.JSON`, Python's `json`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Json;

impl Format for Json {
    const NIL: &'static [u8] = b"null";

    fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<()> {
        encode_into(buf, value)
    }

    fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
        decode(bytes, max_depth)
    }

    fn decode_whole<'de, T: Deserialize<'de>>(bytes: &'de [u8], max_depth: usize) -> Result<T> {
        decode(bytes, max_depth)
    }

    fn write_message<C: Serialize + ?Sized>(
        buf: &mut BytesMut,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
    ) -> Result<()> {
        write_message(buf, kind, id, content)
    }

    fn parse_message(payload: &[u8], max_depth: usize, _check_content: bool) -> Result<RawMessage> {
        // Cutting a JSON message reads every byte of it anyway: the content is always checked.
        parse_message(payload, max_depth)
    }

    fn check_content(_payload: &[u8], _msg: &RawMessage, _max_depth: usize) -> Result<()> {
        Ok(())
    }

    fn split_request(
        payload: &[u8],
        content: Range<usize>,
        max_depth: usize,
    ) -> Result<RawCall<'_>> {
        split_request(payload, content, max_depth)
    }

    fn parse_request(payload: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        let cut = read::cut_request(payload, max_depth)?;
        let mut args = super::ArgList::new();
        for &(s, e) in cut.args.iter() {
            args.push(&payload[s..e]);
        }
        Some(ParsedRequest {
            id: cut.id.0..cut.id.1,
            content: cut.content.0..cut.content.1,
            call: RawCall {
                path: cut.path,
                args,
                kwargs: cut
                    .kwargs
                    .into_iter()
                    .map(|(k, (s, e))| (k, &payload[s..e]))
                    .collect(),
            },
        })
    }

    fn salvage_request_id(payload: &[u8]) -> Option<Range<usize>> {
        // `[0, id, ...anything`: read as far as the id.
        let ws = |mut p: usize| {
            while payload.get(p).is_some_and(|b| b" \t\n\r".contains(b)) {
                p += 1;
            }
            p
        };
        let open = ws(0);
        if payload.get(open) != Some(&b'[') {
            return None;
        }
        let (start, end) = read::skip_value(payload, open + 1, 8).ok()?;
        if &payload[start..end] != b"0" {
            return None;
        }
        let comma = ws(end);
        if payload.get(comma) != Some(&b',') {
            return None;
        }
        let (start, end) = read::skip_value(payload, comma + 1, 8).ok()?;
        Some(start..end)
    }

    fn write_array(buf: &mut BytesMut, items: &[&[u8]]) {
        buf.put_u8(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                buf.extend_from_slice(b", ");
            }
            buf.extend_from_slice(item);
        }
        buf.put_u8(b']');
    }

    fn write_map(buf: &mut BytesMut, items: &[(Cow<'_, str>, &[u8])]) {
        buf.put_u8(b'{');
        for (i, (k, v)) in items.iter().enumerate() {
            if i > 0 {
                buf.extend_from_slice(b", ");
            }
            encode_into(buf, k.as_ref()).expect("a str always encodes as JSON");
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(v);
        }
        buf.put_u8(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general path makes of `buf`: a request cut by `parse_message` and
    /// `split_request`, or `None` when either refuses it or it is no request.
    fn general(buf: &[u8], max_depth: usize) -> Option<ParsedRequest<'_>> {
        let msg = parse_message(buf, max_depth).ok()?;
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

    /// The one-walk cut accepts exactly the requests that the general path accepts, and cuts
    /// them the same: checked over requests of every shape (whitespace, escapes, nesting, a
    /// byte-order mark), each cut short at every length and with every byte replaced by each
    /// of a set of JSON's structural and token characters, at depth limits from 1 to 8.
    #[test]
    fn one_walk_request_cut_agrees_with_the_general_path() {
        let seeds: Vec<&[u8]> = vec![
            br#"[0, 7, ["add", [1, 2], {}]]"#,
            br#"[0,7,["add",[1,2],{}]]"#,
            br#" [ 0 , "id" , [ "a/b" , [ [1, [2]], "x", {"k": null} ] , { "k" : {"z": [true]}, "w": 1.5 } ] ] "#,
            br#"[0, 300, ["p\u00e9\n", [], {"\u0041": -1e400, "b": NaN}]]"#,
            br#"[-0, 1, ["f", ["s\"t"], {"a": [], "b": {}}]]"#,
            b"\xef\xbb\xbf[0, 1, [\"f\", [Infinity], {}]]",
            br#"[1, 1, 5]"#,
            br#"[0, 1, ["f", [[[[[1]]]]], {}]]"#,
        ];
        let markers = b"[]{},:\"0-1 \\.enNtf\xef";
        let (mut valid, mut checked) = (0, 0);
        for seed in &seeds {
            let mut variants = vec![seed.to_vec()];
            for len in 0..seed.len() {
                variants.push(seed[..len].to_vec());
            }
            for at in 0..seed.len() {
                for &m in markers {
                    let mut v = seed.to_vec();
                    v[at] = m;
                    variants.push(v);
                }
            }
            for v in &variants {
                for depth in (1..=8).chain([64]) {
                    let fast = read::cut_request(v, depth).map(|c| {
                        (
                            c.id,
                            c.content,
                            c.path.into_owned(),
                            c.args.to_vec(),
                            c.kwargs,
                        )
                    });
                    let slow = general(v, depth);
                    let slow_cut = slow.as_ref().map(|g| {
                        let at = |s: &[u8]| {
                            let start = s.as_ptr() as usize - v.as_ptr() as usize;
                            (start, start + s.len())
                        };
                        (
                            (g.id.start, g.id.end),
                            (g.content.start, g.content.end),
                            g.call.path.clone().into_owned(),
                            g.call.args.iter().map(|a| at(a)).collect::<Vec<_>>(),
                            g.call
                                .kwargs
                                .iter()
                                .map(|(k, a)| (k.clone(), at(a)))
                                .collect::<Vec<_>>(),
                        )
                    });
                    assert_eq!(
                        fast,
                        slow_cut,
                        "{:?} at depth {depth}",
                        String::from_utf8_lossy(v)
                    );
                    valid += usize::from(slow.is_some());
                    checked += 1;
                }
            }
        }
        assert!(
            valid > 200,
            "only {valid} of {checked} variants were valid requests"
        );
    }
}
