//! Simulators for the [mosaik](https://mosaik.offis.de) co-simulation framework, in Rust: a
//! typed async [`Simulator`] trait, mosaik's types ([`Meta`], [`InputData`], [`OutputData`],
//! ...), a [`Mosaik`] handle to call mosaik back during a step, errors that mosaik logs as it
//! logs a Python simulator's, and [`main`], which gives a program mosaik-api-python's command
//! line so that a scenario's `"cmd": "my_sim %(addr)s"` and `"connect": "host:port"` both work.
//! It runs on [rpc-core](rpc_core), which speaks mosaik's protocol (aiomas's JSON channel).
//!
//! The mosaik tutorial's simulator (each model's `val` grows by `delta` per step), here driven
//! by a Rust client standing in for mosaik:
//!
//! ```
//! use rpc_mosaik::*;
//! use std::collections::BTreeMap;
//!
//! #[derive(Default)]
//! struct ExampleSim {
//!     eid_prefix: String,
//!     entities: BTreeMap<EntityId, (f64, f64)>, // (val, delta)
//! }
//!
//! impl Simulator for ExampleSim {
//!     async fn init(&mut self, _sid: SimId, _resolution: f64, params: Params) -> Result<Meta, SimError> {
//!         self.eid_prefix = match params.get("eid_prefix") {
//!             Some(p) => p.as_str().ok_or_else(|| SimError::type_error("eid_prefix must be a string"))?.to_owned(),
//!             None => "Model_".to_owned(),
//!         };
//!         Ok(Meta::new(SimType::TimeBased)
//!             .model("ExampleModel", ModelDescription::public(["init_val"], ["delta", "val"])))
//!     }
//!
//!     async fn create(&mut self, num: usize, model: ModelName, params: Params) -> Result<Vec<CreateResult>, SimError> {
//!         let init_val = params.get("init_val").and_then(|v| v.as_f64()).unwrap_or(0.0);
//!         let start = self.entities.len();
//!         Ok((start..start + num)
//!             .map(|i| {
//!                 let eid = format!("{}{i}", self.eid_prefix);
//!                 self.entities.insert(eid.clone(), (init_val, 1.0));
//!                 CreateResult::new(eid, model.clone())
//!             })
//!             .collect())
//!     }
//!
//!     async fn step(&mut self, time: Time, inputs: InputData, _max: Time, _m: &Mosaik) -> Result<Option<Time>, SimError> {
//!         for (eid, (val, delta)) in &mut self.entities {
//!             if let Some(d) = sum_inputs(&inputs, eid, "delta") {
//!                 *delta = d;
//!             }
//!             *val += *delta;
//!         }
//!         Ok(Some(time + 1))
//!     }
//!
//!     async fn get_data(&mut self, outputs: OutputRequest) -> Result<OutputData, SimError> {
//!         let mut data = OutputData::new();
//!         for (eid, attrs) in outputs.iter() {
//!             let (val, delta) = *self.entities.get(eid)
//!                 .ok_or_else(|| SimError::value_error(format!("unknown entity {eid:?}")))?;
//!             for attr in attrs {
//!                 let v = if attr == "val" { val } else { delta };
//!                 data.insert(eid, attr, v);
//!             }
//!         }
//!         Ok(data)
//!     }
//! }
//!
//! // A real program ends here with `fn main() -> ExitCode { rpc_mosaik::main(ExampleSim::default()) }`.
//! // Below, a Rust client plays mosaik's part over the same protocol.
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! let sim = tokio::spawn(run_as_server(ExampleSim::default(), "127.0.0.1:0",
//!     std::time::Duration::from_secs(10), move |addr| { let _ = tx.send(addr); }));
//! let mosaik = connection_builder().connect(rx.await?).await?;
//! let sim_api = mosaik.remote();
//!
//! let meta: Meta = sim_api.get("init").call_kw(("ExampleSim-0",), std::collections::BTreeMap::from([("time_resolution", 1.0)])).await?;
//! assert_eq!(meta.sim_type, SimType::TimeBased);
//! let created: Vec<CreateResult> = sim_api.get("create").call_kw((2, "ExampleModel"), std::collections::BTreeMap::from([("init_val", 3)])).await?;
//! assert_eq!(created[1].eid, "Model_1");
//! let next: Option<Time> = sim_api.get("step").call((0, InputData::new(), 10)).await?;
//! assert_eq!(next, Some(1));
//! let data: OutputData = sim_api.get("get_data").call((OutputRequest::from_iter([("Model_0", ["val"])]),)).await?;
//! assert_eq!(data.get("Model_0", "val").and_then(|v| v.as_f64()), Some(4.0));
//!
//! // An error reaches mosaik as [type, message, traceback]:
//! let err = sim_api.get("get_data").call::<OutputData>((OutputRequest::from_iter([("nope", [""; 0])]),)).await.unwrap_err();
//! let remote = err.remote().unwrap();
//! assert_eq!((remote.kind(), remote.message()), ("ValueError", "unknown entity \"nope\""));
//!
//! let _: rpc_core::Value = sim_api.get("stop").call(()).await?;
//! let finished = sim.await??; // after the simulator's `finalize`
//! assert_eq!(finished.ended, Ended::Stopped);
//! assert_eq!(finished.sim.entities.len(), 2); // the simulator, handed back
//! # Ok(())
//! # }
//! ```
//!
//! The guide `docs/mosaik.md` walks from a scenario file to a running Rust simulator.
//!
//! # Compared with the other ways to write a mosaik simulator
//!
//! | | mosaik-api-python (`mosaik_api_v3`) | ekut-es/mosaik-api (Rust, 0.1) | rpc-mosaik |
//! |---|---|---|---|
//! | language, runtime | Python, asyncio | Rust, async-std | Rust, Tokio |
//! | API calls `init`, `create`, `setup_done`, `step`, `get_data` | methods of `Simulator` (sync, or generators for calls back) | methods of a sync trait | `async fn`s of [`Simulator`], `&mut self`, served through the typed `#[service]` trait [`MosaikApi`]: mosaik's JSON decodes straight into the arguments |
//! | `stop` | ends the loop; `finalize()` hook | ends the loop | answered, then [`Simulator::finalize`]; the run returns [`Finished`] with the simulator |
//! | connection closed / SIGTERM | ends quietly (`IncompleteReadError`) / process killed | ends | `finalize`, then [`Ended::Closed`] / [`Ended::Terminated`] ([`main`] exits with success) |
//! | `extra_methods` | named in `meta`, looked up as attributes | not supported | a typed `#[service]` of your own ([`Runner::extra_methods`]), named in the meta for you |
//! | `Meta` | a dict (a `TypedDict` for checkers) | typed struct | typed [`Meta`], [`ModelDescription`] with every optional entry (`any_inputs`, `trigger`, `non-trigger`, `persistent`, `non-persistent`), [`SimType`] |
//! | inputs, output requests, outputs | nested dicts | nested maps | [`InputData`], [`OutputRequest`], [`OutputData`] (with its optional `time`): one buffer of names and flat records per step, a fifth of the dicts' memory; values as [`Value`]; [`sum_inputs`] generic over the number type |
//! | model and simulator parameters | keyword arguments | a map | [`Params`], and `params.parse::<T>()` through serde with Python's wording for what does not fit |
//! | fields mosaik sends that the type does not name | kept (dicts) | dropped | kept (`sid` of related entities; `extra` maps for unknown ones) |
//! | calls back into mosaik during a step (`get_progress`, `get_related_entities`, `get_data`, `set_data`, `set_event`) | `yield self.mosaik.…` / `await` | **not supported** ("does not support asynchronous communication yet") | [`Mosaik`], typed, `await`ed inside `step` |
//! | mosaik's errors from a call back | `RemoteException` | — | [`MosaikError::Refused`] with kind and message |
//! | a simulator's errors in mosaik's log | `[type, message, *traceback]` | a string (mosaik unpacks it one character per element) | `[type, message, traceback]` from [`SimError`]; any `std::error::Error` converts with `?` |
//! | wire codec | JSON | JSON | JSON ([`connection_builder`]); NaN and ±Infinity written as Python writes them; other settings through [`Runner::connection`] |
//! | command line `HOST:PORT`, `-r/--remote`, `-l/--log-level`, `-t/--timeout` | all (docopt) | `HOST:PORT` and `-r` | all ([`CommandLine`], [`main`]); `--remote` prints its address on stdout when ready |
//! | scenario `cmd` / `connect` | both | both | both, tested with mosaik 3.6.0 and 3.7.1 |
//! | `time_resolution`, `max_advance` (API 3) | yes | yes | yes |
//! | user command-line options (`extra_options`, `configure`) | yes | no | parse your own and call [`run`] with a [`CommandLine`] |
//!
//! # What you meet
//!
//! - [`Simulator`]: implement it; return [`SimError`] on failure.
//! - [`Runner`]: extra methods, connection settings, then [`Runner::main`] or a `run_*`
//!   method; [`Finished`] hands the simulator back.
//! - The types of `mosaik_api_v3.types` in [`types`], re-exported here.
//! - [`Mosaik`]: calls back during `step` and the extra methods.
//! - Running: [`main`] (the command line), or [`run`], [`run_as_client`], [`run_as_server`];
//!   [`connection_builder`] is the rpc-core connection mosaik needs (JSON, mosaik's error form),
//!   for driving a simulator from Rust ([`MosaikApiProxy`]) or talking to mosaik yourself.
//! - [`rpc_core`], re-exported.

mod api;
mod cli;
mod data;
mod mosaik;
mod run;
mod simulator;
pub mod types;

pub use crate::api::{MosaikApi, MosaikApiProxy, NoExtras, SimHandle};
pub use crate::cli::{main, run, CommandLine, CommandLineError, LogLevel};
pub use crate::mosaik::{Mosaik, MosaikError};
pub use crate::run::{
    connection_builder, run_as_client, run_as_server, Ended, Finished, RunError, Runner,
};
pub use crate::simulator::{SimError, Simulator};
pub use crate::types::{
    sum_inputs, Attr, AttrInputs, CreateResult, EntityGraph, EntityId, EntityInputs, EntitySpec,
    Extra, FullId, Input, InputData, InputNumber, Meta, ModelDescription, ModelName, OutputData,
    OutputRequest, Params, SetData, SimId, SimType, Time, API_VERSION,
};
/// rpc-core, which rpc-mosaik runs on: its connection builder, codecs, errors and `#[service]`.
pub use rpc_core;
pub use rpc_core::Value;
