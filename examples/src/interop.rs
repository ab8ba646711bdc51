//! The service tree that the aiomas interop tests talk to, shared by the `interop_server`
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

use std::any::Any;
use std::borrow::Cow;
use std::time::Duration;

use rpc_core::service::{Call, Member, Outcome};
use rpc_core::{CallError, DynCall, Proxy, Router, Service, ServiceDict, Value};

fn int(c: &DynCall, index: usize, name: &str) -> Result<i64, CallError> {
    c.arg::<i64>(index, name)
}

fn checked(r: Option<i64>) -> Result<i64, CallError> {
    r.ok_or_else(|| CallError::new("OverflowError", "integer overflow"))
}

/// The root of the interop tree: a [`ServiceDict`] plus one method, `hidden`, that exists but is
/// not exposed (a `ServiceDict` cannot express that, so the node says so itself).
struct InteropServer {
    dict: ServiceDict,
}

impl Service for InteropServer {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("InteropServer")
    }
    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        Service::sub_router(&self.dict, name)
    }
    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        self.dict.sub_router_names()
    }
    fn member(&self, name: &str) -> Member {
        match name {
            "hidden" => Member::Hidden,
            _ => self.dict.member(name),
        }
    }
    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        self.dict.exposed_names()
    }
    fn call(&self, name: &str, call: Call<'_>) -> Option<Outcome> {
        self.dict.call(name, call)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The `sub/deep` node.
fn deep() -> ServiceDict {
    ServiceDict::new().function("square", |c: DynCall| {
        let x = int(&c, 0, "x")?;
        checked(x.checked_mul(x))
    })
}

/// The `sub` node.
fn sub() -> ServiceDict {
    ServiceDict::new()
        .function("mul", |c: DynCall| {
            checked(int(&c, 0, "a")?.checked_mul(int(&c, 1, "b")?))
        })
        .sub_router("deep", deep())
}

/// The whole interop tree, ready to serve.
pub fn router() -> Router {
    let dict = ServiceDict::new()
        .function("add", |c: DynCall| {
            checked(int(&c, 0, "a")?.checked_add(int(&c, 1, "b")?))
        })
        .function("fail", |c: DynCall| -> Result<Value, CallError> {
            Err(CallError::value_error(c.arg::<String>(0, "msg")?))
        })
        .function("echo", |c: DynCall| c.arg::<Value>(0, "value"))
        .function("echo_types", |c: DynCall| {
            let kwargs = c
                .kwargs()
                .iter()
                .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
                .collect();
            Ok(Value::Array(vec![
                Value::Array(c.args().to_vec()),
                Value::Map(kwargs),
            ]))
        })
        .async_function("sleep_add", |c: DynCall| async move {
            let (a, b, ms) = (int(&c, 0, "a")?, int(&c, 1, "b")?, c.arg::<u64>(2, "ms")?);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            checked(a.checked_add(b))
        })
        .async_function("slow_add", |c: DynCall| async move {
            tokio::task::yield_now().await;
            checked(int(&c, 0, "a")?.checked_add(int(&c, 1, "b")?))
        })
        .async_function("call_me_back", |c: DynCall| async move {
            let proxy: Proxy = c.arg(0, "proxy")?;
            let name: String = proxy.get("get_name").call(()).await?;
            Ok(format!("hello {name}"))
        })
        .function("panic", |_: DynCall| -> Result<Value, CallError> {
            panic!("panic() was called")
        })
        .async_function("hang_up", |c: DynCall| async move {
            c.context().channel().close().await;
            Ok(Value::Nil)
        })
        .sub_router("sub", sub());
    Router::new(InteropServer { dict })
}
