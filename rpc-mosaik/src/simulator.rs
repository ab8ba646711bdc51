//! The [`Simulator`] trait and the error a simulator returns, [`SimError`].

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use rpc_core::{CallError, Value};

use crate::mosaik::Mosaik;
use crate::types::{CreateResult, InputData, Meta, ModelName, OutputData, OutputRequest};
use crate::types::{Params, SimId, Time};

/// A mosaik simulator: what mosaik calls, one call at a time.
///
/// Write each method as an `async fn`. mosaik never calls a simulator twice at once, so the
/// methods take `&mut self`; a method may call mosaik back through the [`Mosaik`] handle
/// it is given (only `step` and the extra methods get one: mosaik answers calls back while it
/// waits for them).
///
/// `stop` is answered by the runtime, which then ends the connection, calls
/// [`finalize`](Self::finalize) and returns; it does the same when mosaik closes the connection
/// and, under [`main`](crate::main), on SIGTERM or Ctrl-C.
///
/// Methods beyond mosaik's API (mosaik's `extra_methods`) are a typed `#[service]` of their own,
/// given to [`Runner::extra_methods`](crate::Runner::extra_methods).
pub trait Simulator: Send + 'static {
    /// Called first, with the simulator's id, the seconds one time step stands for, and the
    /// parameters of the scenario's `world.start(...)`. Returns what the simulator offers.
    fn init(
        &mut self,
        sid: SimId,
        time_resolution: f64,
        sim_params: Params,
    ) -> impl Future<Output = Result<Meta, SimError>> + Send;

    /// Creates `num` entities of `model` with the scenario's parameters; returns exactly `num`
    /// root entities, each of type `model`.
    fn create(
        &mut self,
        num: usize,
        model: ModelName,
        model_params: Params,
    ) -> impl Future<Output = Result<Vec<CreateResult>, SimError>> + Send;

    /// The scenario is set up: all entities and connections exist, nothing has stepped yet.
    fn setup_done(&mut self) -> impl Future<Output = Result<(), SimError>> + Send {
        async { Ok(()) }
    }

    /// Steps from `time` with `inputs`; returns the next time to be stepped at (required for a
    /// time-based simulator, optional otherwise). No input will arrive before `max_advance + 1`.
    fn step(
        &mut self,
        time: Time,
        inputs: InputData,
        max_advance: Time,
        mosaik: &Mosaik,
    ) -> impl Future<Output = Result<Option<Time>, SimError>> + Send;

    /// The current values of the requested outputs.
    fn get_data(
        &mut self,
        outputs: OutputRequest,
    ) -> impl Future<Output = Result<OutputData, SimError>> + Send;

    /// Called once at the end: after `stop`, when mosaik closes the connection, or on SIGTERM
    /// or Ctrl-C under [`main`](crate::main) (mosaik-api-python's `finalize`). Write results,
    /// close files, ... here; the simulator is handed back afterwards
    /// ([`Finished::sim`](crate::Finished::sim)).
    fn finalize(&mut self) -> impl Future<Output = Result<(), SimError>> + Send {
        async { Ok(()) }
    }
}

/// An error a simulator returns; mosaik receives it as `[type, message, traceback]` and logs
/// `Simulator <sid> aborted the simulation with error <type>(<message>).` followed by the
/// traceback.
///
/// Any `std::error::Error` converts with `?`: the kind is the error type's name, the message
/// its `Display`, the traceback its chain of sources.
///
/// ```
/// use rpc_mosaik::SimError;
/// let e = SimError::from("x".parse::<i32>().unwrap_err());
/// assert_eq!((e.kind(), e.message()), ("ParseIntError", "invalid digit found in string"));
/// let e = SimError::value_error("no entity \"Model_9\"");
/// assert_eq!(e.to_string(), "ValueError: no entity \"Model_9\"");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SimError {
    kind: Cow<'static, str>,
    message: String,
    traceback: String,
}

impl SimError {
    /// An error of the given kind (a Python exception name reads best in mosaik's log).
    pub fn new(kind: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        let kind = kind.into();
        let message = message.into();
        let traceback = format!("{kind}: {message}\n");
        SimError {
            kind,
            message,
            traceback,
        }
    }

    /// A `ValueError`.
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// A `TypeError`.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// The same error with its own traceback text (mosaik prints it under "Further
    /// information provided").
    #[must_use]
    pub fn with_traceback(mut self, traceback: impl Into<String>) -> Self {
        self.traceback = traceback.into();
        self
    }

    /// The kind, e.g. `ValueError`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The traceback text sent as the third element.
    pub fn traceback(&self) -> &str {
        &self.traceback
    }

    /// The error as rpc-core's [`CallError`], with mosaik's `[type, message, traceback]` as its
    /// content.
    pub fn into_call_error(self) -> CallError {
        let content = Value::Array(vec![
            Value::from(&*self.kind),
            Value::from(self.message.as_str()),
            Value::from(self.traceback),
        ]);
        CallError::new(self.kind, self.message).with_content(content)
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl<E: std::error::Error> From<E> for SimError {
    fn from(e: E) -> Self {
        let full = std::any::type_name::<E>();
        let base = full.split('<').next().unwrap_or(full);
        let kind = base.rsplit("::").next().unwrap_or(base).to_owned();
        let mut traceback = String::new();
        let mut source = e.source();
        while let Some(s) = source {
            traceback.push_str(&format!("caused by: {s}\n"));
            source = s.source();
        }
        let message = e.to_string();
        traceback.push_str(&format!("{kind}: {message}\n"));
        SimError {
            kind: Cow::Owned(kind),
            message,
            traceback,
        }
    }
}

impl From<SimError> for CallError {
    fn from(e: SimError) -> Self {
        e.into_call_error()
    }
}
