//! [`ServiceDict`]: a service whose functions and children are bound at run time.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde::Serialize;

use super::bind::describe;
use super::{Call, CallContext, Outcome, Responder, Router, Service};
use crate::channel::{Channel, HandlerFuture};
use crate::error::CallError;
use crate::wire::codec::place_in;
use crate::wire::{CodecError, Value};

/// A synchronous function: takes its arguments, answers the call with its result.
type SyncFn = dyn for<'c> Fn(DynCall, Call<'c>) -> Outcome<'static> + Send + Sync;
/// An asynchronous function: takes its arguments, returns the future that answers.
type AsyncFn = dyn Fn(DynCall, Responder) -> HandlerFuture<'static> + Send + Sync;

enum Entry {
    Sync(Box<SyncFn>),
    Async(Box<AsyncFn>),
    Service(Box<dyn Service>),
}

/// The dynamic twin of a `#[service]` type, as aiomas's `ServiceDict`: names bound at run time
/// to functions (synchronous or asynchronous closures) and to child services (typed or dynamic).
///
/// ```
/// use rpc_core::{CallError, DynCall, ServiceDict};
/// let math = ServiceDict::new()
///     .function("add", |c: DynCall| Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?))
///     .async_function("slow_add", |c: DynCall| async move {
///         Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
///     })
///     .with_sub_router("more", ServiceDict::new().function("neg", |c: DynCall| Ok(-c.arg::<i64>(0, "x")?)));
/// assert_eq!(math.names(), ["add", "slow_add", "more"]);
/// ```
#[derive(Default)]
pub struct ServiceDict {
    entries: Vec<(Arc<str>, Entry)>,
}

impl fmt::Debug for ServiceDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceDict")
            .field("names", &self.names())
            .finish()
    }
}

impl ServiceDict {
    /// An empty service.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bound names, in the order they were bound.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|(n, _)| &**n).collect()
    }

    #[track_caller]
    fn bind(mut self, name: impl Into<String>, entry: Entry) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty() && !name.contains('/'),
            "a ServiceDict name must be a non-empty path segment without '/', got {name:?}"
        );
        assert!(
            !self.entries.iter().any(|(n, _)| **n == *name),
            "the name {name:?} is already bound in this ServiceDict"
        );
        self.entries.push((name.into(), entry));
        self
    }

    /// Binds `name` to a synchronous function. It runs on the connection's reader task, so it
    /// must not block; use [`async_function`](Self::async_function) for anything slow. Its
    /// result is encoded straight into the reply, as a typed method's is.
    ///
    /// # Panics
    /// If `name` is already bound, empty, or contains `/`.
    #[must_use]
    #[track_caller]
    pub fn function<F, R>(self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(DynCall) -> Result<R, CallError> + Send + Sync + 'static,
        R: Serialize,
    {
        let f = move |c: DynCall, call: Call<'_>| match f(c) {
            Ok(r) => call.ok(&r),
            Err(e) => call.err(&e),
        };
        self.bind(name, Entry::Sync(Box::new(f)))
    }

    /// Binds `name` to an asynchronous function.
    ///
    /// # Panics
    /// If `name` is already bound, empty, or contains `/`.
    #[must_use]
    #[track_caller]
    pub fn async_function<F, Fut, R>(self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(DynCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, CallError>> + Send + 'static,
        R: Serialize,
    {
        let f = move |c: DynCall, responder: Responder| -> HandlerFuture<'static> {
            let fut = f(c);
            Box::pin(async move {
                match fut.await {
                    Ok(r) => responder.ok(&r),
                    Err(e) => responder.err(&e),
                }
            })
        };
        self.bind(name, Entry::Async(Box::new(f)))
    }

    /// Binds `name` to a child service (a `#[service]` type, another `ServiceDict`, ...).
    ///
    /// # Panics
    /// If `name` is already bound, empty, or contains `/`.
    #[must_use]
    #[track_caller]
    pub fn with_sub_router(self, name: impl Into<String>, service: impl Service) -> Self {
        self.bind(name, Entry::Service(Box::new(service)))
    }

    fn entry(&self, name: &str) -> Option<&(Arc<str>, Entry)> {
        self.entries.iter().find(|(n, _)| **n == *name)
    }
}

impl Service for ServiceDict {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("ServiceDict")
    }

    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        match &self.entry(name)?.1 {
            Entry::Service(s) => Some(&**s),
            _ => None,
        }
    }

    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Service(_)))
            .map(|(n, _)| Cow::Borrowed(&**n))
            .collect()
    }

    fn is_hidden(&self, _name: &str) -> bool {
        false
    }

    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        self.entries
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Service(_)))
            .map(|(n, _)| Cow::Borrowed(&**n))
            .collect()
    }

    fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
        let (name, entry) = self.entry(name)?;
        if let Entry::Service(_) = entry {
            return None;
        }
        let dyn_call = match DynCall::from_call(name, &call) {
            Ok(c) => c,
            Err(e) => return Some(call.err(&e)),
        };
        Some(match entry {
            Entry::Sync(f) => f(dyn_call, call),
            Entry::Async(f) => Outcome(Some(f(dyn_call, call.reply_to()))),
            Entry::Service(_) => return None,
        })
    }
}

/// Where a keyword is in the request: its bytes in the payload, or its text when it had to be
/// unescaped (JSON).
#[derive(Debug, Clone)]
enum Keyword {
    At(Range<usize>),
    Owned(Box<str>),
}

/// The arguments of a call to a [`ServiceDict`] function, still encoded: each is decoded
/// straight from the received message when it is asked for, as a typed method's are.
///
/// It owns the request's bytes (shared, not copied), so an asynchronous function can keep it.
#[derive(Clone)]
pub struct DynCall {
    name: Arc<str>,
    payload: Bytes,
    /// Where each positional argument is in `payload`; a few without touching the heap.
    args: smallvec::SmallVec<[Range<usize>; 4]>,
    kwargs: Vec<(Keyword, Range<usize>)>,
    channel: Channel,
    root: Router,
    node_path: Box<str>,
}

impl fmt::Debug for DynCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynCall")
            .field("name", &self.name)
            .field("args", &self.args.len())
            .field("keywords", &self.keywords().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl DynCall {
    fn from_call(name: &Arc<str>, call: &Call<'_>) -> Result<Self, CallError> {
        let (payload, _) = call.request.payload();
        // Every argument is a slice of the payload (the dispatcher cut it): keep where it is,
        // not a copy.
        let at = |bytes: &[u8]| {
            place_in(payload, bytes).expect("the arguments of a call are cut from its payload")
        };
        let mut args = smallvec::SmallVec::new();
        for a in call.raw.args.iter() {
            args.push(at(a));
        }
        let mut kwargs: Vec<(Keyword, Range<usize>)> = Vec::with_capacity(call.raw.kwargs.len());
        for (i, (k, v)) in call.raw.kwargs.iter().enumerate() {
            if call.raw.kwargs[..i].iter().any(|(have, _)| have == k) {
                return Err(CallError::type_error(format!(
                    "{name}() got multiple values for keyword argument '{k}'"
                )));
            }
            let key = match place_in(payload, k.as_bytes()) {
                Some(place) => Keyword::At(place),
                // Unescaped (JSON): text of its own.
                None => Keyword::Owned(k.as_ref().into()),
            };
            kwargs.push((key, at(v)));
        }
        Ok(DynCall {
            name: name.clone(),
            payload: payload.clone(),
            args,
            kwargs,
            channel: call.channel().clone(),
            root: call.root.clone(),
            node_path: call.node_path.into(),
        })
    }

    /// The name of the function called.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many positional arguments the caller gave.
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }

    /// The keywords the caller gave, in wire order.
    pub fn keywords(&self) -> impl Iterator<Item = &str> + '_ {
        self.kwargs.iter().map(|(k, _)| self.keyword(k))
    }

    fn keyword<'a>(&'a self, k: &'a Keyword) -> &'a str {
        match k {
            // Checked to be UTF-8 when the request was cut.
            Keyword::At(r) => std::str::from_utf8(&self.payload[r.clone()]).unwrap_or_default(),
            Keyword::Owned(s) => s,
        }
    }

    /// The positional arguments, each decoded as a dynamic value.
    ///
    /// # Errors
    /// A `TypeError` naming the argument that is no valid value (for example an envelope of a
    /// type nobody registered).
    pub fn args(&self) -> Result<Vec<Value>, CallError> {
        self.args
            .iter()
            .enumerate()
            .map(|(i, r)| self.decode(r, &i))
            .collect()
    }

    /// The keyword arguments, in wire order, each decoded as a dynamic value.
    ///
    /// # Errors
    /// As [`args`](Self::args).
    pub fn kwargs(&self) -> Result<Vec<(String, Value)>, CallError> {
        self.kwargs
            .iter()
            .map(|(k, r)| {
                let k = self.keyword(k);
                Ok((k.to_owned(), self.decode(r, &format_args!("'{k}'"))?))
            })
            .collect()
    }

    /// The context of the call: the caller's connection and the router reached.
    pub fn context(&self) -> CallContext {
        CallContext::new(self.channel.clone(), self.root.at(&self.node_path))
    }

    fn decode<'a, T: Deserialize<'a>>(
        &'a self,
        at: &Range<usize>,
        what: &dyn fmt::Display,
    ) -> Result<T, CallError> {
        self.channel
            .decode_framed(&self.payload, at.clone())
            .map_err(|e| {
                CallError::type_error(format!("{}() argument {what}: {}", self.name, describe(e)))
            })
    }

    /// The argument at position `index`, or else the keyword argument `name`, decoded as `T`
    /// straight from the request; `T` may borrow from it (`&str`, `&[u8]`). A missing argument
    /// decodes from nil, so `Option<T>` gives `None`; any other `T` gives a `TypeError` that
    /// names it, in Python's words.
    ///
    /// # Errors
    /// A `TypeError`: the argument is given both ways, is missing, or does not fit `T`.
    pub fn arg<'a, T: Deserialize<'a>>(&'a self, index: usize, name: &str) -> Result<T, CallError> {
        let positional = self.args.get(index);
        let keyword = self
            .kwargs
            .iter()
            .find(|(k, _)| self.keyword(k) == name)
            .map(|(_, v)| v);
        let decoded = match (positional, keyword) {
            (Some(_), Some(_)) => {
                return Err(CallError::type_error(format!(
                    "{}() got multiple values for argument '{name}'",
                    self.name
                )))
            }
            (Some(r), None) | (None, Some(r)) => {
                self.channel.decode_framed(&self.payload, r.clone())
            }
            (None, None) => self.channel.decode_in_scope(self.channel.codec().nil()),
        };
        decoded.map_err(|e| {
            if positional.is_none() && keyword.is_none() {
                CallError::type_error(format!(
                    "{}() missing 1 required positional argument: '{name}'",
                    self.name
                ))
            } else {
                CallError::type_error(format!(
                    "{}() argument '{name}': {}",
                    self.name,
                    describe(e)
                ))
            }
        })
    }

    /// Converts a value into `T`; service references become proxies on the caller's connection.
    ///
    /// # Errors
    /// When the value does not fit `T`.
    pub fn convert<'a, T: Deserialize<'a>>(&self, value: &'a Value) -> Result<T, CodecError> {
        self.channel.enter_scope(|| value.deserialize_into())
    }
}
