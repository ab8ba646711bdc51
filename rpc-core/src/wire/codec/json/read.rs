//! Reads JSON text exactly as CPython 3.11's `json.loads` does with its default settings.
//!
//! The rules are Python's, not RFC 8259's where they differ:
//! * whitespace is only space, tab, line feed and carriage return;
//! * the literals `NaN`, `Infinity` and `-Infinity` are accepted (as f64 NaN and ±infinity);
//! * a number with a fraction or an exponent is a float, rounded to the nearest double, and one
//!   out of range becomes ±infinity or ±0.0 instead of failing;
//! * a number without them is an integer; Python refuses one of more than 4300 digits, and so
//!   do we everywhere; when decoded, an integer that does not fit in 128 bits is refused too
//!   (Python keeps it exactly; we never round it to a float);
//! * raw control characters U+0000..U+001F inside strings are refused (Python's `strict=True`);
//! * duplicate object keys are all passed on, in order, and the visitor decides;
//! * a UTF-8 byte order mark at the very start of the input is skipped, as `json.loads` does
//!   for `bytes` input.
//!
//! Some inputs Python accepts are refused because Rust cannot hold what they mean: a lone UTF-16
//! surrogate, whether escaped (`"\ud800"`) or as UTF-8-encoded surrogate bytes (which Python
//! lets through with `surrogatepass`), and input in UTF-16 or UTF-32, which Python detects from
//! zero bytes among the first four. Python's own depth limit is its recursion limit; ours is the
//! `max_depth` argument.
//!
//! Everything is built on one byte-level scanner. `skip_value` and the helpers that cut
//! messages validate with an explicit stack and never recurse; `from_slice` drives serde
//! visitors and recurses once per level, at most `max_depth` levels (about 1.1 KB of stack per
//! level in a debug build and 150 bytes in a release build, so 1024 levels fit in a 2 MiB
//! thread).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

/// Why a JSON text could not be read. Syntax messages end with the byte offset where the
/// problem was found ("... at byte 17").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Arrays and objects were nested deeper than `max_depth` levels.
    TooDeep {
        /// The `max_depth` that was exceeded.
        limit: usize,
    },
    /// Anything else: a syntax problem with the byte offset where it was found, such as
    /// "expected `,` or `]` at byte 17", or a message from the visitor, such as
    /// "invalid type: string \"x\", expected i64".
    Syntax(String),
}

impl fmt::Display for ReadError {
    /// Writes the error as one line of plain English.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::TooDeep { limit } => {
                write!(f, "JSON nested deeper than {limit} arrays and objects")
            }
            ReadError::Syntax(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ReadError {}

impl de::Error for ReadError {
    /// Makes an error from a message given by a visitor or a `Deserialize` implementation.
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ReadError::Syntax(msg.to_string())
    }
}

/// Makes the error "`msg` at byte `pos`".
#[cold]
fn at(msg: &str, pos: usize) -> ReadError {
    ReadError::Syntax(format!("{msg} at byte {pos}"))
}

/// Makes the error "EOF while parsing `what` at byte `pos`".
#[cold]
fn eof(what: &str, pos: usize) -> ReadError {
    ReadError::Syntax(format!("EOF while parsing {what} at byte {pos}"))
}

/// The UTF-8 byte order mark, which `json.loads` skips at the start of `bytes` input.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where reading starts when asked to read at `pos`: past a byte order mark at the very start.
#[inline]
fn after_bom(b: &[u8], pos: usize) -> usize {
    if pos == 0 && b.starts_with(BOM) {
        BOM.len()
    } else {
        pos
    }
}

/// Whether `c` is JSON whitespace: only space, tab, line feed and carriage return.
#[inline(always)]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The offset of the first byte at or after `i` that is not whitespace (or the length).
#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !is_ws(c) {
            break;
        }
        i += 1;
    }
    i
}

/// For each byte, whether it interrupts a run of plain string content: `"`, `\` and the
/// control characters U+0000..U+001F.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The value of the hex digit `c` (either case), or `None` if it is not one.
#[inline]
fn hex_val(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(c - b'A' + 10)),
        _ => None,
    }
}

/// Reads the four hex digits of the `\uXXXX` escape whose backslash is at `j`.
fn hex4(b: &[u8], j: usize) -> Result<u32, ReadError> {
    let mut v = 0;
    for k in j + 2..j + 6 {
        match b.get(k) {
            None => return Err(eof("a string", b.len())),
            Some(&c) => match hex_val(c) {
                Some(d) => v = v * 16 + d,
                None => return Err(at("invalid \\uXXXX escape", j)),
            },
        }
    }
    Ok(v)
}

/// Makes the error for a lone surrogate `unit` escaped at byte `j`.
#[cold]
fn lone_surrogate(unit: u32, j: usize) -> ReadError {
    ReadError::Syntax(format!(
        "lone surrogate \\u{unit:04x} at byte {j} cannot be represented"
    ))
}

/// Decodes the `\uXXXX` escape (and the low half of a surrogate pair after it) whose
/// backslash is at `j`: the character and the offset after the escape.
fn unicode_escape(b: &[u8], j: usize) -> Result<(char, usize), ReadError> {
    let hi = hex4(b, j)?;
    match hi {
        0xD800..=0xDBFF => {
            // Python joins a high surrogate with an immediately following escaped low one.
            if b.get(j + 6) == Some(&b'\\') && b.get(j + 7) == Some(&b'u') {
                let lo = hex4(b, j + 6)?;
                if (0xDC00..=0xDFFF).contains(&lo) {
                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return match char::from_u32(cp) {
                        Some(c) => Ok((c, j + 12)),
                        None => Err(lone_surrogate(hi, j)),
                    };
                }
            }
            Err(lone_surrogate(hi, j))
        }
        0xDC00..=0xDFFF => Err(lone_surrogate(hi, j)),
        _ => match char::from_u32(hi) {
            Some(c) => Ok((c, j + 6)),
            None => Err(lone_surrogate(hi, j)),
        },
    }
}

/// Decodes the escape sequence whose backslash is at `j`: the character and the offset after it.
fn escape_at(b: &[u8], j: usize) -> Result<(char, usize), ReadError> {
    let c = match b.get(j + 1) {
        None => return Err(eof("a string", b.len())),
        Some(&c) => c,
    };
    let ch = match c {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => return unicode_escape(b, j),
        _ if c.is_ascii_graphic() => {
            return Err(at(&format!("invalid escape \\{}", c as char), j));
        }
        _ => {
            return Err(at(
                &format!("invalid escape \\ followed by byte 0x{c:02x}"),
                j,
            ))
        }
    };
    Ok((ch, j + 2))
}

/// Whether any of the eight bytes packed in `w` is `"`, `\\` or a control character
/// (below 0x20), by the usual bit trick: a byte is below `n` when subtracting `n` from it
/// borrows into its high bit while its own high bit is clear.
#[inline(always)]
fn has_string_stop(w: u64) -> bool {
    /// The byte 0x01 in every lane.
    const ONES: u64 = 0x0101_0101_0101_0101;
    /// The high bit of every lane.
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// Whether some lane of `x` is below `n` (as a nonzero mask).
    #[inline(always)]
    fn below(x: u64, n: u64) -> u64 {
        x.wrapping_sub(ONES * n) & !x & HIGHS
    }
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    (below(w, 0x20) | below(quote, 1) | below(backslash, 1)) != 0
}

/// Finds the end of the string token whose opening quote is at `pos`, checking its escapes and
/// refusing raw control characters. Returns the offset after the closing quote, whether it has
/// escapes, and whether it has non-ASCII bytes. UTF-8 is not checked here.
#[inline]
fn scan_string_raw(b: &[u8], pos: usize) -> Result<(usize, bool, bool), ReadError> {
    let mut i = pos + 1;
    let mut escaped = false;
    let mut high = 0u8;
    loop {
        // The plain run: neither quote, backslash nor control character. Its first eight bytes
        // one by one (most strings in messages are short), then eight bytes at a time while
        // none of them stops it, then one by one again to find the byte that does.
        let limit = b.len().min(i + 8);
        while i < limit {
            let c = b[i];
            if STRING_STOP[c as usize] {
                break;
            }
            high |= c;
            i += 1;
        }
        if i == limit && limit < b.len() {
            let mut wide = 0u64;
            while let Some(chunk) = b.get(i..i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                if has_string_stop(w) {
                    break;
                }
                wide |= w;
                i += 8;
            }
            if wide & 0x8080_8080_8080_8080 != 0 {
                high = 0x80;
            }
            while let Some(&c) = b.get(i) {
                if STRING_STOP[c as usize] {
                    break;
                }
                high |= c;
                i += 1;
            }
        }
        match b.get(i) {
            None => return Err(eof("a string", b.len())),
            Some(b'"') => return Ok((i + 1, escaped, high >= 0x80)),
            Some(b'\\') => {
                escaped = true;
                i = escape_at(b, i)?.1;
            }
            Some(&c) => return Err(at(&format!("control character U+{c:04X} in string"), i)),
        }
    }
}

/// Borrows `b[start..end]` as text, failing at the first byte that is not valid UTF-8.
fn utf8_at(b: &[u8], start: usize, end: usize) -> Result<&str, ReadError> {
    std::str::from_utf8(&b[start..end]).map_err(|e| at("invalid UTF-8", start + e.valid_up_to()))
}

/// Validates the string token whose opening quote is at `pos`: the offset after it and
/// whether it has escapes.
#[inline]
fn scan_string(b: &[u8], pos: usize) -> Result<(usize, bool), ReadError> {
    let (end, escaped, non_ascii) = scan_string_raw(b, pos)?;
    if non_ascii {
        utf8_at(b, pos + 1, end - 1)?;
    }
    Ok((end, escaped))
}

/// Replaces the escapes in `s`, the validated body of a string token that starts at byte
/// `start` of `b`.
fn unescape(b: &[u8], start: usize, s: &str) -> Result<String, ReadError> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(off) = s[i..].find('\\') {
        let j = i + off;
        out.push_str(&s[i..j]);
        let (ch, next) = escape_at(b, start + j)?;
        out.push(ch);
        i = next - start;
    }
    out.push_str(&s[i..]);
    Ok(out)
}

/// Decodes the string token whose opening quote is at `pos`: its text, borrowed when it has no
/// escapes, and the offset after it.
fn decode_string(b: &[u8], pos: usize) -> Result<(Cow<'_, str>, usize), ReadError> {
    let (end, escaped, _) = scan_string_raw(b, pos)?;
    let s = utf8_at(b, pos + 1, end - 1)?;
    if escaped {
        Ok((Cow::Owned(unescape(b, pos + 1, s)?), end))
    } else {
        Ok((Cow::Borrowed(s), end))
    }
}

/// Scans the number token at `pos` by the JSON grammar
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: the offset after it and whether it is a
/// float (has a fraction or an exponent).
#[inline]
fn scan_number(b: &[u8], pos: usize) -> Result<(usize, bool), ReadError> {
    /// The offset of the first byte at or after `i` that is not an ASCII digit.
    #[inline(always)]
    fn digits(b: &[u8], mut i: usize) -> usize {
        while let Some(b'0'..=b'9') = b.get(i) {
            i += 1;
        }
        i
    }
    /// Requires a digit at `i`, as after `-`, `.` and an exponent mark.
    #[inline(always)]
    fn need_digit(b: &[u8], i: usize) -> Result<(), ReadError> {
        match b.get(i) {
            Some(b'0'..=b'9') => Ok(()),
            Some(_) => Err(at("invalid number", i)),
            None => Err(eof("a number", i)),
        }
    }
    let mut i = pos;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    need_digit(b, i)?;
    let int_start = i;
    i = if b[i] == b'0' {
        i + 1
    } else {
        digits(b, i + 1)
    };
    let int_digits = i - int_start;
    let mut float = false;
    if b.get(i) == Some(&b'.') {
        need_digit(b, i + 1)?;
        i = digits(b, i + 2);
        float = true;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        need_digit(b, i)?;
        i = digits(b, i + 1);
        float = true;
    }
    if !float && int_digits > PY_INT_MAX_DIGITS {
        return Err(at(
            &format!(
                "integer of {int_digits} digits exceeds Python's limit of {PY_INT_MAX_DIGITS}"
            ),
            pos,
        ));
    }
    Ok((i, float))
}

/// The most digits Python 3.11 converts to an `int` by default (`sys.get_int_max_str_digits()`);
/// `json.loads` refuses longer integer tokens with a `ValueError`. Floats have no such limit.
const PY_INT_MAX_DIGITS: usize = 4300;

/// Checks that the literal `lit` is at `pos` and returns the offset after it.
#[inline]
fn expect_lit(b: &[u8], pos: usize, lit: &'static [u8]) -> Result<usize, ReadError> {
    let rest = b.get(pos..).unwrap_or_default();
    if rest.starts_with(lit) {
        Ok(pos + lit.len())
    } else if lit.starts_with(rest) {
        Err(eof("a value", b.len()))
    } else {
        Err(at("invalid literal", pos))
    }
}

/// Whether the value at `pos` (which starts with `-`) is the literal `-Infinity`.
#[inline]
fn is_neg_infinity(b: &[u8], pos: usize) -> bool {
    b.get(pos + 1) == Some(&b'I')
}

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
fn skip_at(b: &[u8], pos: usize, depth: usize, max_depth: usize) -> Result<usize, ReadError> {
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
/// rules as [`from_slice`], never recurses, and fails with [`ReadError::TooDeep`] when arrays and
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

/// Where the elements of the JSON array at `pos` (after whitespace) are: the (start, end) byte
/// range of each element, and the offset just after `]`. Each element is validated as by
/// [`skip_value`], the array itself counting as one level of `max_depth`.
pub(crate) fn array_items(
    bytes: &[u8],
    pos: usize,
    max_depth: usize,
) -> Result<(Vec<(usize, usize)>, usize), ReadError> {
    let b = bytes;
    let start = skip_ws(b, after_bom(b, pos));
    if b.get(start) != Some(&b'[') {
        return Err(ReadError::Syntax(format!(
            "expected an array, got {}",
            kind_at(b, start)
        )));
    }
    if max_depth == 0 {
        return Err(ReadError::TooDeep { limit: max_depth });
    }
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
    let start = skip_ws(b, after_bom(b, pos));
    if b.get(start) != Some(&b'{') {
        return Err(ReadError::Syntax(format!(
            "expected a map, got {}",
            kind_at(b, start)
        )));
    }
    if max_depth == 0 {
        return Err(ReadError::TooDeep { limit: max_depth });
    }
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

/// Deserializes exactly one JSON value from `bytes`: whitespace may surround it (and a UTF-8
/// byte order mark may precede it), nothing else may follow. Arrays and objects nested deeper
/// than `max_depth` fail with [`ReadError::TooDeep`].
pub(crate) fn from_slice<'de, T: de::Deserialize<'de>>(
    bytes: &'de [u8],
    max_depth: usize,
) -> Result<T, ReadError> {
    let mut reader = Reader {
        b: bytes,
        pos: after_bom(bytes, 0),
        depth: 0,
        max_depth,
    };
    let value = T::deserialize(&mut reader)?;
    let end = skip_ws(bytes, reader.pos);
    if end < bytes.len() {
        return Err(at("trailing characters", end));
    }
    Ok(value)
}

/// Shortens the text of a long number for an error message.
fn short_number(text: &str) -> Cow<'_, str> {
    if text.len() <= 100 {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!(
            "{}...{} ({} digits)",
            &text[..20],
            &text[text.len() - 20..],
            text.trim_start_matches('-').len()
        ))
    }
}

/// Parses the text of a float token (or of an integer token wanted as a float) to the nearest
/// double, as Python's `float()` does: out of range gives ±infinity or ±0.0.
fn parse_f64(text: &str, pos: usize) -> Result<f64, ReadError> {
    text.parse::<f64>().map_err(|_| at("invalid number", pos))
}

/// Gives the integer token `text` to `visitor`: `visit_u64` if it fits a u64, `visit_i64` if it
/// is negative and fits an i64, else `visit_u128` or `visit_i128`, else an error.
fn visit_int<'de, V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value, ReadError> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    if digits.len() <= 19 {
        // At most 19 digits always fit in a u64.
        let v = digits
            .bytes()
            .fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        return if !neg || v == 0 {
            visitor.visit_u64(v)
        } else if v <= 1 << 63 {
            visitor.visit_i64(0i64.wrapping_sub(v as i64))
        } else {
            visitor.visit_i128(-i128::from(v))
        };
    }
    let too_big = || {
        ReadError::Syntax(format!(
            "integer {} does not fit in 128 bits",
            short_number(text)
        ))
    };
    let mut v: u128 = 0;
    for d in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(d - b'0')))
            .ok_or_else(too_big)?;
    }
    if !neg {
        match u64::try_from(v) {
            Ok(v) => visitor.visit_u64(v),
            Err(_) => visitor.visit_u128(v),
        }
    } else if v <= 1 << 63 {
        visitor.visit_i64(0i64.wrapping_sub(v as i64))
    } else if v <= 1 << 127 {
        visitor.visit_i128(0i128.wrapping_sub(v as i128))
    } else {
        Err(too_big())
    }
}

/// The serde deserializer over a byte slice. It recurses once per array or object level and
/// never deeper than `max_depth`.
struct Reader<'de> {
    /// The whole input.
    b: &'de [u8],
    /// Where reading goes on.
    pos: usize,
    /// How many arrays and objects are open around `pos`.
    depth: usize,
    /// How many arrays and objects may be open at once.
    max_depth: usize,
}

impl<'de> Reader<'de> {
    /// Skips whitespace and returns the byte where the next value starts.
    #[inline]
    fn peek_value(&mut self) -> Result<u8, ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(&c) => Ok(c),
            None => Err(eof("a value", self.pos)),
        }
    }

    /// Consumes the literal `lit` at `pos`.
    #[inline]
    fn eat_lit(&mut self, lit: &'static [u8]) -> Result<(), ReadError> {
        self.pos = expect_lit(self.b, self.pos, lit)?;
        Ok(())
    }

    /// Opens one more level of nesting, failing if that goes beyond `max_depth`.
    #[inline]
    fn enter(&mut self) -> Result<(), ReadError> {
        if self.depth >= self.max_depth {
            return Err(ReadError::TooDeep {
                limit: self.max_depth,
            });
        }
        self.depth += 1;
        Ok(())
    }

    /// Decodes the string token at `pos` (its opening quote).
    #[inline]
    fn parse_str(&mut self) -> Result<Cow<'de, str>, ReadError> {
        let (s, end) = decode_string(self.b, self.pos)?;
        self.pos = end;
        Ok(s)
    }

    /// Scans the number token at `pos`: its text and whether it is a float.
    #[inline]
    fn number_token(&mut self) -> Result<(&'de str, bool), ReadError> {
        let start = self.pos;
        let (end, float) = scan_number(self.b, start)?;
        self.pos = end;
        Ok((utf8_at(self.b, start, end)?, float))
    }

    /// Reads the number token at `pos` and gives it to `visitor`.
    fn parse_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, ReadError> {
        let start = self.pos;
        let (text, float) = self.number_token()?;
        if float {
            visitor.visit_f64(parse_f64(text, start)?)
        } else {
            visit_int(text, visitor)
        }
    }

    /// Reads the scalar starting with byte `c` at `pos` and gives it to `visitor`. Kept apart
    /// from the array and object paths, which recurse, so that their stack frames stay small.
    fn visit_scalar<V: Visitor<'de>>(&mut self, c: u8, visitor: V) -> Result<V::Value, ReadError> {
        match c {
            b'"' => match self.parse_str()? {
                Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
                Cow::Owned(s) => visitor.visit_string(s),
            },
            b'0'..=b'9' => self.parse_number(visitor),
            b'n' => {
                self.eat_lit(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.eat_lit(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.eat_lit(b"false")?;
                visitor.visit_bool(false)
            }
            b'N' => {
                self.eat_lit(b"NaN")?;
                visitor.visit_f64(f64::NAN)
            }
            b'I' => {
                self.eat_lit(b"Infinity")?;
                visitor.visit_f64(f64::INFINITY)
            }
            b'-' if is_neg_infinity(self.b, self.pos) => {
                self.eat_lit(b"-Infinity")?;
                visitor.visit_f64(f64::NEG_INFINITY)
            }
            b'-' => self.parse_number(visitor),
            _ => Err(at("expected value", self.pos)),
        }
    }

    /// Reads the array whose `[` is at `pos` with `visitor`, one level deeper.
    fn visit_array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, ReadError> {
        self.enter()?;
        self.pos += 1;
        let value = visitor.visit_seq(Seq {
            r: self,
            first: true,
        })?;
        self.end_array()?;
        Ok(value)
    }

    /// Reads the object whose `{` is at `pos` with `visitor`, one level deeper.
    fn visit_object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, ReadError> {
        self.enter()?;
        self.pos += 1;
        let value = visitor.visit_map(Map {
            r: self,
            first: true,
        })?;
        self.end_object()?;
        Ok(value)
    }

    /// Moves to the next element of an array: past the `,` unless it is the `first`, and
    /// returns whether an element follows (false at the `]`, which is left in place).
    fn next_element(&mut self, first: &mut bool) -> Result<bool, ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(b']') => return Ok(false),
            Some(b',') if !*first => {
                self.pos = skip_ws(self.b, self.pos + 1);
                if self.b.get(self.pos) == Some(&b']') {
                    return Err(at("trailing comma", self.pos));
                }
            }
            Some(_) if !*first => return Err(at("expected `,` or `]`", self.pos)),
            Some(_) => {}
            None => return Err(eof("a list", self.pos)),
        }
        *first = false;
        Ok(true)
    }

    /// Moves to the next key of an object: past the `,` unless it is the `first`, and returns
    /// whether a key follows (false at the `}`, which is left in place).
    fn next_key(&mut self, first: &mut bool) -> Result<bool, ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(b'}') => return Ok(false),
            Some(b',') if !*first => {
                self.pos = skip_ws(self.b, self.pos + 1);
                match self.b.get(self.pos) {
                    Some(b'"') => {}
                    Some(b'}') => return Err(at("trailing comma", self.pos)),
                    Some(_) => return Err(at("key must be a string", self.pos)),
                    None => return Err(eof("an object", self.pos)),
                }
            }
            Some(_) if !*first => return Err(at("expected `,` or `}`", self.pos)),
            Some(b'"') => {}
            Some(_) => return Err(at("key must be a string", self.pos)),
            None => return Err(eof("an object", self.pos)),
        }
        *first = false;
        Ok(true)
    }

    /// Consumes the `:` after an object key.
    fn colon(&mut self) -> Result<(), ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(at("expected `:`", self.pos)),
            None => Err(eof("an object", self.pos)),
        }
    }

    /// Reads an enum written as `{"Variant": value}`, whose `{` is at `pos`, one level deeper.
    fn visit_enum_object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, ReadError> {
        self.enter()?;
        self.pos = skip_ws(self.b, self.pos + 1);
        match self.b.get(self.pos) {
            Some(b'"') => {}
            Some(_) => return Err(at("key must be a string", self.pos)),
            None => return Err(eof("an object", self.pos)),
        }
        let value = visitor.visit_enum(Variant { r: self })?;
        self.end_enum_object()?;
        Ok(value)
    }

    /// After an enum's variant and value, consumes the `}` that must follow.
    fn end_enum_object(&mut self) -> Result<(), ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(())
            }
            Some(_) => Err(at("expected `}` after the enum variant's value", self.pos)),
            None => Err(eof("an object", self.pos)),
        }
    }

    /// After a visitor has read an array, checks that it ended, consumes its `]` and leaves
    /// its level.
    fn end_array(&mut self) -> Result<(), ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(b']') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(())
            }
            Some(b',') => Err(at("more array elements than expected", self.pos)),
            Some(_) => Err(at("expected `,` or `]`", self.pos)),
            None => Err(eof("a list", self.pos)),
        }
    }

    /// After a visitor has read an object, checks that it ended, consumes its `}` and leaves
    /// its level.
    fn end_object(&mut self) -> Result<(), ReadError> {
        self.pos = skip_ws(self.b, self.pos);
        match self.b.get(self.pos) {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(())
            }
            Some(b',') => Err(at("more object entries than expected", self.pos)),
            Some(_) => Err(at("expected `,` or `}`", self.pos)),
            None => Err(eof("an object", self.pos)),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = ReadError;

    /// Reads any value: null as unit, booleans, integers by the rules of `visit_int`, floats
    /// (including NaN and ±Infinity) as f64, strings, arrays as sequences and objects as maps.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.peek_value()? {
            b'[' => self.visit_array(visitor),
            b'{' => self.visit_object(visitor),
            c => self.visit_scalar(c, visitor),
        }
    }

    /// Reads a float; an integer token is accepted too and rounded to the nearest double, as
    /// Python's `float(int)` does (and, like it, refused when too large for a double).
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.peek_value()? {
            b'-' if is_neg_infinity(self.b, self.pos) => self.deserialize_any(visitor),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                let (text, float) = self.number_token()?;
                let x = parse_f64(text, start)?;
                if float {
                    return visitor.visit_f64(x);
                }
                if x.is_infinite() {
                    return Err(ReadError::Syntax(format!(
                        "integer {} is too large to convert to float",
                        short_number(text)
                    )));
                }
                // An integer has no negative zero: `-0` is the int 0, and float(0) is +0.0.
                visitor.visit_f64(if x == 0.0 { 0.0 } else { x })
            }
            _ => self.deserialize_any(visitor),
        }
    }

    /// Reads a float as `deserialize_f64` does; the visitor narrows it.
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_f64(visitor)
    }

    /// Reads null as `None` and anything else as `Some` of that value.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        if self.peek_value()? == b'n' {
            self.eat_lit(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    /// Reads a newtype struct as the value it wraps.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        visitor.visit_newtype_struct(self)
    }

    /// Reads bytes: a string gives its UTF-8 bytes, an array of integers is read as a sequence.
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        if self.peek_value()? == b'"' {
            match self.parse_str()? {
                Cow::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
                Cow::Owned(s) => visitor.visit_byte_buf(s.into_bytes()),
            }
        } else {
            self.deserialize_any(visitor)
        }
    }

    /// Reads owned bytes as `deserialize_bytes` does.
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_bytes(visitor)
    }

    /// Reads an externally tagged enum: a string names a unit variant, and an object with one
    /// entry `{"Variant": value}` names the variant and holds its content.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        match self.peek_value()? {
            b'"' => match self.parse_str()? {
                Cow::Borrowed(s) => visitor.visit_enum(s.into_deserializer()),
                Cow::Owned(s) => visitor.visit_enum(s.into_deserializer()),
            },
            b'{' => self.visit_enum_object(visitor),
            _ => Err(at("expected a string or an object for an enum", self.pos)),
        }
    }

    /// Skips any value without decoding it, with the same checks as `skip_value`.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.peek_value()?;
        self.pos = skip_at(self.b, self.pos, self.depth, self.max_depth)?;
        visitor.visit_unit()
    }

    /// JSON is a human-readable format.
    fn is_human_readable(&self) -> bool {
        true
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// Gives the elements of an array to a visitor, one at a time.
struct Seq<'a, 'de> {
    /// The reader, just inside the `[` or after the last element read.
    r: &'a mut Reader<'de>,
    /// Whether no element has been read yet.
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = ReadError;

    /// Reads the next element, or `None` at the `]` (which is left for the caller).
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ReadError> {
        if self.r.next_element(&mut self.first)? {
            seed.deserialize(&mut *self.r).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Gives the entries of an object to a visitor, one at a time.
struct Map<'a, 'de> {
    /// The reader, just inside the `{` or after the last value read.
    r: &'a mut Reader<'de>,
    /// Whether no entry has been read yet.
    first: bool,
}

impl<'de> de::MapAccess<'de> for Map<'_, 'de> {
    type Error = ReadError;

    /// Reads the next key, or `None` at the `}` (which is left for the caller).
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ReadError> {
        if self.r.next_key(&mut self.first)? {
            seed.deserialize(Key { r: &mut *self.r }).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads the `:` and the value after the key just read.
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ReadError> {
        self.r.colon()?;
        seed.deserialize(&mut *self.r)
    }
}

/// Reads an object key (a string token at `pos`). Integer types are parsed from the key's
/// text, since Python writes the keys of `{1: x}` as `"1"`.
struct Key<'a, 'de> {
    /// The reader, at the key's opening quote.
    r: &'a mut Reader<'de>,
}

/// Defines the `deserialize_<int>` methods of [`Key`], each parsing the key's text.
macro_rules! key_ints {
    ($($method:ident $visit:ident $ty:ty;)*) => {$(
        /// Parses the key's text as this integer type.
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
            let s = self.r.parse_str()?;
            match s.parse::<$ty>() {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(&s), &visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key<'_, 'de> {
    type Error = ReadError;

    /// Reads the key as a string.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.r.parse_str()? {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    key_ints! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
    }

    /// A key is never null, so it is `Some` of itself.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        visitor.visit_some(self)
    }

    /// Reads a newtype struct key as the key it wraps.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        visitor.visit_newtype_struct(self)
    }

    /// Reads an enum key as the name of a unit variant.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        match self.r.parse_str()? {
            Cow::Borrowed(s) => visitor.visit_enum(s.into_deserializer()),
            Cow::Owned(s) => visitor.visit_enum(s.into_deserializer()),
        }
    }

    /// JSON is a human-readable format.
    fn is_human_readable(&self) -> bool {
        true
    }

    serde::forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Gives the variant and content of an enum written as `{"Variant": value}` to a visitor.
struct Variant<'a, 'de> {
    /// The reader, at the variant name's opening quote and then at its value.
    r: &'a mut Reader<'de>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, 'de> {
    type Error = ReadError;
    type Variant = Self;

    /// Reads the variant name and the `:` after it.
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), ReadError> {
        let variant = seed.deserialize(Key { r: &mut *self.r })?;
        self.r.colon()?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = ReadError;

    /// A unit variant written as an object must hold null.
    fn unit_variant(self) -> Result<(), ReadError> {
        de::Deserialize::deserialize(&mut *self.r)
    }

    /// Reads the content of a newtype variant.
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, ReadError> {
        seed.deserialize(&mut *self.r)
    }

    /// Reads the content of a tuple variant (an array).
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        de::Deserializer::deserialize_any(&mut *self.r, visitor)
    }

    /// Reads the content of a struct variant (an object, or an array of the fields).
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        de::Deserializer::deserialize_any(&mut *self.r, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::{BTreeMap, HashMap};

    /// The depth limit the tests use unless they are about depth.
    const DEPTH: usize = 1024;

    /// A JSON value as Python sees it, for comparing with what `json.loads` gives.
    #[derive(Debug, Clone, PartialEq)]
    enum MyValue {
        /// `null`.
        Null,
        /// `true` or `false`.
        Bool(bool),
        /// An integer that fits in an i128.
        Int(i128),
        /// An integer above `i128::MAX` that fits in a u128.
        UInt(u128),
        /// A float, kept as its bits so that comparisons are exact.
        Float(u64),
        /// A string.
        Str(String),
        /// An array.
        Array(Vec<MyValue>),
        /// An object, with its entries in order and duplicates kept.
        Object(Vec<(String, MyValue)>),
    }

    impl<'de> Deserialize<'de> for MyValue {
        /// Reads any JSON value through `deserialize_any`.
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            /// The visitor that builds a [`MyValue`].
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = MyValue;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_unit<E>(self) -> Result<MyValue, E> {
                    Ok(MyValue::Null)
                }
                fn visit_bool<E>(self, v: bool) -> Result<MyValue, E> {
                    Ok(MyValue::Bool(v))
                }
                fn visit_i64<E>(self, v: i64) -> Result<MyValue, E> {
                    Ok(MyValue::Int(v.into()))
                }
                fn visit_u64<E>(self, v: u64) -> Result<MyValue, E> {
                    Ok(MyValue::Int(v.into()))
                }
                fn visit_i128<E>(self, v: i128) -> Result<MyValue, E> {
                    Ok(MyValue::Int(v))
                }
                fn visit_u128<E>(self, v: u128) -> Result<MyValue, E> {
                    Ok(i128::try_from(v).map_or(MyValue::UInt(v), MyValue::Int))
                }
                fn visit_f64<E>(self, v: f64) -> Result<MyValue, E> {
                    Ok(MyValue::Float(v.to_bits()))
                }
                fn visit_str<E>(self, v: &str) -> Result<MyValue, E> {
                    Ok(MyValue::Str(v.to_owned()))
                }
                fn visit_string<E>(self, v: String) -> Result<MyValue, E> {
                    Ok(MyValue::Str(v))
                }
                fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<MyValue, A::Error> {
                    let mut items = Vec::new();
                    while let Some(x) = a.next_element()? {
                        items.push(x);
                    }
                    Ok(MyValue::Array(items))
                }
                fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<MyValue, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = a.next_entry()? {
                        entries.push(entry);
                    }
                    Ok(MyValue::Object(entries))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// Shorthand for an integer value.
    fn int(i: i128) -> MyValue {
        MyValue::Int(i)
    }

    /// Shorthand for an array value.
    fn arr(items: Vec<MyValue>) -> MyValue {
        MyValue::Array(items)
    }

    /// Shorthand for an object value.
    fn obj(entries: Vec<(&str, MyValue)>) -> MyValue {
        MyValue::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    /// Reads `input` as a [`MyValue`] with the usual depth limit.
    fn read(input: &[u8]) -> Result<MyValue, ReadError> {
        from_slice(input, DEPTH)
    }

    /// The `TooDeep` error for `limit`, as any result type.
    fn too_deep<T>(limit: usize) -> Result<T, ReadError> {
        Err(ReadError::TooDeep { limit })
    }

    /// The syntax error with message `m`, as any result type.
    fn syntax<T>(m: &str) -> Result<T, ReadError> {
        Err(ReadError::Syntax(m.to_owned()))
    }

    /// Arrays and objects deeper than `max_depth` fail with `TooDeep`, in every entry point.
    #[test]
    fn depth_limit() {
        assert_eq!(from_slice::<MyValue>(b"1", 0), Ok(int(1)));
        assert_eq!(from_slice::<MyValue>(b"[]", 0), too_deep(0));
        assert_eq!(from_slice::<MyValue>(b"{}", 0), too_deep(0));
        assert_eq!(from_slice::<MyValue>(b"[1]", 1), Ok(arr(vec![int(1)])));
        assert_eq!(from_slice::<MyValue>(b"[[1]]", 1), too_deep(1));
        assert_eq!(from_slice::<MyValue>(br#"{"a":{"b":1}}"#, 1), too_deep(1));
        assert_eq!(
            from_slice::<MyValue>(br#"{"a":[{"b":[]}]}"#, 4).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            from_slice::<MyValue>(br#"{"a":[{"b":[]}]}"#, 3),
            too_deep(3)
        );
        assert_eq!(skip_value(b"[]", 0, 0), too_deep(0));
        assert_eq!(skip_value(b"[[1]]", 0, 1), too_deep(1));
        assert_eq!(skip_value(b" [[1]]", 0, 2), Ok((1, 6)));
        assert_eq!(skip_value(br#"{"a":[{"b":[]}]}"#, 0, 3), too_deep(3));
        assert_eq!(skip_value(br#"{"a":[{"b":[]}]}"#, 0, 4), Ok((0, 16)));
        assert_eq!(array_items(b"[]", 0, 0), too_deep(0));
        assert_eq!(array_items(b"[[[]]]", 0, 2), too_deep(2));
        assert_eq!(array_items(b"[[[]]]", 0, 3), Ok((vec![(1, 5)], 6)));
        assert!(matches!(
            object_entries(br#"{"a":[[]]}"#, 0, 2),
            Err(ReadError::TooDeep { limit: 2 })
        ));
        assert!(object_entries(br#"{"a":[[]]}"#, 0, 3).is_ok());
        // An ignored field counts the levels already open around it.
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            /// A field that is read.
            a: u8,
        }
        assert_eq!(
            from_slice::<S>(br#"{"a":1,"x":[[[]]]}"#, 3).map(|_| ()),
            too_deep(3)
        );
        assert!(from_slice::<S>(br#"{"a":1,"x":[[[]]]}"#, 4).is_ok());
        // Exactly `DEPTH` levels deep is fine for the recursive reader too.
        let mut deep = "[".repeat(DEPTH);
        deep.push_str(&"]".repeat(DEPTH));
        assert!(read(deep.as_bytes()).is_ok());
        let mut nested = "{\"a\":[".repeat(DEPTH / 2);
        nested.push_str(&"]}".repeat(DEPTH / 2));
        assert!(read(nested.as_bytes()).is_ok());
        assert_eq!(
            skip_value(nested.as_bytes(), 0, DEPTH),
            Ok((0, nested.len()))
        );
        assert_eq!(
            from_slice::<MyValue>(nested.as_bytes(), DEPTH - 1),
            too_deep(DEPTH - 1)
        );
    }

    /// A million `[` fail with `TooDeep` without overflowing the stack, and skipping them with no
    /// limit uses the heap, not the stack.
    #[test]
    fn million_brackets() {
        let n = 1_000_000;
        let open = vec![b'['; n];
        assert_eq!(
            skip_value(&open, 0, DEPTH),
            Err(ReadError::TooDeep { limit: DEPTH })
        );
        assert_eq!(read(&open), Err(ReadError::TooDeep { limit: DEPTH }));
        assert_eq!(
            array_items(&open, 0, DEPTH),
            Err(ReadError::TooDeep { limit: DEPTH })
        );
        assert_eq!(
            skip_value(&open, 0, usize::MAX),
            Err(ReadError::Syntax(format!(
                "EOF while parsing a list at byte {n}"
            )))
        );
        let mut both = open.clone();
        both.extend(vec![b']'; n]);
        assert_eq!(skip_value(&both, 0, usize::MAX), Ok((0, 2 * n)));
        assert_eq!(skip_value(&both, 0, n), Ok((0, 2 * n)));
        assert_eq!(
            skip_value(&both, 0, n - 1),
            Err(ReadError::TooDeep { limit: n - 1 })
        );
        let objects = "{\"\":".repeat(n);
        assert_eq!(
            skip_value(objects.as_bytes(), 0, DEPTH),
            Err(ReadError::TooDeep { limit: DEPTH })
        );
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            /// A field that is read.
            a: u8,
        }
        let mut ignored = b"{\"a\":1,\"x\":".to_vec();
        ignored.extend(&open);
        assert_eq!(
            from_slice::<S>(&ignored, DEPTH).map(|_| ()),
            Err(ReadError::TooDeep { limit: DEPTH })
        );
    }

    /// The helpers find the right ranges in a typical message.
    #[test]
    fn cutting_helpers() {
        let msg = br#" [0, 3, ["add", [1, 2], {}]] "#;
        assert_eq!(skip_value(msg, 0, DEPTH), Ok((1, 28)));
        let (items, end) = array_items(msg, 0, DEPTH).unwrap();
        assert_eq!(end, 28);
        let texts: Vec<&[u8]> = items.iter().map(|&(s, e)| &msg[s..e]).collect();
        assert_eq!(texts, [&b"0"[..], b"3", br#"["add", [1, 2], {}]"#]);
        let (inner, inner_end) = array_items(msg, items[2].0, DEPTH).unwrap();
        assert_eq!(inner_end, items[2].1);
        let texts: Vec<&[u8]> = inner.iter().map(|&(s, e)| &msg[s..e]).collect();
        assert_eq!(texts, [&br#""add""#[..], b"[1, 2]", b"{}"]);
        assert_eq!(
            string_at(msg, inner[0].0),
            Ok((Cow::Borrowed("add"), inner[0].1))
        );
        assert_eq!(array_items(b"[ ]", 0, DEPTH), Ok((vec![], 3)));
        assert_eq!(array_items(b"[1] x", 0, DEPTH), Ok((vec![(1, 2)], 3)));

        let doc = br#"{"a": 1, "b\u00e9": [2, {"c": null}], "a": "x\n" }"#;
        let (entries, end) = object_entries(doc, 0, DEPTH).unwrap();
        assert_eq!(end, doc.len());
        assert_eq!(entries.len(), 3);
        assert!(matches!(entries[0].0, Cow::Borrowed("a")));
        assert!(matches!(&entries[1].0, Cow::Owned(k) if k == "b\u{e9}"));
        assert!(matches!(entries[2].0, Cow::Borrowed("a")));
        let values: Vec<&[u8]> = entries.iter().map(|(_, (s, e))| &doc[*s..*e]).collect();
        assert_eq!(values, [&b"1"[..], br#"[2, {"c": null}]"#, br#""x\n""#]);
        assert_eq!(object_entries(b" { } ", 0, DEPTH), Ok((vec![], 4)));
        assert_eq!(
            string_at(br#" "x\ty" "#, 0),
            Ok((Cow::Owned("x\ty".to_owned()), 7))
        );
        assert_eq!(
            string_at(br#""\ud800""#, 0),
            Err(ReadError::Syntax(
                "lone surrogate \\ud800 at byte 1 cannot be represented".into()
            ))
        );

        assert_eq!(
            array_items(b"{}", 0, DEPTH),
            syntax("expected an array, got map")
        );
        assert_eq!(
            array_items(b"  ", 0, DEPTH),
            syntax("expected an array, got nothing")
        );
        assert_eq!(
            array_items(b"[1,]", 0, DEPTH),
            syntax("trailing comma at byte 3")
        );
        assert_eq!(
            array_items(b"[1 2]", 0, DEPTH),
            syntax("expected `,` or `]` at byte 3")
        );
        assert_eq!(
            array_items(b"[1, tru]", 0, DEPTH),
            syntax("invalid literal at byte 4")
        );
        assert_eq!(
            array_items(b"[1, [}]", 0, DEPTH),
            syntax("expected value at byte 5")
        );
        assert_eq!(
            array_items(b"[1", 0, DEPTH),
            syntax("EOF while parsing a list at byte 2")
        );
        assert_eq!(
            object_entries(b"[]", 0, DEPTH),
            syntax("expected a map, got array")
        );
        assert_eq!(
            object_entries(b"{\"a\":1,}", 0, DEPTH),
            syntax("trailing comma at byte 7")
        );
        assert_eq!(
            object_entries(b"{\"a\" 1}", 0, DEPTH),
            syntax("expected `:` at byte 5")
        );
        assert_eq!(
            object_entries(b"{1:1}", 0, DEPTH),
            syntax("key must be a string at byte 1")
        );
        assert_eq!(
            object_entries(b"{\"a\":1 \"b\":2}", 0, DEPTH),
            syntax("expected `,` or `}` at byte 7")
        );
        assert_eq!(
            object_entries(b"{\"a\":[1}", 0, DEPTH),
            syntax("expected `,` or `]` at byte 7")
        );
        assert_eq!(
            object_entries(b"{\"\\q\":1}", 0, DEPTH),
            syntax("invalid escape \\q at byte 2")
        );
        assert_eq!(string_at(b"12", 0), syntax("expected a string, got int"));
        assert_eq!(
            string_at(b"\"ab", 0),
            syntax("EOF while parsing a string at byte 3")
        );
        assert_eq!(
            skip_value(b"[1, 2", 0, DEPTH),
            syntax("EOF while parsing a list at byte 5")
        );
        assert_eq!(
            skip_value(b"{\"a\":1,\"b\"", 0, DEPTH),
            syntax("EOF while parsing an object at byte 10")
        );
        assert_eq!(
            skip_value(b"[\"a\\u12\"]", 0, DEPTH),
            syntax("invalid \\uXXXX escape at byte 3")
        );
        assert_eq!(
            skip_value(b"[NaN, -Infinity, 1e5, -0.5, \"\\\"\"] junk", 0, DEPTH),
            Ok((0, 33))
        );
        assert_eq!(skip_value(b"12 34", 3, DEPTH), Ok((3, 5)));
        assert_eq!(
            skip_value(b"12", 7, DEPTH),
            syntax("EOF while parsing a value at byte 7")
        );
        assert_eq!(kind_at(b"12", 9), "nothing");
    }

    /// `kind_at` names every kind of value.
    #[test]
    fn kinds() {
        let table: &[(&[u8], &str)] = &[
            (b" [1", "array"),
            (b"{", "map"),
            (b"\"x", "str"),
            (b"null", "nil"),
            (b"nul", "nothing"),
            (b"true", "bool"),
            (b"false", "bool"),
            (b"0", "int"),
            (b"-12 ", "int"),
            (b"123456789012345678901234567890123456789012", "int"),
            (b"1.5", "float"),
            (b"1e3", "float"),
            (b"NaN", "float"),
            (b"Infinity", "float"),
            (b"-Infinity", "float"),
            (b"-", "nothing"),
            (b"1.", "nothing"),
            (b"", "nothing"),
            (b" \n", "nothing"),
            (b"]", "nothing"),
            (b"x", "nothing"),
            (b"\xEF\xBB\xBF7", "int"),
        ];
        for (input, kind) in table {
            assert_eq!(
                kind_at(input, 0),
                *kind,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(kind_at(b"[1, \"a\"]", 4), "str");
    }

    /// Cutting a message anywhere, or changing any one byte, gives an error or a value, never a
    /// panic; and `skip_value` accepts exactly what `from_slice` accepts.
    #[test]
    fn truncated_and_mutated() {
        let msg = br#"{"a": [1, -2.5e3, "x\u00e9\ud83d\ude00y", true, null, NaN, {"k": []}], "b": {"c": -Infinity}, "d": "h\u00e9llo", "e": 18446744073709551616}"#;
        assert!(read(msg).is_ok());
        for cut in 0..msg.len() {
            let part = &msg[..cut];
            assert!(read(part).is_err(), "cut at {cut}");
            assert!(skip_value(part, 0, DEPTH).is_err(), "cut at {cut}");
            assert!(object_entries(part, 0, DEPTH).is_err(), "cut at {cut}");
            let _ = kind_at(part, 0);
            let _ = string_at(part, 0);
            let _ = array_items(part, 0, DEPTH);
            for pos in 0..=cut + 1 {
                let _ = skip_value(part, pos, DEPTH);
            }
        }
        let replacements = b"\"\\[]{},:0-+.eEuntfNI \x00\x1f\x7f\xff\xc3";
        for pos in 0..msg.len() {
            for &r in replacements.iter() {
                let mut m = msg.to_vec();
                m[pos] = r;
                let ours = read(&m).is_ok();
                let skipped =
                    matches!(skip_value(&m, 0, DEPTH), Ok((_, e)) if skip_ws(&m, e) == m.len());
                assert_eq!(ours, skipped, "{:?}", String::from_utf8_lossy(&m));
                let _ = object_entries(&m, 0, DEPTH);
                let _ = kind_at(&m, pos);
                m.remove(pos);
                let ours = read(&m).is_ok();
                let skipped =
                    matches!(skip_value(&m, 0, DEPTH), Ok((_, e)) if skip_ws(&m, e) == m.len());
                assert_eq!(ours, skipped, "{:?}", String::from_utf8_lossy(&m));
            }
        }
    }

    /// Reading `DEPTH` levels with the recursive reader fits in a 2 MiB thread stack (the
    /// default for spawned threads and tokio workers), even in a debug build.
    #[test]
    fn deep_reading_fits_a_small_stack() {
        let deep = format!(
            "{}1{}",
            "[{\"k\":".repeat(DEPTH / 2),
            "}]".repeat(DEPTH / 2)
        );
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                assert!(read(deep.as_bytes()).is_ok());
                assert!(from_slice::<serde_json::Value>(deep.as_bytes(), DEPTH).is_ok());
                let open = "[".repeat(2 * DEPTH);
                assert_eq!(read(open.as_bytes()), too_deep(DEPTH));
            })
            .unwrap();
        handle.join().unwrap();
    }

    /// A plain struct with the kinds of fields a message holds.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Call {
        /// A string field.
        name: String,
        /// An unsigned field.
        id: u32,
        /// A list of numbers.
        args: Vec<f64>,
        /// An optional field: null, missing or present.
        reply_to: Option<String>,
        /// A nested map.
        meta: BTreeMap<String, i64>,
    }

    /// An enum of every variant shape, externally tagged.
    #[derive(Deserialize, Debug, PartialEq, Eq, Hash)]
    enum Shape {
        /// A unit variant.
        Unit,
        /// A newtype variant.
        New(i32),
        /// A tuple variant.
        Tup(i32, String),
        /// A struct variant.
        Struct {
            /// Its only field.
            a: bool,
        },
    }

    /// A newtype struct, which reads as the value it wraps.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Meters(f64);

    /// A unit struct, which reads from null.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Nothing;

    /// A struct that refuses unknown fields.
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        /// Its only field.
        a: u8,
    }

    /// An internally tagged enum, which serde reads through `deserialize_any`.
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(tag = "type")]
    enum Tagged {
        /// One variant.
        Ping {
            /// A number.
            n: u64,
        },
        /// Another variant.
        Pong,
    }

    /// An untagged enum, which serde buffers through `deserialize_any`.
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Untagged {
        /// A number.
        Num(i64),
        /// A string.
        Text(String),
        /// A list.
        List(Vec<Untagged>),
    }

    /// Records which visitor method a string arrived through.
    #[derive(Debug, PartialEq)]
    enum HowStr {
        /// `visit_borrowed_str`.
        Borrowed(String),
        /// `visit_string`.
        Owned(String),
        /// `visit_str`.
        Transient(String),
    }

    impl<'de> Deserialize<'de> for HowStr {
        /// Reads a string and notes how it came.
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            /// The visitor that notes the method.
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = HowStr;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<HowStr, E> {
                    Ok(HowStr::Borrowed(v.to_owned()))
                }
                fn visit_string<E>(self, v: String) -> Result<HowStr, E> {
                    Ok(HowStr::Owned(v))
                }
                fn visit_str<E>(self, v: &str) -> Result<HowStr, E> {
                    Ok(HowStr::Transient(v.to_owned()))
                }
            }
            d.deserialize_str(V)
        }
    }

    /// Records the size hints that arrays and objects give.
    #[derive(Debug, PartialEq)]
    struct Hints(Vec<Option<usize>>);

    impl<'de> Deserialize<'de> for Hints {
        /// Reads an array of objects and notes each size hint.
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            /// The visitor that notes the hints.
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Hints;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an array of objects")
                }
                fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Hints, A::Error> {
                    let mut hints = vec![a.size_hint()];
                    while let Some(m) = a.next_element::<BTreeMap<String, u8>>()? {
                        hints.push(Some(m.len()));
                    }
                    Ok(Hints(hints))
                }
            }
            d.deserialize_seq(V)
        }
    }

    /// Derived structs, enums, options, unit, newtypes, tuples and maps read as serde expects.
    #[test]
    fn serde_shapes() {
        let call: Call = from_slice(
            br#"{"name": "add", "id": 7, "args": [1, 2.5, -3, 1e400], "reply_to": null, "meta": {"a": -1, "b": 2}, "extra": [{"x": [1, {}]}, "y"]}"#,
            DEPTH,
        )
        .unwrap();
        assert_eq!(
            call,
            Call {
                name: "add".into(),
                id: 7,
                args: vec![1.0, 2.5, -3.0, f64::INFINITY],
                reply_to: None,
                meta: [("a".to_owned(), -1), ("b".to_owned(), 2)]
                    .into_iter()
                    .collect(),
            }
        );
        let call: Call = from_slice(
            br#"{"meta":{},"args":[],"id":0,"name":"","reply_to":"me"}"#,
            DEPTH,
        )
        .unwrap();
        assert_eq!(call.reply_to.as_deref(), Some("me"));
        // A struct can also come as an array of its fields, as serde allows.
        let call: Call = from_slice(br#"["n", 1, [], null, {}]"#, DEPTH).unwrap();
        assert_eq!(call.name, "n");
        assert!(from_slice::<Call>(br#"{"name":"x"}"#, DEPTH)
            .unwrap_err()
            .to_string()
            .contains("missing field"));

        assert_eq!(from_slice::<Shape>(br#""Unit""#, DEPTH), Ok(Shape::Unit));
        assert_eq!(
            from_slice::<Shape>(br#""\u0055nit""#, DEPTH),
            Ok(Shape::Unit)
        );
        assert_eq!(
            from_slice::<Shape>(br#"{"Unit": null}"#, DEPTH),
            Ok(Shape::Unit)
        );
        assert_eq!(
            from_slice::<Shape>(br#" { "New" : 5 } "#, DEPTH),
            Ok(Shape::New(5))
        );
        assert_eq!(
            from_slice::<Shape>(br#"{"Tup": [1, "x"]}"#, DEPTH),
            Ok(Shape::Tup(1, "x".into()))
        );
        assert_eq!(
            from_slice::<Shape>(br#"{"Struct": {"a": true}}"#, DEPTH),
            Ok(Shape::Struct { a: true })
        );
        assert_eq!(
            from_slice::<Shape>(br#"{"Struct": [false]}"#, DEPTH),
            Ok(Shape::Struct { a: false })
        );
        assert!(from_slice::<Shape>(br#""Nope""#, DEPTH)
            .unwrap_err()
            .to_string()
            .contains("unknown variant `Nope`"));
        assert_eq!(
            from_slice::<Shape>(br#"{"New": 1, "Unit": null}"#, DEPTH),
            syntax("expected `}` after the enum variant's value at byte 9")
        );
        assert_eq!(
            from_slice::<Shape>(b"5", DEPTH),
            syntax("expected a string or an object for an enum at byte 0")
        );
        assert_eq!(
            from_slice::<Shape>(b"{5:1}", DEPTH),
            syntax("key must be a string at byte 1")
        );
        assert_eq!(
            from_slice::<Shape>(br#"{"New" 5}"#, DEPTH),
            syntax("expected `:` at byte 7")
        );
        assert_eq!(
            from_slice::<Shape>(br#"{"New": 5"#, DEPTH),
            syntax("EOF while parsing an object at byte 9")
        );
        assert_eq!(from_slice::<Shape>(br#"{"New": 5}"#, 0), too_deep(0));
        assert_eq!(
            from_slice::<Vec<Shape>>(br#"["Unit", {"New": -2}]"#, DEPTH),
            Ok(vec![Shape::Unit, Shape::New(-2)])
        );

        assert_eq!(from_slice::<Option<u8>>(b"null", DEPTH), Ok(None));
        assert_eq!(from_slice::<Option<u8>>(b" 3 ", DEPTH), Ok(Some(3)));
        assert_eq!(from_slice::<Option<Option<u8>>>(b"null", DEPTH), Ok(None));
        assert_eq!(
            from_slice::<Option<u8>>(b"nul", DEPTH),
            syntax("EOF while parsing a value at byte 3")
        );
        assert_eq!(from_slice::<()>(b"null", DEPTH), Ok(()));
        assert!(from_slice::<()>(b"0", DEPTH).is_err());
        assert_eq!(from_slice::<Nothing>(b"null", DEPTH), Ok(Nothing));
        assert_eq!(from_slice::<Meters>(b"3", DEPTH), Ok(Meters(3.0)));
        assert_eq!(
            from_slice::<(u8, String, bool)>(br#"[1, "a", true]"#, DEPTH),
            Ok((1, "a".into(), true))
        );
        assert_eq!(
            from_slice::<(u8, u8)>(b"[1, 2, 3]", DEPTH),
            syntax("more array elements than expected at byte 5")
        );
        assert!(from_slice::<(u8, u8)>(b"[1]", DEPTH)
            .unwrap_err()
            .to_string()
            .contains("invalid length 1"));
        assert_eq!(from_slice::<[u8; 2]>(b"[1,2]", DEPTH), Ok([1, 2]));
        assert_eq!(from_slice::<char>(br#""\u00e9""#, DEPTH), Ok('\u{e9}'));

        assert_eq!(
            from_slice::<Strict>(br#"{"a": 1}"#, DEPTH),
            Ok(Strict { a: 1 })
        );
        assert!(from_slice::<Strict>(br#"{"a": 1, "b": 2}"#, DEPTH)
            .unwrap_err()
            .to_string()
            .contains("unknown field `b`"));
        assert_eq!(
            from_slice::<Tagged>(br#"{"n": 4, "type": "Ping"}"#, DEPTH),
            Ok(Tagged::Ping { n: 4 })
        );
        assert_eq!(
            from_slice::<Tagged>(br#"{"type": "Pong"}"#, DEPTH),
            Ok(Tagged::Pong)
        );
        assert_eq!(
            from_slice::<Untagged>(br#"[1, "a", [-2]]"#, DEPTH),
            Ok(Untagged::List(vec![
                Untagged::Num(1),
                Untagged::Text("a".into()),
                Untagged::List(vec![Untagged::Num(-2)])
            ]))
        );

        // Duplicate keys reach the visitor in order: a map keeps the last, a list of pairs all.
        assert_eq!(
            from_slice::<BTreeMap<String, u8>>(br#"{"a":1,"b":2,"a":3}"#, DEPTH),
            Ok([("a".to_owned(), 3), ("b".to_owned(), 2)]
                .into_iter()
                .collect())
        );
        assert_eq!(
            read(br#"{"a":1,"a":3}"#),
            Ok(obj(vec![("a", int(1)), ("a", int(3))]))
        );
        // Keys that Python wrote from integers read into integer-keyed maps.
        let m: HashMap<i64, String> = from_slice(br#"{"1": "a", "-20": "b"}"#, DEPTH).unwrap();
        assert_eq!(m[&-20], "b");
        let m: BTreeMap<u128, bool> = from_slice(
            br#"{"340282366920938463463374607431768211455": true}"#,
            DEPTH,
        )
        .unwrap();
        assert!(m[&u128::MAX]);
        assert_eq!(
            from_slice::<HashMap<u8, u8>>(br#"{"300": 1}"#, DEPTH),
            syntax("invalid value: string \"300\", expected u8")
        );
        assert_eq!(
            from_slice::<HashMap<Shape, u8>>(br#"{"Unit": 1}"#, DEPTH).map(|m| m.len()),
            Ok(1)
        );
        // Size hints are never given.
        assert_eq!(
            from_slice::<Hints>(br#"[{"a":1}, {}]"#, DEPTH),
            Ok(Hints(vec![None, Some(1), Some(0)]))
        );
        // Strings are borrowed when they have no escapes.
        assert_eq!(
            from_slice::<HowStr>(br#""abc""#, DEPTH),
            Ok(HowStr::Borrowed("abc".into()))
        );
        assert_eq!(
            from_slice::<HowStr>(br#""a\nc""#, DEPTH),
            Ok(HowStr::Owned("a\nc".into()))
        );
        assert_eq!(
            from_slice::<Vec<HowStr>>(br#"["\u00e9", "\u00e9"]"#, DEPTH).map(|v| v.len()),
            Ok(2)
        );
        // Type mismatches carry serde's message.
        assert_eq!(
            from_slice::<i64>(br#""x""#, DEPTH),
            syntax("invalid type: string \"x\", expected i64")
        );
        assert_eq!(
            from_slice::<u8>(b"256", DEPTH),
            syntax("invalid value: integer `256`, expected u8")
        );
        assert_eq!(
            from_slice::<u64>(b"-1", DEPTH),
            syntax("invalid value: integer `-1`, expected u64")
        );
        assert_eq!(
            from_slice::<i64>(b"1.0", DEPTH),
            syntax("invalid type: floating point `1.0`, expected i64")
        );
        assert_eq!(
            from_slice::<bool>(b"1", DEPTH),
            syntax("invalid type: integer `1`, expected a boolean")
        );
        assert_eq!(
            from_slice::<String>(b"null", DEPTH),
            syntax("invalid type: unit value, expected a string")
        );
        assert_eq!(
            from_slice::<u8>(b"1 x", DEPTH),
            syntax("trailing characters at byte 2")
        );
    }

    /// Integers of every size, floats from integers, and 128-bit targets.
    #[test]
    fn numbers() {
        assert_eq!(
            from_slice::<u64>(b"18446744073709551615", DEPTH),
            Ok(u64::MAX)
        );
        assert_eq!(
            from_slice::<i64>(b"-9223372036854775808", DEPTH),
            Ok(i64::MIN)
        );
        assert_eq!(
            from_slice::<i128>(b"-170141183460469231731687303715884105728", DEPTH),
            Ok(i128::MIN)
        );
        assert_eq!(
            from_slice::<i128>(b"-18446744073709551617", DEPTH),
            Ok(-18_446_744_073_709_551_617)
        );
        assert_eq!(
            from_slice::<u128>(b"340282366920938463463374607431768211455", DEPTH),
            Ok(u128::MAX)
        );
        assert_eq!(from_slice::<u128>(b"12", DEPTH), Ok(12));
        assert_eq!(from_slice::<i128>(b"12", DEPTH), Ok(12));
        assert_eq!(from_slice::<i8>(b"-128", DEPTH), Ok(-128));
        assert_eq!(from_slice::<f64>(b"3", DEPTH), Ok(3.0));
        assert_eq!(
            from_slice::<f64>(b"-0", DEPTH).map(f64::to_bits),
            Ok(0.0f64.to_bits())
        );
        assert_eq!(
            from_slice::<f64>(b"-0.0", DEPTH).map(f64::to_bits),
            Ok((-0.0f64).to_bits())
        );
        assert_eq!(
            from_slice::<f64>(b"9007199254740993", DEPTH),
            Ok(9_007_199_254_740_992.0)
        );
        assert_eq!(
            from_slice::<f64>(b"-Infinity", DEPTH),
            Ok(f64::NEG_INFINITY)
        );
        assert!(from_slice::<f64>(b"NaN", DEPTH).unwrap().is_nan());
        // Python's float(int) is exact to the nearest double for any size, and refuses overflow.
        let big = format!("1{}", "0".repeat(300));
        assert_eq!(from_slice::<f64>(big.as_bytes(), DEPTH), Ok(1e300));
        let huge = format!("1{}", "0".repeat(309));
        assert_eq!(from_slice::<f64>(huge.as_bytes(), DEPTH), syntax("integer 10000000000000000000...00000000000000000000 (310 digits) is too large to convert to float"));
        assert_eq!(from_slice::<f64>(b"1e309", DEPTH), Ok(f64::INFINITY));
        assert_eq!(from_slice::<f32>(b"1", DEPTH), Ok(1.0));
        assert_eq!(from_slice::<f32>(b"0.1", DEPTH), Ok(0.1));
        assert_eq!(
            from_slice::<Vec<f64>>(b"[1, -2, 3.5]", DEPTH),
            Ok(vec![1.0, -2.0, 3.5])
        );
        assert_eq!(
            from_slice::<f64>(br#""1""#, DEPTH),
            syntax("invalid type: string \"1\", expected f64")
        );
        assert_eq!(
            from_slice::<f64>(b"-", DEPTH),
            syntax("EOF while parsing a number at byte 1")
        );
        // Integers beyond 128 bits are refused, even where a float is wanted by any.
        let over = format!("{}", u128::MAX).replace("455", "456");
        assert_eq!(
            from_slice::<u128>(over.as_bytes(), DEPTH),
            syntax(&format!("integer {over} does not fit in 128 bits"))
        );
        let long = "9".repeat(4300);
        assert_eq!(
            read(long.as_bytes()),
            syntax(&format!(
                "integer {}...{} (4300 digits) does not fit in 128 bits",
                &long[..20],
                &long[..20]
            ))
        );
        // Python refuses integers of more than 4300 digits (floats may be longer).
        let longer = format!("-{long}9");
        let refused = "integer of 4301 digits exceeds Python's limit of 4300 at byte 0";
        assert_eq!(read(longer.as_bytes()), syntax(refused));
        assert_eq!(skip_value(longer.as_bytes(), 0, DEPTH), syntax(refused));
        assert_eq!(
            skip_value(&longer.as_bytes()[1..], 0, DEPTH),
            syntax(refused)
        );
        assert_eq!(from_slice::<f64>(longer.as_bytes(), DEPTH), syntax(refused));
        assert_eq!(
            from_slice::<f64>(format!("{longer}.5e-4301").as_bytes(), DEPTH),
            Ok(-1.0)
        );
        assert_eq!(kind_at(longer.as_bytes(), 0), "nothing");
        // Skipping does not decode integers, so an ignored one beyond 128 bits passes.
        #[derive(Deserialize, Debug, PartialEq)]
        struct S {
            /// A field that is read.
            a: u8,
        }
        let doc = format!(r#"{{"a": 1, "big": {long}}}"#);
        assert_eq!(from_slice::<S>(doc.as_bytes(), DEPTH), Ok(S { a: 1 }));
        assert_eq!(skip_value(long.as_bytes(), 0, DEPTH), Ok((0, 4300)));
    }

    /// Bytes read from arrays of integers or from strings, `ByteBuf` included.
    #[test]
    fn bytes() {
        use serde_bytes::ByteBuf;
        assert_eq!(
            from_slice::<ByteBuf>(b"[1, 2, 255]", DEPTH),
            Ok(ByteBuf::from(vec![1, 2, 255]))
        );
        assert_eq!(
            from_slice::<ByteBuf>(br#""ab\u00e9""#, DEPTH),
            Ok(ByteBuf::from("ab\u{e9}".as_bytes().to_vec()))
        );
        assert_eq!(
            from_slice::<ByteBuf>(br#""ab""#, DEPTH),
            Ok(ByteBuf::from(b"ab".to_vec()))
        );
        assert_eq!(from_slice::<ByteBuf>(b"[]", DEPTH), Ok(ByteBuf::new()));
        assert!(from_slice::<ByteBuf>(b"[256]", DEPTH).is_err());
        assert!(from_slice::<ByteBuf>(b"5", DEPTH).is_err());
        assert_eq!(from_slice::<Option<ByteBuf>>(b"null", DEPTH), Ok(None));
    }

    /// `deserialize_any` into other value types agrees with serde_json on ordinary JSON, and
    /// ignored values are skipped with full checking.
    #[test]
    fn any_and_ignored() {
        let doc = br#"{"a": [1, -2, 3.5, "x", true, null, {"b": []}], "c": "\u00e9\n", "d": 18446744073709551615}"#;
        let ours: serde_json::Value = from_slice(doc, DEPTH).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(doc).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(from_slice::<de::IgnoredAny>(doc, DEPTH).map(|_| ()), Ok(()));
        assert_eq!(
            from_slice::<de::IgnoredAny>(b"[1, \"\\x\"]", DEPTH).map(|_| ()),
            syntax("invalid escape \\x at byte 5")
        );
        assert_eq!(
            from_slice::<de::IgnoredAny>(b"[1,]", DEPTH).map(|_| ()),
            syntax("trailing comma at byte 3")
        );
        assert_eq!(
            from_slice::<de::IgnoredAny>(b"[[]]", 1).map(|_| ()),
            too_deep(1)
        );
        assert_eq!(
            from_slice::<de::IgnoredAny>(b"", DEPTH).map(|_| ()),
            syntax("EOF while parsing a value at byte 0")
        );
        #[derive(Deserialize, Debug, PartialEq)]
        struct S {
            /// A field that is read.
            a: u8,
        }
        assert_eq!(
            from_slice::<S>(br#"{"x": [1, tru], "a": 1}"#, DEPTH),
            syntax("invalid literal at byte 10")
        );
        assert_eq!(
            from_slice::<S>(br#"{"x": "\ud800", "a": 1}"#, DEPTH),
            syntax("lone surrogate \\ud800 at byte 7 cannot be represented")
        );
        assert_eq!(
            ReadError::TooDeep { limit: 3 }.to_string(),
            "JSON nested deeper than 3 arrays and objects"
        );
        assert_eq!(
            ReadError::Syntax("x at byte 1".into()).to_string(),
            "x at byte 1"
        );
    }
}
