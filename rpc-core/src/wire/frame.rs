//! Frames: the length prefix that cuts a byte stream into messages.
//!
//! ```text
//! +----------------+---------------------------+
//! | length: u32 BE | payload: `length` bytes   |
//! +----------------+---------------------------+
//! ```
//!
//! The length counts only the payload, as in aiomas (`struct '!L'`). There is no handshake and no
//! other framing: the first bytes on a connection are already a frame.
//!
//! aiomas never checks the length it reads; a header of `0xFFFFFFFF` makes it wait forever. This
//! decoder checks it against a maximum ([`DEFAULT_MAX_FRAME_LEN`] unless configured) *before* it
//! reserves any memory, and a frame over the maximum is an error that ends the connection. Even
//! a length within the maximum reserves nothing by itself: the reader's buffer grows with the
//! bytes that actually arrive.

use bytes::{Buf, Bytes, BytesMut};

use super::CodecError;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

/// The default maximum payload length: 16 MiB.
///
/// Large enough for bulk payloads of several MiB, small enough that a hostile peer cannot make a
/// server reserve gigabytes with one header.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Cuts length-prefixed frames off a byte buffer, with a maximum payload length.
///
/// Each decoded item is the payload alone, as [`Bytes`] that share the read buffer.
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    max_len: usize,
}

impl FrameDecoder {
    /// A decoder that accepts payloads up to `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Self { max_len }
    }

    /// The maximum payload length.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl FrameDecoder {
    /// Cuts the next whole frame off the front of `src` and returns its payload, or `None` if
    /// `src` does not hold a whole frame yet.
    ///
    /// # Errors
    /// [`CodecError::FrameTooLarge`] when a header announces more than the maximum; the stream
    /// cannot be cut any further.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if len > self.max_len {
            return Err(CodecError::FrameTooLarge {
                len,
                limit: self.max_len,
            });
        }
        if src.len() < HEADER_LEN + len {
            // Nothing is reserved for the announced length: the buffer grows with the bytes
            // that actually arrive, so a header alone costs a peer nothing to send and us
            // nothing to keep.
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(src.split_to(len).freeze()))
    }

    /// As [`decode`](Self::decode), at the end of the stream: bytes left that are not a whole
    /// frame are [`CodecError::Truncated`].
    ///
    /// # Errors
    /// As [`decode`](Self::decode), and [`CodecError::Truncated`].
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let expected = if src.len() < HEADER_LEN {
                    HEADER_LEN
                } else {
                    HEADER_LEN + u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize
                };
                Err(CodecError::Truncated {
                    expected,
                    missing: expected - src.len(),
                })
            }
        }
    }
}

/// Starts a frame in `buf`: reserves the header and returns where it starts, for [`finish_frame`].
pub(crate) fn begin_frame(buf: &mut BytesMut) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER_LEN]);
    start
}

/// Patches the header of the frame begun at `start`, whose payload is what `buf` holds after it
/// plus `elsewhere` bytes written from elsewhere (shared byte strings); on error the frame is
/// removed from `buf` again.
pub(crate) fn finish_frame(
    buf: &mut BytesMut,
    start: usize,
    elsewhere: usize,
    max_len: usize,
) -> Result<(), CodecError> {
    let len = buf.len() - start - HEADER_LEN + elsewhere;
    if len > max_len || len > u32::MAX as usize {
        buf.truncate(start);
        return Err(CodecError::FrameTooLarge {
            len,
            limit: max_len.min(u32::MAX as usize),
        });
    }
    buf[start..start + HEADER_LEN].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}
