//! Writing JSON as Python's `json.dumps` does, through serde_json.
//!
//! serde_json turns a non-finite `f32`/`f64` into `null` before its [`Formatter`] sees the
//! number, so the formatter alone cannot write Python's `NaN`, `Infinity` and `-Infinity`.
//! [`PySer`] wraps serde_json's serializer, at every level of the value: a non-finite float is
//! noted in a cell shared with [`PyFormatter`] and written as a unit, and the formatter, asked to
//! write that `null`, writes the float instead. As a map key, a non-finite float is written as
//! the string Python writes (`{"NaN": 1}`).
//!
//! Nothing of this reaches serde_json used on its own: there `NaN` stays `null`, as serde_json
//! always writes it.

use std::cell::Cell;
use std::fmt::Display;
use std::io::{self, Write};

use serde::ser::{
    Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use serde_json::ser::{CharEscape, Formatter};

use super::python_float_repr;

/// The marker of the I/O error that [`PyFormatter`] raises for bytes.
pub(super) const BYTES_MARKER: &str = "rpc-core: bytes in JSON";

/// A serde_json [`Formatter`] that writes what Python's `json.dumps` writes.
///
/// `nonfinite` holds a float that [`PySer`] wrote as a unit: the next `null` is that float.
#[derive(Debug, Clone, Copy)]
pub(super) struct PyFormatter<'a> {
    pub(super) nonfinite: &'a Cell<Option<f64>>,
}

impl Formatter for PyFormatter<'_> {
    fn write_null<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.nonfinite.take() {
            Some(x) => w.write_all(python_float_repr(x).as_bytes()),
            None => w.write_all(b"null"),
        }
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Python escapes everything outside ' '..='~'; serde_json already escaped what is below ' '.
        let plain = |c: char| c.is_ascii() && c != '\x7f';
        if fragment.chars().all(plain) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if plain(c) {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(w, "\\u{byte:04x}"),
        };
        w.write_all(s)
    }

    fn write_byte_array<W: ?Sized + Write>(&mut self, _w: &mut W, _value: &[u8]) -> io::Result<()> {
        Err(io::Error::other(BYTES_MARKER))
    }
}

/// Serializes `value` into `w` as `json.dumps` would.
pub(super) fn to_writer<W: Write, T: Serialize + ?Sized>(
    w: W,
    value: &T,
) -> Result<(), serde_json::Error> {
    let nonfinite = Cell::new(None);
    let mut ser = serde_json::Serializer::with_formatter(
        w,
        PyFormatter {
            nonfinite: &nonfinite,
        },
    );
    value.serialize(PySer {
        inner: &mut ser,
        nonfinite: &nonfinite,
        key: false,
    })
}

/// A serializer that hands everything to `inner` except non-finite floats (see the module docs).
struct PySer<'c, S> {
    inner: S,
    nonfinite: &'c Cell<Option<f64>>,
    /// Whether this is a map key, where Python writes a non-finite float as a string.
    key: bool,
}

/// A value to serialize through a [`PySer`].
struct Wrap<'v, 'c, T: ?Sized> {
    value: &'v T,
    nonfinite: &'c Cell<Option<f64>>,
    key: bool,
}

impl<T: Serialize + ?Sized> Serialize for Wrap<'_, '_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(PySer {
            inner: s,
            nonfinite: self.nonfinite,
            key: self.key,
        })
    }
}

/// A compound (array, map, struct) whose elements go through a [`PySer`] too.
struct Compound<'c, C> {
    inner: C,
    nonfinite: &'c Cell<Option<f64>>,
}

impl<'c, C> Compound<'c, C> {
    fn wrap<'v, T: ?Sized>(&self, value: &'v T) -> Wrap<'v, 'c, T> {
        Wrap {
            value,
            nonfinite: self.nonfinite,
            key: false,
        }
    }
}

impl<'c, S: Serializer> PySer<'c, S> {
    fn wrap<'v, T: ?Sized>(&self, value: &'v T) -> Wrap<'v, 'c, T> {
        Wrap {
            value,
            nonfinite: self.nonfinite,
            key: false,
        }
    }

    fn non_finite(self, x: f64) -> Result<S::Ok, S::Error> {
        if self.key {
            self.inner.serialize_str(&python_float_repr(x))
        } else {
            self.nonfinite.set(Some(x));
            self.inner.serialize_unit()
        }
    }
}

impl<'c, S: Serializer> Serializer for PySer<'c, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'c, S::SerializeSeq>;
    type SerializeTuple = Compound<'c, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'c, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'c, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'c, S::SerializeMap>;
    type SerializeStruct = Compound<'c, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'c, S::SerializeStructVariant>;

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.inner.serialize_f64(v)
        } else {
            self.non_finite(v)
        }
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.inner.serialize_f32(v)
        } else {
            self.non_finite(f64::from(v))
        }
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u128(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.inner.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let value = Wrap {
            key: self.key,
            ..self.wrap(value)
        };
        self.inner.serialize_some(&value)
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let value = Wrap {
            key: self.key,
            ..self.wrap(value)
        };
        self.inner.serialize_newtype_struct(name, &value)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let value = self.wrap(value);
        self.inner
            .serialize_newtype_variant(name, index, variant, &value)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self.inner.serialize_seq(len)?,
            nonfinite,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self.inner.serialize_tuple(len)?,
            nonfinite,
        })
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self.inner.serialize_tuple_struct(name, len)?,
            nonfinite,
        })
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self
                .inner
                .serialize_tuple_variant(name, index, variant, len)?,
            nonfinite,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self.inner.serialize_map(len)?,
            nonfinite,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self.inner.serialize_struct(name, len)?,
            nonfinite,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let nonfinite = self.nonfinite;
        Ok(Compound {
            inner: self
                .inner
                .serialize_struct_variant(name, index, variant, len)?,
            nonfinite,
        })
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<C: $trait> $trait for Compound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                let value = self.wrap(value);
                self.inner.$method(&value)
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<C: SerializeMap> SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        let key = Wrap {
            key: true,
            ..self.wrap(key)
        };
        self.inner.serialize_key(&key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let value = self.wrap(value);
        self.inner.serialize_value(&value)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeStruct> SerializeStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        let value = self.wrap(value);
        self.inner.serialize_field(name, &value)
    }
    fn skip_field(&mut self, name: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(name)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        let value = self.wrap(value);
        self.inner.serialize_field(name, &value)
    }
    fn skip_field(&mut self, name: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(name)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}
