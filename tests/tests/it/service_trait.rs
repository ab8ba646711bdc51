//! `#[service]` on a trait: one interface gives a typed proxy and is served by any Rust type that
//! implements it with `#[service] impl Trait for Type`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use rpc_core::{
    service, start_server, CallContext, CallError, Connection, Error, Null, Router, Service,
    ServiceRef, TypedService, Value,
};

/// A calculator, declared once.
#[service]
trait Calc {
    /// Adds; `b` defaults to 1.
    fn add(&self, a: i64, b: Option<i64>) -> i64;

    #[expose(name = "sum")]
    fn sum_all(&self, #[args] rest: Vec<i64>, #[kwargs] opts: BTreeMap<String, i64>) -> i64;

    fn checked_div(&self, a: i64, b: i64) -> Result<i64, CallError>;

    async fn slow_add(&self, a: i64, b: i64) -> i64;

    async fn greet(&self, #[context] cx: CallContext, who: NamedProxy) -> Result<String, Error>;

    fn bump(&self);

    #[sub_router]
    fn scale(&self) -> &impl Scale;

    #[sub_router(name = "stats")]
    fn statistics(&self) -> &Stats;
}

/// A child interface.
#[service]
trait Scale {
    fn mul(&self, a: i64, b: Option<i64>) -> i64;
}

/// The caller's side of a call back.
#[service]
trait Named {
    fn name(&self) -> String;
}

/// A sub-router written in the struct form.
#[service]
#[derive(Default)]
struct Stats {}

#[service]
impl Stats {
    #[expose]
    fn count(&self) -> u32 {
        7
    }
}

#[derive(Default)]
struct MyCalc {
    scale: MyScale,
    stats: Stats,
    bumps: AtomicU64,
}

#[derive(Default)]
struct MyScale;

#[service]
impl Scale for MyScale {
    fn mul(&self, a: i64, b: Option<i64>) -> i64 {
        a * b.unwrap_or(2)
    }
}

#[service]
impl Calc for MyCalc {
    fn add(&self, a: i64, b: Option<i64>) -> i64 {
        a + b.unwrap_or(1)
    }

    fn sum_all(&self, rest: Vec<i64>, opts: BTreeMap<String, i64>) -> i64 {
        rest.iter().sum::<i64>() * opts.get("times").copied().unwrap_or(1)
    }

    fn checked_div(&self, a: i64, b: i64) -> Result<i64, CallError> {
        a.checked_div(b)
            .ok_or_else(|| CallError::new("ZeroDivisionError", "division by zero"))
    }

    async fn slow_add(&self, a: i64, b: i64) -> i64 {
        tokio::task::yield_now().await;
        a + b
    }

    async fn greet(&self, _cx: CallContext, who: NamedProxy) -> Result<String, Error> {
        Ok(format!("hello {}", who.name().await?))
    }

    fn bump(&self) {
        self.bumps.fetch_add(1, Ordering::SeqCst);
    }

    fn scale(&self) -> &impl Scale {
        &self.scale
    }

    fn statistics(&self) -> &Stats {
        &self.stats
    }
}

/// The client's service, for the call back.
struct Me;

#[service]
impl Named for Me {
    fn name(&self) -> String {
        "client".to_owned()
    }
}

async fn connect() -> (rpc_core::Server, Connection) {
    let server = start_server("127.0.0.1:0", Router::new(MyCalc::default()))
        .await
        .unwrap();
    let client = Connection::builder()
        .serve(Router::new(Me))
        .connect(server.local_addr())
        .await
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn a_trait_proxy_calls_a_trait_implementation() {
    let (server, client) = connect().await;
    let calc = client.proxy::<CalcProxy>();
    assert_eq!(calc.add(1, Some(2)).await.unwrap(), 3);
    assert_eq!(calc.add(1, None).await.unwrap(), 2);
    assert_eq!(calc.add(1, Null).await.unwrap(), 2);
    let opts = BTreeMap::from([("times".to_owned(), 10)]);
    assert_eq!(calc.sum_all(vec![1, 2, 3], opts).await.unwrap(), 60);
    assert_eq!(calc.slow_add(2, 3).await.unwrap(), 5);
    calc.bump().await.unwrap();
    assert_eq!(
        calc.greet(ServiceRef::root()).await.unwrap(),
        "hello client"
    );
    assert_eq!(calc.scale().mul(4, None).await.unwrap(), 8);
    assert_eq!(calc.statistics().count().await.unwrap(), 7);
    let by_name: i64 = client.remote().get("sum").call((1, 2)).await.unwrap();
    assert_eq!(by_name, 3, "the wire name comes from #[expose(name)]");
    client.close().await;
    server.drain().await;
}

#[tokio::test]
async fn a_trait_method_error_reaches_the_caller() {
    let (server, client) = connect().await;
    let err = client
        .proxy::<CalcProxy>()
        .checked_div(1, 0)
        .await
        .unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!(
        (remote.kind(), remote.message()),
        ("ZeroDivisionError", "division by zero")
    );
    client.close().await;
    server.drain().await;
}

#[test]
fn a_trait_implementation_lists_its_names_and_proxy() {
    let calc = MyCalc::default();
    let mut exposed: Vec<String> = calc.exposed_names().into_iter().map(Into::into).collect();
    exposed.sort();
    assert_eq!(
        exposed,
        ["add", "bump", "checked_div", "greet", "slow_add", "sum"]
    );
    let subs: Vec<String> = calc
        .sub_router_names()
        .into_iter()
        .map(Into::into)
        .collect();
    assert_eq!(subs, ["scale", "stats"]);
    assert_eq!(calc.type_name(), "MyCalc");
    assert!(calc.sub_router("stats").is_some());
    assert!(calc.sub_router("statistics").is_none());
    fn proxy_of<S: TypedService<Proxy = P>, P>(_: &S) {}
    proxy_of::<MyCalc, CalcProxy>(&calc);
    let _ = Value::Nil;
}

/// A generic implementation: one `#[service] impl<T> Trait for Type<T>` serves every `T`.
struct Offset<T>(T);

#[service]
impl<T: Into<i64> + Copy + Send + Sync + 'static> Scale for Offset<T> {
    fn mul(&self, a: i64, b: Option<i64>) -> i64 {
        a * b.unwrap_or(2) + self.0.into()
    }
}

#[tokio::test]
async fn a_generic_implementation_of_a_trait_is_served() {
    let server = start_server("127.0.0.1:0", Router::new(Offset(100_i32)))
        .await
        .unwrap();
    let client = Connection::builder()
        .connect(server.local_addr())
        .await
        .unwrap();
    assert_eq!(
        client.proxy::<ScaleProxy>().mul(3, None).await.unwrap(),
        106
    );
    assert_eq!(Offset(1_u8).type_name(), "Offset");
    assert_eq!(Offset(1_u8).exposed_names(), ["mul"]);
    client.close().await;
    server.drain().await;
}
