//! mosaik's data types, as `mosaik_api_v3.types` defines them, with serde.
//!
//! Each type serializes to exactly the JSON mosaik reads and writes, so they can also be used raw
//! (with `serde_json`, or in a [`rpc_core::Proxy`] call of your own). Attribute values are
//! [`Value`]s: mosaik lets any JSON value through.

use std::collections::BTreeMap;

use rpc_core::Value;
use serde::{Deserialize, Serialize};

/// The API version this crate implements (`"3.0"`), the one mosaik 3 requires.
pub const API_VERSION: &str = "3.0";

/// Simulation time: a count of steps since the start; one step is `time_resolution` seconds.
pub type Time = u64;
/// A simulator's id, given by mosaik in `init` (`"ExampleSim-0"`).
pub type SimId = String;
/// An entity's id, unique within one simulator (`"Model_0"`).
pub type EntityId = String;
/// A full entity id, `"<sim id>.<entity id>"`.
pub type FullId = String;
/// An attribute's name.
pub type Attr = String;
/// A model's name.
pub type ModelName = String;
/// Named parameters (`sim_params` of `init`, `model_params` of `create`), in name order.
pub type Params = BTreeMap<String, Value>;

/// How mosaik advances a simulator (`meta["type"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimType {
    /// Stepped at the times it returns from `step`; all outputs persistent.
    #[default]
    TimeBased,
    /// Stepped when a triggering input arrives (or at the times it returns); outputs
    /// non-persistent.
    EventBased,
    /// Both: `trigger` and `persistent` / `non-persistent` chosen per attribute.
    Hybrid,
}

/// What a simulator tells mosaik about itself in reply to `init` (mosaik's `Meta`).
///
/// ```
/// use rpc_mosaik::{Meta, ModelDescription, SimType};
/// let meta = Meta::new(SimType::TimeBased)
///     .model("ExampleModel", ModelDescription::public(["init_val"], ["delta", "val"]));
/// let json = serde_json::to_string(&meta).unwrap();
/// assert_eq!(
///     json,
///     r#"{"api_version":"3.0","type":"time-based","models":{"ExampleModel":{"public":true,"params":["init_val"],"attrs":["delta","val"]}},"extra_methods":[]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Meta {
    /// `"major.minor"`; mosaik requires the major version to be its own (`"3.0"`).
    pub api_version: String,
    /// How the simulator is stepped.
    #[serde(rename = "type")]
    pub sim_type: SimType,
    /// The models, by name.
    pub models: BTreeMap<ModelName, ModelDescription>,
    /// Methods beyond the API that a scenario may call (`sim.my_method(...)`). The runtime fills
    /// this in from [`Simulator::extra_methods`](crate::Simulator::extra_methods).
    #[serde(default)]
    pub extra_methods: Vec<String>,
}

impl Meta {
    /// A meta of the given type with API version [`API_VERSION`] and no models yet.
    pub fn new(sim_type: SimType) -> Self {
        Meta {
            api_version: API_VERSION.to_owned(),
            sim_type,
            models: BTreeMap::new(),
            extra_methods: Vec::new(),
        }
    }

    /// Adds (or replaces) the model `name`.
    #[must_use]
    pub fn model(mut self, name: impl Into<ModelName>, description: ModelDescription) -> Self {
        self.models.insert(name.into(), description);
        self
    }
}

/// One model in [`Meta`] (mosaik's `ModelDescription`). The optional entries are left out of
/// the JSON when they are `None`, as a Python simulator leaves them out of its dict.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelDescription {
    /// Whether a scenario may create it (`false` for a model that only appears as a child).
    pub public: bool,
    /// The parameter names `create` accepts.
    pub params: Vec<String>,
    /// The attribute names that can be read and connected.
    pub attrs: Vec<Attr>,
    /// Whether any attribute may be connected to it, listed or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_inputs: Option<bool>,
    /// The attributes whose inputs step the simulator (event-based and hybrid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Vec<Attr>>,
    /// The attributes whose inputs do not step the simulator (the complement of `trigger`).
    #[serde(
        default,
        rename = "non-trigger",
        skip_serializing_if = "Option::is_none"
    )]
    pub non_trigger: Option<Vec<Attr>>,
    /// The outputs that keep their value between steps (hybrid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent: Option<Vec<Attr>>,
    /// The outputs that are events, valid only at the time they are given (hybrid).
    #[serde(
        default,
        rename = "non-persistent",
        skip_serializing_if = "Option::is_none"
    )]
    pub non_persistent: Option<Vec<Attr>>,
}

impl ModelDescription {
    /// A public model with these parameters and attributes.
    pub fn public<P, A>(params: P, attrs: A) -> Self
    where
        P: IntoIterator,
        P::Item: Into<String>,
        A: IntoIterator,
        A::Item: Into<String>,
    {
        ModelDescription {
            public: true,
            params: params.into_iter().map(Into::into).collect(),
            attrs: attrs.into_iter().map(Into::into).collect(),
            ..ModelDescription::default()
        }
    }

    /// The same model, not public (only created as another entity's child).
    #[must_use]
    pub fn private(mut self) -> Self {
        self.public = false;
        self
    }

    /// Accepts connections of any attribute.
    #[must_use]
    pub fn any_inputs(mut self) -> Self {
        self.any_inputs = Some(true);
        self
    }

    /// Sets the triggering attributes.
    #[must_use]
    pub fn trigger<A: IntoIterator>(mut self, attrs: A) -> Self
    where
        A::Item: Into<String>,
    {
        self.trigger = Some(attrs.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the persistent outputs.
    #[must_use]
    pub fn persistent<A: IntoIterator>(mut self, attrs: A) -> Self
    where
        A::Item: Into<String>,
    {
        self.persistent = Some(attrs.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the non-persistent outputs (events).
    #[must_use]
    pub fn non_persistent<A: IntoIterator>(mut self, attrs: A) -> Self
    where
        A::Item: Into<String>,
    {
        self.non_persistent = Some(attrs.into_iter().map(Into::into).collect());
        self
    }
}

/// One created entity, as `create` returns it (mosaik's `CreateResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateResult {
    /// The entity's id, unique within the simulator.
    pub eid: EntityId,
    /// Its model (for the root entities, the model `create` was asked for).
    #[serde(rename = "type")]
    pub model: ModelName,
    /// Ids of related entities of the same simulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<Vec<EntityId>>,
    /// Child entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<CreateResult>>,
    /// Anything else the scenario may read (`entity.extra_info`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_info: Option<Value>,
}

impl CreateResult {
    /// An entity without relations or children.
    pub fn new(eid: impl Into<EntityId>, model: impl Into<ModelName>) -> Self {
        CreateResult {
            eid: eid.into(),
            model: model.into(),
            rel: None,
            children: None,
            extra_info: None,
        }
    }

    /// The same entity with these related entities.
    #[must_use]
    pub fn with_rel(mut self, rel: Vec<EntityId>) -> Self {
        self.rel = Some(rel);
        self
    }

    /// The same entity with these children.
    #[must_use]
    pub fn with_children(mut self, children: Vec<CreateResult>) -> Self {
        self.children = Some(children);
        self
    }

    /// The same entity with extra information for the scenario.
    #[must_use]
    pub fn with_extra_info(mut self, info: Value) -> Self {
        self.extra_info = Some(info);
        self
    }
}

/// The inputs of one step: destination entity → attribute → source full id → value.
pub type InputData = BTreeMap<EntityId, BTreeMap<Attr, BTreeMap<FullId, Value>>>;

/// The outputs mosaik asks for in `get_data`: entity → attribute names.
pub type OutputRequest = BTreeMap<EntityId, Vec<Attr>>;

/// What `get_data` returns: entity → attribute → value, and for event-based and hybrid
/// simulators optionally the `time` of the (non-persistent) outputs.
///
/// ```
/// use rpc_mosaik::OutputData;
/// let mut out = OutputData::new();
/// out.insert("Model_0", "val", 42);
/// out.time = Some(3);
/// assert_eq!(serde_json::to_string(&out).unwrap(), r#"{"Model_0":{"val":42},"time":3}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputData {
    /// Entity → attribute → value.
    #[serde(flatten)]
    pub entities: BTreeMap<EntityId, BTreeMap<Attr, Value>>,
    /// The output time, for event-based and hybrid simulators (default: the step's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
}

impl OutputData {
    /// No outputs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value of `attr` of `eid`.
    pub fn insert(
        &mut self,
        eid: impl Into<EntityId>,
        attr: impl Into<Attr>,
        value: impl Into<Value>,
    ) {
        self.entities
            .entry(eid.into())
            .or_default()
            .insert(attr.into(), value.into());
    }
}

/// What `get_related_entities` names an entity by: its model (mosaik's `EntitySpec`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntitySpec {
    /// The entity's model.
    #[serde(rename = "type")]
    pub model: ModelName,
}

/// The whole entity graph of a scenario (mosaik's `EntityGraph`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntityGraph {
    /// Every entity, by full id.
    pub nodes: BTreeMap<FullId, EntitySpec>,
    /// Related pairs, each with a (usually empty) map of edge data.
    pub edges: Vec<(FullId, FullId, BTreeMap<String, Value>)>,
}

/// Data sent to other simulators with `set_data`: source full id → destination full id →
/// attribute → value.
pub type SetData = BTreeMap<FullId, BTreeMap<FullId, BTreeMap<Attr, Value>>>;

/// The inputs of an entity's attribute, all sources together.
///
/// A convenience for the common case of summing a numeric input: `None` for an attribute with
/// no numeric input.
pub fn sum_inputs(inputs: &InputData, eid: &str, attr: &str) -> Option<f64> {
    let sources = inputs.get(eid)?.get(attr)?;
    let mut sum = None;
    for v in sources.values() {
        if let Some(x) = v.as_f64() {
            *sum.get_or_insert(0.0) += x;
        }
    }
    sum
}
