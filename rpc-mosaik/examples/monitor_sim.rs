//! An event-based simulator that calls mosaik back during `step`: each `Monitor` entity is
//! stepped when its `val` input arrives, asks mosaik for the simulation's progress and for the
//! entities related to it, and reports both; a value above the entity's `limit` is an error that
//! mosaik logs as `ValueError(...)`.
//!
//! ```text
//! monitor_sim 127.0.0.1:5678             # {"cmd": "monitor_sim %(addr)s"}
//! monitor_sim --remote 127.0.0.1:5678    # {"connect": "127.0.0.1:5678"}
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use rpc_mosaik::{
    sum_inputs, CreateResult, EntityId, InputData, Meta, ModelDescription, ModelName, Mosaik,
    OutputData, OutputRequest, Params, SimError, SimId, SimType, Simulator, Time, Value,
};

/// One monitor.
#[derive(Default)]
struct Monitor {
    limit: Option<f64>,
    val: Option<f64>,
    progress: Option<f64>,
    related: Vec<String>,
    /// The simulator of each related entity, as mosaik's entity graph has it.
    related_sids: Vec<String>,
    /// Values seen, as an event of the step that saw them.
    seen: u64,
}

/// The simulator.
#[derive(Default)]
struct MonitorSim {
    sid: SimId,
    entities: BTreeMap<EntityId, Monitor>,
    last_step: Time,
}

impl Simulator for MonitorSim {
    async fn init(&mut self, sid: SimId, _res: f64, _params: Params) -> Result<Meta, SimError> {
        self.sid = sid;
        Ok(Meta::new(SimType::EventBased).model(
            "Monitor",
            // Event-based: every input triggers a step, every output is an event.
            ModelDescription::public(
                ["limit"],
                ["val", "progress", "related", "related_sids", "seen"],
            ),
        ))
    }

    async fn create(
        &mut self,
        num: usize,
        model: ModelName,
        params: Params,
    ) -> Result<Vec<CreateResult>, SimError> {
        let limit = match params.get("limit") {
            None | Some(Value::Nil) => None,
            Some(v) => Some(v.as_f64().ok_or_else(|| {
                SimError::type_error(format!("limit must be a number, not {v:?}"))
            })?),
        };
        let start = self.entities.len();
        Ok((start..start + num)
            .map(|i| {
                let eid = format!("Monitor_{i}");
                self.entities.insert(
                    eid.clone(),
                    Monitor {
                        limit,
                        ..Monitor::default()
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
        mosaik: &Mosaik,
    ) -> Result<Option<Time>, SimError> {
        self.last_step = time;
        // Calls back into mosaik, answered while mosaik waits for this step.
        let progress = mosaik.get_progress().await?;
        for (eid, monitor) in &mut self.entities {
            let Some(val) = sum_inputs(&inputs, eid, "val") else {
                continue;
            };
            if let Some(limit) = monitor.limit.filter(|&l| val > l) {
                return Err(SimError::value_error(format!(
                    "{eid}: val {val} is above the limit {limit} at time {time}"
                )));
            }
            let related = mosaik
                .related_entities(&format!("{}.{eid}", self.sid))
                .await?;
            monitor.val = Some(val);
            monitor.progress = Some(progress);
            monitor.related_sids = related
                .values()
                .map(|spec| spec.sid.clone().unwrap_or_default())
                .collect();
            monitor.related = related.into_keys().collect();
            monitor.seen += 1;
        }
        Ok(None)
    }

    async fn get_data(&mut self, outputs: OutputRequest) -> Result<OutputData, SimError> {
        let mut data = OutputData::new();
        for (eid, attrs) in outputs.iter() {
            let m = self
                .entities
                .get(eid)
                .ok_or_else(|| SimError::value_error(format!("unknown entity {eid:?}")))?;
            for attr in attrs {
                let value = match attr {
                    "val" => m.val.map_or(Value::Nil, Value::from),
                    "progress" => m.progress.map_or(Value::Nil, Value::from),
                    "related" => {
                        Value::Array(m.related.iter().map(|r| Value::from(r.as_str())).collect())
                    }
                    "related_sids" => Value::Array(
                        m.related_sids
                            .iter()
                            .map(|r| Value::from(r.as_str()))
                            .collect(),
                    ),
                    "seen" => Value::from(m.seen),
                    _ => return Err(SimError::value_error(format!("unknown attribute {attr:?}"))),
                };
                data.insert(eid, attr, value);
            }
        }
        data.time = Some(self.last_step);
        Ok(data)
    }
}

fn main() -> ExitCode {
    rpc_mosaik::main(MonitorSim::default())
}
