//! `#[service]` end to end: a tree of generated services and a `ServiceDict`, served over TCP,
//! called through typed proxies and the dynamic `Proxy`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use rpc_core::{
    service, start_server, CallContext, CallError, Connection, DynCall, Error, Kwargs, Null, Proxy,
    Router, Server, Service, ServiceDict, ServiceExt, ServiceRef, Value,
};
use serde::{Deserialize, Serialize};

use crate::support::{Defaults, DefaultsProxy};

// ---------------------------------------------------------------------------------------------
// The tree: Root { sub: Sub { deep: Deep }, dict: ServiceDict, eggs: Eggs }

#[service]
struct Root {
    #[sub_router]
    sub: Sub,
    #[sub_router]
    dict: ServiceDict,
    #[sub_router(name = "eggs")]
    e: Eggs,
    hits: AtomicU64,
}

impl Root {
    fn new() -> Self {
        Root {
            sub: Sub::default(),
            dict: ServiceDict::new().function("ping", |_: DynCall| Ok("pong")),
            e: Eggs,
            hits: AtomicU64::new(0),
        }
    }
}

/// An error without a conversion into `CallError`: its kind is its type's name.
#[derive(Debug)]
struct Overflow;

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the result does not fit in an i64")
    }
}

/// An error that converts into `CallError`, which chooses its kind.
#[derive(Debug)]
struct Negative(f64);

impl fmt::Display for Negative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "math domain error: {}", self.0)
    }
}

impl From<Negative> for CallError {
    fn from(e: Negative) -> Self {
        CallError::value_error(e.to_string())
    }
}

/// Keyword arguments collected into a struct.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Opts {
    verbose: bool,
    #[serde(default)]
    level: u8,
}

type Collected = (i64, Vec<Value>, BTreeMap<String, Value>);

#[service]
impl Root {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    #[expose]
    fn greet(&self, name: String, greeting: Option<String>) -> String {
        format!("{} {name}", greeting.as_deref().unwrap_or("hello"))
    }

    #[expose]
    fn count(&self) -> u64 {
        self.hits.fetch_add(1, Ordering::SeqCst) + 1
    }

    #[expose]
    fn reset(&self) {
        self.hits.store(0, Ordering::SeqCst);
    }

    #[expose]
    fn double(&self, x: i64) -> Result<i64, Overflow> {
        x.checked_mul(2).ok_or(Overflow)
    }

    #[expose]
    fn sqrt(&self, x: f64) -> Result<f64, Negative> {
        if x < 0.0 {
            Err(Negative(x))
        } else {
            Ok(x.sqrt())
        }
    }

    #[expose]
    fn collect(
        &self,
        first: i64,
        #[args] rest: Vec<Value>,
        #[kwargs] extra: BTreeMap<String, Value>,
    ) -> Collected {
        (first, rest, extra)
    }

    #[expose]
    fn configure(&self, name: String, #[kwargs] opts: Opts) -> String {
        format!("{name}: verbose={} level={}", opts.verbose, opts.level)
    }

    #[expose]
    async fn slow_add(&self, a: i64, b: i64) -> i64 {
        tokio::task::yield_now().await;
        a + b + self.hits.load(Ordering::SeqCst) as i64
    }

    #[expose(name = "mul")]
    fn multiply(&self, a: i64, b: i64) -> i64 {
        a * b
    }

    #[expose]
    async fn call_back(&self, #[context] cx: CallContext) -> Result<String, Error> {
        let name: String = cx.remote().get("name").call(()).await?;
        Ok(format!("called back {name}"))
    }

    /// Receives a reference to one of the caller's services and calls it.
    #[expose]
    async fn hello_via(&self, them: Proxy) -> Result<String, Error> {
        let name: String = them.get("name").call(()).await?;
        Ok(format!("hello {name}"))
    }

    #[expose]
    fn sub_ref(&self, #[context] cx: CallContext) -> ServiceRef {
        cx.router()
            .sub_router("sub")
            .expect("sub is a sub-router")
            .service_ref()
    }

    #[expose]
    fn panics(&self, message: String) -> i64 {
        panic!("{message}")
    }

    #[expose]
    async fn panics_later(&self) -> i64 {
        tokio::task::yield_now().await;
        panic!("later")
    }

    #[allow(dead_code)]
    fn hidden(&self) {}
}

#[service]
#[derive(Default)]
struct Sub {
    #[sub_router]
    deep: Deep,
}

#[service]
impl Sub {
    #[expose]
    fn name(&self) -> String {
        "sub".to_owned()
    }
}

#[service]
#[derive(Default)]
struct Deep;

#[service]
impl Deep {
    #[expose]
    fn where_am_i(&self, #[context] cx: CallContext) -> String {
        cx.router().path().to_owned()
    }

    #[expose]
    async fn parent_path(&self, #[context] cx: CallContext) -> Option<String> {
        cx.router().parent().map(|p| p.path().to_owned())
    }
}

#[service]
struct Eggs;

#[service]
impl Eggs {
    #[expose]
    fn spam(&self, times: Option<usize>) -> String {
        "spam ".repeat(times.unwrap_or(1)).trim_end().to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

struct Running {
    server: Server,
    client: Connection,
}

impl Running {
    async fn stop(self) {
        self.client.close().await;
        self.server.drain().await;
    }
}

async fn serve(service: impl Service) -> Running {
    let server = start_server("127.0.0.1:0", Router::new(service))
        .await
        .unwrap();
    let mine = ServiceDict::new().function("name", |_: DynCall| Ok("client"));
    let client = Connection::builder()
        .serve(Router::new(mine))
        .connect(server.local_addr())
        .await
        .unwrap();
    Running { server, client }
}

/// The kind and message of a remote error.
fn remote(err: Error) -> (String, String) {
    let r = err
        .remote()
        .unwrap_or_else(|| panic!("expected a remote error, got {err}"));
    (r.kind().to_owned(), r.message().to_owned())
}

fn pair(kind: &str, message: &str) -> (String, String) {
    (kind.to_owned(), message.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Calls

#[tokio::test]
async fn a_typed_proxy_call_is_a_small_future() {
    // Callers keep many calls in flight (join_all, FuturesUnordered, a task each): every byte
    // of a call's future is moved and kept per call. Two i64s, one call state: 416 bytes when
    // each layer wrapped the next and the timer sat inline, 176 since.
    let run = serve(Root::new()).await;
    let root = run.client.proxy::<RootProxy>();
    let call = root.add(1, 2);
    assert!(
        std::mem::size_of_val(&call) <= 256,
        "a call of add(i64, i64) is a future of {} bytes",
        std::mem::size_of_val(&call)
    );
    assert_eq!(call.await.unwrap(), 3);
}

#[tokio::test]
async fn typed_proxy_calls_exposed_methods() {
    let run = serve(Root::new()).await;
    let root = run.client.proxy::<RootProxy>();
    assert_eq!(root.add(1, 2).await.unwrap(), 3);
    assert_eq!(
        root.greet("bob".to_owned(), None).await.unwrap(),
        "hello bob"
    );
    assert_eq!(
        root.greet("bob".to_owned(), Some("hi".to_owned()))
            .await
            .unwrap(),
        "hi bob"
    );
    assert_eq!(root.count().await.unwrap(), 1);
    assert_eq!(root.count().await.unwrap(), 2);
    root.reset().await.unwrap();
    assert_eq!(root.count().await.unwrap(), 1);
    assert_eq!(root.slow_add(2, 3).await.unwrap(), 6);
    assert_eq!(root.multiply(6, 7).await.unwrap(), 42);
    run.stop().await;
}

#[tokio::test]
async fn sub_router_accessors_return_child_proxies() {
    let run = serve(Root::new()).await;
    let root = run.client.proxy::<RootProxy>();
    assert_eq!(root.sub().name().await.unwrap(), "sub");
    assert_eq!(root.sub().deep().where_am_i().await.unwrap(), "sub/deep");
    assert_eq!(
        root.sub().deep().parent_path().await.unwrap().as_deref(),
        Some("sub")
    );
    assert_eq!(root.e().spam(Some(2)).await.unwrap(), "spam spam");
    assert_eq!(root.e().proxy_path(), "eggs");
    let pong: String = root.dict().get("ping").call(()).await.unwrap();
    assert_eq!(pong, "pong");
    run.stop().await;
}

trait PathOf {
    fn proxy_path(&self) -> String;
}

impl<P: rpc_core::TypedProxy> PathOf for P {
    fn proxy_path(&self) -> String {
        self.proxy().path().to_owned()
    }
}

#[tokio::test]
async fn dynamic_proxy_passes_positional_keyword_and_mixed_arguments() {
    let run = serve(Root::new()).await;
    let remote = run.client.remote();
    let r: i64 = remote.get("add").call((1, 2)).await.unwrap();
    assert_eq!(r, 3);
    let r: i64 = remote
        .get("add")
        .call_kw((), Kwargs::new().arg("b", 2).arg("a", 10))
        .await
        .unwrap();
    assert_eq!(r, 12);
    let r: i64 = remote
        .get("add")
        .call_kw((10,), Kwargs::new().arg("b", 5))
        .await
        .unwrap();
    assert_eq!(r, 15);
    let r: String = remote.get("greet").call(("ann",)).await.unwrap();
    assert_eq!(r, "hello ann");
    let r: String = remote
        .get("greet")
        .call_kw(("ann",), Kwargs::new().arg("greeting", "hey"))
        .await
        .unwrap();
    assert_eq!(r, "hey ann");
    let r: i64 = remote.get("mul").call((3, 4)).await.unwrap();
    assert_eq!(r, 12);
    let r: String = remote.get("eggs").get("spam").call(()).await.unwrap();
    assert_eq!(r, "spam");
    let r: String = remote
        .get("sub")
        .get("deep")
        .get("where_am_i")
        .call(())
        .await
        .unwrap();
    assert_eq!(r, "sub/deep");
    run.stop().await;
}

#[tokio::test]
async fn unit_return_arrives_as_nil() {
    let run = serve(Root::new()).await;
    let r: Value = run.client.remote().get("reset").call(()).await.unwrap();
    assert_eq!(r, Value::Nil);
    run.stop().await;
}

#[tokio::test]
async fn surplus_arguments_are_collected_as_values_and_map() {
    let run = serve(Root::new()).await;
    let remote = run.client.remote();
    let (first, rest, extra): Collected = remote
        .get("collect")
        .call_kw((1, 2, "three"), Kwargs::new().arg("x", 4))
        .await
        .unwrap();
    assert_eq!(first, 1);
    assert_eq!(rest, vec![Value::from(2), Value::from("three")]);
    assert_eq!(extra, BTreeMap::from([("x".to_owned(), Value::from(4))]));

    let (first, rest, extra) = run
        .client
        .proxy::<RootProxy>()
        .collect(7, vec![], BTreeMap::new())
        .await
        .unwrap();
    assert_eq!((first, rest, extra), (7, vec![], BTreeMap::new()));

    let typed = run
        .client
        .proxy::<RootProxy>()
        .collect(
            5,
            vec![Value::from(true)],
            BTreeMap::from([("k".to_owned(), Value::from("v"))]),
        )
        .await
        .unwrap();
    assert_eq!(
        typed,
        (
            5,
            vec![Value::from(true)],
            BTreeMap::from([("k".to_owned(), Value::from("v"))])
        )
    );
    run.stop().await;
}

#[tokio::test]
async fn surplus_keywords_deserialize_into_a_struct() {
    let run = serve(Root::new()).await;
    let r: String = run
        .client
        .remote()
        .get("configure")
        .call_kw(("x",), Kwargs::new().arg("verbose", true))
        .await
        .unwrap();
    assert_eq!(r, "x: verbose=true level=0");
    let r = run
        .client
        .proxy::<RootProxy>()
        .configure(
            "y".to_owned(),
            Opts {
                verbose: false,
                level: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(r, "y: verbose=false level=3");
    let err = run
        .client
        .remote()
        .get("configure")
        .call::<String>(("x",))
        .await
        .unwrap_err();
    let (kind, message) = remote(err);
    assert_eq!(kind, "TypeError");
    assert!(
        message.starts_with("configure() argument **kwargs: "),
        "{message}"
    );
    run.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Errors returned by methods

#[tokio::test]
async fn returned_error_kind_defaults_to_the_type_name() {
    let run = serve(Root::new()).await;
    let err = run
        .client
        .proxy::<RootProxy>()
        .double(i64::MAX)
        .await
        .unwrap_err();
    assert_eq!(
        remote(err),
        pair("Overflow", "the result does not fit in an i64")
    );
    assert_eq!(run.client.proxy::<RootProxy>().double(4).await.unwrap(), 8);
    run.stop().await;
}

#[tokio::test]
async fn returned_error_kind_comes_from_the_conversion_into_call_error() {
    let run = serve(Root::new()).await;
    let err = run
        .client
        .proxy::<RootProxy>()
        .sqrt(-1.0)
        .await
        .unwrap_err();
    let r = err.remote().unwrap();
    assert_eq!(
        (r.kind(), r.message()),
        ("ValueError", "math domain error: -1")
    );
    assert_eq!(r.text(), "ValueError: math domain error: -1\n");
    run.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Look-up and argument errors, with aiomas's text

async fn call_err(
    run: &Running,
    path: &[&str],
    args: Vec<Value>,
    kwargs: Kwargs,
) -> (String, String) {
    let mut proxy: Proxy = run.client.remote();
    for seg in path {
        proxy = proxy.get(seg);
    }
    remote(proxy.call_kw::<Value>(args, kwargs).await.unwrap_err())
}

#[tokio::test]
async fn unknown_name_is_a_lookup_error() {
    let run = serve(Root::new()).await;
    let none = || Kwargs::new();
    assert_eq!(
        call_err(&run, &["x"], vec![], none()).await,
        pair("LookupError", r#"Name "x" not found in """#)
    );
    assert_eq!(
        call_err(&run, &["sub", "nope"], vec![], none()).await,
        pair("LookupError", r#"Name "nope" not found in "sub""#)
    );
    assert_eq!(
        call_err(&run, &["sub", "deep", "nope"], vec![], none()).await,
        pair("LookupError", r#"Name "nope" not found in "sub/deep""#)
    );
    assert_eq!(
        call_err(&run, &["nope", "add"], vec![], none()).await,
        pair("LookupError", r#"Name "nope" not found in """#)
    );
    // A renamed method is known by its wire name only.
    assert_eq!(
        call_err(&run, &["multiply"], vec![], none()).await,
        pair("LookupError", r#"Name "multiply" not found in """#)
    );
    run.stop().await;
}

#[tokio::test]
async fn unexposed_method_is_a_lookup_error() {
    let run = serve(Root::new()).await;
    assert_eq!(
        call_err(&run, &["hidden"], vec![], Kwargs::new()).await,
        pair("LookupError", r#""Root.hidden" is not exposed"#)
    );
    run.stop().await;
}

#[tokio::test]
async fn calling_a_sub_router_is_a_type_error() {
    let run = serve(Root::new()).await;
    assert_eq!(
        call_err(&run, &["sub"], vec![], Kwargs::new()).await,
        pair("TypeError", "'Sub' object is not callable")
    );
    assert_eq!(
        call_err(&run, &["sub", "deep"], vec![], Kwargs::new()).await,
        pair("TypeError", "'Deep' object is not callable")
    );
    run.stop().await;
}

#[tokio::test]
async fn bad_arguments_name_the_method_and_parameter() {
    let run = serve(Root::new()).await;
    let v = |i: i64| Value::from(i);
    assert_eq!(
        call_err(&run, &["add"], vec![v(1)], Kwargs::new()).await,
        pair(
            "TypeError",
            "add() missing 1 required positional argument: 'b'"
        )
    );
    assert_eq!(
        call_err(&run, &["add"], vec![], Kwargs::new()).await,
        pair(
            "TypeError",
            "add() missing 2 required positional arguments: 'a' and 'b'"
        )
    );
    assert_eq!(
        call_err(&run, &["add"], vec![v(1), v(2), v(3)], Kwargs::new()).await,
        pair(
            "TypeError",
            "add() takes 2 positional arguments but 3 were given"
        )
    );
    assert_eq!(
        call_err(&run, &["add"], vec![v(1), v(2)], Kwargs::new().arg("a", 3)).await,
        pair("TypeError", "add() got multiple values for argument 'a'")
    );
    assert_eq!(
        call_err(&run, &["add"], vec![v(1), v(2)], Kwargs::new().arg("c", 3)).await,
        pair("TypeError", "add() got an unexpected keyword argument 'c'")
    );
    assert_eq!(
        call_err(&run, &["mul"], vec![v(1)], Kwargs::new()).await,
        pair(
            "TypeError",
            "mul() missing 1 required positional argument: 'b'"
        )
    );
    let (kind, message) = call_err(
        &run,
        &["add"],
        vec![Value::from("one"), v(2)],
        Kwargs::new(),
    )
    .await;
    assert_eq!(kind, "TypeError");
    assert!(message.starts_with("add() argument 'a': "), "{message}");
    let (kind, message) = call_err(
        &run,
        &["sub", "deep", "where_am_i"],
        vec![v(1)],
        Kwargs::new(),
    )
    .await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        (
            "TypeError",
            "where_am_i() takes 0 positional arguments but 1 was given"
        )
    );
    run.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Context, panics, service references

#[tokio::test]
async fn context_calls_the_caller_back() {
    let run = serve(Root::new()).await;
    assert_eq!(
        run.client.proxy::<RootProxy>().call_back().await.unwrap(),
        "called back client"
    );
    run.stop().await;
}

#[tokio::test]
async fn a_proxy_parameter_takes_a_service_ref_from_the_typed_proxy() {
    let run = serve(Root::new()).await;
    let root = run.client.proxy::<RootProxy>();
    assert_eq!(
        root.hello_via(ServiceRef::root()).await.unwrap(),
        "hello client"
    );
    run.stop().await;
}

#[tokio::test]
async fn context_router_knows_the_nested_path() {
    let run = serve(Root::new()).await;
    let deep = run.client.proxy::<RootProxy>().sub().deep();
    assert_eq!(deep.where_am_i().await.unwrap(), "sub/deep");
    assert_eq!(deep.parent_path().await.unwrap().as_deref(), Some("sub"));
    run.stop().await;
}

#[tokio::test]
async fn panicking_handler_gets_an_error_reply_and_the_server_keeps_serving() {
    let run = serve(Root::new()).await;
    let root = run.client.proxy::<RootProxy>();
    assert_eq!(
        remote(root.panics("boom".to_owned()).await.unwrap_err()),
        pair("Panic", "boom")
    );
    assert_eq!(
        remote(root.panics_later().await.unwrap_err()),
        pair("Panic", "later")
    );
    assert_eq!(root.add(1, 1).await.unwrap(), 2);
    run.stop().await;
}

#[tokio::test]
async fn returned_service_reference_arrives_as_a_typed_proxy() {
    let run = serve(Root::new()).await;
    // The typed proxy's method returns the `ServiceRef` as the peer sent it: a reference to one
    // of the peer's services, which gives a proxy of it.
    let sent: ServiceRef = run.client.proxy::<RootProxy>().sub_ref().await.unwrap();
    assert!(sent.is_remote());
    assert_eq!(sent.path(), "sub");
    let untyped: Proxy = sent.proxy().expect("a reference from the peer has a proxy");
    assert_eq!(untyped.path(), "sub");
    assert_eq!(untyped.get("name").call::<String>(()).await.unwrap(), "sub");
    let via_ref: SubProxy = sent.into_proxy().expect("a reference from the peer");
    assert_eq!(via_ref.deep().where_am_i().await.unwrap(), "sub/deep");
    let typed: SubProxy = run.client.remote().get("sub_ref").call(()).await.unwrap();
    assert_eq!(typed.name().await.unwrap(), "sub");
    assert_eq!(typed.deep().where_am_i().await.unwrap(), "sub/deep");
    run.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Routers and the generated `Service` impl, without a connection

#[test]
fn generated_service_lists_its_names() {
    let root = Root::new();
    assert_eq!(root.type_name(), "Root");
    assert_eq!(root.sub_router_names(), ["sub", "dict", "eggs"]);
    let exposed = root.exposed_names();
    assert!(exposed.iter().any(|n| n == "mul"));
    assert!(!exposed.iter().any(|n| n == "multiply" || n == "hidden"));
    // What each name is to the service: a hidden method, a sub-router, an exposed function,
    // nothing.
    let is_exposed = |name: &str| exposed.iter().any(|n| n == name);
    assert!(root.is_hidden("hidden"));
    assert!(root.sub_router("hidden").is_none() && !is_exposed("hidden"));
    assert!(root.sub_router("eggs").is_some());
    assert!(!is_exposed("eggs") && !root.is_hidden("eggs"));
    assert!(is_exposed("add"));
    assert!(root.sub_router("add").is_none() && !root.is_hidden("add"));
    assert!(root.sub_router("nope").is_none() && !is_exposed("nope") && !root.is_hidden("nope"));
}

#[test]
fn router_finds_nested_nodes_and_their_paths() {
    let root = Router::new(Root::new());
    let deep = root.sub_router("sub").unwrap().sub_router("deep").unwrap();
    assert_eq!(deep.path(), "sub/deep");
    assert_eq!(deep.name(), "deep");
    assert_eq!(deep.service().type_name(), "Deep");
    let sub = deep.parent().unwrap();
    assert_eq!((sub.path(), sub.name()), ("sub", "sub"));
    assert_eq!(sub.parent().unwrap().path(), "");
    assert!(root.sub_router("hits").is_none());
    assert_eq!(
        root.sub_router("eggs").unwrap().service().type_name(),
        "Eggs"
    );
}

#[test]
fn router_resolves_paths_with_aiomas_errors() {
    let root = Router::new(Root::new());
    let found = root.resolve("sub/deep/where_am_i").unwrap();
    assert_eq!(
        (found.router().path(), found.method()),
        ("sub/deep", "where_am_i")
    );
    assert_eq!(root.resolve("dict/ping").unwrap().router().path(), "dict");
    assert_eq!(
        root.resolve("hidden").unwrap_err().to_string(),
        r#"LookupError: "Root.hidden" is not exposed"#
    );
    assert_eq!(
        root.resolve("sub").unwrap_err().to_string(),
        "TypeError: 'Sub' object is not callable"
    );
    assert_eq!(
        root.resolve("sub/nope").unwrap_err().to_string(),
        r#"LookupError: Name "nope" not found in "sub""#
    );
}

#[tokio::test]
async fn with_sub_router_extends_a_typed_service() {
    let service = Deep.with_sub_router(
        "extra",
        ServiceDict::new().function("one", |_: DynCall| Ok(1)),
    );
    let router = Router::new(service);
    assert!(router.resolve("extra/one").is_ok());
    assert!(router.resolve("where_am_i").is_ok());

    let run = serve(Deep.with_sub_router(
        "extra",
        ServiceDict::new().function("one", |_: DynCall| Ok(1)),
    ))
    .await;
    let deep = run.client.proxy::<DeepProxy>();
    assert_eq!(deep.where_am_i().await.unwrap(), "");
    assert_eq!(deep.parent_path().await.unwrap(), None);
    let one: i64 = run
        .client
        .remote()
        .get("extra")
        .get("one")
        .call(())
        .await
        .unwrap();
    assert_eq!(one, 1);
    run.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Bounds only where they are used

/// Received, never sent: only `Deserialize`.
#[derive(Deserialize)]
struct OnlyIn {
    n: i64,
}

/// Sent, never received: only `Serialize`.
#[derive(Serialize)]
struct OnlyOut {
    doubled: i64,
}

#[service]
struct OneWay;

#[service]
impl OneWay {
    #[expose]
    fn double(&self, x: OnlyIn) -> OnlyOut {
        OnlyOut { doubled: 2 * x.n }
    }
}

/// A service whose parameters are only `Deserialize` and whose results only `Serialize`
/// compiles and serves; its typed proxy method exists, and only calling it would need the
/// other halves (tests/ui/service/proxy-return-not-deserializable.rs shows that error).
#[tokio::test]
async fn a_service_needs_only_deserialize_params_and_serialize_results() {
    let run = serve(OneWay).await;
    let back: BTreeMap<String, i64> = run
        .client
        .remote()
        .get("double")
        .call((BTreeMap::from([("n", 21)]),))
        .await
        .unwrap();
    assert_eq!(back, BTreeMap::from([("doubled".to_owned(), 42)]));
    let _exists: OneWayProxy = run.client.proxy::<OneWayProxy>();
    run.stop().await;
}

// ---------------------------------------------------------------------------------------------
// `None` is left out, so that the peer uses its default

// `Defaults` (in `support`) is Python's `defaults(a, b=2, c=3, label="default")`.

/// A peer that answers every call with `[args, kwargs]` as they arrived.
async fn serve_recorder() -> Running {
    fn record(c: DynCall) -> Result<Value, CallError> {
        Ok(Value::Array(vec![
            Value::Array(c.args()?),
            Value::Map(
                c.kwargs()?
                    .into_iter()
                    .map(|(k, v)| (Value::from(k), v))
                    .collect(),
            ),
        ]))
    }
    serve(
        ServiceDict::new()
            .function("defaults", record)
            .function("spread", record)
            .function("required", record)
            .function("nothing", record),
    )
    .await
}

/// `[args, kwargs]` as the recorder answers them.
fn arrived(args: Vec<Value>, kwargs: &[(&str, Value)]) -> Value {
    Value::Array(vec![
        Value::Array(args),
        Value::Map(
            kwargs
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        ),
    ])
}

#[tokio::test]
async fn typed_proxy_leaves_out_trailing_none() {
    let run = serve_recorder().await;
    let p = DefaultsProxy::from(run.client.remote());
    let all = p.defaults(1, Some(5), Some(6), Some("x".to_owned())).await;
    let expected = vec![1.into(), 5.into(), 6.into(), "x".into()];
    assert_eq!(all.unwrap(), arrived(expected, &[]));
    let two = p.defaults(1, Some(5), None, None).await.unwrap();
    assert_eq!(two, arrived(vec![1.into(), 5.into()], &[]));
    let one = p.defaults(1, None, None, None).await.unwrap();
    assert_eq!(one, arrived(vec![1.into()], &[]));
    run.stop().await;
}

#[tokio::test]
async fn typed_proxy_with_only_required_parameters_sends_them_all_positionally() {
    let run = serve_recorder().await;
    let p = DefaultsProxy::from(run.client.remote());
    let r = p.required(1, "x".to_owned(), true).await.unwrap();
    let expected = vec![1.into(), "x".into(), true.into()];
    assert_eq!(r, arrived(expected, &[]));
    assert_eq!(p.nothing().await.unwrap(), arrived(vec![], &[]));
    run.stop().await;
}

#[tokio::test]
async fn typed_proxy_sends_arguments_after_a_none_by_keyword() {
    let run = serve_recorder().await;
    let p = DefaultsProxy::from(run.client.remote());
    let r = p.defaults(1, None, Some(6), None).await.unwrap();
    assert_eq!(r, arrived(vec![1.into()], &[("c", 6.into())]));
    let r = p
        .defaults(1, None, None, Some("x".to_owned()))
        .await
        .unwrap();
    assert_eq!(r, arrived(vec![1.into()], &[("label", "x".into())]));
    let r = p
        .defaults(1, Some(5), None, Some("x".to_owned()))
        .await
        .unwrap();
    assert_eq!(
        r,
        arrived(vec![1.into(), 5.into()], &[("label", "x".into())])
    );
    run.stop().await;
}

#[tokio::test]
async fn null_sends_none_itself() {
    let run = serve_recorder().await;
    let p = DefaultsProxy::from(run.client.remote());
    let r = p.defaults(1, Null, None, None).await.unwrap();
    assert_eq!(r, arrived(vec![1.into(), Value::Nil], &[]));
    let r = p.defaults(1, None, Null, Null).await.unwrap();
    assert_eq!(
        r,
        arrived(vec![1.into()], &[("c", Value::Nil), ("label", Value::Nil)])
    );
    run.stop().await;
}

#[tokio::test]
async fn with_surplus_arguments_none_goes_positionally_as_null() {
    let run = serve_recorder().await;
    let p = DefaultsProxy::from(run.client.remote());
    // Nothing after `b`: it can be left out.
    let r = p.spread(1, None, vec![]).await.unwrap();
    assert_eq!(r, arrived(vec![1.into()], &[]));
    // The surplus must follow `b` positionally, so `b` cannot be left out.
    let r = p.spread(1, None, vec![7, 8]).await.unwrap();
    assert_eq!(
        r,
        arrived(vec![1.into(), Value::Nil, 7.into(), 8.into()], &[])
    );
    run.stop().await;
}

#[tokio::test]
async fn kwargs_leave_out_none_and_send_null() {
    let run = serve_recorder().await;
    let r: Value = run
        .client
        .remote()
        .get("defaults")
        .call_kw(
            (1,),
            Kwargs::new()
                .arg("b", None::<i64>)
                .arg("c", Null)
                .arg("label", Some("x")),
        )
        .await
        .unwrap();
    assert_eq!(
        r,
        arrived(vec![1.into()], &[("c", Value::Nil), ("label", "x".into())])
    );
    run.stop().await;
}

/// A Rust service binds what the typed proxy sends as Python would: defaults where left out.
#[tokio::test]
async fn rust_service_applies_defaults_for_what_the_proxy_leaves_out() {
    let run = serve(Defaults).await;
    let p = run.client.proxy::<DefaultsProxy>();
    let r = p.defaults(4, None, Some(6), None).await.unwrap();
    let expected = vec![4.into(), 2.into(), 6.into(), "default".into()];
    assert_eq!(r, Value::Array(expected));
    let r = p.spread(1, None, vec![]).await.unwrap();
    assert_eq!(r, Value::from(11));
    let r = p.spread(1, None, vec![2]).await.unwrap();
    assert_eq!(r, Value::from(13));
    run.stop().await;
}
