//! [`CodecError`]: bytes that could not become a message, or a value that could not become bytes.

/// A value could not be encoded, or bytes could not be decoded or cut into frames.
///
/// It is the wire layer's own error: [`Codec::encode`](crate::Codec::encode) and
/// [`Codec::decode`](crate::Codec::decode) return it, and [`Error`](crate::Error) carries it as
/// the source of [`Error::Encode`](crate::Error::Encode) and
/// [`Error::Decode`](crate::Error::Decode).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A value could not be encoded (serde's message).
    #[error("cannot encode: {0}")]
    Encode(String),
    /// A payload could not be decoded (serde's or the reader's message).
    #[error("cannot decode: {0}")]
    Decode(String),
    /// Bytes were to be sent with the JSON codec, which cannot carry them (as in aiomas).
    #[error("cannot encode bytes with the JSON codec; use the MsgPack codec or send a str")]
    BytesInJson,
    /// A `{"__type__": [typeid, value]}` envelope named a type that nobody registered.
    #[error("unknown type id {typeid} in a {{\"__type__\": [typeid, value]}} envelope: {known} types are registered on this connection (ids 0..{known})")]
    UnknownTypeId {
        /// The id that was seen.
        typeid: i64,
        /// How many types are registered.
        known: usize,
    },
    /// A `__type__` envelope was not `[typeid, value]`.
    #[error("invalid {{\"__type__\": ...}} envelope: expected [typeid, value], got {0}")]
    BadEnvelope(String),
    /// An integer beyond what [`Value`](crate::Value) holds exactly (128 bits) was to be decoded
    /// into one: it is refused rather than rounded.
    #[error("the integer {0} is beyond 128 bits: a Value keeps integers exactly from -2**127 to 2**127-1 and never rounds one; decode it into a type that holds it")]
    IntTooLarge(String),
    /// A value was nested deeper than the limit.
    #[error("value nested deeper than the limit of {limit} levels")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A message was not `[type, id, content]`, or a request's content not `[path, args, kwargs]`.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A compressed payload (MsgPackBlosc) claims, in its blosc header, to decompress to more
    /// than the maximum message length: refused before anything is allocated for it.
    #[error("a compressed message claims to decompress to {len} bytes, over the maximum message length of {limit} bytes")]
    DecompressedTooLarge {
        /// The decompressed length the blosc header claims.
        len: usize,
        /// The maximum (the connection's maximum frame length).
        limit: usize,
    },
    /// A payload could not be decompressed (MsgPackBlosc): not a blosc 1 buffer, one whose
    /// header does not match the frame, or corrupt data.
    #[error("cannot decompress a MsgPackBlosc message: {0}")]
    Decompress(String),
    /// A frame header announced a payload longer than the maximum.
    #[error("frame of {len} bytes exceeds the maximum frame length of {limit} bytes")]
    FrameTooLarge {
        /// The length the header announced.
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

impl serde::ser::Error for CodecError {
    /// A `Serialize` impl's own message.
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CodecError::Encode(msg.to_string())
    }
}

impl serde::de::Error for CodecError {
    /// A `Deserialize` impl's or a visitor's own message.
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CodecError::Decode(msg.to_string())
    }
}
