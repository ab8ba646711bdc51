//! Composition at run time: sub-routers added to a service that was built without them.

use std::borrow::Cow;
use std::fmt;

use super::{Call, Outcome, Service, TypedService};

/// Composition at run time, as aiomas's `Router.add` and `Router.set_sub_router`.
pub trait ServiceExt: Service + Sized {
    /// This service with one more child service `name`, checked before the service's own
    /// sub-routers and functions.
    ///
    /// ```
    /// use rpc_core::{service, DynCall, Router, ServiceDict, ServiceExt};
    ///
    /// #[service]
    /// struct Root;
    ///
    /// #[service]
    /// impl Root {
    ///     #[expose]
    ///     fn ping(&self) -> String {
    ///         "pong".to_owned()
    ///     }
    /// }
    ///
    /// let root = Root.with_sub_router("extra", ServiceDict::new().function("one", |_: DynCall| Ok(1)));
    /// let router = Router::new(root);
    /// assert!(router.resolve("extra/one").is_ok() && router.resolve("ping").is_ok());
    /// ```
    ///
    /// ([`ServiceDict`](crate::ServiceDict) has a `with_sub_router` of its own, which adds the
    /// child to the dictionary instead of wrapping it.)
    fn with_sub_router(self, name: impl Into<String>, child: impl Service) -> WithSubRouters<Self> {
        WithSubRouters {
            inner: self,
            extra: vec![(name.into(), Box::new(child))],
        }
    }
}

impl<S: Service> ServiceExt for S {}

/// A service with sub-routers added at run time (see [`ServiceExt::with_sub_router`]).
pub struct WithSubRouters<S> {
    inner: S,
    extra: Vec<(String, Box<dyn Service>)>,
}

impl<S: fmt::Debug> fmt::Debug for WithSubRouters<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithSubRouters")
            .field("inner", &self.inner)
            .field(
                "extra",
                &self.extra.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<S: Service> WithSubRouters<S> {
    /// Adds one more child service.
    #[must_use]
    pub fn with_sub_router(mut self, name: impl Into<String>, child: impl Service) -> Self {
        self.extra.push((name.into(), Box::new(child)));
        self
    }

    /// The wrapped service.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Service> Service for WithSubRouters<S> {
    fn type_name(&self) -> Cow<'_, str> {
        self.inner.type_name()
    }
    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        match self.extra.iter().find(|(n, _)| n == name) {
            Some((_, s)) => Some(&**s),
            None => self.inner.sub_router(name),
        }
    }
    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        let mut names = self.inner.sub_router_names();
        names.extend(self.extra.iter().map(|(n, _)| Cow::Borrowed(n.as_str())));
        names
    }
    fn is_hidden(&self, name: &str) -> bool {
        !self.extra.iter().any(|(n, _)| n == name) && self.inner.is_hidden(name)
    }
    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        self.inner.exposed_names()
    }
    fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
        if self.extra.iter().any(|(n, _)| n == name) {
            return None;
        }
        self.inner.call(name, call)
    }
}

impl<S: TypedService> TypedService for WithSubRouters<S> {
    type Proxy = S::Proxy;
}
