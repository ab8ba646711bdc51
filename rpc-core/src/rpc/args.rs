//! The arguments of a call: [`Args`] (positional), [`Kwargs`] and [`NoKwargs`] (by keyword), and
//! [`IntoArg`], what a typed proxy's parameter accepts.

use std::fmt;

use serde::ser::{SerializeMap, SerializeTuple, Serializer};
use serde::Serialize;

use super::service_ref::ServiceRef;
use super::TypedProxy;

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
/// ```
/// use rpc_core::{Kwargs, ServiceRef};
/// let kw = Kwargs::new().arg("a", 3).arg("b", "x").arg("callback", ServiceRef::root());
/// assert_eq!(kw.len(), 3);
/// assert_eq!(kw.names().collect::<Vec<_>>(), ["a", "b", "callback"]);
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

    /// Adds `name=value`.
    #[must_use]
    pub fn arg(
        mut self,
        name: impl Into<String>,
        value: impl Serialize + Send + Sync + 'static,
    ) -> Self {
        self.0.push((name.into(), Box::new(value)));
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

/// What a typed proxy's parameter of type `T` accepts: a `T` itself, or, where `T` is a proxy
/// (the service receives a reference to one of the caller's services), a [`ServiceRef`] to one
/// of our own services, which the peer receives as that proxy.
///
/// ```
/// fn takes<T>(_: impl rpc_core::IntoArg<T>) {}
/// takes::<i64>(5);
/// takes::<rpc_core::Proxy>(rpc_core::ServiceRef::root());
/// ```
pub trait IntoArg<T>: Serialize + Send + Sync {}

impl<T: Serialize + Send + Sync> IntoArg<T> for T {}

impl<P: TypedProxy> IntoArg<P> for ServiceRef {}
