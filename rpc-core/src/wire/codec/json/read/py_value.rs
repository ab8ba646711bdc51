//! `MyValue`: a JSON value as Python's `json.loads` sees it, for comparing the reader with
//! Python. One file for two users: rpc-core's reader tests (`read/tests.rs`) and the tests
//! crate's Python cross-checks (`tests/tests/it/json_python.rs`, which includes it by path).

use std::fmt;

use serde::de::{self, Deserialize, Visitor};

/// A JSON value as Python sees it, for comparing with what `json.loads` gives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MyValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in an i128.
    Int(i128),
    /// An integer above `i128::MAX` that fits in a u128.
    UInt(u128),
    /// A float, kept as its bits so that comparisons are exact.
    Float(u64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<MyValue>),
    /// An object, with its entries in order and duplicates kept.
    Object(Vec<(String, MyValue)>),
}

impl<'de> Deserialize<'de> for MyValue {
    /// Reads any JSON value through `deserialize_any`.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The visitor that builds a [`MyValue`].
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<MyValue, E> {
                Ok(MyValue::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<MyValue, E> {
                Ok(MyValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<MyValue, E> {
                Ok(MyValue::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<MyValue, E> {
                Ok(MyValue::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<MyValue, E> {
                Ok(MyValue::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<MyValue, E> {
                Ok(i128::try_from(v).map_or(MyValue::UInt(v), MyValue::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<MyValue, E> {
                Ok(MyValue::Float(v.to_bits()))
            }
            fn visit_str<E>(self, v: &str) -> Result<MyValue, E> {
                Ok(MyValue::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<MyValue, E> {
                Ok(MyValue::Str(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<MyValue, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = a.next_element()? {
                    items.push(x);
                }
                Ok(MyValue::Array(items))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<MyValue, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    entries.push(entry);
                }
                Ok(MyValue::Object(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// Shorthand for an integer value.
pub(crate) fn int(i: i128) -> MyValue {
    MyValue::Int(i)
}

/// Shorthand for an array value.
pub(crate) fn arr(items: Vec<MyValue>) -> MyValue {
    MyValue::Array(items)
}

/// Shorthand for an object value.
pub(crate) fn obj(entries: Vec<(&str, MyValue)>) -> MyValue {
    MyValue::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}
