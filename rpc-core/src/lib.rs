//! An RPC framework for Rust that speaks [aiomas](https://aiomas.readthedocs.io)'s wire protocol
//! byte for byte: services are plain structs whose `#[expose]`d methods are reachable by path
//! (`"eggs/spam"`), services nest as sub-routers, both ends of one connection can serve and call
//! at once, and a Python aiomas program can be either peer.
//!
//! ```
//! use rpc_core::{service, open_connection, start_server, CallContext, Options, Router, RpcError};
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
//!     async fn greet(&self, #[context] cx: CallContext) -> Result<String, RpcError> {
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
//!     fn mul(&self, a: i64, b: Option<i64>) -> Result<i64, rpc_core::CallError> {
//!         a.checked_mul(b.unwrap_or(2))
//!             .ok_or_else(|| rpc_core::CallError::value_error("overflow"))
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = start_server("127.0.0.1:0", Router::new(Calculator::default()), None, Options::new()).await?;
//!
//!     // The client serves something too, so that the server can call it back.
//!     let mine = rpc_core::ServiceDict::new().function("name", |_| Ok("client"));
//!     let client = open_connection(server.local_addr(), Some(Router::new(mine)), Options::new()).await?;
//!
//!     let calc = client.proxy::<CalculatorProxy>();
//!     assert_eq!(calc.add(1, 2).await?, 3);                 // typed
//!     assert_eq!(calc.scale().mul(3, Some(5)).await?, 15);  // typed, through a sub-router
//!     let six: i64 = client.remote().get("scale").get("mul").call((3,)).await?; // by name
//!     assert_eq!(six, 6);
//!     assert_eq!(calc.greet().await?, "hello client");      // a call back
//!
//!     let err = calc.scale().mul(i64::MAX, None).await.unwrap_err();
//!     let remote = err.as_remote().unwrap();
//!     assert_eq!((remote.kind.as_str(), remote.message.as_str()), ("ValueError", "overflow"));
//!
//!     client.close().await;
//!     server.drain().await;
//!     Ok(())
//! }
//! ```
//!
//! # The layers
//!
//! | module | what it does |
//! |---|---|
//! | [`frame`] | u32 big-endian length prefix, with a maximum checked before any allocation |
//! | [`codec`] | `[type, id, content]` as MsgPack or JSON, exactly as aiomas writes them |
//! | [`channel`] | requests and replies over one connection, matched by id, in both directions |
//! | [`service`](mod@service) | services, routers and paths; what `#[service]` generates plugs in here |
//! | [`client`], [`server`] | [`RpcClient`], [`open_connection`], [`start_server`] |
//! | [`transport`] | TCP and Unix sockets under one address syntax |
//!
//! # aiomas, element by element
//!
//! | aiomas | here |
//! |---|---|
//! | `open_connection(addr, rpc_service=...)` | [`open_connection`]`(addr, Some(router), options)` |
//! | `start_server(addr, rpc_service, client_connected_cb)` | [`start_server`]`(addr, router, Some(callback), options)` |
//! | `rpc_service_process(rpc_client, router, channel)` | started by [`RpcClient::new`] when it has a service |
//! | `expose(func)`, `Service.expose`, `Router.expose` | `#[expose]` on a method of a `#[service]` impl |
//! | `Service(['eggs'])` | `#[sub_router]` on the field `eggs` of a `#[service]` struct |
//! | `ServiceDict(dict)`, `.dict`, `.router` | [`ServiceDict`] ([`ServiceDict::names`]; `Router::new(dict)`) |
//! | `Router.obj`, `.name`, `.parent`, `.path` | [`Router::service`], [`Router::name`], [`Router::parent`], [`Router::path`] |
//! | `Router.resolve(path)` | [`Router::resolve`] |
//! | `Router.add(name)`, `Router.set_sub_router(router, name)` | [`ServiceExt::with_sub_router`] |
//! | `RpcClient.channel`, `.service`, `.remote` | [`RpcClient::channel`], [`RpcClient::service`], [`RpcClient::remote`] |
//! | `RpcClient.on_connection_reset(cb)`, `.close()` | [`RpcClient::on_connection_reset`], [`RpcClient::close`] |
//! | `Proxy(channel, path)`, `proxy.name`, `proxy(*args, **kwargs)` | [`Proxy::new`], [`Proxy::get`], [`Proxy::call`] / [`Proxy::call_kw`]; typed proxies from `#[service]` |
//! | `RemoteException(origin, remote_traceback)` | [`RemoteError`] (`origin`, `text`, plus `kind` and `message`) |

pub mod channel;
pub mod client;
pub mod codec;
mod dict;
pub mod error;
pub mod frame;
mod inline;
mod proxy;
pub mod server;
pub mod service;
pub mod transport;
mod value;

pub use channel::{Channel, IncomingRequest, Reply};
pub use client::{open_connection, ConnectError, NoServiceTask, Options, RpcClient};
pub use codec::{Codec, CodecKind, Custom};
pub use dict::{DynCall, ServiceDict};
pub use error::{CallError, ChannelError, CodecError, ErrorKind, RemoteError, RpcError};
pub use proxy::{Args, IntoArg, Kwargs, NoKwargs, Proxy, ServiceRef, TypedProxy};
pub use server::{start_server, Server};
pub use service::{CallContext, Router, Service, ServiceExt, TypedService};
pub use transport::Addr;
pub use value::Value;

/// `serde_bytes::ByteBuf`: a `Vec<u8>` that travels as msgpack `bin` (Python `bytes`).
pub use serde_bytes::ByteBuf;

/// Makes a struct and its impl block a service: `#[service]` goes on both.
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
/// - one async method on the typed proxy per exposed method, with the same name and argument
///   types (minus `#[context]`), returning `Result<T, RpcError>`.
///
/// An exposed method takes `&self` (keep changing state behind a `Mutex` or an atomic), may be
/// `async`, and returns `T: Serialize`, `()` or `Result<T, E>`. An error `E` reaches the caller
/// as `"<Kind>: <message>"`: an error that converts into [`CallError`] keeps its kind and
/// message; otherwise the kind comes from [`ErrorKind`] if implemented, else it is the type's
/// name, and the message is its `Display`. A panic is answered as `Panic: <message>`.
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
/// // `CalcProxy::add(&self, a: i64, b: Option<i64>) -> Result<i64, RpcError>`,
/// // `CalcProxy::statistics(&self) -> StatsProxy`, ...
/// fn _uses(calc: CalcProxy) -> StatsProxy {
///     calc.statistics()
/// }
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
/// struct Tree {
///     #[sub_router]
///     leaf: u32, // `u32` is not a service
/// }
/// # #[service]
/// # impl Tree {}
/// ```
#[cfg(feature = "macros")]
pub use rpc_macros::service;

/// Exposes a method of a `#[service]` impl block; see [`service`](macro@service). Elsewhere it is an error.
#[cfg(feature = "macros")]
pub use rpc_macros::expose;

/// Marks a field of a `#[service]` struct as a child service; see [`service`](macro@service). Elsewhere it is an
/// error.
#[cfg(feature = "macros")]
pub use rpc_macros::sub_router;

#[doc(hidden)]
pub mod __private;

/// The README's example, compiled and run as a doctest so that it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
