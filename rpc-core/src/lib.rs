//! An RPC framework for Rust that speaks [aiomas](https://aiomas.readthedocs.io)'s wire protocol
//! byte for byte: services are plain structs whose `#[expose]`d methods are reachable by path
//! (`"eggs/spam"`), services nest as sub-routers, both ends of one connection can serve and call
//! at once, and a Python aiomas program can be either peer.
//!
//! ```
//! use rpc_core::{service, start_server, CallContext, CallError, Connection, Router, ServiceDict};
//!
//! #[service]
//! #[derive(Default)]
//! struct Calculator {
//!     #[sub_router]
//!     scale: Scale,
//! }
//!
//! #[service]
//! impl Calculator {
//!     #[expose]
//!     fn add(&self, a: i64, b: i64) -> i64 {
//!         a + b
//!     }
//!
//!     /// Calls the caller back over the same connection.
//!     #[expose]
//!     async fn greet(&self, #[context] cx: CallContext) -> Result<String, rpc_core::Error> {
//!         let name: String = cx.remote().get("name").call(()).await?;
//!         Ok(format!("hello {name}"))
//!     }
//! }
//!
//! #[service]
//! #[derive(Default)]
//! struct Scale {}
//!
//! #[service]
//! impl Scale {
//!     #[expose]
//!     fn mul(&self, a: i64, b: Option<i64>) -> Result<i64, CallError> {
//!         a.checked_mul(b.unwrap_or(2))
//!             .ok_or_else(|| CallError::value_error("overflow"))
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = start_server("127.0.0.1:0", Router::new(Calculator::default())).await?;
//!
//!     // The client serves something too, so that the server can call it back.
//!     let mine = ServiceDict::new().function("name", |_| Ok("client"));
//!     let conn = Connection::builder()
//!         .serve(Router::new(mine))
//!         .connect(server.local_addr())
//!         .await?;
//!
//!     let calc = conn.proxy::<CalculatorProxy>();
//!     assert_eq!(calc.add(1, 2).await?, 3);                 // typed
//!     assert_eq!(calc.scale().mul(3, Some(5)).await?, 15);  // typed, through a sub-router
//!     let six: i64 = conn.remote().get("scale").get("mul").call((3,)).await?; // by name
//!     assert_eq!(six, 6);
//!     assert_eq!(calc.greet().await?, "hello client");      // a call back
//!
//!     let err = calc.scale().mul(i64::MAX, None).await.unwrap_err();
//!     let remote = err.remote().unwrap();
//!     assert_eq!((remote.kind(), remote.message()), ("ValueError", "overflow"));
//!
//!     conn.close().await;
//!     server.drain().await;
//!     Ok(())
//! }
//! ```
//!
//! # What you meet
//!
//! - Serving: [`#[service]`](macro@service) on a struct and its impl block, or on a trait (an
//!   interface a client and a server share) and its implementations, or a [`ServiceDict`],
//!   mounted in a [`Router`]; [`start_server`] or [`Server::builder`].
//! - Calling: [`open_connection`] or [`Connection::builder`]; then a typed proxy
//!   ([`Connection::proxy`]) or a [`Proxy`] by path ([`Connection::remote`]).
//! - Errors: [`Error`] for anything calling, connecting or serving can end in; [`RemoteError`]
//!   for what the peer sent back; [`CallError`] for what a handler returns.
//! - Below that, for those who need it: a bare [`Channel`] of requests and replies, and the
//!   [`wire`] format itself ([`Codec`], [`Value`], frames).
//! - TLS (feature `tls`, off by default: it builds rustls and ring's C code for every user):
//!   `tls::ServerTls` and `tls::ClientTls`, given to [`ServerBuilder`]`::tls` and
//!   [`ConnectionBuilder`]`::tls`; see the `tls` module.
//! - MsgPackBlosc (feature `msgpack-blosc`, off by default: it compiles c-blosc, which is C,
//!   for every user): `Codec::msgpack_blosc()`, aiomas's third codec, whole messages compressed
//!   with blosc as python-blosc 1.x does it.
//! - Tracing: each call gets a `DEBUG` span of the target `rpc_core::calls`, `rpc.call` on the
//!   calling side and `rpc.serve` on the serving side, with the fields `path`, `peer`, `id`,
//!   `codec`, `outcome` (`ok` or `error`) and `error.kind`; a call made while serving another is
//!   its child. Connections log `connection opened` (target `rpc_core::connection`) and
//!   `connection ended`, a server `listening`. With no subscriber that wants `DEBUG`, a call
//!   pays one level check per side (docs/performance.md has the instruction counts).
//!
//! # The layers
//!
//! Each module imports only from the modules listed before it here (a test reads the sources
//! and fails on any other import), so the module graph has no cycle:
//!
//! | layer | module | what it does |
//! |---|---|---|
//! | 1 | [`wire`] | frames, values and codecs: `[type, id, content]` as MsgPack or JSON, exactly as aiomas writes them |
//! | 2 | `error` | [`Error`], [`RemoteError`], [`CallError`] |
//! | 3 | [`channel`] | requests and replies over one connection, matched by id, in both directions |
//! | 4 | `rpc` | calling the peer: [`Proxy`], typed proxies, [`Args`], [`Kwargs`], [`ServiceRef`] |
//! | 5 | `service` | [`Service`], [`Router`], dispatch, [`ServiceDict`]; what `#[service]` generates plugs in here |
//! | 6 | `net` | [`Addr`], [`Connection`], [`Server`]: TCP and Unix sockets |
//! | 7 | `__private` | what generated code names (hidden) |
//!
//! A lower layer that needs something of a higher one gets it through a seam: the codec scope
//! carries an opaque per-connection context that the RPC layer sets and downcasts (to bind
//! received service references), and the channel hands requests to a handler trait that the
//! service layer implements.
//!
//! # aiomas, element by element
//!
//! | aiomas | here |
//! |---|---|
//! | `open_connection(addr, rpc_service=..., **kwds)` | [`open_connection`]`(addr)`; [`Connection::builder`]`().serve(router).codec(..).connect(addr)` |
//! | `start_server(addr, rpc_service, client_connected_cb)` | [`start_server`]`(addr, router)`; [`Server::builder`]`(router).on_connect(..).bind(addr)` |
//! | `RpcClient` | [`Connection`] (one side of a connection; either side) |
//! | `rpc_service_process(rpc_client, router, channel)` | runs inside the connection when it serves a router |
//! | `expose(func)`, `Service.expose`, `Router.expose` | `#[expose]` on a method of a `#[service]` impl |
//! | `Service(['eggs'])` | `#[sub_router]` on the field `eggs` of a `#[service]` struct |
//! | `ServiceDict(dict)`, `.dict`, `.router` | [`ServiceDict`] ([`ServiceDict::names`]; `Router::new(dict)`) |
//! | `Router.obj`, `.name`, `.parent`, `.path` | [`Router::service`], [`Router::name`], [`Router::parent`], [`Router::path`] |
//! | `Router.resolve(path)` | [`Router::resolve`] |
//! | `Router.add(name)`, `Router.set_sub_router(router, name)` | [`ServiceExt::with_sub_router`]; [`ServiceDict::with_sub_router`] for a dictionary |
//! | `RpcClient.channel`, `.service`, `.remote` | [`Connection::channel`], [`Connection::service`], [`Connection::remote`] |
//! | `RpcClient.on_connection_reset(cb)`, `.close()` | [`Connection::on_connection_reset`] / [`Connection::clear_connection_reset`], [`Connection::close`] (and [`Connection::drain`]) |
//! | `Proxy(channel, path)`, `proxy.name`, `proxy(*args, **kwargs)` | [`Proxy::new`], [`Proxy::get`], [`Proxy::call`] / [`Proxy::call_kw`]; typed proxies from `#[service]` |
//! | `RemoteException(origin, remote_traceback)` | [`RemoteError`] ([`origin`](RemoteError::origin), [`text`](RemoteError::text), plus [`kind`](RemoteError::kind) and [`message`](RemoteError::message)), inside [`Error::Remote`] |
//! | `channel.Channel`, `codecs.JSON`, `codecs.MsgPack` | [`Channel`], [`Codec::json`], [`Codec::msgpack`] |
//! | `codecs.MsgPackBlosc` | `Codec::msgpack_blosc` (feature `msgpack-blosc`) |

mod error;

pub mod wire;

pub mod channel;

mod rpc;

mod service;

mod net;

#[doc(hidden)]
pub mod __private;

pub use crate::channel::{
    Channel, ChannelBuilder, DEFAULT_DRAIN_TIMEOUT, DEFAULT_WRITE_STALL_TIMEOUT,
};
pub use crate::error::{CallError, Error, ErrorFormat, RemoteError};
/// TLS for servers and clients, with rustls (feature `tls`, off by default).
#[cfg(feature = "tls")]
pub use crate::net::tls;
pub use crate::net::{
    open_connection, start_server, Addr, BoxIoStream, Connection, ConnectionBuilder, IoStream,
    Server, ServerBuilder, ToAddr, DEFAULT_BACKLOG, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_IN_FLIGHT_TOTAL,
};
pub use crate::rpc::{Args, IntoArg, Kwargs, NoKwargs, Null, Proxy, ServiceRef, TypedProxy};
pub use crate::service::{
    Call, CallContext, DynCall, Outcome, Resolved, Router, Service, ServiceDict, ServiceExt,
    TypedService, WithSubRouters,
};
pub use crate::wire::codec::{Codec, CodecKind, Custom};
pub use crate::wire::{Blob, CodecError, Value};

/// `serde_bytes::ByteBuf`: a `Vec<u8>` that travels as msgpack `bin` (Python `bytes`).
pub use serde_bytes::ByteBuf;

/// `Result<T, rpc_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Makes a struct and its impl block a service: `#[service]` goes on both. Or declares an
/// interface: `#[service]` on a trait and on each implementation of it (see
/// [below](#on-a-trait-one-interface-for-both-sides)).
///
/// On the **struct**, fields marked `#[sub_router]` become child services, reachable as path
/// segments (`"sub/mul"`) under the field's name or under `#[sub_router(name = "...")]`. It
/// generates:
///
/// - the struct itself, without the helper attributes;
/// - `<Name>Proxy`, the typed proxy, with the struct's visibility: `Clone`, `Debug`,
///   `From<Proxy>`, [`TypedProxy`] and `Deserialize` (a service reference sent by the peer can be
///   received as a typed proxy), and one accessor per sub-router, named like the field, returning
///   the child's typed proxy;
/// - [`TypedService`] for the struct, naming that proxy.
///
/// On the **impl block**, methods marked `#[expose]` (or `#[expose(name = "...")]`) become
/// callable by the peer; other methods are not reachable (`LookupError: "Calc.hidden" is not
/// exposed`). It generates:
///
/// - the impl block itself, without the helper attributes;
/// - [`Service`] for the type, with a `match` on the wire names that decodes each argument
///   straight from the request, positionally or by keyword as Python allows; an `Option<T>`
///   parameter may be left out;
/// - one async method on the typed proxy per exposed method, with the same name (`pub`: the
///   proxy type's visibility bounds it), taking for each
///   parameter of type `T` an [`impl IntoArg<T>`](IntoArg) (a `T`, a [`ServiceRef`] where
///   `T` is a proxy, [`Null`] where `T` is an `Option`) and returning `Result<T, Error>`.
///
/// **`None` means "use the default".** A proxy method leaves out a parameter spelled
/// `Option<...>` that is `None`, so that a Python peer applies its default (`mul(4, None)`
/// calls `def mul(a, b=2)` as `mul(4)`). Parameters before the first one left out go
/// positionally; those after it that are sent go by keyword, so that a gap never shifts a
/// later argument onto the wrong parameter (`f(1, None, Some(3))` sends `f(1, c=3)`). With
/// surplus positional arguments (`#[args]`, non-empty) nothing can be left out, and a `None`
/// is sent as `null`. To send `None` itself, pass [`Null`]. A Rust service reads a left-out
/// `Option` parameter as `None`, so for it the two are the same.
///
/// An exposed method takes `&self` (keep changing state behind a `Mutex` or an atomic), may be
/// `async`, and returns `T: Serialize`, `()` or `Result<T, E>`. An asynchronous method's future
/// borrows the service: it runs on the connection, which owns the service tree for as long as it
/// lives, so nothing is looked up again when it resumes and a service wrapped in another
/// [`Service`] works the same. An error `E` reaches the caller as `"<Kind>: <message>"`: an
/// error that converts into [`CallError`] keeps its kind and message; any other is named by its
/// type, with its `Display` as the message. A panic is answered as `Panic: <message>`.
///
/// **Bounds.** Serving needs each parameter type to be `DeserializeOwned` and each result type
/// `Serialize`, and nothing else: a parameter that is only `Deserialize` and a result that is
/// only `Serialize` compile and serve. The typed proxy adds no bound at its definition: an
/// argument must be `Serialize` (through [`IntoArg`]) and a result `DeserializeOwned` only
/// where that proxy method is called, and the compiler says so there.
///
/// Names are checked across the struct and the impl block at compile time: an exposed method
/// and a sub-router may share neither a wire name nor a name on the typed proxy, and a type has
/// one `#[service]` impl block (put every exposed method in it; other impl blocks are free).
///
/// `#[service(crate = "path")]` (on both items) names rpc-core where the dependency is renamed;
/// the helper attributes are then written `#[expose]` or `#[path::expose]` (likewise the others).
///
/// Parameter attributes: `#[context]` on a [`CallContext`] parameter gives the caller's
/// connection and the router reached (not on the wire); `#[args]` collects the surplus
/// positional arguments (a `Vec<Value>` or any sequence) and `#[kwargs]` the surplus keyword
/// arguments (a map, or a struct that deserializes from one).
///
/// ```
/// use std::collections::BTreeMap;
/// use rpc_core::{service, CallContext, Value};
///
/// #[service]
/// struct Calc {
///     #[sub_router(name = "stats")]
///     statistics: Stats,
/// }
///
/// #[service]
/// impl Calc {
///     #[expose]
///     fn add(&self, a: i64, b: Option<i64>) -> i64 {
///         a + b.unwrap_or(1)
///     }
///
///     #[expose(name = "sum")]
///     fn sum_all(&self, #[args] rest: Vec<i64>, #[kwargs] _opts: BTreeMap<String, Value>) -> i64 {
///         rest.iter().sum()
///     }
///
///     #[expose]
///     async fn whoami(&self, #[context] cx: CallContext) -> String {
///         cx.peer().to_owned()
///     }
/// }
///
/// #[service]
/// struct Stats;
///
/// #[service]
/// impl Stats {}
///
/// // `CalcProxy::add(&self, a: impl IntoArg<i64>, b: impl IntoArg<Option<i64>>) -> Result<i64, Error>`,
/// // `CalcProxy::statistics(&self) -> StatsProxy`, ...
/// fn _uses(calc: CalcProxy) -> StatsProxy {
///     calc.statistics()
/// }
/// ```
///
/// # On a trait: one interface for both sides
///
/// `#[service]` on a **trait** declares an interface: what a service offers, with its wire
/// names and sub-routers, and nothing about who implements it. A client crate gets a typed
/// proxy from it, usable against any aiomas peer (a Python one included); a server crate
/// implements it on its own type with `#[service] impl Trait for Type`. It generates:
///
/// - the trait, with [`Service`] as a supertrait, each `async fn` declared as returning
///   `impl Future<Output = T> + Send` (an implementation writes `async fn` as usual), and a hidden
///   provided item that dispatches calls to the implementation;
/// - `<Trait>Proxy`, the typed proxy, as for a struct: one async method per method, one
///   accessor per sub-router (all with the trait's visibility), [`TypedProxy`], `Deserialize`.
///
/// Every method of the trait is exposed (`#[expose(name = "...")]` renames one on the wire);
/// a method has no body. A sub-router is a method `#[sub_router] fn child(&self) -> &impl
/// ChildTrait;` (its proxy is `ChildTraitProxy`) or `-> &Child` for a service type (its proxy is
/// `<Child as TypedService>::Proxy`). `#[context]`, `#[args]` and `#[kwargs]` go on the trait's
/// parameters, the bounds and the `None` rule are those above.
///
/// `#[service] impl Trait for Type` implements [`Service`] and [`TypedService`] (with
/// `<Trait>Proxy`) for `Type` by forwarding to the trait, so the implementation is an ordinary
/// trait impl: the compiler reports a missing method, an extra one or a signature that differs
/// from the trait. Attributes of the interface (`#[expose]`, `#[sub_router]`, `#[context]`, ...)
/// go on the trait only; on the impl they are an error.
///
/// ```
/// use rpc_core::{service, start_server, CallError, Connection, Router};
///
/// // In a crate both sides depend on:
/// #[service]
/// pub trait Calc {
///     /// `b` defaults to 1 (a Python peer would write `def add(self, a, b=1)`).
///     fn add(&self, a: i64, b: Option<i64>) -> i64;
///     /// Divides; dividing by zero is an error reply.
///     async fn div(&self, a: i64, b: i64) -> Result<i64, CallError>;
///     /// The `scale` sub-router.
///     #[sub_router]
///     fn scale(&self) -> &impl Scale;
/// }
///
/// #[service]
/// pub trait Scale {
///     /// Multiplies.
///     fn mul(&self, a: i64, b: i64) -> i64;
/// }
///
/// // In the server crate:
/// struct MyCalc(MyScale);
/// struct MyScale;
///
/// #[service]
/// impl Calc for MyCalc {
///     fn add(&self, a: i64, b: Option<i64>) -> i64 {
///         a + b.unwrap_or(1)
///     }
///     async fn div(&self, a: i64, b: i64) -> Result<i64, CallError> {
///         a.checked_div(b).ok_or_else(|| CallError::new("ZeroDivisionError", "division by zero"))
///     }
///     fn scale(&self) -> &impl Scale {
///         &self.0
///     }
/// }
///
/// #[service]
/// impl Scale for MyScale {
///     fn mul(&self, a: i64, b: i64) -> i64 {
///         a * b
///     }
/// }
///
/// // In the client crate (the server may as well be Python's):
/// # #[tokio::main]
/// # async fn main() -> Result<(), rpc_core::Error> {
/// # let server = start_server("127.0.0.1:0", Router::new(MyCalc(MyScale))).await?;
/// let conn = Connection::builder().connect(server.local_addr()).await?;
/// let calc = conn.proxy::<CalcProxy>();
/// assert_eq!(calc.add(2, None).await?, 3); // `b` left out: the peer's default applies
/// assert_eq!(calc.scale().mul(3, 4).await?, 12);
/// let err = calc.div(1, 0).await.unwrap_err();
/// assert_eq!(err.remote().unwrap().kind(), "ZeroDivisionError");
/// # conn.close().await;
/// # server.drain().await;
/// # Ok(())
/// # }
/// ```
///
/// Mistakes are reported at the offending token, saying what to write instead:
///
/// ```compile_fail
/// # use rpc_core::service;
/// #[service]
/// struct Counter;
///
/// #[service]
/// impl Counter {
///     #[expose]
///     fn bump(&mut self) {} // an exposed method takes `&self`: write `&self` ...
/// }
/// ```
///
/// ```compile_fail
/// # use rpc_core::service;
/// #[service]
/// struct Greeter;
///
/// #[service]
/// impl Greeter {
///     #[expose]
///     fn greet(&self, name: &str) -> String { // arguments are decoded into owned values ...
///         format!("hello {name}")
///     }
/// }
/// ```
///
/// ```compile_fail
/// # use rpc_core::service;
/// #[service]
/// trait Calc {
///     fn add(&self, a: i64, b: i64) -> i64;
/// }
///
/// struct MyCalc;
///
/// #[service]
/// impl Calc for MyCalc {
///     #[expose] // the trait declares what is exposed: remove this attribute here ...
///     fn add(&self, a: i64, b: i64) -> i64 {
///         a + b
///     }
/// }
/// ```
///
/// ```compile_fail
/// # use rpc_core::service;
/// #[service]
/// struct Tree {
///     #[sub_router]
///     leaf: u32, // `u32` is not a service
/// }
/// # #[service]
/// # impl Tree {}
/// ```
#[cfg(feature = "macros")]
pub use rpc_macros::service;

/// Exposes a method of a `#[service]` impl block, or renames one of a `#[service]` trait; see
/// [`service`](macro@service). Elsewhere it is an error.
#[cfg(feature = "macros")]
pub use rpc_macros::expose;

/// Marks a field of a `#[service]` struct, or a method of a `#[service]` trait, as a child
/// service; see [`service`](macro@service). Elsewhere it is an error.
#[cfg(feature = "macros")]
pub use rpc_macros::sub_router;

/// The README's example, compiled and run as a doctest so that it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
