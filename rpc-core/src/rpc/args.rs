//! The arguments of a call: [`Args`] (positional), [`Kwargs`] and [`NoKwargs`] (by keyword),
//! [`IntoArg`], what a typed proxy's parameter accepts, and [`Null`], an explicit `None`.

use std::fmt;

use serde::ser::{SerializeMap, SerializeTuple, Serializer};
use serde::Serialize;

use super::service_ref::ServiceRef;
use super::TypedProxy;
use crate::error::Error;
use crate::wire::{Blob, CodecError, Value};
use serde_bytes::ByteBuf;

/// Positional arguments: a tuple (up to 12 elements), `()`, an array, a slice or a `Vec`, each
/// element anything `Serialize`. They travel as one array.
pub trait Args: Send + Sync {
    /// Writes the arguments as one array.
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// Serializes [`Args`] as one array.
pub(super) struct ArgsSer<'a, A: ?Sized>(pub(super) &'a A);

impl<A: Args + ?Sized> Serialize for ArgsSer<'_, A> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_args(s)
    }
}

impl Args for () {
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_tuple(0)?.end()
    }
}

impl<T: Serialize + Send + Sync> Args for [T] {
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(self.len())?;
        for item in self {
            t.serialize_element(item)?;
        }
        t.end()
    }
}

impl<T: Serialize + Send + Sync, const N: usize> Args for [T; N] {
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self[..].serialize_args(s)
    }
}

impl<T: Serialize + Send + Sync> Args for Vec<T> {
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self[..].serialize_args(s)
    }
}

impl<A: Args + ?Sized> Args for &A {
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize_args(s)
    }
}

macro_rules! tuple_args {
    ($($name:ident)+) => {
        impl<$($name: Serialize + Send + Sync),+> Args for ($($name,)+) {
            fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.serialize(s)
            }
        }
    };
}
tuple_args!(A);
tuple_args!(A B);
tuple_args!(A B C);
tuple_args!(A B C D);
tuple_args!(A B C D E);
tuple_args!(A B C D E F);
tuple_args!(A B C D E F G);
tuple_args!(A B C D E F G H);
tuple_args!(A B C D E F G H I);
tuple_args!(A B C D E F G H I J);
tuple_args!(A B C D E F G H I J K);
tuple_args!(A B C D E F G H I J K L);

/// No keyword arguments: an empty map.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKwargs;

impl Serialize for NoKwargs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// Keyword arguments in the order they are added.
///
/// Values are encoded when the call is sent, with the connection's codec, so anything that
/// serializes works, service references included.
///
/// A `None` is left out, so that the peer uses its default (Python's `def f(a, b=2)` gets
/// `b=2`, not `b=None`); to send `None` itself, pass [`Null`]. Only a value that is itself an
/// `Option::None` is left out: `Some(None)`, [`Value::Nil`] and a `None` inside a structure
/// travel as `null`.
///
/// ```
/// use rpc_core::{Kwargs, Null, ServiceRef};
/// let kw = Kwargs::new().arg("a", 3).arg("b", "x").arg("callback", ServiceRef::root());
/// assert_eq!(kw.len(), 3);
/// assert_eq!(kw.names().collect::<Vec<_>>(), ["a", "b", "callback"]);
///
/// let limit: Option<u32> = None;
/// let kw = Kwargs::new().arg("limit", limit).arg("label", Null);
/// assert_eq!(kw.names().collect::<Vec<_>>(), ["label"]); // `label=None`, `limit` left out
/// ```
#[derive(Default)]
pub struct Kwargs(Vec<(String, Box<dyn erased_serde::Serialize + Send + Sync>)>);

impl fmt::Debug for Kwargs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Kwargs")
            .field(&self.names().collect::<Vec<_>>())
            .finish()
    }
}

impl Kwargs {
    /// No keyword arguments yet.
    pub fn new() -> Self {
        Kwargs(Vec::new())
    }

    /// Adds `name=value`, or nothing if `value` is `None` (see the type's docs; [`Null`] sends
    /// `None`).
    #[must_use]
    pub fn arg(
        mut self,
        name: impl Into<String>,
        value: impl Serialize + Send + Sync + 'static,
    ) -> Self {
        if !is_none(&value) {
            self.0.push((name.into(), Box::new(value)));
        }
        self
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Kwargs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, &**v)?;
        }
        m.end()
    }
}

/// What a typed proxy's parameter of type `T` accepts: a `T` itself; where `T` is a proxy (the
/// service receives a reference to one of the caller's services), a [`ServiceRef`] to one of
/// our own services, which the peer receives as that proxy; where `T` is an `Option`,
/// [`Null`], which sends `None` itself where `None` would be left out; and where `T` is a byte
/// string ([`ByteBuf`](crate::ByteBuf) or [`Blob`]), any of the two or a borrowed
/// `&serde_bytes::Bytes`, so that bytes the caller holds are sent without a copy of their own.
///
/// ```
/// fn takes<T>(_: impl rpc_core::IntoArg<T>) {}
/// takes::<i64>(5);
/// takes::<rpc_core::Proxy>(rpc_core::ServiceRef::root());
/// takes::<Option<i64>>(None);
/// takes::<Option<i64>>(rpc_core::Null);
/// takes::<rpc_core::ByteBuf>(rpc_core::Blob::from(bytes::Bytes::from_static(b"shared")));
/// takes::<rpc_core::ByteBuf>(serde_bytes::Bytes::new(b"borrowed"));
/// ```
pub trait IntoArg<T>: Serialize + Send + Sync {}

impl<T: Serialize + Send + Sync> IntoArg<T> for T {}

impl IntoArg<ByteBuf> for Blob {}

impl IntoArg<Blob> for ByteBuf {}

impl IntoArg<ByteBuf> for &serde_bytes::Bytes {}

impl IntoArg<Blob> for &serde_bytes::Bytes {}

impl<P: TypedProxy> IntoArg<P> for ServiceRef {}

impl<T> IntoArg<Option<T>> for Null {}

/// `None` itself, sent as `null` (msgpack `nil`) where a `None` would be left out.
///
/// A typed proxy leaves out an `Option` parameter that is `None`, and [`Kwargs::arg`] a `None`
/// value, so that a Python peer uses the parameter's default: `mul(4, None)` calls
/// `def mul(a, b=2)` as `mul(4)`. Pass `Null` instead of `None` where the peer should receive
/// `None`. It is accepted for any `Option<T>` parameter of a typed proxy.
///
/// ```
/// use rpc_core::{Codec, Null};
/// assert_eq!(Codec::json().encode(&Null).unwrap(), b"null");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Null;

impl Serialize for Null {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

/// Whether `value` serializes as a bare `None` (an `Option::None`), found without serializing
/// anything else: the probe stops at the first call it receives.
pub(crate) fn is_none<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(NoneProbe).is_ok()
}

/// A serializer that succeeds on `serialize_none` and fails on everything else.
struct NoneProbe;

#[derive(Debug)]
struct NotNone;

impl fmt::Display for NotNone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not None")
    }
}

impl std::error::Error for NotNone {}

impl serde::ser::Error for NotNone {
    fn custom<M: fmt::Display>(_: M) -> Self {
        NotNone
    }
}

macro_rules! not_none {
    ($($method:ident($($ty:ty),*) -> $ret:ty;)*) => {$(
        fn $method(self, $(_: $ty),*) -> Result<$ret, NotNone> {
            Err(NotNone)
        }
    )*};
}

impl Serializer for NoneProbe {
    type Ok = ();
    type Error = NotNone;
    type SerializeSeq = serde::ser::Impossible<(), NotNone>;
    type SerializeTuple = serde::ser::Impossible<(), NotNone>;
    type SerializeTupleStruct = serde::ser::Impossible<(), NotNone>;
    type SerializeTupleVariant = serde::ser::Impossible<(), NotNone>;
    type SerializeMap = serde::ser::Impossible<(), NotNone>;
    type SerializeStruct = serde::ser::Impossible<(), NotNone>;
    type SerializeStructVariant = serde::ser::Impossible<(), NotNone>;

    fn serialize_none(self) -> Result<(), NotNone> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), NotNone> {
        Err(NotNone)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotNone> {
        Err(NotNone)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotNone> {
        Err(NotNone)
    }

    not_none! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_i128(i128) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_u128(u128) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

type ArgRef<'a> = &'a (dyn erased_serde::Serialize + Sync);

/// The arguments of a typed proxy's call, added parameter by parameter, laid out so that the
/// peer applies its defaults for every `Option` parameter that is `None`:
///
/// - the parameters before the first one left out go positionally;
/// - a `None` is left out, and every parameter after it that is sent goes by keyword (a
///   positional argument after a gap would land on the wrong parameter);
/// - with surplus positional arguments (`#[args]`, non-empty), nothing can be left out: every
///   parameter goes positionally, a `None` as `null`, then the surplus;
/// - surplus keyword arguments (`#[kwargs]`) follow the keyword arguments.
#[derive(Default)]
pub struct ProxyArgs<'a> {
    named: Vec<(&'static str, ArgRef<'a>, bool)>,
    rest: Vec<Value>,
    rest_kwargs: Vec<(Value, Value)>,
}

impl fmt::Debug for ProxyArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (positional, keyword) = self.split();
        let names = |range: std::ops::Range<usize>| {
            self.named[range]
                .iter()
                .filter(|(_, _, omit)| !omit || positional > 0 && !self.rest.is_empty())
                .map(|(n, ..)| *n)
                .collect::<Vec<_>>()
        };
        f.debug_struct("ProxyArgs")
            .field("positional", &names(0..positional))
            .field("keyword", &names(keyword))
            .field("rest", &self.rest)
            .field("rest_kwargs", &self.rest_kwargs)
            .finish()
    }
}

impl<'a> ProxyArgs<'a> {
    /// No arguments yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A parameter that is always sent.
    #[must_use]
    pub fn arg<T: Serialize + Sync>(mut self, name: &'static str, value: &'a T) -> Self {
        self.named.push((name, value, false));
        self
    }

    /// An `Option` parameter: left out if `None`.
    #[must_use]
    pub fn opt<T: Serialize + Sync>(mut self, name: &'static str, value: &'a T) -> Self {
        self.named.push((name, value, is_none(value)));
        self
    }

    /// The surplus positional arguments (`#[args]`): anything that serializes as a sequence.
    pub fn rest<R: Serialize + ?Sized>(mut self, rest: &R) -> Result<Self, Error> {
        match Value::from_serialize(rest).map_err(Error::Encode)? {
            Value::Array(items) => self.rest = items,
            other => {
                return Err(Error::Encode(CodecError::Encode(format!(
                    "*args must serialize as a sequence, got {}",
                    other.type_name()
                ))))
            }
        }
        Ok(self)
    }

    /// The surplus keyword arguments (`#[kwargs]`): anything that serializes as a map, or as
    /// `None` for none.
    pub fn rest_kwargs<R: Serialize + ?Sized>(mut self, rest: &R) -> Result<Self, Error> {
        match Value::from_serialize(rest).map_err(Error::Encode)? {
            Value::Map(items) => self.rest_kwargs = items,
            Value::Nil => {}
            other => {
                return Err(Error::Encode(CodecError::Encode(format!(
                    "**kwargs must serialize as a map, got {}",
                    other.type_name()
                ))))
            }
        }
        Ok(self)
    }

    /// How many named parameters go positionally, and the range of those that may go by
    /// keyword (the ones left out among them are skipped).
    fn split(&self) -> (usize, std::ops::Range<usize>) {
        let gap = if self.rest.is_empty() {
            self.named.iter().position(|(_, _, omit)| *omit)
        } else {
            None
        };
        let positional = gap.unwrap_or(self.named.len());
        (positional, positional..self.named.len())
    }

    /// The positional arguments, as one array.
    pub fn positional(&self) -> impl Args + '_ {
        PositionalSer(self)
    }

    /// The keyword arguments, as one map.
    pub fn keyword(&self) -> impl Serialize + Send + Sync + '_ {
        KeywordSer(self)
    }
}

struct PositionalSer<'b, 'a>(&'b ProxyArgs<'a>);

impl Args for PositionalSer<'_, '_> {
    fn serialize_args<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (positional, _) = self.0.split();
        let mut t = s.serialize_tuple(positional + self.0.rest.len())?;
        for (_, value, _) in &self.0.named[..positional] {
            t.serialize_element(value)?;
        }
        for value in &self.0.rest {
            t.serialize_element(value)?;
        }
        t.end()
    }
}

struct KeywordSer<'b, 'a>(&'b ProxyArgs<'a>);

impl Serialize for KeywordSer<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (_, keyword) = self.0.split();
        let sent = self.0.named[keyword].iter().filter(|(_, _, omit)| !omit);
        let mut m = s.serialize_map(Some(sent.clone().count() + self.0.rest_kwargs.len()))?;
        for (name, value, _) in sent {
            m.serialize_entry(name, value)?;
        }
        for (key, value) in &self.0.rest_kwargs {
            m.serialize_entry(key, value)?;
        }
        m.end()
    }
}
