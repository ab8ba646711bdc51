//! Services and routers: what a peer can call, and how a path finds it.
//!
//! A *service* is a node of a tree. Each node has exposed functions and named children
//! (sub-routers); a path such as `"eggs/spam"` names the function `spam` of the child `eggs` of the
//! root. Nodes are [`#[service]`](macro@crate::service) types, whose dispatch tables are generated at
//! compile time, and [`ServiceDict`]s, bound at run time; the two mix freely.
//!
//! A [`Router`] is a node of a mounted tree seen from the root: it knows its
//! [`name`](Router::name), its [`parent`](Router::parent) and its [`path`](Router::path) (aiomas's
//! reverse look-up), so that a service can pass a reference to itself across the wire.
//!
//! Look-up failures read as aiomas writes them, so a Python caller sees familiar text:
//!
//! | path | error |
//! |---|---|
//! | a name that is nowhere | `LookupError: Name "nope" not found in "sub"` |
//! | a method without `#[expose]` | `LookupError: "Root.hidden" is not exposed` |
//! | a sub-router itself | `TypeError: 'Sub' object is not callable` |
//! | bad arguments | `TypeError: add() missing 1 required positional argument: 'b'` |
//!
//! The files: `router.rs` (paths), `call.rs` (one call and its context), `bind.rs` (arguments
//! to parameters), `dispatch.rs` (a request in, a reply out, panics caught), `compose.rs`
//! (run-time composition), `dict.rs` ([`ServiceDict`]).

pub(crate) mod bind;
mod call;
mod compose;
mod dict;
pub(crate) mod dispatch;
mod router;

use std::borrow::Cow;
use std::sync::Arc;

pub(crate) use call::Responder;
pub use call::{Call, CallContext, Outcome};
pub use compose::{ServiceExt, WithSubRouters};
pub use dict::{DynCall, ServiceDict};
pub use router::{Resolved, Router};

/// A node of a service tree: what `#[service]` generates and [`ServiceDict`] implements.
///
/// Implement it by hand to wrap a service, e.g. to log its calls: forward every method to the
/// inner service. A wrapped service answers synchronous and asynchronous methods alike.
///
/// ```
/// use std::borrow::Cow;
/// use rpc_core::{Call, Outcome, Service};
///
/// struct Logged<S>(S);
///
/// impl<S: Service> Service for Logged<S> {
///     fn type_name(&self) -> Cow<'_, str> {
///         self.0.type_name()
///     }
///     fn sub_router(&self, name: &str) -> Option<&dyn Service> {
///         self.0.sub_router(name)
///     }
///     fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
///         self.0.sub_router_names()
///     }
///     fn exposed_names(&self) -> Vec<Cow<'_, str>> {
///         self.0.exposed_names()
///     }
///     fn is_hidden(&self, name: &str) -> bool {
///         self.0.is_hidden(name)
///     }
///     fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
///         println!("{} calls {}", call.peer(), call.path());
///         self.0.call(name, call)
///     }
/// }
/// ```
pub trait Service: Send + Sync + 'static {
    /// The type's name, as used in errors (`"Root"` in `"Root.hidden" is not exposed`).
    fn type_name(&self) -> Cow<'_, str>;

    /// The child service of the given name.
    fn sub_router(&self, name: &str) -> Option<&dyn Service>;

    /// The names of the child services.
    fn sub_router_names(&self) -> Vec<Cow<'_, str>>;

    /// The names of the exposed functions, as the wire knows them.
    fn exposed_names(&self) -> Vec<Cow<'_, str>>;

    /// Whether `name` is a method that exists but is not exposed (only used to word the error
    /// as aiomas does: `"Root.hidden" is not exposed`).
    fn is_hidden(&self, name: &str) -> bool;

    /// Calls the exposed function `name`, or returns `None` if there is none of that name.
    ///
    /// The [`Outcome`] says how the call goes on; an asynchronous one may borrow the service.
    fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>>;
}

/// Implements [`Service`] for a pointer type by delegating to what it points to.
macro_rules! delegate_service {
    ($(impl$(<$g:ident: Service>)? for $ty:ty;)*) => {$(
        impl$(<$g: Service>)? Service for $ty {
            fn type_name(&self) -> Cow<'_, str> {
                (**self).type_name()
            }
            fn sub_router(&self, name: &str) -> Option<&dyn Service> {
                (**self).sub_router(name)
            }
            fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
                (**self).sub_router_names()
            }
            fn exposed_names(&self) -> Vec<Cow<'_, str>> {
                (**self).exposed_names()
            }
            fn is_hidden(&self, name: &str) -> bool {
                (**self).is_hidden(name)
            }
            fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
                (**self).call(name, call)
            }
        }
    )*};
}

delegate_service! {
    impl<S: Service> for Arc<S>;
    impl<S: Service> for Box<S>;
    impl for Box<dyn Service>;
}

/// A service type with a generated typed proxy (implemented by `#[service]`).
pub trait TypedService: Service {
    /// The typed proxy that mirrors this service's exposed functions.
    type Proxy: crate::rpc::TypedProxy;
}

impl TypedService for ServiceDict {
    type Proxy = crate::rpc::Proxy;
}

impl<S: TypedService> TypedService for Arc<S> {
    type Proxy = S::Proxy;
}

impl<S: TypedService> TypedService for Box<S> {
    type Proxy = S::Proxy;
}

impl TypedService for Box<dyn Service> {
    type Proxy = crate::rpc::Proxy;
}

/// What a name means to a service node; used to word look-up errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    /// A child service.
    SubRouter,
    /// An exposed function.
    Exposed,
    /// A method that exists but is not exposed.
    Hidden,
    /// Nothing of that name.
    Missing,
}

impl Member {
    /// What `name` means to `node`.
    pub(crate) fn of(node: &dyn Service, name: &str) -> Member {
        if node.sub_router(name).is_some() {
            Member::SubRouter
        } else if node.exposed_names().iter().any(|n| n == name) {
            Member::Exposed
        } else if node.is_hidden(name) {
            Member::Hidden
        } else {
            Member::Missing
        }
    }
}
