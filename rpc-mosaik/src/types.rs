//! mosaik's data types, as `mosaik_api_v3.types` defines them, with serde.
//!
//! Each type serializes to exactly the JSON mosaik reads and writes, so they can also be used raw
//! (with `serde_json`, or in a [`rpc_core::Proxy`] call of your own). Attribute values are
//! [`Value`]s: mosaik lets any JSON value through.
//!
//! Nothing mosaik sends is dropped: each struct has every field mosaik 3.6 and 3.7 send, and an
//! `extra` map that keeps any field it does not know (a newer mosaik's, or a simulator's own),
//! and sends it back out unchanged.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use rpc_core::Value;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crate::data::{
    AttrInputs, EntityInputs, Input, InputData, InputNumber, OutputData, OutputRequest,
};
use crate::simulator::SimError;

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
/// Fields a type does not know, kept as they came and sent back out unchanged.
pub type Extra = BTreeMap<String, Value>;

/// Named parameters (`sim_params` of `init`, `model_params` of `create`), in name order: a map
/// of names to [`Value`]s (it dereferences to the `BTreeMap`), or a struct of your own with
/// [`parse`](Params::parse).
///
/// ```
/// use rpc_mosaik::Params;
/// #[derive(Debug, serde::Deserialize)]
/// struct ModelParams { init_val: i64, #[serde(default)] prefix: Option<String> }
///
/// let params = Params::from_iter([("init_val", 3)]);
/// let p: ModelParams = params.parse().unwrap();
/// assert_eq!((p.init_val, p.prefix), (3, None));
///
/// let err = Params::new().parse::<ModelParams>().unwrap_err();
/// assert_eq!(err.to_string(), "TypeError: missing required parameter 'init_val'");
/// let err = Params::from_iter([("init_val", "x")]).parse::<ModelParams>().unwrap_err();
/// assert_eq!(err.to_string(), "TypeError: parameter 'init_val': invalid type: string \"x\", expected i64");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(pub BTreeMap<String, Value>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// The parameters as `T` (any `serde::Deserialize` struct), with Python's wording for what
    /// does not fit: a missing parameter, an unexpected one (with `#[serde(deny_unknown_fields)]`)
    /// or one of the wrong type is a `TypeError` naming it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, SimError> {
        // Through serde_json's value (init and create only, never per step): its messages are
        // serde's own, which `python_wording` turns into Python's. A NaN or infinite float
        // parameter arrives as null this way.
        let json = serde_json::to_value(&self.0)
            .map_err(|e| SimError::type_error(format!("parameters cannot be read: {e}")))?;
        serde_json::from_value::<T>(json)
            .map_err(|e| SimError::type_error(python_wording(&e.to_string(), self)))
    }
}

/// serde's message for a struct that does not fit, in Python's words.
fn python_wording(err: &str, params: &Params) -> String {
    let quoted = |s: &str| s.split('`').nth(1).map(str::to_owned);
    if let Some(rest) = err.split("missing field ").nth(1) {
        if let Some(name) = quoted(rest) {
            return format!("missing required parameter '{name}'");
        }
    }
    if let Some(rest) = err.split("unknown field ").nth(1) {
        if let Some(name) = quoted(rest) {
            return format!("got an unexpected keyword argument '{name}'");
        }
    }
    // A value of the wrong type: find the parameter whose value alone gives the same message.
    for (name, value) in &params.0 {
        if let Some(desc) = describe(value) {
            if err.contains(&desc) {
                return format!("parameter '{name}': {err}");
            }
        }
    }
    err.to_owned()
}

/// How serde describes a value in an "invalid type" message.
fn describe(v: &Value) -> Option<String> {
    Some(match v {
        Value::Str(s) => format!("string {s:?}"),
        Value::Int(i) => format!("integer `{i}`"),
        Value::UInt(u) => format!("integer `{u}`"),
        Value::Float(f) => format!("floating point `{f}`"),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Nil => "unit value".to_owned(),
        Value::Array(_) => "sequence".to_owned(),
        Value::Map(_) => "map".to_owned(),
        _ => return None,
    })
}

impl Deref for Params {
    type Target = BTreeMap<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Params {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Params {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Params(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl IntoIterator for Params {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

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
    /// Methods beyond the API that a scenario may call (`sim.my_method(...)`). The runtime adds
    /// the exposed methods of the service given to
    /// [`Runner::extra_methods`](crate::Runner::extra_methods).
    #[serde(default)]
    pub extra_methods: Vec<String>,
    /// Entries this type does not know, kept and sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Meta {
    /// A meta of the given type with API version [`API_VERSION`] and no models yet.
    pub fn new(sim_type: SimType) -> Self {
        Meta {
            api_version: API_VERSION.to_owned(),
            sim_type,
            models: BTreeMap::new(),
            extra_methods: Vec::new(),
            extra: Extra::new(),
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
    /// Entries this type does not know, kept and sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
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
    /// Entries this type does not know, kept and sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
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
            extra: Extra::new(),
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

/// What `get_related_entities` says of an entity: its model and its simulator (mosaik's entity
/// graph node data, `{"sid": ..., "type": ...}`), and anything else mosaik puts there.
///
/// ```
/// use rpc_mosaik::EntitySpec;
/// let spec: EntitySpec = serde_json::from_str(r#"{"sid": "Grid-0", "type": "Bus", "v": 1}"#).unwrap();
/// assert_eq!((spec.sid.as_deref(), spec.model.as_str()), (Some("Grid-0"), "Bus"));
/// assert_eq!(serde_json::to_string(&spec).unwrap(), r#"{"sid":"Grid-0","type":"Bus","v":1}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntitySpec {
    /// The entity's simulator (sent by mosaik 3.6 and 3.7; `None` from one that does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<SimId>,
    /// The entity's model.
    #[serde(rename = "type")]
    pub model: ModelName,
    /// Entries this type does not know, kept and sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The whole entity graph of a scenario (mosaik's `EntityGraph`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntityGraph {
    /// Every entity, by full id.
    pub nodes: BTreeMap<FullId, EntitySpec>,
    /// Related pairs, each with a (usually empty) map of edge data.
    pub edges: Vec<(FullId, FullId, BTreeMap<String, Value>)>,
    /// Entries this type does not know, kept and sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Data sent to other simulators with `set_data`: source full id → destination full id →
/// attribute → value.
pub type SetData = BTreeMap<FullId, BTreeMap<FullId, BTreeMap<Attr, Value>>>;

/// The sum of the numeric inputs of `attr` of `eid`, as `T` (`f64`, `i64`, ...: an integer
/// counter's inputs stay integers); `None` when it has none.
///
/// ```
/// use rpc_mosaik::{sum_inputs, InputData};
/// let mut inputs = InputData::new();
/// inputs.insert("C_0", "in", "K-0.K_0", 100);
/// inputs.insert("C_0", "in", "K-0.K_1", 5);
/// assert_eq!(sum_inputs::<i64>(&inputs, "C_0", "in"), Some(105));
/// assert_eq!(sum_inputs::<f64>(&inputs, "C_0", "in"), Some(105.0));
/// assert_eq!(sum_inputs::<i64>(&inputs, "C_1", "in"), None);
/// ```
pub fn sum_inputs<T: InputNumber>(inputs: &InputData, eid: &str, attr: &str) -> Option<T> {
    inputs.sum(eid, attr)
}
