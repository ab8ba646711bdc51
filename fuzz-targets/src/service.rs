//! The service the live targets talk to: one method per kind of signature `#[service]` accepts.
//!
//! | path | signature |
//! |---|---|
//! | `add(a, b)` | two positional `i64`, wrapping sum |
//! | `opt(a, b=None, c=None)` | `Option` parameters that may be left out |
//! | `text(s, n)` | `String` and `u8` |
//! | `both(a, *args, **kwargs)` | `#[args]` and `#[kwargs]` as a `Vec` and a map |
//! | `kw(**opts)` | `#[kwargs]` into a struct |
//! | `div(a, b)` | `Result<i64, CallError>` |
//! | `fails(msg)` | `Result<(), E>` with the user's own error type |
//! | `pick(choice)` | a serde enum |
//! | `nested(v, m)` | nested collections, tuples and floats |
//! | `bytes(b)` | a `ByteBuf` |
//! | `echo(v)` | a `Value`, returned unchanged |
//! | `nothing()` | no parameter, returns `()` |
//! | `boom(code)` | panics on `13` with [`DELIBERATE_PANIC`](crate::DELIBERATE_PANIC) |
//! | `later(a, ms)` | async: sleeps (paused clock), then `a` |
//! | `later_fail(ok)` | async, `Result<String, CallError>` |
//! | `sub/mul(a, b=None)` | a sub-router, `f64` |
//! | `sub/sum(*xs)` | async, `#[args]` of `i64` |
//! | `sub/leaf/ping()` | a sub-router of a sub-router |
//! | `dict/add(a, b)`, `dict/count(...)` | a `ServiceDict` mounted beside the typed tree |

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use rpc_core::{service, ByteBuf, CallError, DynCall, Router, ServiceDict, ServiceExt, Value};
use serde::Deserialize;

#[service]
#[derive(Debug, Default)]
pub(crate) struct Target {
    #[sub_router]
    sub: Sub,
}

/// Options collected by `kw(**opts)`.
#[derive(Debug, Deserialize)]
pub(crate) struct Opts {
    x: Option<i64>,
    #[serde(default)]
    y: String,
}

/// What `pick` takes.
#[derive(Debug, Deserialize)]
pub(crate) enum Choice {
    A,
    B(i64),
    C { x: String },
}

/// The user's own error type, named by its type on the wire.
#[derive(Debug)]
pub(crate) struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

impl std::error::Error for Refused {}

#[service]
impl Target {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    #[expose]
    fn opt(&self, a: i64, b: Option<i64>, c: Option<String>) -> (i64, Option<i64>, usize) {
        (a, b, c.map_or(0, |c| c.len()))
    }

    #[expose]
    fn text(&self, s: String, n: u8) -> String {
        s.repeat(usize::from(n % 4))
    }

    #[expose]
    fn both(
        &self,
        a: i64,
        #[args] rest: Vec<Value>,
        #[kwargs] kw: BTreeMap<String, Value>,
    ) -> (i64, usize, usize) {
        (a, rest.len(), kw.len())
    }

    #[expose]
    fn kw(&self, #[kwargs] opts: Opts) -> (Option<i64>, String) {
        (opts.x, opts.y)
    }

    #[expose]
    fn div(&self, a: i64, b: i64) -> Result<i64, CallError> {
        a.checked_div(b)
            .ok_or_else(|| CallError::value_error("division by zero or overflow"))
    }

    #[expose]
    fn fails(&self, msg: String) -> Result<(), Refused> {
        Err(Refused(msg))
    }

    #[expose]
    fn pick(&self, choice: Choice) -> i64 {
        match choice {
            Choice::A => 0,
            Choice::B(n) => n,
            Choice::C { x } => x.len() as i64,
        }
    }

    #[expose]
    fn nested(&self, v: Vec<Vec<Option<f64>>>, m: HashMap<String, (i64, bool)>) -> usize {
        v.iter().map(Vec::len).sum::<usize>() + m.len()
    }

    #[expose]
    fn bytes(&self, b: ByteBuf) -> usize {
        b.len()
    }

    #[expose]
    fn echo(&self, v: Value) -> Value {
        v
    }

    #[expose]
    fn nothing(&self) {}

    #[expose]
    fn boom(&self, code: i64) -> i64 {
        if code == 13 {
            std::panic::panic_any(crate::DELIBERATE_PANIC);
        }
        code
    }

    #[expose]
    async fn later(&self, a: i64, ms: u16) -> i64 {
        tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
        a
    }

    #[expose]
    async fn later_fail(&self, ok: bool) -> Result<String, CallError> {
        tokio::task::yield_now().await;
        if ok {
            Ok("fine".into())
        } else {
            Err(CallError::new("RuntimeError", "not fine"))
        }
    }
}

#[service]
#[derive(Debug, Default)]
pub(crate) struct Sub {
    #[sub_router]
    leaf: Leaf,
}

#[service]
impl Sub {
    #[expose]
    fn mul(&self, a: f64, b: Option<f64>) -> f64 {
        a * b.unwrap_or(2.0)
    }

    #[expose]
    async fn sum(&self, #[args] xs: Vec<i64>) -> i64 {
        tokio::task::yield_now().await;
        xs.iter().fold(0i64, |s, x| s.wrapping_add(*x))
    }
}

#[service]
#[derive(Debug, Default)]
pub(crate) struct Leaf;

#[service]
impl Leaf {
    #[expose]
    fn ping(&self) -> String {
        "pong".into()
    }
}

/// The whole tree: the typed service with a `ServiceDict` mounted as `dict`.
pub(crate) fn router() -> Router {
    let dict = ServiceDict::new()
        .function("add", |c: DynCall| {
            Ok(c.arg::<i64>(0, "a")?.wrapping_add(c.arg::<i64>(1, "b")?))
        })
        .function(
            "count",
            |c: DynCall| Ok(c.args()?.len() + c.kwargs()?.len()),
        );
    Router::new(Target::default().with_sub_router("dict", dict))
}

/// The wire paths of the tree, and a few that lead nowhere.
pub(crate) const PATHS: [&str; 24] = [
    "add",
    "opt",
    "text",
    "both",
    "kw",
    "div",
    "fails",
    "pick",
    "nested",
    "bytes",
    "echo",
    "nothing",
    "boom",
    "later",
    "later_fail",
    "sub/mul",
    "sub/sum",
    "sub/leaf/ping",
    "dict/add",
    "dict/count",
    "sub",
    "nowhere",
    "sub/leaf/ping/deeper",
    "",
];

/// Parameter names, for keyword arguments.
pub(crate) const KEYS: [&str; 16] = [
    "a", "b", "c", "s", "n", "x", "y", "v", "m", "msg", "choice", "ms", "ok", "code", "xs", "A",
];
