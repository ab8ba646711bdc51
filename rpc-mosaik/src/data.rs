//! The per-step data: [`InputData`] (what `step` gets), [`OutputRequest`] (what `get_data` is
//! asked) and [`OutputData`] (what it answers), compact and decoded or encoded straight from
//! and into mosaik's JSON.
//!
//! Python keeps a step's inputs as three levels of dicts, usually of one entry each; a
//! `BTreeMap` per level costs more still. Here all the names of one step live in one string
//! buffer, and each level is one flat vector of records that point into it:
//!
//! ```text
//! names:    "Counter_0inConst-0.C_0Counter_1inConst-0.C_0..."
//! entities: [(name, end of its attrs), ...]    12 bytes each
//! attrs:    [(name, end of its sources), ...]  12 bytes each
//! sources:  [(name, value), ...]               8 bytes + a Value each
//! ```
//!
//! A step's inputs are decoded with three vector pushes and one string copy per input (an
//! attribute or source name that repeats the previous one is kept once), and freed with four
//! deallocations, however many entities there are. Looking an entity up by id
//! builds a small hash index on first use.

use std::fmt;
use std::ops::{Add, Range};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rpc_core::Value;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::Time;

/// A name in a buffer of names: its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// A buffer of names, appended to and read by [`Span`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Names(String);

impl Names {
    fn push(&mut self, s: &str) -> Result<Span, TooLarge> {
        let start = u32::try_from(self.0.len()).map_err(|_| TooLarge)?;
        let len = u32::try_from(s.len()).map_err(|_| TooLarge)?;
        start.checked_add(len).ok_or(TooLarge)?;
        self.0.push_str(s);
        Ok(Span { start, len })
    }

    fn get(&self, span: Span) -> &str {
        &self.0[span.range()]
    }

    /// `new`, just pushed, or `prev` if it is the same name (which then keeps one copy): the
    /// attribute and the source of one entity's input are usually the previous entity's too.
    fn same_as(&mut self, new: Span, prev: Option<Span>) -> Span {
        match prev {
            Some(p) if self.0.as_bytes()[p.range()] == self.0.as_bytes()[new.range()] => {
                self.0.truncate(new.start as usize);
                p
            }
            _ => new,
        }
    }

    fn shrink(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// More than 4 GiB of names in one message.
#[derive(Debug)]
struct TooLarge;

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("more than 4 GiB of names in one step's data")
    }
}

fn len_u32<E: de::Error>(n: usize) -> Result<u32, E> {
    u32::try_from(n).map_err(|_| E::custom(TooLarge))
}

/// Decodes a string (borrowed or not) straight into a [`Names`] buffer.
struct NameSeed<'a>(&'a mut Names);

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = Span;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Span, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = Span;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Span, E> {
        self.0.push(s).map_err(E::custom)
    }
}

/// The sizes of the last message of a kind that was decoded: mosaik sends a simulator messages
/// of the same shape step after step, so the next one reserves that much at once (no growing,
/// no copying, no spare capacity kept with a step's inputs).
struct Shape([AtomicUsize; 4]);

impl Shape {
    const fn new() -> Self {
        Shape([
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ])
    }

    fn get(&self) -> [usize; 4] {
        [0, 1, 2, 3].map(|i| self.0[i].load(Ordering::Relaxed))
    }

    fn set(&self, sizes: [usize; 4]) {
        for (slot, n) in self.0.iter().zip(sizes) {
            slot.store(n, Ordering::Relaxed);
        }
    }
}

static INPUT_SHAPE: Shape = Shape::new();
static REQUEST_SHAPE: Shape = Shape::new();

/// The hash of a name, for [`NameIndex`] (8 bytes at a time; names are short).
fn hash(s: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 29)
}

const EMPTY: u32 = u32::MAX;

/// An open-addressing index from names to record numbers, at most half full. Each slot keeps
/// the record and 32 bits of its name's hash, so that a probe compares names only when the
/// hashes agree (8 bytes a slot).
#[derive(Debug, Clone, Default)]
struct NameIndex {
    /// (record, hash tag); `EMPTY` records are free.
    slots: Vec<(u32, u32)>,
    len: usize,
}

impl NameIndex {
    fn with_capacity(n: usize) -> Self {
        let slots = vec![(EMPTY, 0); (n * 2).next_power_of_two().max(8)];
        NameIndex { slots, len: 0 }
    }

    /// The record named `name`, or `None`; `name_of` gives each record's name.
    fn find<'a>(&self, name: &str, name_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let h = hash(name);
        let (mask, tag) = (self.slots.len() - 1, h as u32);
        let mut i = (h >> 32) as usize & mask;
        loop {
            match self.slots[i] {
                (EMPTY, _) => return None,
                (r, t) if t == tag && name_of(r).as_bytes() == name.as_bytes() => return Some(r),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The record named `name`; if there is none, `new` becomes it and `None` is returned. One
    /// hash either way.
    fn find_or_insert<'a>(
        &mut self,
        name: &str,
        new: u32,
        name_of: impl Fn(u32) -> &'a str,
    ) -> Option<u32> {
        if (self.len + 1) * 2 > self.slots.len() {
            let mut bigger = NameIndex::with_capacity(self.len + 1);
            let mask = bigger.slots.len() - 1;
            for &(old, tag) in self.slots.iter().filter(|s| s.0 != EMPTY) {
                let mut i = (hash(name_of(old)) >> 32) as usize & mask;
                while bigger.slots[i].0 != EMPTY {
                    i = (i + 1) & mask;
                }
                bigger.slots[i] = (old, tag);
            }
            bigger.len = self.len;
            *self = bigger;
        }
        let h = hash(name);
        let (mask, tag) = (self.slots.len() - 1, h as u32);
        let mut i = (h >> 32) as usize & mask;
        loop {
            match self.slots[i] {
                (EMPTY, _) => {
                    self.slots[i] = (new, tag);
                    self.len += 1;
                    return None;
                }
                (r, t) if t == tag && name_of(r).as_bytes() == name.as_bytes() => return Some(r),
                _ => i = (i + 1) & mask,
            }
        }
    }
}

/// A number that input values can be summed as: [`sum_inputs`](crate::sum_inputs) and the
/// `sum` methods of [`InputData`] keep an integer counter's inputs integers (105 stays 105,
/// not 105.0).
pub trait InputNumber: Copy + Add<Output = Self> {
    /// The value as this number, or `None` if it is not one (a float is not an integer; an
    /// integer is a float).
    fn from_value(v: &Value) -> Option<Self>;
}

macro_rules! input_int {
    ($($t:ty),*) => {$(
        impl InputNumber for $t {
            fn from_value(v: &Value) -> Option<Self> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    Value::UInt(u) => <$t>::try_from(*u).ok(),
                    Value::BigInt(b) => <$t>::try_from(*b).ok(),
                    Value::Bool(b) => Some(<$t>::from(*b)),
                    _ => None,
                }
            }
        }
    )*};
}
input_int!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize);

impl InputNumber for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            v => v.as_f64(),
        }
    }
}

impl InputNumber for f32 {
    fn from_value(v: &Value) -> Option<Self> {
        f64::from_value(v).map(|x| x as f32)
    }
}

fn sum_values<'a, T: InputNumber>(values: impl Iterator<Item = &'a Value>) -> Option<T> {
    values
        .filter_map(T::from_value)
        .fold(None, |acc, x| Some(acc.map_or(x, |a| a + x)))
}

#[derive(Debug, Clone, PartialEq)]
struct EntityRec {
    name: Span,
    /// One past its last attribute in `attrs`.
    end: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct AttrRec {
    name: Span,
    /// One past its last source in `sources`.
    end: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct SourceRec {
    name: Span,
    value: Value,
}

/// The inputs of one step: destination entity → attribute → source full id → value, in the
/// order mosaik sent them (mosaik-api-python's `inputs` dict).
///
/// ```
/// use rpc_mosaik::InputData;
/// let inputs: InputData = serde_json::from_str(
///     r#"{"C_0": {"in": {"Const-0.K_0": 2, "Const-0.K_1": 3}}, "C_1": {"in": {"Const-0.K_0": 2}}}"#,
/// ).unwrap();
/// assert_eq!(inputs.len(), 2);
/// assert_eq!(inputs.sum::<i64>("C_0", "in"), Some(5));
/// for entity in &inputs {
///     for attr in entity.attrs() {
///         for (src, value) in attr.sources() {
///             println!("{}.{} <- {src}: {value:?}", entity.eid(), attr.name());
///         }
///     }
/// }
/// let flat: Vec<_> = inputs.inputs().map(|i| (i.eid, i.attr, i.src)).collect();
/// assert_eq!(flat[2], ("C_1", "in", "Const-0.K_0"));
/// ```
#[derive(Default)]
pub struct InputData {
    names: Names,
    entities: Vec<EntityRec>,
    attrs: Vec<AttrRec>,
    sources: Vec<SourceRec>,
    index: OnceLock<NameIndex>,
}

impl Clone for InputData {
    fn clone(&self) -> Self {
        InputData {
            names: self.names.clone(),
            entities: self.entities.clone(),
            attrs: self.attrs.clone(),
            sources: self.sources.clone(),
            index: OnceLock::new(),
        }
    }
}

impl PartialEq for InputData {
    fn eq(&self, other: &Self) -> bool {
        self.inputs().eq(other.inputs())
    }
}

impl fmt::Debug for InputData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|e| (e.eid(), e)))
            .finish()
    }
}

/// One input of a step, as [`InputData::inputs`] yields them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input<'a> {
    /// The destination entity.
    pub eid: &'a str,
    /// Its attribute.
    pub attr: &'a str,
    /// The source's full id.
    pub src: &'a str,
    /// The value.
    pub value: &'a Value,
}

impl InputData {
    /// No inputs.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of destination entities.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether there are no inputs.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The bytes this value holds on the heap (names, records and values' own heap data not
    /// counted), for comparing with other representations.
    pub fn heap_bytes(&self) -> usize {
        self.names.0.capacity()
            + self.entities.capacity() * std::mem::size_of::<EntityRec>()
            + self.attrs.capacity() * std::mem::size_of::<AttrRec>()
            + self.sources.capacity() * std::mem::size_of::<SourceRec>()
            + self.index.get().map_or(0, |i| i.slots.capacity() * 8)
    }

    fn entity(&self, i: usize) -> EntityInputs<'_> {
        let start = if i == 0 { 0 } else { self.entities[i - 1].end };
        EntityInputs {
            data: self,
            i,
            start: start as usize,
            end: self.entities[i].end as usize,
        }
    }

    fn attr(&self, a: usize) -> AttrInputs<'_> {
        let start = if a == 0 { 0 } else { self.attrs[a - 1].end };
        AttrInputs {
            data: self,
            a,
            start: start as usize,
            end: self.attrs[a].end as usize,
        }
    }

    /// The destination entities with their inputs, in mosaik's order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EntityInputs<'_>> + '_ {
        (0..self.entities.len()).map(|i| self.entity(i))
    }

    /// The inputs of `eid` (the first entry, should mosaik send an entity twice). The first
    /// look-up builds an index (16 bytes per entity at most), so any number of look-ups cost one
    /// hash each.
    pub fn get(&self, eid: &str) -> Option<EntityInputs<'_>> {
        let index = self.index.get_or_init(|| {
            let mut index = NameIndex::with_capacity(self.entities.len());
            for (i, e) in self.entities.iter().enumerate() {
                let name = self.names.get(e.name);
                let name_of = |r: u32| self.names.get(self.entities[r as usize].name);
                // The first of an entity sent twice stays.
                let _ = index.find_or_insert(name, i as u32, name_of);
            }
            index
        });
        let i = index.find(eid, |r| self.names.get(self.entities[r as usize].name))?;
        Some(self.entity(i as usize))
    }

    /// Every input, flat, in mosaik's order.
    pub fn inputs(&self) -> impl Iterator<Item = Input<'_>> + '_ {
        self.iter().flat_map(|e| {
            e.attrs().flat_map(move |a| {
                a.sources().map(move |(src, value)| Input {
                    eid: e.eid(),
                    attr: a.name(),
                    src,
                    value,
                })
            })
        })
    }

    /// The sum of the numeric inputs of `attr` of `eid`, as `T`; `None` when it has none.
    pub fn sum<T: InputNumber>(&self, eid: &str, attr: &str) -> Option<T> {
        self.get(eid)?.sum(attr)
    }

    /// Adds an input (for building inputs in tests, or for a Rust program playing mosaik's
    /// part). An input already there for the same entity, attribute and source is replaced.
    pub fn insert(
        &mut self,
        eid: impl AsRef<str>,
        attr: impl AsRef<str>,
        src: impl AsRef<str>,
        value: impl Into<Value>,
    ) {
        let (eid, attr, src, value) = (eid.as_ref(), attr.as_ref(), src.as_ref(), value.into());
        self.index = OnceLock::new();
        let name = |names: &mut Names, s: &str| names.push(s).expect("less than 4 GiB of names");
        let found = self.iter().position(|e| e.eid() == eid);
        let e = match found {
            Some(e) => e,
            None => {
                let end = self.attrs.len() as u32;
                let span = name(&mut self.names, eid);
                self.entities.push(EntityRec { name: span, end });
                self.entities.len() - 1
            }
        };
        let ent = self.entity(e);
        let (ent_start, ent_end) = (ent.start, ent.end);
        let found = ent.attrs().position(|a| a.name() == attr);
        let a = match found {
            Some(a) => ent_start + a,
            None => {
                let at = ent_end;
                let src_end = if at == 0 { 0 } else { self.attrs[at - 1].end };
                let span = name(&mut self.names, attr);
                self.attrs.insert(
                    at,
                    AttrRec {
                        name: span,
                        end: src_end,
                    },
                );
                for later in &mut self.entities[e..] {
                    later.end += 1;
                }
                at
            }
        };
        let start = if a == 0 { 0 } else { self.attrs[a - 1].end } as usize;
        let end = self.attrs[a].end as usize;
        if let Some(s) = self.sources[start..end]
            .iter_mut()
            .find(|s| self.names.0[s.name.range()] == *src)
        {
            s.value = value;
            return;
        }
        let span = name(&mut self.names, src);
        self.sources.insert(end, SourceRec { name: span, value });
        for later in &mut self.attrs[a..] {
            later.end += 1;
        }
    }
}

impl<'a> IntoIterator for &'a InputData {
    type Item = EntityInputs<'a>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = EntityInputs<'a>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The inputs of one entity: attribute → source → value.
#[derive(Clone, Copy)]
pub struct EntityInputs<'a> {
    data: &'a InputData,
    i: usize,
    start: usize,
    end: usize,
}

impl fmt::Debug for EntityInputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.attrs().map(|a| (a.name(), a)))
            .finish()
    }
}

impl<'a> EntityInputs<'a> {
    /// The entity's id.
    pub fn eid(&self) -> &'a str {
        self.data.names.get(self.data.entities[self.i].name)
    }

    /// Its attributes with their inputs.
    pub fn attrs(&self) -> impl ExactSizeIterator<Item = AttrInputs<'a>> + 'a {
        let data = self.data;
        (self.start..self.end).map(move |a| data.attr(a))
    }

    /// The inputs of `attr`.
    pub fn get(&self, attr: &str) -> Option<AttrInputs<'a>> {
        self.attrs().find(|a| a.name() == attr)
    }

    /// The sum of the numeric inputs of `attr`, as `T`; `None` when it has none.
    pub fn sum<T: InputNumber>(&self, attr: &str) -> Option<T> {
        self.get(attr)?.sum()
    }
}

/// The inputs of one attribute of one entity: source full id → value.
#[derive(Clone, Copy)]
pub struct AttrInputs<'a> {
    data: &'a InputData,
    a: usize,
    start: usize,
    end: usize,
}

impl fmt::Debug for AttrInputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.sources()).finish()
    }
}

impl<'a> AttrInputs<'a> {
    /// The attribute's name.
    pub fn name(&self) -> &'a str {
        self.data.names.get(self.data.attrs[self.a].name)
    }

    /// The number of sources.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it has no sources.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Each source's full id and value.
    pub fn sources(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a Value)> + 'a {
        let data = self.data;
        data.sources[self.start..self.end]
            .iter()
            .map(move |s| (data.names.get(s.name), &s.value))
    }

    /// The values, without their sources.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &'a Value> + 'a {
        self.data.sources[self.start..self.end]
            .iter()
            .map(|s| &s.value)
    }

    /// The value from `src`.
    pub fn get(&self, src: &str) -> Option<&'a Value> {
        self.sources().find(|(s, _)| *s == src).map(|(_, v)| v)
    }

    /// The sum of the numeric values as `T`; `None` when none is a `T`.
    pub fn sum<T: InputNumber>(&self) -> Option<T> {
        sum_values(self.values())
    }
}

impl Serialize for InputData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for e in self.iter() {
            m.serialize_entry(e.eid(), &EntitySer(&e))?;
        }
        m.end()
    }
}

struct EntitySer<'a, 'b>(&'b EntityInputs<'a>);

impl Serialize for EntitySer<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.end - self.0.start))?;
        for a in self.0.attrs() {
            m.serialize_entry(a.name(), &AttrSer(&a))?;
        }
        m.end()
    }
}

struct AttrSer<'a, 'b>(&'b AttrInputs<'a>);

impl Serialize for AttrSer<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.sources())
    }
}

impl<'de> Deserialize<'de> for InputData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = InputData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("mosaik's inputs: a map of entity ids to maps of attributes to maps of sources to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InputData, A::Error> {
                let mut data = InputData::new();
                let n = map.size_hint().unwrap_or(0);
                let [entities, attrs, sources, names] = INPUT_SHAPE.get();
                data.entities.reserve(n.max(entities));
                data.attrs.reserve(n.max(attrs));
                data.sources.reserve(n.max(sources));
                data.names.0.reserve(names);
                while let Some(name) = map.next_key_seed(NameSeed(&mut data.names))? {
                    map.next_value_seed(AttrsSeed(&mut data))?;
                    let end = len_u32(data.attrs.len())?;
                    data.entities.push(EntityRec { name, end });
                }
                INPUT_SHAPE.set([
                    data.entities.len(),
                    data.attrs.len(),
                    data.sources.len(),
                    data.names.0.len(),
                ]);
                data.entities.shrink_to_fit();
                data.attrs.shrink_to_fit();
                data.sources.shrink_to_fit();
                data.names.shrink();
                Ok(data)
            }
        }
        d.deserialize_map(Top)
    }
}

/// An entity's attributes, appended to an [`InputData`].
struct AttrsSeed<'a>(&'a mut InputData);

impl<'de> DeserializeSeed<'de> for AttrsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AttrsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of attributes to maps of sources to values")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let data = self.0;
        while let Some(name) = map.next_key_seed(NameSeed(&mut data.names))? {
            let name = data.names.same_as(name, data.attrs.last().map(|a| a.name));
            map.next_value_seed(SourcesSeed(data))?;
            let end = len_u32(data.sources.len())?;
            data.attrs.push(AttrRec { name, end });
        }
        Ok(())
    }
}

/// An attribute's sources, appended to an [`InputData`].
struct SourcesSeed<'a>(&'a mut InputData);

impl<'de> DeserializeSeed<'de> for SourcesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SourcesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of source full ids to values")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let data = self.0;
        while let Some(name) = map.next_key_seed(NameSeed(&mut data.names))? {
            let name = data
                .names
                .same_as(name, data.sources.last().map(|s| s.name));
            let value = map.next_value()?;
            data.sources.push(SourceRec { name, value });
        }
        Ok(())
    }
}

/// The outputs mosaik asks for in `get_data`: entity → attribute names, in mosaik's order.
///
/// ```
/// use rpc_mosaik::OutputRequest;
/// let req: OutputRequest = serde_json::from_str(r#"{"C_0": ["n", "m"], "C_1": ["n"]}"#).unwrap();
/// let asked: Vec<(&str, Vec<&str>)> = req.iter().map(|(eid, attrs)| (eid, attrs.collect())).collect();
/// assert_eq!(asked, [("C_0", vec!["n", "m"]), ("C_1", vec!["n"])]);
/// assert_eq!(req, OutputRequest::from_iter([("C_0", ["n", "m"].as_slice()), ("C_1", &["n"])]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputRequest {
    names: Names,
    /// Each entity's name and one past its last attribute in `attrs`.
    entities: Vec<(Span, u32)>,
    attrs: Vec<Span>,
}

impl OutputRequest {
    /// Asks for nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of entities asked about.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether nothing is asked for.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The total number of attributes asked for.
    pub fn attr_count(&self) -> usize {
        self.attrs.len()
    }

    /// Each entity with the names of its attributes asked for.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (&str, impl ExactSizeIterator<Item = &str> + Clone + '_)> + '_
    {
        (0..self.entities.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.entities[i - 1].1 };
            let (name, end) = self.entities[i];
            let attrs = self.attrs[start as usize..end as usize]
                .iter()
                .map(move |&a| self.names.get(a));
            (self.names.get(name), attrs)
        })
    }

    /// Adds an entity and its attributes (for a Rust program playing mosaik's part).
    pub fn push<I>(&mut self, eid: &str, attrs: I)
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let name = self.names.push(eid).expect("less than 4 GiB of names");
        for a in attrs {
            let span = self
                .names
                .push(a.as_ref())
                .expect("less than 4 GiB of names");
            self.attrs.push(span);
        }
        self.entities.push((name, self.attrs.len() as u32));
    }
}

impl<K: AsRef<str>, I> FromIterator<(K, I)> for OutputRequest
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    fn from_iter<T: IntoIterator<Item = (K, I)>>(iter: T) -> Self {
        let mut req = OutputRequest::new();
        for (eid, attrs) in iter {
            req.push(eid.as_ref(), attrs);
        }
        req
    }
}

impl Serialize for OutputRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Attrs<I>(I);
        impl<'a, I: Iterator<Item = &'a str> + ExactSizeIterator + Clone> Serialize for Attrs<I> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for a in self.0.clone() {
                    seq.serialize_element(a)?;
                }
                seq.end()
            }
        }
        let mut m = s.serialize_map(Some(self.len()))?;
        for (eid, attrs) in self.iter() {
            m.serialize_entry(eid, &Attrs(attrs))?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for OutputRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = OutputRequest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "mosaik's output request: a map of entity ids to lists of attribute names",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OutputRequest, A::Error> {
                let mut req = OutputRequest::new();
                let n = map.size_hint().unwrap_or(0);
                let [entities, attrs, names, _] = REQUEST_SHAPE.get();
                req.entities.reserve(n.max(entities));
                req.attrs.reserve(n.max(attrs));
                req.names.0.reserve(names);
                while let Some(name) = map.next_key_seed(NameSeed(&mut req.names))? {
                    map.next_value_seed(AttrList(&mut req))?;
                    let end = len_u32(req.attrs.len())?;
                    req.entities.push((name, end));
                }
                REQUEST_SHAPE.set([req.entities.len(), req.attrs.len(), req.names.0.len(), 0]);
                Ok(req)
            }
        }
        struct AttrList<'a>(&'a mut OutputRequest);
        impl<'de> DeserializeSeed<'de> for AttrList<'_> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for AttrList<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of attribute names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let req = self.0;
                while let Some(span) = seq.next_element_seed(NameSeed(&mut req.names))? {
                    req.attrs.push(span);
                }
                Ok(())
            }
        }
        d.deserialize_map(Top)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct OutEntry {
    entity: u32,
    attr: Span,
    value: Value,
}

/// What `get_data` returns: entity → attribute → value, and for event-based and hybrid
/// simulators optionally the `time` of the (non-persistent) outputs. Encoded straight into
/// mosaik's JSON, entities in the order they were first inserted.
///
/// ```
/// use rpc_mosaik::OutputData;
/// let mut out = OutputData::new();
/// out.insert("Model_0", "val", 42);
/// out.insert("Model_0", "delta", 0.5);
/// out.time = Some(3);
/// assert_eq!(serde_json::to_string(&out).unwrap(), r#"{"Model_0":{"val":42,"delta":0.5},"time":3}"#);
/// assert_eq!(out.get("Model_0", "val").and_then(|v| v.as_i64()), Some(42));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OutputData {
    names: Names,
    entities: Vec<Span>,
    entries: Vec<OutEntry>,
    index: NameIndex,
    /// Whether each entity's entries are contiguous (so they encode in one pass).
    scattered: bool,
    /// The output time, for event-based and hybrid simulators (default: the step's time).
    pub time: Option<Time>,
}

impl PartialEq for OutputData {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.iter().eq(other.iter())
    }
}

impl OutputData {
    /// No outputs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `entities` entities with one attribute each.
    pub fn with_capacity(entities: usize) -> Self {
        OutputData {
            names: Names(String::with_capacity(entities * 24)),
            entities: Vec::with_capacity(entities),
            entries: Vec::with_capacity(entities),
            index: NameIndex::with_capacity(entities),
            ..Self::default()
        }
    }

    /// The number of entities with outputs.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether there are no outputs.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Sets the value of `attr` of `eid` (replacing the value set before, if any).
    pub fn insert(&mut self, eid: impl AsRef<str>, attr: impl AsRef<str>, value: impl Into<Value>) {
        let (eid, attr, value) = (eid.as_ref(), attr.as_ref(), value.into());
        let last = self.entries.last().map(|e| e.entity);
        let entity = match last {
            Some(l) if self.names.get(self.entities[l as usize]) == eid => l,
            _ => {
                let (names, entities) = (&self.names, &self.entities);
                let new = entities.len() as u32;
                match self
                    .index
                    .find_or_insert(eid, new, |r| names.get(entities[r as usize]))
                {
                    Some(e) => {
                        self.scattered = true;
                        e
                    }
                    None => {
                        let span = self.names.push(eid).expect("less than 4 GiB of names");
                        self.entities.push(span);
                        new
                    }
                }
            }
        };
        let names = &self.names;
        let old = self
            .entries
            .iter_mut()
            .rev()
            .take_while(|e| self.scattered || e.entity == entity)
            .find(|e| e.entity == entity && names.get(e.attr) == attr);
        if let Some(old) = old {
            old.value = value;
            return;
        }
        let attr = self.names.push(attr).expect("less than 4 GiB of names");
        self.entries.push(OutEntry {
            entity,
            attr,
            value,
        });
    }

    /// The value of `attr` of `eid`.
    pub fn get(&self, eid: &str, attr: &str) -> Option<&Value> {
        let e = self
            .index
            .find(eid, |r| self.names.get(self.entities[r as usize]))?;
        self.entries
            .iter()
            .find(|x| x.entity == e && self.names.get(x.attr) == attr)
            .map(|x| &x.value)
    }

    /// Every output: entity, attribute and value, grouped by entity in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Value)> + '_ {
        self.ordered().into_iter().map(move |x| {
            (
                self.names.get(self.entities[x.entity as usize]),
                self.names.get(x.attr),
                &x.value,
            )
        })
    }

    /// The entries grouped by entity.
    fn ordered(&self) -> Vec<&OutEntry> {
        let mut v: Vec<&OutEntry> = self.entries.iter().collect();
        if self.scattered {
            v.sort_by_key(|x| x.entity);
        }
        v
    }
}

impl Serialize for OutputData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Group<'a>(&'a Names, &'a [&'a OutEntry]);
        impl Serialize for Group<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.1.len()))?;
                for x in self.1 {
                    m.serialize_entry(self.0.get(x.attr), &x.value)?;
                }
                m.end()
            }
        }
        struct Contiguous<'a>(&'a Names, &'a [OutEntry]);
        impl Serialize for Contiguous<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.1.len()))?;
                for x in self.1 {
                    m.serialize_entry(self.0.get(x.attr), &x.value)?;
                }
                m.end()
            }
        }
        let extra = usize::from(self.time.is_some());
        let mut m = s.serialize_map(Some(self.entities.len() + extra))?;
        if self.scattered {
            let ordered = self.ordered();
            for group in ordered.chunk_by(|a, b| a.entity == b.entity) {
                let eid = self.names.get(self.entities[group[0].entity as usize]);
                m.serialize_entry(eid, &Group(&self.names, group))?;
            }
        } else {
            for group in self.entries.chunk_by(|a, b| a.entity == b.entity) {
                let eid = self.names.get(self.entities[group[0].entity as usize]);
                m.serialize_entry(eid, &Contiguous(&self.names, group))?;
            }
        }
        if let Some(t) = self.time {
            m.serialize_entry("time", &t)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for OutputData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = OutputData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("mosaik's output data: a map of entity ids to maps of attributes to values, and an optional \"time\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OutputData, A::Error> {
                let mut out = OutputData::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(eid) = map.next_key::<String>()? {
                    if eid == "time" {
                        out.time = map.next_value()?;
                        continue;
                    }
                    let attrs: Vec<(String, Value)> = map.next_value::<OrderedMap>()?.0;
                    for (attr, value) in attrs {
                        out.insert(&eid, attr, value);
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Top)
    }
}

/// A map decoded in its wire order.
struct OrderedMap(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of attributes to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = map.next_entry()? {
                    v.push(e);
                }
                Ok(OrderedMap(v))
            }
        }
        d.deserialize_map(V)
    }
}
