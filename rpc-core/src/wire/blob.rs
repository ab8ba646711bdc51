//! [`Blob`]: a byte string that shares the received frame instead of copying it.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

use super::codec::share_from_frame;

/// A byte string (Python `bytes`, msgpack `bin`) that is not copied on its way in.
///
/// An argument or a result of this type is a view into the frame it arrived in, shared with
/// [`bytes::Bytes`] reference counting: a 1 MiB argument costs no 1 MiB copy between the socket
/// and the handler. It is sent like a `ByteBuf` or `&[u8]` (as `bin`), and cheap to clone.
///
/// ```
/// use rpc_core::{Blob, Codec};
/// let codec = Codec::msgpack();
/// let bytes = codec.encode(&Blob::from(vec![1, 2, 3])).unwrap();
/// assert_eq!(bytes, [0xc4, 3, 1, 2, 3]);
/// let back: Blob = codec.decode(&bytes).unwrap();
/// assert_eq!(&back[..], [1, 2, 3]);
/// ```
///
/// It keeps the whole frame it points into alive for as long as it lives; call
/// [`Blob::detach`] to keep a copy of just its bytes instead.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blob(Bytes);

impl Blob {
    /// A blob of the given bytes.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Blob(bytes.into())
    }

    /// The shared bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The same bytes in memory of their own, so that the frame they came in can be freed.
    #[must_use]
    pub fn detach(&self) -> Blob {
        Blob(Bytes::copy_from_slice(&self.0))
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Bytes> for Blob {
    fn from(b: Bytes) -> Self {
        Blob(b)
    }
}

impl From<Vec<u8>> for Blob {
    fn from(v: Vec<u8>) -> Self {
        Blob(v.into())
    }
}

impl From<&'static [u8]> for Blob {
    fn from(v: &'static [u8]) -> Self {
        Blob(Bytes::from_static(v))
    }
}

impl From<Blob> for Bytes {
    fn from(b: Blob) -> Self {
        b.0
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A large one is written from where it is, not copied into the outgoing buffer.
        super::codec::msgpack::ser::serialize_shared(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
        d.deserialize_byte_buf(BlobVisitor)
    }
}

struct BlobVisitor;

impl<'de> Visitor<'de> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Blob, E> {
        // Bytes that lie in the frame being decoded are shared, not copied.
        Ok(Blob(
            share_from_frame(v).unwrap_or_else(|| Bytes::copy_from_slice(v)),
        ))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
        Ok(Blob(Bytes::copy_from_slice(v)))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
        Ok(Blob(v.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Blob(out.into()))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::Blob;
    use crate::wire::codec::{Codec, Scope};

    fn inside(frame: &Bytes, blob: &Blob) -> bool {
        crate::wire::codec::place_in(frame, blob).is_some()
    }

    #[test]
    fn a_blob_decoded_from_a_frame_shares_it_and_one_decoded_elsewhere_is_copied() {
        let codec = Codec::msgpack();
        let payload = vec![7u8; 100_000];
        let frame = Bytes::from(codec.encode(&("x", Blob::from(payload.clone()))).unwrap());
        let scope = Scope::detached(codec.clone());
        let (_, shared): (String, Blob) = scope
            .enter_framed(&frame, || codec.decode_slice(&frame))
            .unwrap();
        assert_eq!(&shared[..], &payload[..]);
        assert!(inside(&frame, &shared), "not shared with the frame");
        // Outside a frame (or from bytes that are not the frame's) it is a copy.
        let (_, copied): (String, Blob) = codec.decode(&frame).unwrap();
        assert_eq!(&copied[..], &payload[..]);
        assert!(!inside(&frame, &copied));
        let other = frame.to_vec();
        let (_, copied): (String, Blob) = scope
            .enter_framed(&frame, || codec.decode_slice(&other))
            .unwrap();
        assert!(!inside(&frame, &copied));
        // Detaching copies just the bytes.
        assert!(!inside(&frame, &shared.detach()));
    }

    #[test]
    fn a_large_blob_is_noted_for_a_vectored_write_not_copied() {
        use crate::wire::codec::MsgId;
        let codec = Codec::msgpack();
        let big = Blob::from(vec![3u8; 100_000]);
        let small = Blob::from(vec![4u8; 1_000]);
        let mut buf = bytes::BytesMut::new();
        let mut splices = Vec::new();
        {
            let armed = crate::wire::codec::msgpack::ser::Splices::arm();
            codec
                .write_message(&mut buf, 1, MsgId::Num(7), &(&small, &big, 5), usize::MAX)
                .unwrap();
            assert_eq!(armed.take_into(&mut splices), 100_000);
        }
        // The small one is copied; the large one is its head in the buffer and itself noted.
        assert_eq!(splices.len(), 1);
        let (at, shared) = &splices[0];
        assert!(
            std::ptr::eq(shared.as_ptr(), big.as_ptr()),
            "not the same memory"
        );
        assert_eq!(buf.len(), 1 + 1 + 1 + 1 + (3 + 1_000) + 5 + 1);
        assert_eq!(&buf[*at - 5..*at], [0xc6, 0, 1, 0x86, 0xa0]);
        // Put together, the pieces are exactly the message the plain encoding writes.
        let mut whole = buf[..*at].to_vec();
        whole.extend_from_slice(shared);
        whole.extend_from_slice(&buf[*at..]);
        let plain = codec
            .encode_message(
                crate::wire::codec::MessageKind::Result,
                7,
                &(&small, &big, 5),
            )
            .unwrap();
        assert_eq!(whole, plain);
        // Not armed (or for another codec), it is copied as before.
        let json_err = Codec::json().encode(&big).unwrap_err();
        assert!(json_err.to_string().contains("bytes"), "{json_err}");
        assert_eq!(codec.encode(&big).unwrap().len(), 100_005);
    }

    #[test]
    fn a_blob_reads_what_a_bytebuf_reads() {
        let json = Codec::json();
        let b: Blob = json.decode(b"[1, 2, 255]").unwrap();
        assert_eq!(&b[..], [1, 2, 255]);
        let err = json.decode::<Blob>(b"[256]").unwrap_err();
        assert!(err.to_string().contains("expected u8"), "{err}");
        assert!(
            json.encode(&Blob::from(vec![1])).is_err(),
            "JSON has no bytes"
        );
    }
}
