//! The benchmark's simulator (`scripts/mosaik-bench.sh`): `Counter` entities that add up their
//! `in` input each step and keep every step's inputs, as a simulator that records its history
//! does. Each step also calls mosaik back twice (the progress, and the entities related to the
//! first counter). `rpc-mosaik/bench/counter_sim_py.py` is the same simulator with
//! mosaik-api-python.
//!
//! ```text
//! counter_sim 127.0.0.1:5678    # {"cmd": "counter_sim %(addr)s"}
//! ```

use std::process::ExitCode;

use rpc_mosaik::{
    CreateResult, InputData, Meta, ModelDescription, ModelName, Mosaik, OutputData, OutputRequest,
    Params, SimError, SimId, SimType, Simulator, Time,
};

/// The simulator: one count per entity, `Counter_<i>` being index `i`.
#[derive(Default)]
struct CounterSim {
    sid: SimId,
    counts: Vec<i64>,
    /// Every step's inputs, kept.
    history: Vec<InputData>,
    /// What the calls back returned, so that they are not optimised away.
    progress: f64,
    related: usize,
}

/// The index of `Counter_<i>`.
fn index(eid: &str) -> Option<usize> {
    eid.strip_prefix("Counter_")?.parse().ok()
}

impl Simulator for CounterSim {
    async fn init(&mut self, sid: SimId, _res: f64, _params: Params) -> Result<Meta, SimError> {
        self.sid = sid;
        Ok(Meta::new(SimType::TimeBased).model(
            "Counter",
            ModelDescription::public([""; 0], ["in", "count"]),
        ))
    }

    async fn create(
        &mut self,
        num: usize,
        model: ModelName,
        _params: Params,
    ) -> Result<Vec<CreateResult>, SimError> {
        let start = self.counts.len();
        self.counts.resize(start + num, 0);
        Ok((start..start + num)
            .map(|i| CreateResult::new(format!("Counter_{i}"), model.clone()))
            .collect())
    }

    async fn step(
        &mut self,
        time: Time,
        inputs: InputData,
        _max_advance: Time,
        mosaik: &Mosaik,
    ) -> Result<Option<Time>, SimError> {
        self.progress = mosaik.get_progress().await?;
        self.related = mosaik
            .related_entities(&format!("{}.Counter_0", self.sid))
            .await?
            .len();
        for entity in &inputs {
            let i = index(entity.eid())
                .filter(|&i| i < self.counts.len())
                .ok_or_else(|| {
                    SimError::value_error(format!("unknown entity {:?}", entity.eid()))
                })?;
            if let Some(n) = entity.sum::<i64>("in") {
                self.counts[i] += n;
            }
        }
        self.history.push(inputs);
        Ok(Some(time + 1))
    }

    async fn get_data(&mut self, outputs: OutputRequest) -> Result<OutputData, SimError> {
        let mut data = OutputData::with_capacity(outputs.len());
        for (eid, attrs) in outputs.iter() {
            let count = index(eid)
                .and_then(|i| self.counts.get(i))
                .ok_or_else(|| SimError::value_error(format!("unknown entity {eid:?}")))?;
            for attr in attrs {
                if attr != "count" {
                    return Err(SimError::value_error(format!("unknown attribute {attr:?}")));
                }
                data.insert(eid, attr, *count);
            }
        }
        Ok(data)
    }

    async fn finalize(&mut self) -> Result<(), SimError> {
        tracing::info!(
            steps = self.history.len(),
            total = self.counts.iter().sum::<i64>(),
            progress = self.progress,
            related = self.related,
            "finalize"
        );
        Ok(())
    }
}

fn main() -> ExitCode {
    rpc_mosaik::main(CounterSim::default())
}
