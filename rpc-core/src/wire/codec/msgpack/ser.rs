//! The MsgPack serializer: serde's data model written straight into the outgoing buffer, as
//! Python's `msgpack.packb(use_bin_type=True)` writes the same values.
//!
//! | serde | MsgPack |
//! |---|---|
//! | `()`, `None`, a unit struct | `nil` |
//! | integers (up to 128 bits) | the smallest int format; beyond 64 bits an error, as in Python |
//! | `f32`, `f64` | float64 (Python has no other float) |
//! | `char`, `str` | str (fixstr, str8, str16, str32) |
//! | bytes | bin |
//! | sequence, tuple | array |
//! | map, struct | map (struct fields by name) |
//! | unit variant | `"Variant"` |
//! | newtype, tuple, struct variant | `{"Variant": data}` |
//!
//! It is the [`Value`](crate::Value) mapping too (`wire/value/serializer.rs`), so that a value and its
//! `Value` encode to the same bytes.

use std::cell::Cell;

use bytes::{BufMut, Bytes, BytesMut};
use serde::ser::{self, Serialize};

use crate::wire::CodecError;

type Result<T> = std::result::Result<T, CodecError>;

/// Serializes `value` at the end of `buf`. On error, `buf` may hold part of it: the caller cuts
/// it back.
pub(crate) fn encode_into<T: Serialize + ?Sized>(buf: &mut BytesMut, value: &T) -> Result<()> {
    value.serialize(&mut Writer { buf })
}

/// The smallest shared byte string written from where it is rather than copied: below it, a
/// copy costs less than the bookkeeping and the extra piece of a vectored write.
pub(crate) const SPLICE_MIN: usize = 64 * 1024;

thread_local! {
    /// The shared bytes a `Blob` is serializing now, offered to a serializer that can write them
    /// without a copy.
    static OFFERED: Cell<Option<Bytes>> = const { Cell::new(None) };
    /// Whether the message being encoded on this thread may leave large shared byte strings out
    /// of its buffer (a [`Splices`] is armed).
    static SPLICING: Cell<bool> = const { Cell::new(false) };
    /// Whether anything was noted in `SPLICED` (so that the common case never touches it).
    static NOTED: Cell<bool> = const { Cell::new(false) };
    /// The shared byte strings left out, as `(position in the buffer, bytes)`.
    static SPLICED: std::cell::RefCell<Vec<(usize, Bytes)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// While it lives, this crate's MsgPack serializer writes only the `bin` head of a shared byte
/// string of at least [`SPLICE_MIN`] bytes (a [`Blob`](crate::Blob)) and notes the bytes
/// themselves, to be written from where they are: for the channel's writer, whose buffer the
/// positions are in. Dropped, it forgets what was noted and not taken.
pub(crate) struct Splices(());

impl Splices {
    /// Arms splicing for the message encoded next on this thread.
    pub(crate) fn arm() -> Splices {
        SPLICING.with(|s| s.set(true));
        Splices(())
    }

    /// Moves what was noted into `into`; returns how many bytes that is.
    pub(crate) fn take_into(&self, into: &mut Vec<(usize, Bytes)>) -> usize {
        if !NOTED.with(|n| n.replace(false)) {
            return 0;
        }
        SPLICED.with(|s| {
            let mut noted = s.borrow_mut();
            let n = noted.iter().map(|(_, b)| b.len()).sum();
            into.append(&mut noted);
            n
        })
    }
}

impl Drop for Splices {
    fn drop(&mut self) {
        SPLICING.with(|s| s.set(false));
        if NOTED.with(|n| n.replace(false)) {
            SPLICED.with(|s| s.borrow_mut().clear());
        }
    }
}

/// Serializes `bytes` with `s`, offering them as shared to this crate's MsgPack serializer.
pub(crate) fn serialize_shared<S: ser::Serializer>(
    bytes: &Bytes,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    if bytes.len() < SPLICE_MIN {
        return s.serialize_bytes(bytes);
    }
    OFFERED.with(|o| o.set(Some(bytes.clone())));
    let r = s.serialize_bytes(bytes);
    // Not taken (another serializer, or no splicing here): withdrawn.
    OFFERED.with(Cell::take);
    r
}

/// Writes the head of a str of `len` bytes.
#[inline]
pub(crate) fn write_str_len(buf: &mut BytesMut, len: usize) -> Result<()> {
    match len {
        0..=31 => buf.put_u8(0xa0 | len as u8),
        32..=0xff => {
            buf.put_u8(0xd9);
            buf.put_u8(len as u8);
        }
        0x100..=0xffff => {
            buf.put_u8(0xda);
            buf.put_u16(len as u16);
        }
        _ => {
            buf.put_u8(0xdb);
            buf.put_u32(too_long(len, "a str")?);
        }
    }
    Ok(())
}

/// Writes a str.
#[inline]
pub(crate) fn write_str(buf: &mut BytesMut, s: &str) -> Result<()> {
    reserve_for(buf, s.len());
    write_str_len(buf, s.len())?;
    buf.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Room left after a long str or bin for what usually follows it in a message (the rest of the
/// request: a kwargs map, a few small values).
const ROOM_AFTER_LONG: usize = 256;

/// Makes room for the head and body of a str or bin of `len` bytes in one go. Without it, a
/// 1 MiB bin grows the buffer to exactly its end, and the next byte written (the `{}` of a
/// request's kwargs) makes the allocator copy the whole megabyte again.
#[inline]
fn reserve_for(buf: &mut BytesMut, len: usize) {
    if len >= 1024 {
        buf.reserve(len + 5 + ROOM_AFTER_LONG);
    }
}

/// Writes the head of an array of `len` items.
#[inline]
pub(crate) fn write_array_len(buf: &mut BytesMut, len: usize) -> Result<()> {
    match len {
        0..=15 => buf.put_u8(0x90 | len as u8),
        16..=0xffff => {
            buf.put_u8(0xdc);
            buf.put_u16(len as u16);
        }
        _ => {
            buf.put_u8(0xdd);
            buf.put_u32(too_long(len, "an array")?);
        }
    }
    Ok(())
}

/// Writes the head of a map of `len` entries.
#[inline]
pub(crate) fn write_map_len(buf: &mut BytesMut, len: usize) -> Result<()> {
    match len {
        0..=15 => buf.put_u8(0x80 | len as u8),
        16..=0xffff => {
            buf.put_u8(0xde);
            buf.put_u16(len as u16);
        }
        _ => {
            buf.put_u8(0xdf);
            buf.put_u32(too_long(len, "a map")?);
        }
    }
    Ok(())
}

fn too_long(len: usize, what: &str) -> Result<u32> {
    u32::try_from(len).map_err(|_| {
        CodecError::Encode(format!(
            "{what} of {len} items or bytes is longer than msgpack's limit of 2**32-1"
        ))
    })
}

/// Writes a non-negative integer in its smallest form.
#[inline]
pub(crate) fn write_uint(buf: &mut BytesMut, n: u64) {
    match n {
        0..=0x7f => buf.put_u8(n as u8),
        0x80..=0xff => {
            buf.put_u8(0xcc);
            buf.put_u8(n as u8);
        }
        0x100..=0xffff => {
            buf.put_u8(0xcd);
            buf.put_u16(n as u16);
        }
        0x1_0000..=0xffff_ffff => {
            buf.put_u8(0xce);
            buf.put_u32(n as u32);
        }
        _ => {
            buf.put_u8(0xcf);
            buf.put_u64(n);
        }
    }
}

/// Writes an integer in its smallest form: non-negative ones as unsigned, as Python does.
#[inline]
pub(crate) fn write_int(buf: &mut BytesMut, n: i64) {
    match n {
        0.. => write_uint(buf, n as u64),
        -32..=-1 => buf.put_u8(n as u8),
        -0x80..=-33 => {
            buf.put_u8(0xd0);
            buf.put_i8(n as i8);
        }
        -0x8000..=-0x81 => {
            buf.put_u8(0xd1);
            buf.put_i16(n as i16);
        }
        -0x8000_0000..=-0x8001 => {
            buf.put_u8(0xd2);
            buf.put_i32(n as i32);
        }
        _ => {
            buf.put_u8(0xd3);
            buf.put_i64(n);
        }
    }
}

fn int_beyond_64_bits(n: &dyn std::fmt::Display) -> CodecError {
    CodecError::Encode(format!(
        "the integer {n} is beyond 64 bits, which msgpack cannot carry (Python's msgpack refuses it too): send it with the JSON codec, or as a string"
    ))
}

/// The serializer: a cursor at the end of the outgoing buffer.
pub(crate) struct Writer<'b> {
    buf: &'b mut BytesMut,
}

/// A sequence or map being written; `counted` when its length was not known up front, so that
/// its head is put in front of its items at the end.
pub(crate) struct Compound<'w, 'b> {
    w: &'w mut Writer<'b>,
    counted: Option<(usize, usize)>,
}

impl<'w, 'b> Compound<'w, 'b> {
    #[inline]
    fn known(w: &'w mut Writer<'b>) -> Self {
        Compound { w, counted: None }
    }

    #[inline]
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if let Some((_, n)) = &mut self.counted {
            *n += 1;
        }
        value.serialize(&mut *self.w)
    }

    /// Puts the head of a sequence or map whose length was counted in front of its items.
    #[inline]
    fn finish(self, head: fn(&mut BytesMut, usize) -> Result<()>, per_entry: usize) -> Result<()> {
        if let Some((start, n)) = self.counted {
            let buf = &mut *self.w.buf;
            let end = buf.len();
            head(buf, n / per_entry)?;
            let head_len = buf.len() - end;
            buf[start..].rotate_right(head_len);
        }
        Ok(())
    }
}

impl<'w, 'b> ser::Serializer for &'w mut Writer<'b> {
    type Ok = ();
    type Error = CodecError;
    type SerializeSeq = Compound<'w, 'b>;
    type SerializeTuple = Compound<'w, 'b>;
    type SerializeTupleStruct = Compound<'w, 'b>;
    type SerializeTupleVariant = Compound<'w, 'b>;
    type SerializeMap = Compound<'w, 'b>;
    type SerializeStruct = Compound<'w, 'b>;
    type SerializeStructVariant = Compound<'w, 'b>;

    #[inline]
    fn is_human_readable(&self) -> bool {
        false
    }

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<()> {
        self.buf.put_u8(if v { 0xc3 } else { 0xc2 });
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<()> {
        write_int(self.buf, v);
        Ok(())
    }
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<()> {
        if let Ok(i) = i64::try_from(v) {
            write_int(self.buf, i);
        } else if let Ok(u) = u64::try_from(v) {
            write_uint(self.buf, u);
        } else {
            return Err(int_beyond_64_bits(&v));
        }
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<()> {
        write_uint(self.buf, v);
        Ok(())
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<()> {
        match u64::try_from(v) {
            Ok(u) => {
                write_uint(self.buf, u);
                Ok(())
            }
            Err(_) => Err(int_beyond_64_bits(&v)),
        }
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.serialize_f64(v.into())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.buf.put_u8(0xcb);
        self.buf.put_f64(v);
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<()> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<()> {
        write_str(self.buf, v)
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let len = v.len();
        let shared = if len >= SPLICE_MIN && SPLICING.with(Cell::get) {
            OFFERED
                .with(Cell::take)
                .filter(|b| b.as_ptr() == v.as_ptr() && b.len() == len)
        } else {
            None
        };
        if shared.is_none() {
            reserve_for(self.buf, len);
        }
        match len {
            0..=0xff => {
                self.buf.put_u8(0xc4);
                self.buf.put_u8(len as u8);
            }
            0x100..=0xffff => {
                self.buf.put_u8(0xc5);
                self.buf.put_u16(len as u16);
            }
            _ => {
                self.buf.put_u8(0xc6);
                self.buf.put_u32(too_long(len, "a bin")?);
            }
        }
        match shared {
            Some(bytes) => {
                SPLICED.with(|s| s.borrow_mut().push((self.buf.len(), bytes)));
                NOTED.with(|n| n.set(true));
            }
            None => self.buf.extend_from_slice(v),
        }
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<()> {
        self.buf.put_u8(0xc0);
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.serialize_str(variant)
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.buf.put_u8(0x81);
        write_str(self.buf, variant)?;
        value.serialize(self)
    }
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'w, 'b>> {
        match len {
            Some(n) => {
                write_array_len(self.buf, n)?;
                Ok(Compound::known(self))
            }
            None => {
                let start = self.buf.len();
                Ok(Compound {
                    w: self,
                    counted: Some((start, 0)),
                })
            }
        }
    }
    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'b>> {
        self.serialize_seq(Some(len))
    }
    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'w, 'b>> {
        self.serialize_seq(Some(len))
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'b>> {
        self.buf.put_u8(0x81);
        write_str(self.buf, variant)?;
        self.serialize_seq(Some(len))
    }
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'w, 'b>> {
        match len {
            Some(n) => {
                write_map_len(self.buf, n)?;
                Ok(Compound::known(self))
            }
            None => {
                let start = self.buf.len();
                Ok(Compound {
                    w: self,
                    counted: Some((start, 0)),
                })
            }
        }
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'w, 'b>> {
        self.serialize_map(Some(len))
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'b>> {
        self.buf.put_u8(0x81);
        write_str(self.buf, variant)?;
        self.serialize_map(Some(len))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        self.finish(write_array_len, 1)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.item(key)
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        self.finish(write_map_len, 2)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        write_str(self.w.buf, key)?;
        value.serialize(&mut *self.w)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Ok(())
    }
}
