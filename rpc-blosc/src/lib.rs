//! A safe, minimal binding of c-blosc 1.x, for rpc-core's `MsgPackBlosc` codec.
//!
//! [`blosc-src`](https://crates.io/crates/blosc-src) compiles c-blosc 1.21.6 (the C library
//! that python-blosc 1.11 bundles) with the `cc` crate and declares its functions; this crate
//! wraps the three that a codec needs, the thread-safe `_ctx` forms, in safe functions that
//! check every length the C code relies on:
//!
//! - [`compress`]: `blosc_compress_ctx`, into a caller's buffer of at least
//!   `src.len() + `[`MAX_OVERHEAD`] bytes (the size for which c-blosc guarantees success);
//! - [`header`]: the 16-byte header read in Rust, so that a caller can refuse a buffer by the
//!   size it claims before it allocates anything;
//! - [`decompress`]: `blosc_cbuffer_validate`, then `blosc_decompress_ctx` into a caller's
//!   buffer of exactly the validated size.
//!
//! Only the `blosclz` compressor is built (python-blosc's default, and what aiomas writes);
//! a buffer made with another compressor is refused by [`decompress`].
//!
//! ```
//! let plain = b"abcdefgh".repeat(100);
//! let mut packed = vec![0; plain.len() + rpc_blosc::MAX_OVERHEAD];
//! let n = rpc_blosc::compress(&plain, &rpc_blosc::Params::PYTHON, &mut packed).unwrap();
//! packed.truncate(n);
//! let h = rpc_blosc::header(&packed).unwrap();
//! assert_eq!((h.nbytes, h.cbytes), (plain.len(), n));
//! let mut back = vec![0; h.nbytes];
//! assert_eq!(rpc_blosc::decompress(&packed, &mut back), Ok(plain.len()));
//! assert_eq!(back, plain);
//! ```

use std::ffi::{c_int, c_void, CStr};

/// The most bytes compression adds to its input (c-blosc's `BLOSC_MAX_OVERHEAD`).
pub const MAX_OVERHEAD: usize = blosc_src::BLOSC_MAX_OVERHEAD as usize;

/// The length of a blosc header (`BLOSC_MIN_HEADER_LENGTH`).
pub const HEADER_LEN: usize = blosc_src::BLOSC_MIN_HEADER_LENGTH as usize;

/// The largest input c-blosc compresses (`BLOSC_MAX_BUFFERSIZE`, 2 GiB less 17 bytes).
pub const MAX_BUFFER_SIZE: usize = blosc_src::BLOSC_MAX_BUFFERSIZE as usize;

/// The version of the c-blosc library compiled in.
pub const C_VERSION: &str = "1.21.6";

/// Which shuffle filter runs before compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shuffle {
    /// None (`BLOSC_NOSHUFFLE`).
    None,
    /// Byte shuffle (`BLOSC_SHUFFLE`): python-blosc's default.
    Byte,
    /// Bit shuffle (`BLOSC_BITSHUFFLE`).
    Bit,
}

impl Shuffle {
    fn code(self) -> c_int {
        match self {
            Shuffle::None => blosc_src::BLOSC_NOSHUFFLE as c_int,
            Shuffle::Byte => blosc_src::BLOSC_SHUFFLE as c_int,
            Shuffle::Bit => blosc_src::BLOSC_BITSHUFFLE as c_int,
        }
    }
}

/// How to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Params {
    /// The compression level, 0 (none) to 9 (most).
    pub clevel: u8,
    /// The shuffle filter.
    pub shuffle: Shuffle,
    /// The size in bytes of the items the shuffle filter regroups (1 to 255).
    pub typesize: u8,
}

impl Params {
    /// python-blosc 1.x's `blosc.compress` defaults with aiomas's typesize: `clevel=9`,
    /// `shuffle=blosc.SHUFFLE`, `cname='blosclz'` (`blosc/toplevel.py`), and `typesize=8`
    /// (aiomas's `TYPESIZE` on a 64-bit Python).
    pub const PYTHON: Params = Params {
        clevel: 9,
        shuffle: Shuffle::Byte,
        typesize: 8,
    };
}

/// The compressor: the only one this build of c-blosc has.
const BLOSCLZ: &CStr = c"blosclz";

/// What went wrong in c-blosc, or in what was asked of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BloscError {
    /// The input is larger than c-blosc compresses ([`MAX_BUFFER_SIZE`]).
    InputTooLarge {
        /// The input's length.
        len: usize,
    },
    /// The output buffer is smaller than the operation needs.
    OutputTooSmall {
        /// The bytes needed.
        needed: usize,
        /// The bytes given.
        given: usize,
    },
    /// The compression level is over 9, or the typesize is 0.
    BadParams(Params),
    /// The buffer is not a blosc 1 buffer whose header matches its length.
    Invalid(&'static str),
    /// c-blosc returned an error code.
    Failed {
        /// The call.
        call: &'static str,
        /// Its return value.
        code: i32,
    },
}

impl std::fmt::Display for BloscError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BloscError::InputTooLarge { len } => write!(
                f,
                "{len} bytes is more than blosc compresses (at most {MAX_BUFFER_SIZE})"
            ),
            BloscError::OutputTooSmall { needed, given } => {
                write!(f, "output buffer of {given} bytes, {needed} needed")
            }
            BloscError::BadParams(p) => write!(
                f,
                "bad blosc parameters {p:?}: clevel must be 0 to 9, typesize 1 to 255"
            ),
            BloscError::Invalid(why) => write!(f, "not a valid blosc buffer: {why}"),
            BloscError::Failed { call, code } => write!(f, "{call} failed with code {code}"),
        }
    }
}

impl std::error::Error for BloscError {}

/// Compresses `src` into `dst` and returns the compressed length.
///
/// # Errors
/// [`BloscError::OutputTooSmall`] unless `dst` has `src.len() + MAX_OVERHEAD` bytes (with that
/// room c-blosc always succeeds), [`BloscError::InputTooLarge`], [`BloscError::BadParams`],
/// and [`BloscError::Failed`] for an error inside c-blosc.
pub fn compress(src: &[u8], params: &Params, dst: &mut [u8]) -> Result<usize, BloscError> {
    if src.len() > MAX_BUFFER_SIZE {
        return Err(BloscError::InputTooLarge { len: src.len() });
    }
    let needed = src.len() + MAX_OVERHEAD;
    if dst.len() < needed {
        return Err(BloscError::OutputTooSmall {
            needed,
            given: dst.len(),
        });
    }
    if params.clevel > 9 || params.typesize == 0 {
        return Err(BloscError::BadParams(*params));
    }
    // SAFETY: `src` is valid for reads of `src.len()` bytes and `dst` for writes of
    // `dst.len()` bytes, the two do not overlap (one is borrowed shared, the other unique),
    // c-blosc writes no more than `destsize` bytes, and the compressor name is a NUL-terminated
    // static string. The `_ctx` form keeps all of its state on this call's stack (no global
    // lock, no environment variables), and one internal thread starts no threads.
    let n = unsafe {
        blosc_src::blosc_compress_ctx(
            c_int::from(params.clevel),
            params.shuffle.code(),
            usize::from(params.typesize),
            src.len(),
            src.as_ptr().cast::<c_void>(),
            dst.as_mut_ptr().cast::<c_void>(),
            dst.len(),
            BLOSCLZ.as_ptr(),
            0,
            1,
        )
    };
    match usize::try_from(n) {
        Ok(n) if n > 0 && n <= dst.len() => Ok(n),
        _ => Err(BloscError::Failed {
            call: "blosc_compress_ctx",
            code: n,
        }),
    }
}

/// The sizes a blosc buffer's header claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The format version (2 for c-blosc 1.x).
    pub version: u8,
    /// The flags byte (bit 0 shuffle, bit 1 stored uncompressed, bit 2 bit shuffle).
    pub flags: u8,
    /// The typesize.
    pub typesize: u8,
    /// The length of the data once decompressed.
    pub nbytes: usize,
    /// The length of the whole compressed buffer, header included.
    pub cbytes: usize,
}

/// Reads the header at the start of `src`, without calling c-blosc and without allocating.
///
/// # Errors
/// [`BloscError::Invalid`] when `src` is shorter than a header.
pub fn header(src: &[u8]) -> Result<Header, BloscError> {
    let Some(h) = src.get(..HEADER_LEN) else {
        return Err(BloscError::Invalid("shorter than the 16-byte blosc header"));
    };
    let le = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]) as usize;
    Ok(Header {
        version: h[0],
        flags: h[2],
        typesize: h[3],
        nbytes: le(4),
        cbytes: le(12),
    })
}

/// Decompresses `src`, which must be exactly one blosc buffer, into `dst`, and returns the
/// decompressed length ([`header`]`(src)?.nbytes`).
///
/// # Errors
/// [`BloscError::Invalid`] when `src`'s header does not match its length or claims more than
/// [`MAX_BUFFER_SIZE`]; [`BloscError::OutputTooSmall`] when `dst` is shorter than the
/// decompressed length; [`BloscError::Failed`] when c-blosc finds the data corrupt (or made
/// with a compressor this build lacks).
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize, BloscError> {
    let h = header(src)?;
    if h.cbytes != src.len() {
        return Err(BloscError::Invalid(
            "the compressed length in the header is not the buffer's length",
        ));
    }
    let mut nbytes = 0usize;
    // SAFETY: `src` is valid for reads of `src.len()` bytes (at least HEADER_LEN, checked by
    // `header`), which is the length c-blosc is told; `nbytes` is a valid place to write.
    let valid = unsafe {
        blosc_src::blosc_cbuffer_validate(src.as_ptr().cast::<c_void>(), src.len(), &mut nbytes)
    };
    if valid != 0 {
        return Err(BloscError::Invalid("rejected by blosc_cbuffer_validate"));
    }
    if dst.len() < nbytes {
        return Err(BloscError::OutputTooSmall {
            needed: nbytes,
            given: dst.len(),
        });
    }
    if nbytes == 0 {
        return Ok(0);
    }
    // SAFETY: `blosc_cbuffer_validate` accepted `src`: its header's compressed length equals
    // `src.len()`, so c-blosc reads within `src` (what that function documents as making the
    // call safe to attempt); `dst` is valid for writes of `dst.len()` bytes, which c-blosc is
    // told and does not exceed; the two do not overlap. One internal thread starts no threads.
    let n = unsafe {
        blosc_src::blosc_decompress_ctx(
            src.as_ptr().cast::<c_void>(),
            dst.as_mut_ptr().cast::<c_void>(),
            dst.len(),
            1,
        )
    };
    match usize::try_from(n) {
        Ok(n) if n == nbytes => Ok(n),
        _ => Err(BloscError::Failed {
            call: "blosc_decompress_ctx",
            code: n,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(plain: &[u8]) -> Vec<u8> {
        let mut out = vec![0; plain.len() + MAX_OVERHEAD];
        let n = compress(plain, &Params::PYTHON, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn the_version_named_is_the_one_compiled_in() {
        assert_eq!(
            format!("{C_VERSION}\0").as_bytes(),
            blosc_src::BLOSC_VERSION_STRING
        );
    }

    #[test]
    fn round_trips_empty_small_and_large_inputs() {
        let big: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for plain in [&b""[..], b"x", b"hello hello hello hello", &big] {
            let packed = pack(plain);
            let h = header(&packed).unwrap();
            assert_eq!((h.version, h.typesize), (2, 8));
            assert_eq!((h.nbytes, h.cbytes), (plain.len(), packed.len()));
            let mut back = vec![0; h.nbytes];
            assert_eq!(decompress(&packed, &mut back), Ok(plain.len()));
            assert_eq!(back, plain);
        }
    }

    #[test]
    fn bad_buffers_are_errors_not_crashes() {
        let packed = pack(&b"abcdefgh".repeat(1000));
        let mut dst = vec![0; 8000];
        assert!(matches!(
            decompress(&packed[..10], &mut dst),
            Err(BloscError::Invalid(_))
        ));
        assert!(matches!(
            decompress(&packed[..packed.len() - 1], &mut dst),
            Err(BloscError::Invalid(_))
        ));
        assert_eq!(
            decompress(&packed, &mut dst[..10]),
            Err(BloscError::OutputTooSmall {
                needed: 8000,
                given: 10
            })
        );
        // Every byte flipped in turn: an error or the right length, never a crash.
        for i in 0..packed.len() {
            let mut bad = packed.clone();
            bad[i] ^= 0xa5;
            let mut out = vec![0; header(&bad).unwrap().nbytes.min(1 << 20)];
            let _ = decompress(&bad, &mut out);
        }
        let mut small = [0u8; 4];
        assert!(matches!(
            compress(b"abc", &Params::PYTHON, &mut small),
            Err(BloscError::OutputTooSmall { .. })
        ));
        let bad = Params {
            clevel: 10,
            ..Params::PYTHON
        };
        assert!(matches!(
            compress(b"abc", &bad, &mut [0; 64]),
            Err(BloscError::BadParams(_))
        ));
    }
}
