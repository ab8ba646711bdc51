//! Skipping and cutting values without decoding them, with an explicit stack (never
//! recursing): what the message cutter uses.

use std::borrow::Cow;

use super::scan::{
    after_bom, decode_string, expect_lit, is_neg_infinity, scan_number, scan_string, skip_ws,
    PY_INT_MAX_DIGITS,
};
use super::{at, eof, ReadError};

/// Skips the scalar (number, string or literal) at `pos`, returning the offset after it.
#[inline]
fn skip_scalar(b: &[u8], pos: usize) -> Result<usize, ReadError> {
    match b.get(pos) {
        Some(b'"') => Ok(scan_string(b, pos)?.0),
        Some(b'0'..=b'9') => Ok(scan_number(b, pos)?.0),
        Some(b'-') if is_neg_infinity(b, pos) => expect_lit(b, pos, b"-Infinity"),
        Some(b'-') => Ok(scan_number(b, pos)?.0),
        Some(b'n') => expect_lit(b, pos, b"null"),
        Some(b't') => expect_lit(b, pos, b"true"),
        Some(b'f') => expect_lit(b, pos, b"false"),
        Some(b'N') => expect_lit(b, pos, b"NaN"),
        Some(b'I') => expect_lit(b, pos, b"Infinity"),
        Some(_) => Err(at("expected value", pos)),
        None => Err(eof("a value", pos)),
    }
}

/// Skips the object key (a string token) at `pos` and the `:` after it, returning the offset
/// where the entry's value starts.
#[inline]
fn skip_key_colon(b: &[u8], pos: usize) -> Result<usize, ReadError> {
    let i = skip_ws(b, scan_string(b, pos)?.0);
    match b.get(i) {
        Some(b':') => Ok(skip_ws(b, i + 1)),
        Some(_) => Err(at("expected `:`", i)),
        None => Err(eof("an object", i)),
    }
}

/// After a `,` in an object, checks that a key follows: the offset where the next value starts.
#[inline]
fn next_key_after_comma(b: &[u8], i: usize) -> Result<usize, ReadError> {
    match b.get(i) {
        Some(b'"') => skip_key_colon(b, i),
        Some(b'}') => Err(at("trailing comma", i)),
        Some(_) => Err(at("key must be a string", i)),
        None => Err(eof("an object", i)),
    }
}

/// What encloses a value while skipping: nothing (the value being skipped itself), an array
/// or an object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// The value is the one [`skip_at`] was asked to skip.
    Top,
    /// The value is an element of an array.
    Array,
    /// The value is the value of an object entry.
    Object,
}

/// How many enclosing brackets the skipping stack holds without allocating.
const INLINE_DEPTH: usize = 64;

/// The stack of what encloses the innermost open bracket while skipping: a fixed array,
/// spilling to a `Vec` only when nesting goes beyond [`INLINE_DEPTH`].
struct Brackets {
    /// The first `INLINE_DEPTH` entries.
    inline: [Open; INLINE_DEPTH],
    /// The entries beyond the first `INLINE_DEPTH`.
    spill: Vec<Open>,
    /// How many entries there are.
    len: usize,
}

impl Brackets {
    /// An empty stack.
    #[inline(always)]
    fn new() -> Self {
        Brackets {
            inline: [Open::Top; INLINE_DEPTH],
            spill: Vec::new(),
            len: 0,
        }
    }

    /// Pushes `kind`.
    #[inline(always)]
    fn push(&mut self, kind: Open) {
        if self.len < INLINE_DEPTH {
            self.inline[self.len] = kind;
        } else {
            self.spill.push(kind);
        }
        self.len += 1;
    }

    /// Pops the last entry pushed (`Top` if there is none, which the caller never asks).
    #[inline(always)]
    fn pop(&mut self) -> Open {
        self.len = self.len.saturating_sub(1);
        if self.len < INLINE_DEPTH {
            self.inline[self.len]
        } else {
            self.spill.pop().unwrap_or(Open::Top)
        }
    }
}

/// Skips the value that starts exactly at `pos` (no whitespace before it) and returns the
/// offset after it. `depth` brackets are already open around it; nesting beyond `max_depth`
/// fails with [`ReadError::TooDeep`]. Never recurses: the kind of the innermost open bracket
/// is kept in `cur` and the kinds around it in a [`Brackets`] stack.
pub(super) fn skip_at(
    b: &[u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
) -> Result<usize, ReadError> {
    let mut outer = Brackets::new();
    let mut cur = Open::Top;
    // How many more brackets may open.
    let mut room = max_depth.saturating_sub(depth);
    let mut i = pos;
    'value: loop {
        // Here `i` is where a value starts.
        match b.get(i) {
            Some(b'[') => {
                if room == 0 {
                    return Err(ReadError::TooDeep { limit: max_depth });
                }
                i = skip_ws(b, i + 1);
                match b.get(i) {
                    Some(b']') => i += 1,
                    Some(_) => {
                        room -= 1;
                        outer.push(cur);
                        cur = Open::Array;
                        continue 'value;
                    }
                    None => return Err(eof("a list", i)),
                }
            }
            Some(b'{') => {
                if room == 0 {
                    return Err(ReadError::TooDeep { limit: max_depth });
                }
                i = skip_ws(b, i + 1);
                match b.get(i) {
                    Some(b'}') => i += 1,
                    Some(b'"') => {
                        i = skip_key_colon(b, i)?;
                        room -= 1;
                        outer.push(cur);
                        cur = Open::Object;
                        continue 'value;
                    }
                    Some(_) => return Err(at("key must be a string", i)),
                    None => return Err(eof("an object", i)),
                }
            }
            Some(b'"') => i = scan_string(b, i)?.0,
            Some(&c @ b'0'..=b'9') => {
                // The common plain integer inline; fractions and exponents take the full scan.
                let mut j = i + 1;
                if c != b'0' {
                    while let Some(b'0'..=b'9') = b.get(j) {
                        j += 1;
                    }
                }
                i = match b.get(j) {
                    Some(b'.' | b'e' | b'E') => scan_number(b, i)?.0,
                    _ if j - i > PY_INT_MAX_DIGITS => scan_number(b, i)?.0,
                    _ => j,
                };
            }
            _ => i = skip_scalar(b, i)?,
        }
        // Here a value has ended at `i`: close brackets until a `,` asks for another value.
        loop {
            if cur == Open::Top {
                return Ok(i);
            }
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => {
                    i = skip_ws(b, i + 1);
                    if cur == Open::Object {
                        i = next_key_after_comma(b, i)?;
                    } else if b.get(i) == Some(&b']') {
                        return Err(at("trailing comma", i));
                    }
                    continue 'value;
                }
                Some(b']') if cur == Open::Array => {
                    i += 1;
                    cur = outer.pop();
                    room += 1;
                }
                Some(b'}') if cur == Open::Object => {
                    i += 1;
                    cur = outer.pop();
                    room += 1;
                }
                Some(_) if cur == Open::Array => return Err(at("expected `,` or `]`", i)),
                Some(_) => return Err(at("expected `,` or `}`", i)),
                None if cur == Open::Array => return Err(eof("a list", i)),
                None => return Err(eof("an object", i)),
            }
        }
    }
}

/// Returns the end offset of the JSON value starting at `pos`: after skipping leading
/// whitespace at `pos`, `Ok((start, end))` gives where the value starts and the offset just
/// after it. Validates the value fully (strings, escapes, numbers, literals) with the same
/// rules as [`from_slice`](super::from_slice), never recurses, and fails with [`ReadError::TooDeep`] when arrays and
/// objects nest deeper than `max_depth`. Integers are not decoded, so one beyond 128 bits passes
/// here (up to Python's limit of 4300 digits) though `from_slice` would refuse to decode it.
pub(crate) fn skip_value(
    bytes: &[u8],
    pos: usize,
    max_depth: usize,
) -> Result<(usize, usize), ReadError> {
    let start = skip_ws(bytes, after_bom(bytes, pos));
    let end = skip_at(bytes, start, 0, max_depth)?;
    Ok((start, end))
}

/// Where the `open` bracket of the array or object (`kind`) at `pos` (after whitespace) is, if
/// it is there and one more level fits in `max_depth`.
fn open_at(
    b: &[u8],
    pos: usize,
    open: u8,
    kind: &str,
    max_depth: usize,
) -> Result<usize, ReadError> {
    let start = skip_ws(b, after_bom(b, pos));
    if b.get(start) != Some(&open) {
        return Err(ReadError::Syntax(format!(
            "expected {kind}, got {}",
            kind_at(b, start)
        )));
    }
    if max_depth == 0 {
        return Err(ReadError::TooDeep { limit: max_depth });
    }
    Ok(start)
}

/// Where the elements of the JSON array at `pos` (after whitespace) are: the (start, end) byte
/// range of each element, and the offset just after `]`. Each element is validated as by
/// [`skip_value`], the array itself counting as one level of `max_depth`.
pub(crate) fn array_items(
    bytes: &[u8],
    pos: usize,
    max_depth: usize,
) -> Result<(Vec<(usize, usize)>, usize), ReadError> {
    let b = bytes;
    let start = open_at(b, pos, b'[', "an array", max_depth)?;
    let mut items = Vec::new();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b']') {
        return Ok((items, i + 1));
    }
    loop {
        let end = skip_at(b, i, 1, max_depth)?;
        items.push((i, end));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    return Err(at("trailing comma", i));
                }
            }
            Some(b']') => return Ok((items, i + 1)),
            Some(_) => return Err(at("expected `,` or `]`", i)),
            None => return Err(eof("a list", i)),
        }
    }
}

/// One entry of an object as [`object_entries`] gives it: the decoded key and the (start, end)
/// byte range of the value.
type Entry<'a> = (Cow<'a, str>, (usize, usize));

/// The entries of the JSON object at `pos` (after whitespace): each key decoded (borrowed when
/// it has no escapes) with the (start, end) byte range of its value, in order and with
/// duplicates kept, and the offset just after `}`. Values are validated as by [`skip_value`],
/// the object itself counting as one level of `max_depth`.
pub(crate) fn object_entries(
    bytes: &[u8],
    pos: usize,
    max_depth: usize,
) -> Result<(Vec<Entry<'_>>, usize), ReadError> {
    let b = bytes;
    let start = open_at(b, pos, b'{', "a map", max_depth)?;
    let mut entries = Vec::new();
    let mut i = skip_ws(b, start + 1);
    match b.get(i) {
        Some(b'}') => return Ok((entries, i + 1)),
        Some(b'"') => {}
        Some(_) => return Err(at("key must be a string", i)),
        None => return Err(eof("an object", i)),
    }
    loop {
        let (key, key_end) = decode_string(b, i)?;
        i = skip_ws(b, key_end);
        match b.get(i) {
            Some(b':') => i = skip_ws(b, i + 1),
            Some(_) => return Err(at("expected `:`", i)),
            None => return Err(eof("an object", i)),
        }
        let end = skip_at(b, i, 1, max_depth)?;
        entries.push((key, (i, end)));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => {
                i = skip_ws(b, i + 1);
                match b.get(i) {
                    Some(b'"') => {}
                    Some(b'}') => return Err(at("trailing comma", i)),
                    Some(_) => return Err(at("key must be a string", i)),
                    None => return Err(eof("an object", i)),
                }
            }
            Some(b'}') => return Ok((entries, i + 1)),
            Some(_) => return Err(at("expected `,` or `}`", i)),
            None => return Err(eof("an object", i)),
        }
    }
}

/// Decodes the JSON string at `pos` (a `"..."` token, after whitespace) to its text, borrowed
/// when it has no escapes, and the offset just after it.
pub(crate) fn string_at(bytes: &[u8], pos: usize) -> Result<(Cow<'_, str>, usize), ReadError> {
    let start = skip_ws(bytes, after_bom(bytes, pos));
    if bytes.get(start) != Some(&b'"') {
        return Err(ReadError::Syntax(format!(
            "expected a string, got {}",
            kind_at(bytes, start)
        )));
    }
    decode_string(bytes, start)
}

/// A short name of the kind of value starting at `pos` (after whitespace): "array", "map",
/// "str", "nil", "bool", "int", "float", or "nothing" at the end of the input or where no value
/// starts. Only the first token is looked at: an array or string is not checked to its end.
pub(crate) fn kind_at(bytes: &[u8], pos: usize) -> &'static str {
    let b = bytes;
    let i = skip_ws(b, after_bom(b, pos));
    let lit = |lit: &'static [u8], kind: &'static str| {
        if b.get(i..).unwrap_or_default().starts_with(lit) {
            kind
        } else {
            "nothing"
        }
    };
    match b.get(i) {
        Some(b'[') => "array",
        Some(b'{') => "map",
        Some(b'"') => "str",
        Some(b'n') => lit(b"null", "nil"),
        Some(b't') => lit(b"true", "bool"),
        Some(b'f') => lit(b"false", "bool"),
        Some(b'N') => lit(b"NaN", "float"),
        Some(b'I') => lit(b"Infinity", "float"),
        Some(b'-') if is_neg_infinity(b, i) => lit(b"-Infinity", "float"),
        Some(b'-' | b'0'..=b'9') => match scan_number(b, i) {
            Ok((_, true)) => "float",
            Ok((_, false)) => "int",
            Err(_) => "nothing",
        },
        _ => "nothing",
    }
}

/// A request `[0, id, [path, args, kwargs]]` cut in one walk ([`cut_request`]): byte ranges of
/// the id, the content, each argument and each keyword's value, and the path and keywords
/// decoded (borrowed when they have no escapes).
#[derive(Debug)]
pub(crate) struct RequestCut<'a> {
    pub(crate) id: (usize, usize),
    pub(crate) content: (usize, usize),
    pub(crate) path: Cow<'a, str>,
    pub(crate) args: Vec<(usize, usize)>,
    pub(crate) kwargs: Vec<Entry<'a>>,
}

/// Cuts a whole request in one walk, or says `None` for anything else: a reply, or a request
/// with anything wrong in it, which the message cutter and the request splitter then read the
/// general way (and explain). It must accept exactly what they accept together, and cut the
/// same: their depth limit counts from the message, so the args array and kwargs map, two
/// brackets in (message, content), are cut by [`array_items`] and [`object_entries`] with two
/// levels taken.
pub(crate) fn cut_request(b: &[u8], max_depth: usize) -> Option<RequestCut<'_>> {
    // The args array and kwargs map, even empty, are the third level.
    if max_depth < 3 {
        return None;
    }
    let expect = |i: usize, c: u8| (b.get(i) == Some(&c)).then(|| skip_ws(b, i + 1));
    let mut i = skip_ws(b, after_bom(b, 0));
    i = expect(i, b'[')?;
    // The type: the int 0.
    i = match b.get(i..i + 2) {
        Some([b'0', _]) => i + 1,
        Some(b"-0") => i + 2,
        _ => return None,
    };
    i = expect(skip_ws(b, i), b',')?;
    let id = (i, skip_at(b, i, 1, max_depth).ok()?);
    i = expect(skip_ws(b, id.1), b',')?;
    let content_start = i;
    i = expect(i, b'[')?;
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let (path, after) = decode_string(b, i).ok()?;
    i = expect(skip_ws(b, after), b',')?;
    // The args array and kwargs map are the third level, as the general path counts: two
    // levels fewer below them.
    let (args, after) = array_items(b, i, max_depth - 2).ok()?;
    i = expect(skip_ws(b, after), b',')?;
    let (kwargs, after) = object_entries(b, i, max_depth - 2).ok()?;
    i = skip_ws(b, after);
    if b.get(i) != Some(&b']') {
        return None;
    }
    let content = (content_start, i + 1);
    i = expect(skip_ws(b, i + 1), b']')?;
    // Nothing but whitespace after the message.
    (i == b.len()).then_some(RequestCut {
        id,
        content,
        path,
        args,
        kwargs,
    })
}
