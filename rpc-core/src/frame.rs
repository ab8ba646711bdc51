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
//! reserves any memory, and a frame over the maximum is an error that ends the connection.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

/// The default maximum payload length: 16 MiB.
///
/// Large enough for bulk payloads of several MiB, small enough that a hostile peer cannot make a
/// server reserve gigabytes with one header.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// What can go wrong while cutting frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A header announced a payload longer than the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum frame length of {limit} bytes")]
    TooLarge {
        /// The length the header announced (or the length of an outgoing payload).
        len: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The stream ended inside a frame.
    #[error("connection closed in the middle of a frame: {missing} of {expected} bytes missing")]
    Truncated {
        /// Bytes the frame (header included) needed.
        expected: usize,
        /// Bytes that never arrived.
        missing: usize,
    },
}

/// A [`Decoder`] for length-prefixed frames with a maximum payload length.
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

impl Decoder for FrameDecoder {
    type Item = Bytes;
    type Error = crate::error::ChannelError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Self::Error> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if len > self.max_len {
            return Err(FrameError::TooLarge {
                len,
                limit: self.max_len,
            }
            .into());
        }
        let needed = HEADER_LEN + len;
        if src.len() < needed {
            // The length is trusted only now that it passed the check above.
            src.reserve(needed - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(src.split_to(len).freeze()))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Self::Error> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let expected = if src.len() < HEADER_LEN {
                    HEADER_LEN
                } else {
                    HEADER_LEN + u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize
                };
                Err(FrameError::Truncated {
                    expected,
                    missing: expected - src.len(),
                }
                .into())
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

/// Patches the header of the frame begun at `start`; on error the frame is removed again.
pub(crate) fn finish_frame(
    buf: &mut BytesMut,
    start: usize,
    max_len: usize,
) -> Result<(), FrameError> {
    let len = buf.len() - start - HEADER_LEN;
    if len > max_len || len > u32::MAX as usize {
        buf.truncate(start);
        return Err(FrameError::TooLarge {
            len,
            limit: max_len.min(u32::MAX as usize),
        });
    }
    buf[start..start + HEADER_LEN].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}
