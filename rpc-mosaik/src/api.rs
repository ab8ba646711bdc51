//! mosaik's API as a typed `#[service]` trait ([`MosaikApi`]), the host that serves it for any
//! [`Simulator`], and the service mosaik's connection serves: the API plus the simulator's extra
//! methods.
//!
//! Each call mosaik makes is decoded by the code `#[service]` generates, straight from mosaik's
//! JSON into the parameter types ([`InputData`], [`OutputRequest`], ...), and each result is
//! encoded straight into the reply: nothing goes through a dynamic value tree on the way.

use std::borrow::Cow;
use std::sync::Arc;

use rpc_core::{service, Call, CallContext, CallError, Outcome, Service};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard, Notify};

use crate::mosaik::Mosaik;
use crate::simulator::{SimError, Simulator};
use crate::types::{
    CreateResult, InputData, Meta, ModelName, OutputData, OutputRequest, Params, SimId, Time,
    API_VERSION,
};

/// mosaik's API 3, as a simulator serves it: what mosaik calls. The typed proxy it generates,
/// [`MosaikApiProxy`], plays mosaik's part in tests (`connection.proxy::<MosaikApiProxy>()`).
#[service]
pub trait MosaikApi {
    /// `init(sid, time_resolution=1.0, **sim_params)`.
    async fn init(
        &self,
        sid: SimId,
        time_resolution: Option<f64>,
        #[kwargs] sim_params: Params,
    ) -> Result<Meta, CallError>;

    /// `create(num, model, **model_params)`.
    async fn create(
        &self,
        num: usize,
        model: ModelName,
        #[kwargs] model_params: Params,
    ) -> Result<Vec<CreateResult>, CallError>;

    /// `setup_done()`.
    async fn setup_done(&self) -> Result<(), CallError>;

    /// `step(time, inputs, max_advance)`.
    async fn step(
        &self,
        #[context] cx: CallContext,
        time: Time,
        inputs: InputData,
        max_advance: Time,
    ) -> Result<Option<Time>, CallError>;

    /// `get_data(outputs)`.
    async fn get_data(&self, outputs: OutputRequest) -> Result<OutputData, CallError>;

    /// `stop()`: answered, then the run ends.
    fn stop(&self);
}

/// The names of [`MosaikApi`]'s methods, which an extra method cannot take.
pub(crate) const API_NAMES: [&str; 6] =
    ["init", "create", "setup_done", "step", "get_data", "stop"];

/// The simulator, shared by the connection's service and the run that hands it back.
pub(crate) struct Shared<S> {
    sim: Mutex<Option<S>>,
    pub(crate) stop: Notify,
}

/// A handle on the running simulator, for extra methods ([`Runner::extra_methods`]): lock it
/// to reach the simulator between mosaik's calls.
///
/// [`Runner::extra_methods`]: crate::Runner::extra_methods
pub struct SimHandle<S>(pub(crate) Arc<Shared<S>>);

impl<S> Clone for SimHandle<S> {
    fn clone(&self) -> Self {
        SimHandle(self.0.clone())
    }
}

impl<S> std::fmt::Debug for SimHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimHandle")
    }
}

impl<S: Simulator> SimHandle<S> {
    pub(crate) fn new(sim: S) -> Self {
        SimHandle(Arc::new(Shared {
            sim: Mutex::new(Some(sim)),
            stop: Notify::new(),
        }))
    }

    /// The simulator, once no call of mosaik's uses it; an error (a `RuntimeError` for mosaik)
    /// once the run has ended and handed it back.
    pub async fn lock(&self) -> Result<MappedMutexGuard<'_, S>, SimError> {
        MutexGuard::try_map(self.0.sim.lock().await, Option::as_mut).map_err(|_| {
            SimError::new(
                "RuntimeError",
                "the simulator has finished: its run has ended",
            )
        })
    }

    /// Takes the simulator out at the end of the run.
    pub(crate) async fn take(&self) -> Option<S> {
        self.0.sim.lock().await.take()
    }
}

/// Serves [`MosaikApi`] for the simulator `S`.
pub(crate) struct Host<S> {
    pub(crate) sim: SimHandle<S>,
    /// The extra methods' names, added to the meta.
    extra: Vec<String>,
}

fn err(e: SimError) -> CallError {
    e.into_call_error()
}

#[service]
impl<S: Simulator> MosaikApi for Host<S> {
    async fn init(
        &self,
        sid: SimId,
        time_resolution: Option<f64>,
        sim_params: Params,
    ) -> Result<Meta, CallError> {
        let mut sim = self.sim.lock().await.map_err(err)?;
        let mut meta = sim
            .init(sid, time_resolution.unwrap_or(1.0), sim_params)
            .await
            .map_err(err)?;
        for name in &self.extra {
            if !meta.extra_methods.contains(name) {
                meta.extra_methods.push(name.clone());
            }
        }
        if meta.api_version.is_empty() {
            meta.api_version = API_VERSION.to_owned();
        }
        Ok(meta)
    }

    async fn create(
        &self,
        num: usize,
        model: ModelName,
        model_params: Params,
    ) -> Result<Vec<CreateResult>, CallError> {
        let mut sim = self.sim.lock().await.map_err(err)?;
        let created = sim
            .create(num, model.clone(), model_params)
            .await
            .map_err(err)?;
        if created.len() != num {
            return Err(err(SimError::value_error(format!(
                "create({num}, {model:?}) returned {} entities; mosaik expects exactly {num}",
                created.len()
            ))));
        }
        Ok(created)
    }

    async fn setup_done(&self) -> Result<(), CallError> {
        let mut sim = self.sim.lock().await.map_err(err)?;
        sim.setup_done().await.map_err(err)
    }

    async fn step(
        &self,
        cx: CallContext,
        time: Time,
        inputs: InputData,
        max_advance: Time,
    ) -> Result<Option<Time>, CallError> {
        let mosaik = Mosaik::new(cx.remote());
        let mut sim = self.sim.lock().await.map_err(err)?;
        sim.step(time, inputs, max_advance, &mosaik)
            .await
            .map_err(err)
    }

    async fn get_data(&self, outputs: OutputRequest) -> Result<OutputData, CallError> {
        let mut sim = self.sim.lock().await.map_err(err)?;
        sim.get_data(outputs).await.map_err(err)
    }

    fn stop(&self) {
        self.sim.0.stop.notify_one();
    }
}

/// No extra methods.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct NoExtras;

impl Service for NoExtras {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("NoExtras")
    }
    fn sub_router(&self, _: &str) -> Option<&dyn Service> {
        None
    }
    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        Vec::new()
    }
    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        Vec::new()
    }
    fn is_hidden(&self, _: &str) -> bool {
        false
    }
    fn call<'s>(&'s self, _: &str, _: Call<'_>) -> Option<Outcome<'s>> {
        None
    }
}

/// What mosaik's connection serves: mosaik's API, then the extra methods.
pub(crate) struct SimService<S, E> {
    host: Host<S>,
    extra: E,
}

impl<S: Simulator, E: Service> SimService<S, E> {
    pub(crate) fn new(sim: SimHandle<S>, extra: E) -> Self {
        let mut names = Vec::new();
        for name in extra.exposed_names() {
            if API_NAMES.contains(&&*name) {
                tracing::warn!(
                    name = &*name,
                    "an extra method cannot take the name of an API call; ignored"
                );
            } else {
                names.push(name.into_owned());
            }
        }
        SimService {
            host: Host { sim, extra: names },
            extra,
        }
    }
}

impl<S: Simulator, E: Service> Service for SimService<S, E> {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("Simulator")
    }

    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        self.extra.sub_router(name)
    }

    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        self.extra.sub_router_names()
    }

    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        let mut names = self.host.exposed_names();
        names.extend(self.host.extra.iter().map(|n| Cow::Borrowed(n.as_str())));
        names
    }

    fn is_hidden(&self, name: &str) -> bool {
        self.extra.is_hidden(name)
    }

    fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
        if API_NAMES.contains(&name) {
            self.host.call(name, call)
        } else {
            self.extra.call(name, call)
        }
    }
}
