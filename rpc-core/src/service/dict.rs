//! [`ServiceDict`]: a service whose functions and children are bound at run time.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Call, CallContext, Outcome, Service};
use crate::channel::Channel;
use crate::error::CallError;
use crate::wire::{CodecError, Value};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
type SyncFn = dyn Fn(DynCall) -> Result<Value, CallError> + Send + Sync;
type AsyncFn = dyn Fn(DynCall) -> BoxFuture<Result<Value, CallError>> + Send + Sync;

enum Entry {
    Sync(Arc<SyncFn>),
    Async(Arc<AsyncFn>),
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
///     .sub_router("more", ServiceDict::new().function("neg", |c: DynCall| Ok(-c.arg::<i64>(0, "x")?)));
/// assert_eq!(math.names(), ["add", "slow_add", "more"]);
/// ```
#[derive(Default)]
pub struct ServiceDict {
    entries: Vec<(String, Entry)>,
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
        self.entries.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[track_caller]
    fn bind(mut self, name: impl Into<String>, entry: Entry) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty() && !name.contains('/'),
            "a ServiceDict name must be a non-empty path segment without '/', got {name:?}"
        );
        assert!(
            !self.entries.iter().any(|(n, _)| *n == name),
            "the name {name:?} is already bound in this ServiceDict"
        );
        self.entries.push((name, entry));
        self
    }

    /// Binds `name` to a synchronous function. It runs on the connection's reader task, so it
    /// must not block; use [`async_function`](Self::async_function) for anything slow.
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
        let f = move |c: DynCall| {
            let channel = c.channel.clone();
            f(c).and_then(|r| channel.enter_scope(|| to_value(&r)))
        };
        self.bind(name, Entry::Sync(Arc::new(f)))
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
        let f = move |c: DynCall| -> BoxFuture<Result<Value, CallError>> {
            let channel = c.channel.clone();
            let fut = f(c);
            Box::pin(async move { fut.await.and_then(|r| channel.enter_scope(|| to_value(&r))) })
        };
        self.bind(name, Entry::Async(Arc::new(f)))
    }

    /// Binds `name` to a child service (a `#[service]` type, another `ServiceDict`, ...).
    ///
    /// # Panics
    /// If `name` is already bound, empty, or contains `/`.
    #[must_use]
    #[track_caller]
    pub fn sub_router(self, name: impl Into<String>, service: impl Service) -> Self {
        self.bind(name, Entry::Service(Box::new(service)))
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }
}

/// Converts a result (service references included: call it in the connection's scope).
fn to_value<R: Serialize>(r: &R) -> Result<Value, CallError> {
    Value::from_serialize(r).map_err(|e| {
        CallError::new(
            "SerializationError",
            format!("cannot encode the result: {e}"),
        )
    })
}

impl Service for ServiceDict {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("ServiceDict")
    }

    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        match self.entry(name)? {
            Entry::Service(s) => Some(&**s),
            _ => None,
        }
    }

    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Service(_)))
            .map(|(n, _)| Cow::Borrowed(n.as_str()))
            .collect()
    }

    fn is_hidden(&self, _name: &str) -> bool {
        false
    }

    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        self.entries
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Service(_)))
            .map(|(n, _)| Cow::Borrowed(n.as_str()))
            .collect()
    }

    fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
        let entry = match self.entry(name)? {
            Entry::Service(_) => return None,
            e => e,
        };
        let dyn_call = match DynCall::from_call(name, &call) {
            Ok(c) => c,
            Err(e) => return Some(call.err(&e)),
        };
        Some(match entry {
            Entry::Sync(f) => match f(dyn_call) {
                Ok(v) => call.ok(&v),
                Err(e) => call.err(&e),
            },
            Entry::Async(f) => {
                let fut = f(dyn_call);
                let responder = call.reply_to();
                Outcome::pending(async move {
                    match fut.await {
                        Ok(v) => responder.ok(&v),
                        Err(e) => responder.err(&e),
                    }
                })
            }
            Entry::Service(_) => return None,
        })
    }
}

/// The arguments of a call to a [`ServiceDict`] function, decoded as dynamic values.
#[derive(Debug, Clone)]
pub struct DynCall {
    name: String,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    context: CallContext,
    channel: Channel,
}

impl DynCall {
    fn from_call(name: &str, call: &Call<'_>) -> Result<Self, CallError> {
        let decode = |bytes: &[u8], what: &dyn fmt::Display| {
            call.channel()
                .decode_in_scope::<Value>(bytes)
                .map_err(|e| CallError::type_error(format!("{name}() argument {what}: {e}")))
        };
        let args = call
            .raw
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| decode(a, &i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut kwargs: Vec<(String, Value)> = Vec::with_capacity(call.raw.kwargs.len());
        for (k, v) in &call.raw.kwargs {
            if kwargs.iter().any(|(have, _)| have == k) {
                return Err(CallError::type_error(format!(
                    "{name}() got multiple values for keyword argument '{k}'"
                )));
            }
            kwargs.push((k.to_string(), decode(v, &format_args!("'{k}'"))?));
        }
        Ok(DynCall {
            name: name.to_owned(),
            args,
            kwargs,
            context: call.context(),
            channel: call.channel().clone(),
        })
    }

    /// The positional arguments.
    pub fn args(&self) -> &[Value] {
        &self.args
    }

    /// The keyword arguments, in wire order.
    pub fn kwargs(&self) -> &[(String, Value)] {
        &self.kwargs
    }

    /// The context of the call: the caller's connection and the router reached.
    pub fn context(&self) -> &CallContext {
        &self.context
    }

    /// The argument at position `index`, or else the keyword argument `name`, decoded as `T`.
    /// A missing argument decodes from nil, so `Option<T>` gives `None`; any other `T` gives a
    /// `TypeError` that names it.
    pub fn arg<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<T, CallError> {
        let positional = self.args.get(index);
        let keyword = self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let value = match (positional, keyword) {
            (Some(_), Some(_)) => {
                return Err(CallError::type_error(format!(
                    "{}() got multiple values for argument '{name}'",
                    self.name
                )))
            }
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => &Value::Nil,
        };
        self.convert(value).map_err(|e| {
            if value.is_nil() && positional.is_none() && keyword.is_none() {
                CallError::type_error(format!(
                    "{}() missing 1 required positional argument: '{name}'",
                    self.name
                ))
            } else {
                CallError::type_error(format!("{}() argument '{name}': {e}", self.name))
            }
        })
    }

    /// Converts a value into `T`; service references become proxies on the caller's connection.
    pub fn convert<T: DeserializeOwned>(&self, value: &Value) -> Result<T, CodecError> {
        self.channel.enter_scope(|| value.deserialize_into())
    }
}
