//! Calling mosaik back during a step: [`Mosaik`].

use std::collections::BTreeMap;

use rpc_core::{Proxy, RemoteError, Value};
use serde::de::DeserializeOwned;

use crate::types::{Attr, EntityGraph, EntitySpec, FullId, SetData, Time};

/// A handle on the mosaik that drives this simulator, for calls back while it waits for `step`
/// (or an extra method): mosaik-api-python's `self.mosaik`.
///
/// Each method is one request on the simulator's connection; mosaik answers it at once.
#[derive(Debug, Clone)]
pub struct Mosaik {
    remote: Proxy,
}

/// A call back into mosaik that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MosaikError {
    /// mosaik answered with an error (its `[type, message, traceback]`, readable through
    /// [`RemoteError::kind`] and [`RemoteError::message`]).
    #[error("mosaik refused {method}(): {error}")]
    Refused {
        /// The method called.
        method: &'static str,
        /// What mosaik sent back.
        error: Box<RemoteError>,
    },
    /// The call did not get an answer (the connection ended, the reply could not be decoded
    /// into what mosaik's API promises, ...).
    #[error("calling mosaik's {method}() failed: {source}")]
    Call {
        /// The method called.
        method: &'static str,
        /// Why.
        #[source]
        source: rpc_core::Error,
    },
}

impl MosaikError {
    /// Whether the call failed because the connection to mosaik is gone (mosaik closed it or
    /// went away, or the simulator is shutting down): no later call back will get through,
    /// and the reply of the step in progress will not reach mosaik either.
    pub fn is_connection_reset(&self) -> bool {
        match self {
            MosaikError::Call { source, .. } => source.is_connection_reset(),
            MosaikError::Refused { .. } => false,
        }
    }

    /// mosaik's own error, when it answered with one.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            MosaikError::Refused { error, .. } => Some(error),
            MosaikError::Call { .. } => None,
        }
    }
}

impl Mosaik {
    /// A handle that calls mosaik through `remote`, the root proxy of the simulator's
    /// connection.
    pub fn new(remote: Proxy) -> Self {
        Mosaik { remote }
    }

    /// The root proxy, for calls this type has no method for.
    pub fn proxy(&self) -> &Proxy {
        &self.remote
    }

    async fn call<R: DeserializeOwned, A: rpc_core::Args>(
        &self,
        method: &'static str,
        args: A,
    ) -> Result<R, MosaikError> {
        self.remote
            .get(method)
            .call(args)
            .await
            .map_err(|e| match e {
                rpc_core::Error::Remote(error) => MosaikError::Refused { method, error },
                source => MosaikError::Call { method, source },
            })
    }

    /// The simulation's progress in percent (0 to 100).
    pub async fn get_progress(&self) -> Result<f64, MosaikError> {
        self.call("get_progress", ()).await
    }

    /// The whole entity graph (`get_related_entities()`).
    pub async fn entity_graph(&self) -> Result<EntityGraph, MosaikError> {
        self.call("get_related_entities", (Value::Nil,)).await
    }

    /// The entities related to `entity` (`get_related_entities("sid.eid")`).
    pub async fn related_entities(
        &self,
        entity: &str,
    ) -> Result<BTreeMap<FullId, EntitySpec>, MosaikError> {
        self.call("get_related_entities", (entity,)).await
    }

    /// The entities related to each of `entities` (`get_related_entities([...])`).
    pub async fn related_entities_of(
        &self,
        entities: &[FullId],
    ) -> Result<BTreeMap<FullId, BTreeMap<FullId, EntitySpec>>, MosaikError> {
        self.call("get_related_entities", (entities,)).await
    }

    /// The current values of attributes of other simulators' entities: full id → attribute
    /// names in, full id → attribute → value out. mosaik marks this call as deprecated in favour
    /// of time-shifted and weak connections.
    pub async fn get_data(
        &self,
        attrs: &BTreeMap<FullId, Vec<Attr>>,
    ) -> Result<BTreeMap<FullId, BTreeMap<Attr, Value>>, MosaikError> {
        self.call("get_data", (attrs,)).await
    }

    /// Sends data to other simulators' entities, as inputs of their next step (source full id
    /// → destination full id → attribute → value). Deprecated in mosaik like
    /// [`get_data`](Self::get_data).
    pub async fn set_data(&self, data: &SetData) -> Result<(), MosaikError> {
        self.call::<Value, _>("set_data", (data,)).await.map(drop)
    }

    /// Asks to be stepped at `time` (real-time simulations only; mosaik refuses it otherwise).
    pub async fn set_event(&self, time: Time) -> Result<(), MosaikError> {
        self.call::<Value, _>("set_event", (time,)).await.map(drop)
    }
}
