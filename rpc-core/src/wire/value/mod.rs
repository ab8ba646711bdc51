//! [`Value`]: any value that can travel in a message, for the dynamic side of the API.
//!
//! The typed path (`#[service]` methods, typed proxies) decodes straight into Rust types and never
//! builds a `Value`. `Value` is for [`Proxy`](crate::Proxy) calls by name, [`ServiceDict`](crate::ServiceDict)
//! functions and anything that must carry whatever a peer sent, unchanged.

mod deserializer;
mod serializer;

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A msgpack value, with the distinctions aiomas keeps: `str` versus `bin`, ints versus floats,
/// and maps in the order they were written, with keys of any type.
///
/// Integers are normalised: [`Value::UInt`] holds only values above `i64::MAX` and
/// [`Value::BigInt`] only values beyond 64 bits, so that two equal numbers always compare equal.
///
/// `Value` serializes as any serde value does, so it works with other serde formats too: under
/// plain serde_json a NaN or an infinity is `null` (serde_json's own rule) and a
/// [`Value::BigInt`] is written with every digit. This crate's JSON codec writes the
/// non-finite floats as Python does (`NaN`, `Infinity`, `-Infinity`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `nil` / `None` / JSON `null`.
    #[default]
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// An integer above `i64::MAX` (up to `u64::MAX`).
    UInt(u64),
    /// An integer beyond 64 bits (below `i64::MIN` or above `u64::MAX`), kept exactly, up to
    /// 128 bits. Only the JSON codec carries one (Python writes `2**80` in JSON with every digit;
    /// Python's msgpack refuses it, and so does ours); a larger one is refused when decoded,
    /// never rounded.
    BigInt(i128),
    /// A float (always sent as float64, as Python does).
    Float(f64),
    /// A text string.
    Str(String),
    /// A byte string (msgpack `bin`; the JSON codec cannot carry it).
    Bin(Vec<u8>),
    /// An array (a Python list or tuple).
    Array(Vec<Value>),
    /// A map, in wire order, with keys of any type (a Python dict).
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// The integer, if this is one that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The integer, if this is a non-negative one.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// The integer, if this is one (of any size `Value` holds).
    pub fn as_i128(&self) -> Option<i128> {
        match *self {
            Value::Int(i) => Some(i128::from(i)),
            Value::UInt(u) => Some(i128::from(u)),
            Value::BigInt(i) => Some(i),
            _ => None,
        }
    }

    /// The float, if this is a float or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            Value::BigInt(i) => Some(i as f64),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks up a string key in a map (the first match, in wire order).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Whether this is `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bin(_) => "bin",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
        }
    }

    /// Converts any serializable value into a `Value`, directly (no codec in between), with
    /// the codecs' mapping: encoding the result gives the bytes that encoding `value` gives,
    /// with either codec.
    ///
    /// ```
    /// use rpc_core::{Codec, Value};
    /// #[derive(serde::Serialize)]
    /// enum Shape { Circle { r: f64 }, Dot }
    ///
    /// let v = Value::from_serialize(&(Shape::Circle { r: 1.5 }, Shape::Dot, 1u128 << 100)).unwrap();
    /// assert_eq!(v.to_string(), "[{\"Circle\": {\"r\": 1.5}}, \"Dot\", 1267650600228229401496703205376]");
    /// assert_eq!(Codec::json().encode(&v).unwrap(), br#"[{"Circle": {"r": 1.5}}, "Dot", 1267650600228229401496703205376]"#);
    /// ```
    ///
    /// # Errors
    /// A `u128` above `i128::MAX` ([`CodecError::IntTooLarge`](super::CodecError::IntTooLarge)),
    /// and whatever `T`'s `Serialize` impl reports.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Value, super::CodecError> {
        serializer::to_value(value)
    }

    /// Converts this value into any deserializable type, directly, borrowing strings and bytes
    /// from `self` where `T` borrows.
    ///
    /// ```
    /// use rpc_core::Value;
    /// let v = Value::from(vec![Value::from("eggs"), Value::from(1u64 << 40)]);
    /// let (name, n): (&str, i128) = v.deserialize_into().unwrap();
    /// assert_eq!((name, n), ("eggs", 1 << 40));
    /// ```
    ///
    /// # Errors
    /// [`CodecError::Decode`](super::CodecError::Decode) when the value does not fit `T`, with
    /// serde's words for what was expected.
    pub fn deserialize_into<'de, T: de::Deserialize<'de>>(
        &'de self,
    ) -> Result<T, super::CodecError> {
        deserializer::from_value(self)
    }
}

impl fmt::Display for Value {
    /// Writes the value roughly as Python's `repr` would.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::BigInt(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&super::codec::json::python_float_repr(*x)),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bin(b) => {
                f.write_str("b'")?;
                for &c in b {
                    if c.is_ascii_graphic() && c != b'\'' && c != b'\\' || c == b' ' {
                        write!(f, "{}", c as char)?;
                    } else {
                        write!(f, "\\x{c:02x}")?;
                    }
                }
                f.write_str("'")
            }
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        }
    }
}

impl From<i128> for Value {
    fn from(v: i128) -> Self {
        if let Ok(i) = i64::try_from(v) {
            Value::Int(i)
        } else if let Ok(u) = u64::try_from(v) {
            Value::UInt(u)
        } else {
            Value::BigInt(v)
        }
    }
}

impl TryFrom<u128> for Value {
    type Error = super::CodecError;

    /// The integer, or [`CodecError::IntTooLarge`](super::CodecError::IntTooLarge) above
    /// `i128::MAX`.
    fn try_from(v: u128) -> Result<Self, Self::Error> {
        i128::try_from(v)
            .map(Value::from)
            .map_err(|_| super::CodecError::IntTooLarge(v.to_string()))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bin(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            // JSON writes every digit; this crate's MsgPack refuses it, saying why (msgpack has
            // no integer beyond 64 bits).
            Value::BigInt(i) => s.serialize_i128(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(v) => s.serialize_str(v),
            Value::Bin(b) => s.serialize_bytes(b),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any msgpack value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Value::try_from(v).map_err(E::custom)
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bin(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bin(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out: Vec<(Value, Value)> =
            Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = map.next_entry()? {
            out.push((k, v));
        }
        // aiomas hands every map with a `__type__` key to its deserializer table.
        if let Some((_, inner)) = out
            .iter()
            .find(|(k, _)| k.as_str() == Some(super::codec::TYPE_KEY))
        {
            super::codec::check_envelope(inner).map_err(de::Error::custom)?;
        }
        Ok(Value::Map(out))
    }
}
