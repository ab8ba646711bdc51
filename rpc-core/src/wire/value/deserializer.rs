//! `&Value` → `T`: a serde `Deserializer` over a [`Value`], borrowing strings and bytes from it
//! where `T` borrows, with the codecs' rules:
//!
//! - an integer goes to any integer type it fits (`visit_i64`, `visit_u64` or `visit_i128`), and
//!   to a float;
//! - `Nil` is `None`, `()` and a unit struct (so is an empty array, as MsgPack has always read it);
//! - an enum is a `Str` (a unit variant) or a one-entry `Map` `{variant: data}`;
//! - whether it is human-readable follows the codec of the current scope, as in
//!   [`serializer`](super::serializer).

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

use super::Value;
use crate::wire::codec::is_human_readable_here;
use crate::wire::CodecError;

type Result<T> = std::result::Result<T, CodecError>;

/// Deserializes a `T` from `value`, borrowing from it where `T` borrows.
pub(crate) fn from_value<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T> {
    T::deserialize(ValueDeserializer {
        value,
        human_readable: is_human_readable_here(),
    })
}

/// The deserializer over one borrowed [`Value`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueDeserializer<'de> {
    value: &'de Value,
    human_readable: bool,
}

impl<'de> ValueDeserializer<'de> {
    fn at(self, value: &'de Value) -> Self {
        ValueDeserializer { value, ..self }
    }

    fn unexpected(&self) -> Unexpected<'de> {
        match self.value {
            Value::Nil => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Int(i) => Unexpected::Signed(*i),
            Value::UInt(u) => Unexpected::Unsigned(*u),
            Value::BigInt(_) => Unexpected::Other("a 128-bit integer"),
            Value::Float(f) => Unexpected::Float(*f),
            Value::Str(s) => Unexpected::Str(s),
            Value::Bin(b) => Unexpected::Bytes(b),
            Value::Array(_) => Unexpected::Seq,
            Value::Map(_) => Unexpected::Map,
        }
    }
}

impl<'de> Deserializer<'de> for ValueDeserializer<'de> {
    type Error = CodecError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Nil => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::BigInt(i) => visitor.visit_i128(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Bin(b) => visitor.visit_borrowed_bytes(b),
            Value::Array(items) => visitor.visit_seq(Seq {
                de: self,
                items: items.iter(),
            }),
            Value::Map(entries) => visitor.visit_map(Map {
                de: self,
                entries: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value.as_i128() {
            Some(i) => visitor.visit_i128(i),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value.as_i128().map(u128::try_from) {
            Some(Ok(u)) => visitor.visit_u128(u),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Nil => visitor.visit_unit(),
            Value::Array(a) if a.is_empty() => visitor.visit_unit(),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Map(entries) => match entries.as_slice() {
                [(variant, data)] => visitor.visit_enum(Enum {
                    variant: self.at(variant),
                    data: Some(self.at(data)),
                }),
                _ => Err(de::Error::invalid_value(
                    Unexpected::Map,
                    &"a map of one entry {variant: data}",
                )),
            },
            Value::Array(_) | Value::Bin(_) | Value::Nil | Value::Float(_) => Err(
                de::Error::invalid_type(self.unexpected(), &"a variant name or {variant: data}"),
            ),
            _ => visitor.visit_enum(Enum {
                variant: self,
                data: None,
            }),
        }
    }

    fn is_human_readable(&self) -> bool {
        self.human_readable
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string
        bytes byte_buf unit seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'de> {
    de: ValueDeserializer<'de>,
    items: std::slice::Iter<'de, Value>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = CodecError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.items
            .next()
            .map(|v| seed.deserialize(self.de.at(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'de> {
    de: ValueDeserializer<'de>,
    entries: std::slice::Iter<'de, (Value, Value)>,
    value: Option<&'de Value>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = CodecError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(self.de.at(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let value = self
            .value
            .take()
            .ok_or_else(|| CodecError::Decode("a map value was asked for before its key".into()))?;
        seed.deserialize(self.de.at(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Enum<'de> {
    variant: ValueDeserializer<'de>,
    data: Option<ValueDeserializer<'de>>,
}

impl<'de> EnumAccess<'de> for Enum<'de> {
    type Error = CodecError;
    type Variant = Data<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        Ok((seed.deserialize(self.variant)?, Data(self.data)))
    }
}

/// The data of a variant: none for one written as its bare name.
struct Data<'de>(Option<ValueDeserializer<'de>>);

impl<'de> VariantAccess<'de> for Data<'de> {
    type Error = CodecError;

    fn unit_variant(self) -> Result<()> {
        match self.0 {
            None => Ok(()),
            Some(d) if d.value.is_nil() => Ok(()),
            Some(d) => Err(de::Error::invalid_type(d.unexpected(), &"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        match self.0 {
            Some(d) => seed.deserialize(d),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"a newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        match self.0 {
            Some(d) => d.deserialize_seq(visitor),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"a tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Some(d) => d.deserialize_map(visitor),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"a struct variant",
            )),
        }
    }
}
