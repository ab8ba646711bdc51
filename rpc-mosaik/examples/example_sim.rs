//! The mosaik tutorial's simple simulator (`simulator_mosaik.py`), in Rust: each `ExampleModel`
//! entity has a value `val` that grows by `delta` every step; an input `delta` replaces it.
//!
//! ```text
//! example_sim 127.0.0.1:5678             # mosaik started it: {"cmd": "example_sim %(addr)s"}
//! example_sim --remote 127.0.0.1:5678    # mosaik connects:   {"connect": "127.0.0.1:5678"}
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use rpc_mosaik::{
    sum_inputs, CreateResult, EntityId, InputData, Meta, ModelDescription, ModelName, Mosaik,
    OutputData, OutputRequest, Params, SimError, SimId, SimType, Simulator, Time,
};

/// What `create` takes (`ExampleModel.create(2, init_val=3)`); a missing or mistyped
/// parameter is a `TypeError` that names it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateParams {
    #[serde(default)]
    init_val: f64,
}

/// One model instance.
struct Model {
    val: f64,
    delta: f64,
}

/// The simulator: its entities, by id.
#[derive(Default)]
struct ExampleSim {
    eid_prefix: String,
    entities: BTreeMap<EntityId, Model>,
}

impl Simulator for ExampleSim {
    async fn init(
        &mut self,
        _sid: SimId,
        _time_resolution: f64,
        params: Params,
    ) -> Result<Meta, SimError> {
        self.eid_prefix = match params.get("eid_prefix") {
            None => "Model_".to_owned(),
            Some(p) => p
                .as_str()
                .ok_or_else(|| {
                    SimError::type_error(format!("eid_prefix must be a string, not {p:?}"))
                })?
                .to_owned(),
        };
        Ok(Meta::new(SimType::TimeBased).model(
            "ExampleModel",
            ModelDescription::public(["init_val"], ["delta", "val"]),
        ))
    }

    async fn create(
        &mut self,
        num: usize,
        model: ModelName,
        params: Params,
    ) -> Result<Vec<CreateResult>, SimError> {
        let CreateParams { init_val } = params.parse()?;
        let start = self.entities.len();
        Ok((start..start + num)
            .map(|i| {
                let eid = format!("{}{i}", self.eid_prefix);
                self.entities.insert(
                    eid.clone(),
                    Model {
                        val: init_val,
                        delta: 1.0,
                    },
                );
                CreateResult::new(eid, model.clone())
            })
            .collect())
    }

    async fn step(
        &mut self,
        time: Time,
        inputs: InputData,
        _max_advance: Time,
        _mosaik: &Mosaik,
    ) -> Result<Option<Time>, SimError> {
        for (eid, model) in &mut self.entities {
            if let Some(delta) = sum_inputs(&inputs, eid, "delta") {
                model.delta = delta;
            }
            model.val += model.delta;
        }
        Ok(Some(time + 1))
    }

    async fn get_data(&mut self, outputs: OutputRequest) -> Result<OutputData, SimError> {
        let mut data = OutputData::new();
        for (eid, attrs) in outputs.iter() {
            let model = self
                .entities
                .get(eid)
                .ok_or_else(|| SimError::value_error(format!("unknown entity {eid:?}")))?;
            for attr in attrs {
                let value = match attr {
                    "val" => model.val,
                    "delta" => model.delta,
                    _ => return Err(SimError::value_error(format!("unknown attribute {attr:?}"))),
                };
                data.insert(eid, attr, value);
            }
        }
        Ok(data)
    }

    async fn finalize(&mut self) -> Result<(), SimError> {
        // Where a simulator would write its results; the tests look for this line.
        let total: f64 = self.entities.values().map(|m| m.val).sum();
        tracing::info!(
            entities = self.entities.len(),
            total,
            "finalize: simulator done"
        );
        Ok(())
    }
}

fn main() -> ExitCode {
    rpc_mosaik::main(ExampleSim::default())
}
