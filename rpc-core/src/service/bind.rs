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
        } else {
            return Err(CallError::type_error(format!(
                "{name}() takes {} but {} given",
                plural(n, "positional argument"),
                if raw.args.len() == 1 {
                    "1 was".to_owned()
                } else {
                    format!("{} were", raw.args.len())
                }
            )));
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
