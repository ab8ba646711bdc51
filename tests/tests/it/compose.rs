//! Services composed by hand: a user's own `Service` that wraps a `#[service]` type answers its
//! synchronous and asynchronous methods alike, at the root and below it.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use rpc_core::{service, Call, Outcome, Service, TypedService};

use crate::support::serve_and_connect;

#[service]
struct Counter {
    #[sub_router]
    inner: Inner,
}

#[service]
impl Counter {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    #[expose]
    async fn slow_add(&self, a: i64, b: i64) -> i64 {
        tokio::task::yield_now().await;
        a + b
    }

    /// Reads the service across an await: the future borrows it.
    #[expose]
    async fn sum_of_inner(&self) -> i64 {
        tokio::task::yield_now().await;
        self.inner.values.lock().unwrap().iter().sum()
    }

    #[expose]
    async fn panics(&self) -> i64 {
        tokio::task::yield_now().await;
        panic!("async method of a wrapped service")
    }
}

#[service]
struct Inner {
    values: Mutex<Vec<i64>>,
}

#[service]
impl Inner {
    #[expose]
    async fn push(&self, v: i64) -> usize {
        tokio::task::yield_now().await;
        let mut values = self.values.lock().unwrap();
        values.push(v);
        values.len()
    }
}

/// Logs the paths it is called with, and forwards everything.
struct Logged<S> {
    inner: S,
    log: Arc<Mutex<Vec<String>>>,
}

impl<S: Service> Service for Logged<S> {
    fn type_name(&self) -> Cow<'_, str> {
        self.inner.type_name()
    }
    fn sub_router(&self, name: &str) -> Option<&dyn Service> {
        self.inner.sub_router(name)
    }
    fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
        self.inner.sub_router_names()
    }
    fn exposed_names(&self) -> Vec<Cow<'_, str>> {
        self.inner.exposed_names()
    }
    fn is_hidden(&self, name: &str) -> bool {
        self.inner.is_hidden(name)
    }
    fn call<'s>(&'s self, name: &str, call: Call<'_>) -> Option<Outcome<'s>> {
        self.log.lock().unwrap().push(call.path().to_owned());
        self.inner.call(name, call)
    }
}

impl<S: TypedService> TypedService for Logged<S> {
    type Proxy = S::Proxy;
}

fn counter() -> Counter {
    Counter {
        inner: Inner {
            values: Mutex::new(Vec::new()),
        },
    }
}

#[tokio::test]
async fn a_wrapped_service_answers_sync_and_async_methods() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (server, conn) = serve_and_connect(Logged {
        inner: counter(),
        log: log.clone(),
    })
    .await;
    let p = conn.proxy::<CounterProxy>();
    assert_eq!(p.add(1, 2).await.unwrap(), 3);
    assert_eq!(p.slow_add(3, 4).await.unwrap(), 7);
    assert_eq!(p.inner().push(5).await.unwrap(), 1);
    assert_eq!(p.inner().push(6).await.unwrap(), 2);
    assert_eq!(p.sum_of_inner().await.unwrap(), 11);
    // A wrapper wraps its node: calls of the sub-router's methods go to the sub-router itself.
    assert_eq!(*log.lock().unwrap(), ["add", "slow_add", "sum_of_inner"]);
    conn.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrapped_sub_router_answers_async_methods() {
    // The wrapper sits below the root: async methods of what it wraps still find their service.
    let log = Arc::new(Mutex::new(Vec::new()));
    let root = rpc_core::ServiceDict::new().with_sub_router(
        "counter",
        Logged {
            inner: counter(),
            log: log.clone(),
        },
    );
    let (server, conn) = serve_and_connect(root).await;
    let counter = conn.remote().get("counter");
    let n: i64 = counter.get("slow_add").call((2, 2)).await.unwrap();
    assert_eq!(n, 4);
    let len: usize = counter.get("inner").get("push").call((1,)).await.unwrap();
    assert_eq!(len, 1);
    assert_eq!(*log.lock().unwrap(), ["counter/slow_add"]);
    conn.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_panic_in_an_async_method_of_a_wrapped_service_is_answered() {
    let (server, conn) = serve_and_connect(Logged {
        inner: counter(),
        log: Arc::default(),
    })
    .await;
    let p = conn.proxy::<CounterProxy>();
    let err = p.panics().await.unwrap_err();
    let remote = err.remote().expect("an error reply");
    assert_eq!(
        (remote.kind(), remote.message()),
        ("Panic", "async method of a wrapped service")
    );
    // The connection goes on.
    assert_eq!(p.slow_add(1, 1).await.unwrap(), 2);
    conn.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn services_behind_arc_and_box_answer_async_methods() {
    let shared: Arc<Counter> = Arc::new(counter());
    let (server, conn) = serve_and_connect(shared.clone()).await;
    assert_eq!(
        conn.proxy::<CounterProxy>().slow_add(5, 5).await.unwrap(),
        10
    );
    conn.close().await;
    server.shutdown().await;

    let boxed: Box<dyn Service> = Box::new(counter());
    let (server, conn) = serve_and_connect(boxed).await;
    let n: i64 = conn
        .remote()
        .get("inner")
        .get("push")
        .call((9,))
        .await
        .unwrap();
    assert_eq!(n, 1);
    conn.close().await;
    server.shutdown().await;
}

/// `ServiceDict`'s builder is `with_sub_router`, as `ServiceExt`'s is, so that
/// `dict.sub_router(name)` is `Service`'s getter (it was the builder, and did not compile with
/// one argument: E0061).
#[test]
fn a_service_dict_s_sub_router_is_the_getter_and_with_sub_router_the_builder() {
    use rpc_core::{DynCall, ServiceDict};
    let dict = ServiceDict::new()
        .function("f", |_: DynCall| Ok(1))
        .with_sub_router("x", ServiceDict::new().function("g", |_: DynCall| Ok(2)));
    let child: Option<&dyn Service> = dict.sub_router("x");
    assert_eq!(
        child.map(|c| c.exposed_names()),
        Some(vec![Cow::Borrowed("g")])
    );
    assert!(dict.sub_router("f").is_none() && dict.sub_router("nope").is_none());
    assert_eq!(dict.sub_router_names(), [Cow::Borrowed("x")]);
}
