//! Service references across the wire: [`ServiceRef`], and the per-connection context that binds
//! the references a peer sends to the connection they came on.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::Proxy;
use super::TypedProxy;
use crate::channel::{Channel, WeakChannel};
use crate::wire::codec::{Envelope, Scope};

/// Which services this side of a connection serves, as the RPC layer needs to know: a reference
/// can only be sent to a service that exists. Implemented by the service layer's router.
pub(crate) trait LocalServices: Send + Sync + 'static {
    /// Whether a service is served at `path` (`""` is the root).
    fn has_service_at(&self, path: &str) -> bool;
}

/// What an RPC connection puts in its codec scope: the connection itself, to bind received
/// references, and the local services, to check sent ones.
pub(crate) struct ConnContext {
    channel: WeakChannel,
    local: OnceLock<Arc<dyn LocalServices>>,
}

impl ConnContext {
    /// The context of the connection of `channel`, serving `local` if given.
    pub(crate) fn new(channel: WeakChannel, local: Option<Arc<dyn LocalServices>>) -> Self {
        let cell = OnceLock::new();
        if let Some(local) = local {
            let _ = cell.set(local);
        }
        ConnContext {
            channel,
            local: cell,
        }
    }
}

const OFF_RPC: &str = "a service reference can only travel over an RPC connection";

/// The current scope's connection context, if the scope is an RPC connection's.
fn with_context<R>(f: impl FnOnce(&Scope, &ConnContext) -> Result<R, String>) -> Result<R, String> {
    Scope::with_current(|scope| {
        let scope = scope.ok_or(OFF_RPC)?;
        let cx = scope.context::<ConnContext>().ok_or(OFF_RPC)?;
        f(scope, cx)
    })
}

/// A reference to a service, sent as `{"__type__": [proxy_typeid, path]}` as aiomas sends a
/// service object.
///
/// Made with [`root`](Self::root) or [`at`](Self::at), it names one of *our* services; the peer
/// receives it as a proxy bound to the same connection, and its calls come back over it. It can
/// only be sent on a connection that serves a service at that path.
///
/// Received from the peer (as the result of a call, say), it names one of the *peer's* services:
/// [`proxy`](Self::proxy) calls it.
#[derive(Clone)]
pub struct ServiceRef {
    path: String,
    remote: Option<Proxy>,
}

impl ServiceRef {
    /// The root service of this side of the connection.
    pub fn root() -> Self {
        Self::at("")
    }

    /// The service at `path` (`"child"`, `"a/b"`) of this side of the connection.
    pub fn at(path: impl Into<String>) -> Self {
        ServiceRef {
            path: path.into(),
            remote: None,
        }
    }

    /// The path of the service, on the side that serves it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether this is a reference to one of the peer's services, received from it.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// A proxy of the peer's service, if this reference came from the peer.
    pub fn proxy(&self) -> Option<Proxy> {
        self.remote.clone()
    }

    /// A typed proxy of the peer's service, if this reference came from the peer.
    pub fn into_proxy<P: TypedProxy>(self) -> Option<P> {
        self.remote.map(P::from)
    }
}

impl fmt::Debug for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceRef")
            .field("path", &self.path)
            .field("remote", &self.is_remote())
            .finish()
    }
}

impl PartialEq for ServiceRef {
    /// Two references are equal when they name the same path on the same side.
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.is_remote() == other.is_remote()
    }
}

impl Eq for ServiceRef {}

impl Hash for ServiceRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.path.hash(state);
        self.is_remote().hash(state);
    }
}

impl Serialize for ServiceRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.remote.is_some() {
            return Err(serde::ser::Error::custom(
                "cannot send a reference to one of the peer's services back to it: send ServiceRef::at(path) of a service of ours",
            ));
        }
        let typeid = with_context(|scope, cx| {
            let local = cx.local.get().ok_or(
                "cannot send a service reference: this side of the connection serves no service",
            )?;
            if !local.has_service_at(&self.path) {
                return Err(format!(
                    "cannot send a service reference: this side serves no service at {:?}",
                    self.path
                ));
            }
            Ok(scope.codec.proxy_typeid())
        })
        .map_err(serde::ser::Error::custom)?;
        Envelope {
            inner: (typeid, &self.path),
        }
        .serialize(s)
    }
}

/// Reads `{"__type__": [proxy_typeid, path]}` into a proxy on the current connection.
fn receive(typeid: i64, path: String) -> Result<Proxy, String> {
    with_context(|scope, cx| {
        let expected = scope.codec.proxy_typeid();
        if usize::try_from(typeid).ok() != Some(expected) {
            return Err(format!(
                "expected a service reference (type id {expected}), got type id {typeid}"
            ));
        }
        let channel: Channel = cx.channel.upgrade().ok_or(OFF_RPC)?;
        Ok(Proxy::new(channel, path))
    })
}

impl<'de> Deserialize<'de> for ServiceRef {
    /// Reads a reference the peer sent to one of its services.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let env = Envelope::<(i64, String)>::deserialize(d)?;
        let (typeid, path) = env.inner;
        let proxy = receive(typeid, path.clone()).map_err(serde::de::Error::custom)?;
        Ok(ServiceRef {
            path,
            remote: Some(proxy),
        })
    }
}

impl<'de> Deserialize<'de> for Proxy {
    /// Reads a reference the peer sent to one of its services, as a proxy on the same connection.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let env = Envelope::<(i64, String)>::deserialize(d)?;
        let (typeid, path) = env.inner;
        receive(typeid, path).map_err(serde::de::Error::custom)
    }
}
