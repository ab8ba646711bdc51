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
//!
//! The files: `scan.rs` is the byte-level scanner (whitespace, strings, escapes, numbers,
//! literals); `validate.rs` skips and cuts values without decoding them (what the message cutter
//! uses); `deserializer.rs` is the serde deserializer; `tests.rs` checks all three against Python's
//! behaviour.

use std::fmt;

use serde::de;

mod deserializer;
#[cfg(test)]
mod py_value;
mod scan;
#[cfg(test)]
mod tests;
mod validate;

pub(crate) use deserializer::from_slice;
pub(crate) use validate::{
    array_items, cut_request, kind_at, object_entries, skip_value, string_at,
};

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
