//! Services and routers: what a peer can call, and how a path finds it.
//!
//! A *service* is a node of a tree. Each node has exposed functions and named children
//! (sub-routers); a path such as `"eggs/spam"` names the function `spam` of the child `eggs` of the
//! root. Nodes are [`#[service]`](macro@crate::service) types, whose dispatch tables are generated at
//! compile time, and [`ServiceDict`](crate::ServiceDict)s, bound at run time; the two mix freely.
//!
//! A [`Router`] is a node of a mounted tree seen from the root: it knows its
//! [`name`](Router::name), its [`parent`](Router::parent) and its [`path`](Router::path) (aiomas's
//! reverse look-up), so that a service can pass a reference to itself across the wire.
//!
//! Look-up failures read as aiomas writes them, so a Python caller sees familiar text:
//!
//! | path | error |
//! |---|---|
//! | a name that is nowhere | `LookupError: Name "nope" not found in "sub"` |
//! | a method without `#[expose]` | `LookupError: "Root.hidden" is not exposed` |
//! | a sub-router itself | `TypeError: 'Sub' object is not callable` |
//! | bad arguments | `TypeError: add() missing 1 required positional argument: 'b'` |

use std::any::Any;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::channel::{Channel, IncomingRequest};
use crate::codec::{Codec, CodecKind, RawCall};
use crate::error::{CallError, CodecError};

/// A boxed future that answers a call when it completes.
pub type CallFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How a call went on: answered already, or answered by a future that must be driven.
#[must_use]
pub enum Outcome {
    /// The reply has been sent.
    Done,
    /// The reply will be sent when this future completes.
    Pending(CallFuture),
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done => f.write_str("Done"),
            Outcome::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

/// What a name means to a service node; used to word look-up errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// A child service.
    SubRouter,
    /// An exposed function.
    Exposed,
    /// A method that exists but is not exposed.
    Hidden,
    /// Nothing of that name.
    Missing,
}

/// A node of a service tree: what `#[service]` generates and [`ServiceDict`](crate::ServiceDict)
/// implements. You rarely implement it by hand.
pub trait Service: Send + Sync + 'static {
    /// The type's name, as used in errors (`"Root"` in `"Root.hidden" is not exposed`).
    fn type_name(&self) -> Cow<'_, str>;

    /// The child service of the given name.
    fn sub_router(&self, name: &str) -> Option<&dyn Service>;

    /// The names of the child services.
    fn sub_router_names(&self) -> Vec<Cow<'_, str>>;

    /// What `name` means here (only used to word errors).
    fn member(&self, name: &str) -> Member;

    /// The names of the exposed functions, as the wire knows them.
    fn exposed_names(&self) -> Vec<Cow<'_, str>>;

    /// Calls the exposed function `name`, or returns `None` if there is none of that name.
    fn call(&self, name: &str, call: Call<'_>) -> Option<Outcome>;

    /// This node as `Any`, so that a node can be found again by type ([`Anchor::node`]).
    fn as_any(&self) -> &dyn Any;
}

/// Implements [`Service`] for a pointer type by delegating to what it points to.
macro_rules! delegate_service {
    ($(impl$(<$g:ident: Service>)? for $ty:ty;)*) => {$(
        impl$(<$g: Service>)? Service for $ty {
            fn type_name(&self) -> Cow<'_, str> {
                (**self).type_name()
            }
            fn sub_router(&self, name: &str) -> Option<&dyn Service> {
                (**self).sub_router(name)
            }
            fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
                (**self).sub_router_names()
            }
            fn member(&self, name: &str) -> Member {
                (**self).member(name)
            }
            fn exposed_names(&self) -> Vec<Cow<'_, str>> {
                (**self).exposed_names()
            }
            fn call(&self, name: &str, call: Call<'_>) -> Option<Outcome> {
                (**self).call(name, call)
            }
            fn as_any(&self) -> &dyn Any {
                (**self).as_any()
            }
        }
    )*};
}

delegate_service! {
    impl<S: Service> for Arc<S>;
    impl for Box<dyn Service>;
}

// ---------------------------------------------------------------------------------------------
// Routers

/// A node of a mounted service tree, seen from its root. Cheap to clone.
///
/// ```
/// use rpc_core::{Router, ServiceDict};
/// let root = Router::new(
///     ServiceDict::new()
///         .function("ping", |_: rpc_core::DynCall| Ok("pong"))
///         .sub_router("eggs", ServiceDict::new().function("spam", |_: rpc_core::DynCall| Ok(1))),
/// );
/// let eggs = root.sub_router("eggs").unwrap();
/// assert_eq!(eggs.name(), "eggs");
/// assert_eq!(eggs.path(), "eggs");
/// assert_eq!(eggs.parent().unwrap().path(), "");
/// assert_eq!(root.resolve("eggs/spam").unwrap().method(), "spam");
/// assert!(root.resolve("eggs/nope").is_err());
/// ```
#[derive(Clone)]
pub struct Router {
    root: Arc<dyn Service>,
    path: Arc<str>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("path", &self.path)
            .field("type", &self.service().type_name())
            .finish()
    }
}

impl Router {
    /// Mounts `service` as the root of a tree.
    pub fn new(service: impl Service) -> Self {
        Router {
            root: Arc::new(service),
            path: Arc::from(""),
        }
    }

    /// Mounts a shared service as the root of a tree.
    pub fn from_arc(service: Arc<dyn Service>) -> Self {
        Router {
            root: service,
            path: Arc::from(""),
        }
    }

    /// The name of this router in its parent (empty for the root).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }

    /// The path of this router from the root, without a trailing slash (`""` for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The parent router, or `None` for the root.
    pub fn parent(&self) -> Option<Router> {
        if self.path.is_empty() {
            return None;
        }
        let parent = self.path.rsplit_once('/').map_or("", |(p, _)| p);
        Some(Router {
            root: self.root.clone(),
            path: Arc::from(parent),
        })
    }

    /// The root router of this tree.
    pub fn root(&self) -> Router {
        Router {
            root: self.root.clone(),
            path: Arc::from(""),
        }
    }

    /// Whether two routers are the same node of the same tree.
    pub fn same_node(&self, other: &Router) -> bool {
        Arc::ptr_eq(&self.root, &other.root) && self.path == other.path
    }

    /// The child router of the given name.
    pub fn sub_router(&self, name: &str) -> Option<Router> {
        self.service().sub_router(name)?;
        Some(Router {
            root: self.root.clone(),
            path: if self.path.is_empty() {
                Arc::from(name)
            } else {
                Arc::from(format!("{}/{name}", self.path))
            },
        })
    }

    /// The service at this node.
    pub fn service(&self) -> &dyn Service {
        walk(&*self.root, &self.path)
            .expect("a router's path always names a node of its immutable tree")
    }

    /// The shared root service.
    pub fn root_service(&self) -> &Arc<dyn Service> {
        &self.root
    }

    /// A reference to this node that can be sent to the peer, who gets a proxy of it.
    pub fn service_ref(&self) -> crate::ServiceRef {
        crate::ServiceRef::at(self.path.to_string())
    }

    /// Resolves a path relative to this router to an exposed function, with aiomas's errors.
    pub fn resolve(&self, path: &str) -> Result<Resolved, CallError> {
        let (node, node_path, method) = resolve(self.service(), path)?;
        match node.member(method) {
            Member::Exposed => Ok(Resolved {
                router: Router {
                    root: self.root.clone(),
                    path: Arc::from(join(&self.path, node_path)),
                },
                method: method.to_owned(),
            }),
            other => Err(member_error(node, node_path, method, other)),
        }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}/{b}"),
    }
}

/// An exposed function found by [`Router::resolve`].
#[derive(Debug, Clone)]
pub struct Resolved {
    router: Router,
    method: String,
}

impl Resolved {
    /// The router of the service that has the function.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The function's wire name.
    pub fn method(&self) -> &str {
        &self.method
    }
}

/// The node at `path` below `node` (`""` is `node` itself).
pub(crate) fn walk<'a>(mut node: &'a dyn Service, path: &str) -> Option<&'a dyn Service> {
    if path.is_empty() {
        return Some(node);
    }
    for seg in path.split('/') {
        node = node.sub_router(seg)?;
    }
    Some(node)
}

/// Walks `path` to the node that should have the function named by its last segment.
/// Returns the node, the path of that node (relative) and the function name.
fn resolve<'a, 'p>(
    root: &'a dyn Service,
    path: &'p str,
) -> Result<(&'a dyn Service, &'p str, &'p str), CallError> {
    let (node_path, method) = path.rsplit_once('/').unwrap_or(("", path));
    let mut node = root;
    if !node_path.is_empty() {
        let mut consumed = 0;
        for seg in node_path.split('/') {
            match node.sub_router(seg) {
                Some(child) => node = child,
                None => {
                    let prefix = &path[..consumed.max(1) - 1];
                    return Err(match node.member(seg) {
                        // aiomas walks into the function and fails on the next name.
                        Member::Exposed | Member::Hidden => {
                            let here = &path[..consumed + seg.len()];
                            let next = path[consumed + seg.len() + 1..]
                                .split('/')
                                .next()
                                .unwrap_or("");
                            not_found(next, here)
                        }
                        _ => not_found(seg, prefix),
                    });
                }
            }
            consumed += seg.len() + 1;
        }
    }
    Ok((node, node_path, method))
}

fn not_found(name: &str, prefix: &str) -> CallError {
    CallError::lookup_error(format!("Name \"{name}\" not found in \"{prefix}\""))
}

fn member_error(node: &dyn Service, node_path: &str, method: &str, member: Member) -> CallError {
    match member {
        Member::SubRouter => CallError::type_error(format!(
            "'{}' object is not callable",
            node.sub_router(method)
                .map_or(Cow::Borrowed(method), |s| s.type_name())
        )),
        Member::Hidden => {
            CallError::lookup_error(format!("\"{}.{method}\" is not exposed", node.type_name()))
        }
        Member::Exposed | Member::Missing => not_found(method, node_path),
    }
}

// ---------------------------------------------------------------------------------------------
// Calls

/// One call of an exposed function: its arguments, still encoded, and the way to answer it.
///
/// Generated code and [`ServiceDict`](crate::ServiceDict) take it apart; users meet it only when
/// they implement [`Service`] by hand.
pub struct Call<'a> {
    pub(crate) raw: &'a RawCall<'a>,
    pub(crate) channel: &'a Channel,
    pub(crate) root: &'a Router,
    pub(crate) node_path: &'a str,
    pub(crate) responder: &'a mut Option<Responder>,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("path", &self.raw.path)
            .finish_non_exhaustive()
    }
}

impl<'a> Call<'a> {
    /// The path of the call, as it came.
    pub fn path(&self) -> &str {
        &self.raw.path
    }

    /// The codec of the connection.
    pub fn codec(&self) -> &Codec {
        self.channel.codec()
    }

    /// Matches the arguments to a signature: positional first, then by keyword, as Python does.
    pub fn bind(&self, sig: &'static Signature) -> Result<Bound<'a>, CallError> {
        bind(sig, self.raw, self.channel)
    }

    /// Takes the responder that answers this call (once).
    pub fn responder(&mut self) -> Responder {
        self.responder.take().expect("a call is answered only once")
    }

    /// The context of this call: the connection it came on and the router it reached.
    pub fn context(&self) -> CallContext {
        CallContext {
            channel: self.channel.clone(),
            router: Router {
                root: self.root.root.clone(),
                path: Arc::from(self.node_path),
            },
        }
    }

    /// A handle that finds this call's service node again from an owned future
    /// (see [`Anchor::node`]).
    pub fn anchor(&self) -> Anchor {
        Anchor {
            router: Router {
                root: self.root.root.clone(),
                path: Arc::from(self.node_path),
            },
        }
    }
}

/// Finds a service node again from inside a `'static` future (async exposed methods).
#[derive(Clone)]
pub struct Anchor {
    router: Router,
}

impl fmt::Debug for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anchor")
            .field("path", &self.router.path)
            .finish()
    }
}

impl Anchor {
    /// The node, as its concrete type.
    ///
    /// # Panics
    /// If the node is not a `T` (the tree is immutable, so it always is when `T` is the type that
    /// made the anchor).
    pub fn node<T: 'static>(&self) -> &T {
        self.router
            .service()
            .as_any()
            .downcast_ref::<T>()
            .expect("an anchor finds the node that made it")
    }
}

/// The connection a call came on and the router it reached: inject it into an exposed method
/// with `#[context]` to call the caller back.
#[derive(Debug, Clone)]
pub struct CallContext {
    channel: crate::channel::Channel,
    router: Router,
}

impl CallContext {
    /// The root proxy of the caller's service (for calls back over the same connection).
    pub fn remote(&self) -> crate::Proxy {
        crate::Proxy::new(self.channel.clone(), "")
    }

    /// The connection's channel.
    pub fn channel(&self) -> &crate::channel::Channel {
        &self.channel
    }

    /// The caller's address.
    pub fn peer(&self) -> &str {
        self.channel.peer()
    }

    /// The router of the service that is being called (its path, parent, ...).
    pub fn router(&self) -> &Router {
        &self.router
    }
}

/// Answers one call. Dropping it unanswered sends an error reply, so a caller never hangs.
#[derive(Debug)]
pub struct Responder {
    request: Option<IncomingRequest>,
}

impl Responder {
    pub(crate) fn new(request: IncomingRequest) -> Self {
        Responder {
            request: Some(request),
        }
    }

    /// Sends the result. If it cannot be encoded, the caller gets an error reply that says why.
    pub fn ok<T: Serialize + ?Sized>(mut self, value: &T) {
        if let Some(req) = self.request.take() {
            if let Err(e) = req.reply(value) {
                match e {
                    crate::ChannelError::Codec(c) => {
                        let _ = req.fail(&CallError::new(
                            "SerializationError",
                            format!("cannot encode the result: {c}"),
                        ));
                    }
                    other => tracing::debug!(error = %other, "could not send a reply"),
                }
            }
        }
    }

    /// Sends an error reply.
    pub fn err(mut self, error: CallError) {
        if let Some(req) = self.request.take() {
            if let Err(e) = req.fail(&error) {
                tracing::debug!(error = %e, "could not send an error reply");
            }
        }
    }

    /// Sends the outcome of a function that returns `Result<T, CallError>`.
    pub fn result<T: Serialize>(self, result: Result<T, CallError>) {
        match result {
            Ok(v) => self.ok(&v),
            Err(e) => self.err(e),
        }
    }
}

thread_local! {
    /// The error of a panic caught while polling a call's future, for the responder it drops.
    static PANIC: RefCell<Option<CallError>> = const { RefCell::new(None) };
    /// The request of a responder dropped while a synchronous handler unwound.
    static ORPHAN: RefCell<Option<IncomingRequest>> = const { RefCell::new(None) };
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(req) = self.request.take() {
            if std::thread::panicking() {
                // `dispatch` catches the panic and answers with its message.
                ORPHAN.with(|o| *o.borrow_mut() = Some(req));
                return;
            }
            let err = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| {
                CallError::new("RuntimeError", "the call ended without a reply")
            });
            let _ = req.fail(&err);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures and argument binding

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
    slots: crate::inline::InlineVec<Option<&'a [u8]>>,
    rest_args: Vec<&'a [u8]>,
    rest_kwargs: Vec<(Cow<'a, str>, &'a [u8])>,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn bind<'a>(
    sig: &'static Signature,
    raw: &'a RawCall<'a>,
    channel: &'a Channel,
) -> Result<Bound<'a>, CallError> {
    let n = sig.params.len();
    let mut slots: crate::inline::InlineVec<Option<&'a [u8]>> =
        crate::inline::InlineVec::filled(None, n);
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
    let missing: Vec<&str> = sig
        .params
        .iter()
        .zip(slots.iter())
        .filter(|(p, s)| !p.optional && s.is_none())
        .map(|(p, _)| p.name)
        .collect();
    if !missing.is_empty() {
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
        slots,
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
        self.channel.decode_in_scope::<T>(bytes).map_err(|e| {
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
        match self.slots[index] {
            Some(bytes) => self.decode_as(bytes, &format_args!("'{name}'")),
            None => self.decode_as(self.nil(), &format_args!("'{name}'")),
        }
    }

    fn nil(&self) -> &'static [u8] {
        match self.channel.codec().kind() {
            CodecKind::Json => b"null",
            _ => b"\xc0",
        }
    }

    /// Decodes the surplus positional arguments as one array (`*args`) into `T`.
    pub fn rest_args<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        let joined = join_array(self.channel.codec(), &self.rest_args);
        self.decode_as(&joined, &"*args")
    }

    /// Decodes the surplus keyword arguments as one map (`**kwargs`) into `T`.
    pub fn rest_kwargs<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        let joined = join_map(self.channel.codec(), &self.rest_kwargs);
        self.decode_as(&joined, &"**kwargs")
    }
}

fn describe(e: CodecError) -> String {
    match e {
        CodecError::Decode(m) | CodecError::Encode(m) => m,
        other => other.to_string(),
    }
}

/// Encodes already-encoded values as one array.
pub(crate) fn join_array(codec: &Codec, items: &[&[u8]]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    match codec.kind() {
        CodecKind::Json => {
            buf.extend_from_slice(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.extend_from_slice(b", ");
                }
                buf.extend_from_slice(item);
            }
            buf.extend_from_slice(b"]");
        }
        _ => {
            crate::codec::msgpack::write_array_head(&mut buf, items.len());
            for item in items {
                buf.extend_from_slice(item);
            }
        }
    }
    buf.to_vec()
}

/// Encodes already-encoded values under string keys as one map.
pub(crate) fn join_map(codec: &Codec, items: &[(Cow<'_, str>, &[u8])]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    match codec.kind() {
        CodecKind::Json => {
            buf.extend_from_slice(b"{");
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    buf.extend_from_slice(b", ");
                }
                let _ = crate::codec::json::encode_into(&mut buf, k.as_ref());
                buf.extend_from_slice(b": ");
                buf.extend_from_slice(v);
            }
            buf.extend_from_slice(b"}");
        }
        _ => {
            crate::codec::msgpack::write_map_head(&mut buf, items.len());
            for (k, v) in items {
                crate::codec::msgpack::write_str_head(&mut buf, k.len());
                buf.extend_from_slice(k.as_bytes());
                buf.extend_from_slice(v);
            }
        }
    }
    buf.to_vec()
}

// ---------------------------------------------------------------------------------------------
// Dispatch: a request in, a reply out.

/// Serves one request with the tree of `root`: splits it, resolves its path, calls the function.
/// Returns a future when the function is asynchronous; the caller spawns it.
pub(crate) fn dispatch(root: &Router, request: IncomingRequest) -> Option<CallFuture> {
    let (payload, content) = {
        let (p, c) = request.payload();
        (p.clone(), c)
    };
    let channel = request.channel().clone();
    let raw = match channel.codec().split_request(&payload, content) {
        Ok(raw) => raw,
        Err(e) => {
            let msg = match e {
                CodecError::InvalidMessage(m) => m,
                other => other.to_string(),
            };
            let _ = request.fail(&CallError::type_error(format!("invalid request: {msg}")));
            return None;
        }
    };
    let (node, node_path, method) = match resolve(root.service(), &raw.path) {
        Ok(found) => found,
        Err(e) => {
            let _ = request.fail(&e);
            return None;
        }
    };
    let mut responder = Some(Responder::new(request));
    let outcome = {
        let call = Call {
            raw: &raw,
            channel: &channel,
            root,
            node_path,
            responder: &mut responder,
        };
        std::panic::catch_unwind(AssertUnwindSafe(|| node.call(method, call)))
    };
    match outcome {
        Ok(Some(Outcome::Done)) => None,
        Ok(Some(Outcome::Pending(fut))) => Some(Box::pin(CatchUnwind { inner: Some(fut) })),
        Ok(None) => {
            if let Some(r) = responder {
                r.err(member_error(node, node_path, method, node.member(method)));
            }
            None
        }
        Err(panic) => {
            let err = panic_error(&*panic);
            let orphan = ORPHAN.with(|o| o.borrow_mut().take());
            match (responder, orphan) {
                (Some(r), _) => r.err(err),
                (None, Some(req)) => {
                    let _ = req.fail(&err);
                }
                (None, None) => {}
            }
            None
        }
    }
}

/// The error reply for a panic in a handler.
pub(crate) fn panic_error(panic: &(dyn Any + Send)) -> CallError {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".to_owned());
    CallError::new("Panic", msg)
}

/// Catches a panic of a call's future; the responder it drops sends the error reply.
struct CatchUnwind {
    inner: Option<CallFuture>,
}

impl Future for CatchUnwind {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(());
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => {
                self.inner = None;
                Poll::Ready(())
            }
            Err(panic) => {
                let err = panic_error(&*panic);
                // A responder that lived in the future's frame was dropped while the panic
                // unwound, and left its request here.
                if let Some(req) = ORPHAN.with(|o| o.borrow_mut().take()) {
                    let _ = req.fail(&err);
                }
                // One that lives on in the future's state answers when the future is dropped.
                PANIC.with(|p| *p.borrow_mut() = Some(err));
                self.inner = None;
                PANIC.with(|p| p.borrow_mut().take());
                Poll::Ready(())
            }
        }
    }
}

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

// ---------------------------------------------------------------------------------------------
// Typed services and run-time composition

/// A service type with a generated typed proxy (implemented by `#[service]`).
pub trait TypedService: Service {
    /// The typed proxy that mirrors this service's exposed functions.
    type Proxy: crate::TypedProxy;
}

impl TypedService for crate::ServiceDict {
    type Proxy = crate::Proxy;
}

impl<S: TypedService> TypedService for Arc<S> {
    type Proxy = S::Proxy;
}

impl TypedService for Box<dyn Service> {
    type Proxy = crate::Proxy;
}

/// Composition at run time, as aiomas's `Router.add` and `Router.set_sub_router`.
pub trait ServiceExt: Service + Sized {
    /// This service with one more child service `name`, checked before the service's own
    /// sub-routers and functions.
    ///
    /// ```
    /// use rpc_core::{DynCall, Router, ServiceDict, ServiceExt};
    /// let root = ServiceDict::new()
    ///     .function("ping", |_: DynCall| Ok("pong"))
    ///     .with_sub_router("extra", ServiceDict::new().function("one", |_: DynCall| Ok(1)));
    /// assert!(Router::new(root).resolve("extra/one").is_ok());
    /// ```
    fn with_sub_router(self, name: impl Into<String>, child: impl Service) -> WithSubRouters<Self> {
        WithSubRouters {
            inner: self,
            extra: vec![(name.into(), Box::new(child))],
        }
    }
}

impl<S: Service> ServiceExt for S {}

/// A service with sub-routers added at run time (see [`ServiceExt::with_sub_router`]).
pub struct WithSubRouters<S> {
    inner: S,
    extra: Vec<(String, Box<dyn Service>)>,
}

impl<S: fmt::Debug> fmt::Debug for WithSubRouters<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithSubRouters")
            .field("inner", &self.inner)
            .field(
                "extra",
                &self.extra.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<S: Service> WithSubRouters<S> {
    /// Adds one more child service.
    #[must_use]
    pub fn with_sub_router(mut self, name: impl Into<String>, child: impl Service) -> Self {
        self.extra.push((name.into(), Box::new(child)));
        self
    }

    /// The wrapped service.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Service> Service for WithSubRouters<S> {
    fn type_name(&self) -> Cow<'_, str> {
        self.inner.type_name()
    }
    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        match self.extra.iter().find(|(n, _)| n == name) {
            Some((_, s)) => Some(&**s),
            None => self.inner.sub_router(name),
        }
    }
    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        let mut names = self.inner.sub_router_names();
        names.extend(self.extra.iter().map(|(n, _)| Cow::Borrowed(n.as_str())));
        names
    }
    fn member(&self, name: &str) -> Member {
        if self.extra.iter().any(|(n, _)| n == name) {
            Member::SubRouter
        } else {
            self.inner.member(name)
        }
    }
    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        self.inner.exposed_names()
    }
    fn call(&self, name: &str, call: Call<'_>) -> Option<Outcome> {
        if self.extra.iter().any(|(n, _)| n == name) {
            return None;
        }
        self.inner.call(name, call)
    }
    fn as_any(&self) -> &dyn Any {
        // Async methods of the inner service find their node by its type.
        self.inner.as_any()
    }
}

impl<S: TypedService> TypedService for WithSubRouters<S> {
    type Proxy = S::Proxy;
}
