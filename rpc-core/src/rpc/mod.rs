//! Calling the peer: [`Proxy`] (by path) and typed proxies ([`TypedProxy`]), their arguments
//! ([`Args`], [`Kwargs`]), and references to services that travel across the wire
//! ([`ServiceRef`]).

mod args;
mod proxy;
mod service_ref;
pub(crate) mod trace;

pub use args::{Args, IntoArg, Kwargs, NoKwargs, Null, ProxyArgs};
pub use proxy::{Proxy, TypedProxy};

pub(crate) use proxy::join_path;
pub use service_ref::ServiceRef;

pub(crate) use service_ref::{ConnContext, LocalServices};
