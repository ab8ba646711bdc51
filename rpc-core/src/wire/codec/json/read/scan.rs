//! The byte-level scanner both readers are built on: whitespace, strings and their escapes,
//! numbers and literals, each by Python's rules.

use std::borrow::Cow;

use super::{at, eof, ReadError};

/// The UTF-8 byte order mark, which `json.loads` skips at the start of `bytes` input.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where reading starts when asked to read at `pos`: past a byte order mark at the very start.
#[inline]
pub(super) fn after_bom(b: &[u8], pos: usize) -> usize {
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
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
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
pub(super) fn utf8_at(b: &[u8], start: usize, end: usize) -> Result<&str, ReadError> {
    std::str::from_utf8(&b[start..end]).map_err(|e| at("invalid UTF-8", start + e.valid_up_to()))
}

/// Validates the string token whose opening quote is at `pos`: the offset after it and
/// whether it has escapes.
#[inline]
pub(super) fn scan_string(b: &[u8], pos: usize) -> Result<(usize, bool), ReadError> {
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
pub(super) fn decode_string(b: &[u8], pos: usize) -> Result<(Cow<'_, str>, usize), ReadError> {
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
pub(super) fn scan_number(b: &[u8], pos: usize) -> Result<(usize, bool), ReadError> {
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
pub(super) const PY_INT_MAX_DIGITS: usize = 4300;

/// Checks that the literal `lit` is at `pos` and returns the offset after it.
#[inline]
pub(super) fn expect_lit(b: &[u8], pos: usize, lit: &'static [u8]) -> Result<usize, ReadError> {
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
pub(super) fn is_neg_infinity(b: &[u8], pos: usize) -> bool {
    b.get(pos + 1) == Some(&b'I')
}
