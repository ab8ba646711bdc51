//! The serde deserializer over JSON text: it recurses once per array or object level, never
//! deeper than `max_depth`.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::scan::{
    after_bom, decode_string, expect_lit, is_neg_infinity, scan_number, skip_ws, utf8_at,
};
use super::validate::skip_at;
use super::{at, eof, ReadError};

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
