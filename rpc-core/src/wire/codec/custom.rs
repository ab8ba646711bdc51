//! Custom types: [`Custom<T>`] and the `{"__type__": [typeid, value]}` envelope it travels in.

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::Scope;
use crate::wire::{CodecError, Value};

/// A value of a registered custom type, sent as `{"__type__": [typeid, value]}`.
///
/// ```
/// use rpc_core::{Codec, Custom};
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i64, y: i64 }
///
/// let codec = Codec::json().register::<Point>();
/// let bytes = codec.encode(&Custom(Point { x: 1, y: 2 })).unwrap();
/// assert_eq!(bytes, br#"{"__type__": [0, {"x": 1, "y": 2}]}"#);
/// let back: Custom<Point> = codec.decode(&bytes).unwrap();
/// assert_eq!(back.0, Point { x: 1, y: 2 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Custom<T>(pub T);

fn current_typeid<T: 'static>() -> Result<usize, String> {
    Scope::with_current(|scope| match scope {
        Some(s) => s.codec.typeid_of::<T>().ok_or_else(|| {
            format!(
                "type {} is not registered with this connection's codec (Codec::register)",
                std::any::type_name::<T>()
            )
        }),
        None => Err(format!(
            "type {} can only be encoded through a Codec that registers it",
            std::any::type_name::<T>()
        )),
    })
}

impl<T: Serialize + 'static> Serialize for Custom<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let typeid = current_typeid::<T>().map_err(serde::ser::Error::custom)?;
        Envelope {
            inner: (typeid, &self.0),
        }
        .serialize(s)
    }
}

impl<'de, T: Deserialize<'de> + 'static> Deserialize<'de> for Custom<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let env = Envelope::<(i64, T)>::deserialize(d)?;
        let (typeid, value) = env.inner;
        let expected = current_typeid::<T>().map_err(serde::de::Error::custom)?;
        if usize::try_from(typeid).ok() != Some(expected) {
            return Err(serde::de::Error::custom(format_args!(
                "expected an envelope of type id {expected} ({}), got type id {typeid}",
                std::any::type_name::<T>()
            )));
        }
        Ok(Custom(value))
    }
}

/// `{"__type__": inner}`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Envelope<I> {
    #[serde(rename = "__type__")]
    pub(crate) inner: I,
}

/// Checks the `[typeid, value]` of a `__type__` envelope met while decoding a dynamic value.
pub(crate) fn check_envelope(inner: &Value) -> Result<(), CodecError> {
    let typeid = match inner.as_array() {
        Some([id, _]) => id.as_i64().ok_or_else(|| {
            CodecError::BadEnvelope(format!("a typeid of type {}", id.type_name()))
        })?,
        _ => return Err(CodecError::BadEnvelope(inner.to_string())),
    };
    Scope::with_current(|scope| {
        let (known, proxies) = match scope {
            Some(s) => (s.codec.registry.types.len(), s.context.is_some()),
            None => (0, false),
        };
        let valid = usize::try_from(typeid).is_ok_and(|t| t < known || (proxies && t == known));
        if valid {
            Ok(())
        } else {
            Err(CodecError::UnknownTypeId {
                typeid,
                known: known + usize::from(proxies),
            })
        }
    })
}
