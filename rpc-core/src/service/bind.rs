//! Arguments to parameters: a [`Signature`] says what a function takes, and [`bind`] matches a
//! call's arguments to it as Python does, positional first, then by keyword.

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;

use crate::channel::Channel;
use crate::error::CallError;
use crate::wire::codec::RawCall;
use crate::wire::inline::InlineVec;
use crate::wire::CodecError;

/// The parameters of an exposed function, as the wire sees them.
#[derive(Debug)]
pub struct Signature {
    /// The function's wire name (for errors: `add() missing ...`).
    pub name: &'static str,
    /// The named parameters, in order.
    pub params: &'static [Param],
    /// Whether surplus positional arguments are collected (`*args`).
    pub rest_args: bool,
    /// Whether surplus keyword arguments are collected (`**kwargs`).
    pub rest_kwargs: bool,
}

/// One named parameter.
#[derive(Debug)]
pub struct Param {
    /// Its name, which is also its keyword.
    pub name: &'static str,
    /// Whether it may be left out (an `Option<T>`).
    pub optional: bool,
}

/// Arguments matched to a [`Signature`], each still encoded.
#[derive(Debug)]
pub struct Bound<'a> {
    sig: &'static Signature,
    channel: &'a Channel,
    slots: Slots<'a>,
    rest_args: Vec<&'a [u8]>,
    rest_kwargs: Vec<(Cow<'a, str>, &'a [u8])>,
}

/// Where each parameter's argument is.
#[derive(Debug)]
enum Slots<'a> {
    /// Every parameter given by position, in order, and nothing else (the usual call): the
    /// arguments as they were cut, no matching needed.
    Positional(&'a [&'a [u8]]),
    /// Matched by position and keyword; `None` for a parameter left out.
    Matched(InlineVec<Option<&'a [u8]>>),
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Python's words for surplus positional arguments: `add() takes 2 positional arguments but 3
/// were given`, or `mul() takes from 1 to 2 ...` when the last parameters may be left out.
fn too_many(sig: &Signature, given: usize) -> CallError {
    let n = sig.params.len();
    // Python's least: the parameters up to the last one without a default.
    let least = sig
        .params
        .iter()
        .rposition(|p| !p.optional)
        .map_or(0, |i| i + 1);
    let takes = if least < n {
        format!("from {least} to {n} positional arguments")
    } else {
        plural(n, "positional argument")
    };
    let given = if given == 1 {
        "1 was".to_owned()
    } else {
        format!("{given} were")
    };
    CallError::type_error(format!("{}() takes {takes} but {given} given", sig.name))
}

pub(crate) fn bind<'a>(
    sig: &'static Signature,
    raw: &'a RawCall<'a>,
    channel: &'a Channel,
) -> Result<Bound<'a>, CallError> {
    let n = sig.params.len();
    if raw.kwargs.is_empty() && raw.args.len() == n {
        return Ok(Bound {
            sig,
            channel,
            slots: Slots::Positional(&raw.args[..]),
            rest_args: Vec::new(),
            rest_kwargs: Vec::new(),
        });
    }
    let mut slots: InlineVec<Option<&'a [u8]>> = InlineVec::filled(None, n);
    let mut rest_args = Vec::new();
    let name = sig.name;
    for (i, arg) in raw.args.iter().enumerate() {
        if i < n {
            slots[i] = Some(*arg);
        } else if sig.rest_args {
            rest_args.push(*arg);
        }
    }
    let mut rest_kwargs = Vec::new();
    for (key, value) in &raw.kwargs {
        match sig.params.iter().position(|p| p.name == key.as_ref()) {
            Some(i) if slots[i].is_some() => {
                return Err(CallError::type_error(format!(
                    "{name}() got multiple values for argument '{key}'"
                )))
            }
            Some(i) => slots[i] = Some(value),
            None if sig.rest_kwargs => {
                if rest_kwargs
                    .iter()
                    .any(|(k, _): &(Cow<'_, str>, _)| k == key)
                {
                    return Err(CallError::type_error(format!(
                        "{name}() got multiple values for keyword argument '{key}'"
                    )));
                }
                rest_kwargs.push((key.clone(), *value));
            }
            None => {
                return Err(CallError::type_error(format!(
                    "{name}() got an unexpected keyword argument '{key}'"
                )))
            }
        }
    }
    // Counted after the keywords, as Python does: `add(1, 2, 3, a=1)` is about `a`.
    if raw.args.len() > n && !sig.rest_args {
        return Err(too_many(sig, raw.args.len()));
    }
    let is_missing = |(p, s): &(&Param, &Option<&[u8]>)| !p.optional && s.is_none();
    if sig
        .params
        .iter()
        .zip(slots.iter())
        .any(|ps| is_missing(&ps))
    {
        let missing: Vec<&str> = sig
            .params
            .iter()
            .zip(slots.iter())
            .filter(is_missing)
            .map(|(p, _)| p.name)
            .collect();
        let names: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
        let list = match names.len() {
            1 => names[0].clone(),
            2 => format!("{} and {}", names[0], names[1]),
            k => format!("{}, and {}", names[..k - 1].join(", "), names[k - 1]),
        };
        return Err(CallError::type_error(format!(
            "{name}() missing {} required {}: {list}",
            missing.len(),
            // Python's words, for parameters that can be given by position or by keyword.
            if missing.len() == 1 {
                "positional argument"
            } else {
                "positional arguments"
            }
        )));
    }
    Ok(Bound {
        sig,
        channel,
        slots: Slots::Matched(slots),
        rest_args,
        rest_kwargs,
    })
}

impl<'a> Bound<'a> {
    fn decode_as<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
        what: &dyn fmt::Display,
    ) -> Result<T, CallError> {
        // A `Bound` lives only while the reader dispatches its request, which it does in the
        // channel's scope with the request's frame set: an argument cut from the frame is
        // decoded as part of it (so that a `Blob` shares it) without entering either again.
        self.channel.codec().decode_slice::<T>(bytes).map_err(|e| {
            CallError::type_error(format!(
                "{}() argument {what}: {}",
                self.sig.name,
                describe(e)
            ))
        })
    }

    /// Decodes the parameter at `index`. A parameter left out decodes from nil (so `Option<T>`
    /// gives `None`).
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, CallError> {
        let name = self.sig.params[index].name;
        let slot = match &self.slots {
            Slots::Positional(args) => Some(args[index]),
            Slots::Matched(slots) => slots[index],
        };
        match slot {
            Some(bytes) => self.decode_as(bytes, &format_args!("'{name}'")),
            None => self.decode_as(self.channel.codec().nil(), &format_args!("'{name}'")),
        }
    }

    /// Decodes the surplus positional arguments as one array (`*args`) into `T`.
    pub fn rest_args<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        let joined = self.channel.codec().join_array(&self.rest_args);
        self.decode_as(&joined, &"*args")
    }

    /// Decodes the surplus keyword arguments as one map (`**kwargs`) into `T`.
    pub fn rest_kwargs<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        let joined = self.channel.codec().join_map(&self.rest_kwargs);
        self.decode_as(&joined, &"**kwargs")
    }
}

/// The words of a decoding error, without the "cannot decode: " that every one of them has.
pub(crate) fn describe(e: CodecError) -> String {
    match e {
        CodecError::Decode(m) | CodecError::Encode(m) => m,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    //! Binding against fixed signatures, in both codecs. Each error's words are Python 3.11's
    //! for a plain function of the same parameters (what aiomas sends back for a
    //! `ServiceDict` function): `add(a, b)`, `mul(a, b=None)`, `none()`, `three(a, b, c)`,
    //! `star(a, *args, **kwargs)`. A method's own text in Python names its class and counts
    //! `self` (`Root.add() takes 3 positional arguments but 4 were given`); the wire name and
    //! the parameters the caller gives are what a caller can act on, so those are used.

    use std::collections::BTreeMap;

    use bytes::Bytes;
    use serde::de::DeserializeOwned;

    use super::{bind, Param, Signature};
    use crate::channel::Channel;
    use crate::wire::codec::{Codec, MessageKind};
    use crate::wire::Value;

    const fn param(name: &'static str, optional: bool) -> Param {
        Param { name, optional }
    }

    const fn sig(name: &'static str, params: &'static [Param], rest: bool) -> Signature {
        Signature {
            name,
            params,
            rest_args: rest,
            rest_kwargs: rest,
        }
    }

    static ADD: Signature = sig("add", &[param("a", false), param("b", false)], false);
    static MUL: Signature = sig("mul", &[param("a", false), param("b", true)], false);
    static NONE: Signature = sig("none", &[], false);
    static THREE: Signature = sig(
        "three",
        &[param("a", false), param("b", false), param("c", false)],
        false,
    );
    static STAR: Signature = sig("star", &[param("a", false)], true);
    static OPT: Signature = sig("opt", &[param("a", true)], false);

    /// What a call bound to: each parameter (`None` when left out, as an `Option`), and the
    /// surplus.
    #[derive(Debug, PartialEq)]
    struct Got<T = Option<i64>> {
        params: Vec<T>,
        rest_args: Vec<i64>,
        rest_kwargs: BTreeMap<String, i64>,
    }

    fn got(params: &[Option<i64>]) -> Got {
        Got {
            params: params.to_vec(),
            rest_args: Vec::new(),
            rest_kwargs: BTreeMap::new(),
        }
    }

    /// Binds `args` and `kwargs` to `sig` as a request of `codec` would bring them, and
    /// decodes every parameter as a `T`; the error as `kind: message`.
    fn bind_in<T: DeserializeOwned>(
        codec: &Codec,
        sig: &'static Signature,
        args: &[Value],
        kwargs: &[(&str, Value)],
    ) -> Result<Got<T>, String> {
        let kwargs = Value::Map(
            kwargs
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        );
        let frame = Bytes::from(
            codec
                .encode_message(MessageKind::Request, 1, &(sig.name, args, kwargs))
                .unwrap(),
        );
        let msg = codec.parse_message(&frame).unwrap();
        let raw = codec.split_request(&frame, msg.content).unwrap();
        // The channel only lends its codec scope; its peer end stays open meanwhile.
        let (ours, _theirs) = tokio::io::duplex(64);
        let channel = Channel::builder().codec(codec.clone()).open(ours);
        let shown = |e: crate::error::CallError| format!("{}: {}", e.kind(), e.message());
        // A `Bound` decodes in the scope the reader entered for its batch: entered here.
        channel.enter_scope(|| {
            let bound = bind(sig, &raw, &channel).map_err(shown)?;
            let params = (0..sig.params.len())
                .map(|i| bound.arg::<T>(i))
                .collect::<Result<_, _>>()
                .map_err(shown)?;
            let (rest_args, rest_kwargs) = if sig.rest_args {
                (
                    bound.rest_args().map_err(shown)?,
                    bound.rest_kwargs().map_err(shown)?,
                )
            } else {
                Default::default()
            };
            Ok(Got {
                params,
                rest_args,
                rest_kwargs,
            })
        })
    }

    /// [`bind_in`] with MsgPack and with JSON, which must agree.
    fn call(sig: &'static Signature, args: &[i64], kwargs: &[(&str, i64)]) -> Result<Got, String> {
        let args: Vec<Value> = args.iter().map(|&a| Value::from(a)).collect();
        let kwargs: Vec<(&str, Value)> = kwargs.iter().map(|&(k, v)| (k, Value::from(v))).collect();
        let msgpack = bind_in(&Codec::msgpack(), sig, &args, &kwargs);
        let json = bind_in(&Codec::json(), sig, &args, &kwargs);
        assert_eq!(msgpack, json, "the codecs disagree");
        msgpack
    }

    fn type_error(message: &str) -> Result<Got, String> {
        Err(format!("TypeError: {message}"))
    }

    #[tokio::test]
    async fn positional_arguments_bind_in_order() {
        assert_eq!(call(&ADD, &[1, 2], &[]), Ok(got(&[Some(1), Some(2)])));
        assert_eq!(call(&NONE, &[], &[]), Ok(got(&[])));
    }

    #[tokio::test]
    async fn keyword_arguments_bind_by_name_in_any_order() {
        assert_eq!(
            call(&ADD, &[], &[("b", 2), ("a", 1)]),
            Ok(got(&[Some(1), Some(2)]))
        );
    }

    #[tokio::test]
    async fn positional_then_keyword() {
        assert_eq!(call(&ADD, &[1], &[("b", 2)]), Ok(got(&[Some(1), Some(2)])));
        assert_eq!(
            call(&THREE, &[1], &[("c", 3), ("b", 2)]),
            Ok(got(&[Some(1), Some(2), Some(3)]))
        );
    }

    #[tokio::test]
    async fn an_optional_parameter_left_out_is_none() {
        assert_eq!(call(&MUL, &[3], &[]), Ok(got(&[Some(3), None])));
        assert_eq!(call(&MUL, &[3, 4], &[]), Ok(got(&[Some(3), Some(4)])));
        assert_eq!(call(&MUL, &[], &[("a", 3)]), Ok(got(&[Some(3), None])));
        assert_eq!(call(&MUL, &[3], &[("b", 5)]), Ok(got(&[Some(3), Some(5)])));
    }

    #[tokio::test]
    async fn surplus_arguments_go_to_args_and_kwargs() {
        assert_eq!(
            call(&STAR, &[1, 2, 3], &[("x", 4), ("y", 5)]),
            Ok(Got {
                params: vec![Some(1)],
                rest_args: vec![2, 3],
                rest_kwargs: [("x".to_owned(), 4), ("y".to_owned(), 5)].into(),
            })
        );
        assert_eq!(call(&STAR, &[], &[("a", 1)]), Ok(got(&[Some(1)])));
    }

    #[tokio::test]
    async fn too_many_positional_arguments() {
        assert_eq!(
            call(&ADD, &[1, 2, 3], &[]),
            type_error("add() takes 2 positional arguments but 3 were given")
        );
        assert_eq!(
            call(&NONE, &[1], &[]),
            type_error("none() takes 0 positional arguments but 1 was given")
        );
        assert_eq!(
            call(&NONE, &[1, 2], &[]),
            type_error("none() takes 0 positional arguments but 2 were given")
        );
    }

    #[tokio::test]
    async fn too_many_positional_arguments_where_some_may_be_left_out() {
        // Python counts the parameters with defaults: `mul(a, b=None)` takes 1 to 2.
        assert_eq!(
            call(&MUL, &[1, 2, 3], &[]),
            type_error("mul() takes from 1 to 2 positional arguments but 3 were given")
        );
        assert_eq!(
            call(&OPT, &[1, 2], &[]),
            type_error("opt() takes from 0 to 1 positional arguments but 2 were given")
        );
    }

    #[tokio::test]
    async fn keywords_are_checked_before_the_count_of_positional_arguments() {
        // Python binds the keywords before it counts: `add(1, 2, 3, a=1)` is about `a`.
        assert_eq!(
            call(&ADD, &[1, 2, 3], &[("a", 1)]),
            type_error("add() got multiple values for argument 'a'")
        );
        assert_eq!(
            call(&ADD, &[1, 2, 3, 4], &[("x", 1)]),
            type_error("add() got an unexpected keyword argument 'x'")
        );
    }

    #[tokio::test]
    async fn missing_arguments_are_named_as_python_lists_them() {
        assert_eq!(
            call(&ADD, &[1], &[]),
            type_error("add() missing 1 required positional argument: 'b'")
        );
        assert_eq!(
            call(&ADD, &[], &[("b", 1)]),
            type_error("add() missing 1 required positional argument: 'a'")
        );
        assert_eq!(
            call(&ADD, &[], &[]),
            type_error("add() missing 2 required positional arguments: 'a' and 'b'")
        );
        assert_eq!(
            call(&THREE, &[], &[]),
            type_error("three() missing 3 required positional arguments: 'a', 'b', and 'c'")
        );
        assert_eq!(
            call(&THREE, &[], &[("b", 1)]),
            type_error("three() missing 2 required positional arguments: 'a' and 'c'")
        );
        assert_eq!(
            call(&MUL, &[], &[]),
            type_error("mul() missing 1 required positional argument: 'a'")
        );
        assert_eq!(
            call(&STAR, &[], &[]),
            type_error("star() missing 1 required positional argument: 'a'")
        );
    }

    #[tokio::test]
    async fn an_unknown_keyword_is_named() {
        assert_eq!(
            call(&ADD, &[1, 2], &[("c", 3)]),
            type_error("add() got an unexpected keyword argument 'c'")
        );
        assert_eq!(
            call(&MUL, &[1], &[("b", 2), ("c", 3)]),
            type_error("mul() got an unexpected keyword argument 'c'")
        );
    }

    #[tokio::test]
    async fn an_argument_given_by_position_and_by_keyword() {
        assert_eq!(
            call(&ADD, &[1], &[("a", 2)]),
            type_error("add() got multiple values for argument 'a'")
        );
        assert_eq!(
            call(&ADD, &[1, 2], &[("a", 3)]),
            type_error("add() got multiple values for argument 'a'")
        );
        assert_eq!(
            call(&STAR, &[1], &[("a", 2)]),
            type_error("star() got multiple values for argument 'a'")
        );
    }

    #[tokio::test]
    async fn a_keyword_twice_in_the_map() {
        // Python's dict keeps one of them; a map on the wire may hold both, and which one
        // would win is the decoder's accident, so the call is refused. The words are
        // Python's for `f(**a, **b)` with a key in both.
        let codec = Codec::msgpack();
        let twice = [("a", Value::from(1)), ("a", Value::from(2))];
        assert_eq!(
            bind_in(&codec, &MUL, &[], &twice),
            type_error("mul() got multiple values for argument 'a'")
        );
        let twice = [("x", Value::from(1)), ("x", Value::from(2))];
        assert_eq!(
            bind_in(&codec, &STAR, &[Value::from(0)], &twice),
            type_error("star() got multiple values for keyword argument 'x'")
        );
    }

    #[tokio::test]
    async fn a_value_of_the_wrong_type_names_the_parameter() {
        // Python has no such check (its function fails later, in its own words); ours names
        // the function and the parameter, then says what the decoder found.
        let wrong = |codec: Codec, args: &[Value], kwargs: &[(&str, Value)]| {
            bind_in::<i64>(&codec, &ADD, args, kwargs).map(|got| got.params)
        };
        for codec in [Codec::msgpack(), Codec::json()] {
            assert_eq!(
                wrong(codec, &[Value::from(1)], &[("b", Value::Float(0.5))]),
                Err(
                    "TypeError: add() argument 'b': invalid type: floating point `0.5`, \
                     expected i64"
                        .into()
                )
            );
        }
        let one = [Value::from("one"), Value::from(2)];
        assert_eq!(
            wrong(Codec::json(), &one, &[]),
            Err(
                r#"TypeError: add() argument 'a': invalid type: string "one", expected i64"#.into()
            )
        );
        // MsgPack's decoder (rmp-serde) names the kind it found, not the value.
        assert_eq!(
            wrong(Codec::msgpack(), &one, &[]),
            Err("TypeError: add() argument 'a': invalid type: str, expected i64".into())
        );
    }
}
