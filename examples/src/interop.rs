//! The `#[service]` tree that the aiomas interop tests talk to, shared by the `interop_server`
//! example and the test harness (which runs it in-process).
//!
//! | path | does |
//! |---|---|
//! | `add(a, b)` | `a + b` |
//! | `fail(msg)` | fails with `ValueError: msg` |
//! | `echo(value)` | returns `value` unchanged |
//! | `echo_types(*args, **kwargs)` | returns `[args, kwargs]` (the captured `echo_types` vector) |
//! | `sleep_add(a, b, ms)` | waits `ms` milliseconds, then `a + b` |
//! | `slow_add(a, b)` | `a + b` from an async handler (the captured pipelining vector) |
//! | `call_me_back(proxy)` | `"hello " + proxy.get_name()` |
//! | `panic()` | panics; the caller gets an error reply and the server goes on |
//! | `hang_up()` | closes the caller's connection while the call is pending |
//! | `hidden()` | exists but is not exposed |
//! | `sub/mul(a, b)` | `a * b` |
//! | `sub/deep/square(x)` | `x * x` |

use std::time::Duration;

use rpc_core::{
    service, CallContext, CallError, Codec, Error, Proxy, Router, Value, DEFAULT_MAX_CONNECTIONS,
};

fn overflow() -> CallError {
    CallError::new("OverflowError", "integer overflow")
}

/// The root of the interop tree.
#[service]
#[derive(Debug, Default)]
pub struct InteropServer {
    #[sub_router]
    sub: Sub,
}

#[service]
impl InteropServer {
    /// `a + b`.
    #[expose]
    fn add(&self, a: i64, b: i64) -> Result<i64, CallError> {
        a.checked_add(b).ok_or_else(overflow)
    }

    /// Fails with `ValueError: msg`.
    #[expose]
    fn fail(&self, msg: String) -> Result<(), CallError> {
        Err(CallError::value_error(msg))
    }

    /// Returns `value` unchanged.
    #[expose]
    fn echo(&self, value: Value) -> Value {
        value
    }

    /// `[args, kwargs]`, as the capture's `echo(*args, **kwargs)`.
    #[expose]
    fn echo_types(&self, #[args] args: Vec<Value>, #[kwargs] kwargs: Value) -> Value {
        Value::Array(vec![Value::Array(args), kwargs])
    }

    /// Waits `ms` milliseconds, then `a + b`.
    #[expose]
    async fn sleep_add(&self, a: i64, b: i64, ms: u64) -> Result<i64, CallError> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        a.checked_add(b).ok_or_else(overflow)
    }

    /// `a + b` from an async handler (the capture's pipelining scenario).
    #[expose]
    async fn slow_add(&self, a: i64, b: i64) -> Result<i64, CallError> {
        tokio::task::yield_now().await;
        a.checked_add(b).ok_or_else(overflow)
    }

    /// Calls `get_name()` on the service the caller passed, over the same connection.
    #[expose]
    async fn call_me_back(&self, proxy: Proxy) -> Result<String, Error> {
        let name: String = proxy.get("get_name").call(()).await?;
        Ok(format!("hello {name}"))
    }

    /// Panics; the caller gets an error reply and the server goes on.
    #[expose]
    fn panic(&self) -> i64 {
        panic!("panic() was called")
    }

    /// Closes the caller's connection while this call is pending.
    #[expose]
    async fn hang_up(&self, #[context] cx: CallContext) {
        cx.channel().close().await;
    }

    /// Exists, but is not exposed: the peer gets aiomas's "is not exposed" error.
    #[allow(dead_code)]
    fn hidden(&self) -> &'static str {
        "not reachable over RPC"
    }
}

/// The `sub` node.
#[service]
#[derive(Debug, Default)]
pub struct Sub {
    #[sub_router]
    deep: Deep,
}

#[service]
impl Sub {
    /// `a * b`.
    #[expose]
    fn mul(&self, a: i64, b: i64) -> Result<i64, CallError> {
        a.checked_mul(b).ok_or_else(overflow)
    }
}

/// The `sub/deep` node.
#[service]
#[derive(Debug, Default)]
pub struct Deep {}

#[service]
impl Deep {
    /// `x * x`.
    #[expose]
    fn square(&self, x: i64) -> Result<i64, CallError> {
        x.checked_mul(x).ok_or_else(overflow)
    }
}

/// The whole interop tree, ready to serve.
pub fn router() -> Router {
    Router::new(InteropServer::default())
}

/// How `interop_server` is called.
pub const USAGE: &str =
    "usage: interop_server --addr HOST:PORT|unix:PATH --codec msgpack|json|msgpack-blosc [--max-connections N]";

/// What the command line of `interop_server` asks for.
#[derive(Debug)]
pub struct ServerArgs {
    /// `--addr`: where to listen.
    pub addr: String,
    /// `--codec`: MsgPack unless `json` or `msgpack-blosc`.
    pub codec: Codec,
    /// `--max-connections`: [`DEFAULT_MAX_CONNECTIONS`] unless given.
    pub max_connections: usize,
}

impl ServerArgs {
    /// Parses the arguments after the program name. The error says what was wrong, or is empty
    /// for `--help`.
    ///
    /// # Errors
    /// A missing `--addr`, an unknown argument or codec, a `--max-connections` that is not a
    /// positive integer.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut addr = None;
        let mut codec = Codec::msgpack();
        let mut max_connections = DEFAULT_MAX_CONNECTIONS;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or(format!("{key} needs a value"))
            };
            match key.as_str() {
                "--addr" => addr = Some(value()?),
                "--codec" => {
                    codec = match value()?.as_str() {
                        "msgpack" => Codec::msgpack(),
                        "json" => Codec::json(),
                        "msgpack-blosc" => Codec::msgpack_blosc(),
                        other => return Err(format!("unknown codec {other:?}")),
                    }
                }
                "--max-connections" => {
                    let v = value()?;
                    max_connections = match v.parse::<usize>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(format!(
                                "--max-connections needs a positive integer, got {v:?}"
                            ))
                        }
                    }
                }
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(ServerArgs {
            addr: addr.ok_or("--addr is required")?,
            codec,
            max_connections,
        })
    }
}
