//! The main demo: a server with a small tree of services, and a client that calls it through a
//! typed proxy and by path, is called back, passes a reference to its own service, and meets
//! remote errors. Each step is printed.
//!
//! ```sh
//! cargo run --release -p examples --example demo
//! RUST_LOG=rpc_core=debug cargo run --release -p examples --example demo   # with every call's span
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use rpc_core::{
    service, CallContext, CallError, Connection, DynCall, Error, Kwargs, Proxy, Router, Server,
    ServiceDict, ServiceRef,
};

/// The server's root: a counter, a calculator below `math`, and an echo `ServiceDict` below `tools`.
#[service]
struct Root {
    calls: AtomicU64,
    #[sub_router]
    math: Math,
    #[sub_router]
    tools: ServiceDict,
}

#[service]
impl Root {
    /// Greets the caller by the name it gives when called back.
    #[expose]
    async fn greet(&self, #[context] cx: CallContext) -> Result<String, Error> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let name: String = cx.remote().get("get_name").call(()).await?;
        Ok(format!(
            "hello {name}, this is {:?} (the root)",
            cx.router().path()
        ))
    }

    /// Calls `get_name` on the service reference it is given.
    #[expose]
    async fn call_me_back(&self, proxy: Proxy) -> Result<String, Error> {
        let name: String = proxy.get("get_name").call(()).await?;
        Ok(format!("called back {} at {:?}", name, proxy.path()))
    }

    /// Not exposed: the peer cannot reach it.
    #[allow(dead_code)]
    fn secret(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

#[service]
struct Math;

/// A division by zero, reported to the caller as a `ZeroDivisionError`.
#[derive(Debug)]
struct DivideByZero;

impl std::fmt::Display for DivideByZero {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("division by zero")
    }
}

impl From<DivideByZero> for CallError {
    fn from(e: DivideByZero) -> Self {
        CallError::new("ZeroDivisionError", e.to_string())
    }
}

#[service]
impl Math {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    #[expose]
    fn mul(&self, a: i64, b: Option<i64>) -> i64 {
        a * b.unwrap_or(1)
    }

    #[expose]
    fn div(&self, a: i64, b: i64) -> Result<i64, DivideByZero> {
        if b == 0 {
            Err(DivideByZero)
        } else {
            Ok(a / b)
        }
    }
}

/// What the client serves, so that the server can call it back.
#[service]
struct Me {
    #[sub_router]
    child: Child,
}

#[service]
impl Me {
    #[expose]
    fn get_name(&self) -> String {
        "demo-client".to_owned()
    }
}

#[service]
struct Child;

#[service]
impl Child {
    #[expose]
    fn get_name(&self) -> String {
        "demo-client's child".to_owned()
    }
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `RUST_LOG=rpc_core=debug` prints the connections' events and, as each call ends, its span
    // (`rpc.call` here, `rpc.serve` on the other side) with path, peer, id, codec and outcome.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .init();
    let tools = ServiceDict::new()
        .function("echo", |c: DynCall| c.arg::<rpc_core::Value>(0, "value"))
        .function("shout", |c: DynCall| {
            Ok(c.arg::<String>(0, "text")?.to_uppercase())
        });
    let root = Root {
        calls: AtomicU64::new(0),
        math: Math,
        tools,
    };
    let server = Server::builder(Router::new(root))
        .on_connect(|conn: Connection| {
            println!("    server: a client connected from {}", conn.peer())
        })
        .bind("127.0.0.1:0")
        .await?;
    step(1, "server started");
    println!("    listening on {}", server.local_addr());

    let client = Connection::builder()
        .serve(Router::new(Me { child: Child }))
        .connect(server.local_addr())
        .await?;
    step(
        2,
        "client connected, serving its own `Me` service for call-backs",
    );

    let root = client.proxy::<RootProxy>();
    step(3, "typed calls through the generated RootProxy");
    println!(
        "    math.add(1, 2)        = {}",
        root.math().add(1, 2).await?
    );
    println!(
        "    math.mul(6, Some(7))  = {}",
        root.math().mul(6, Some(7)).await?
    );
    println!(
        "    math.mul(6, None)     = {}",
        root.math().mul(6, None).await?
    );

    step(4, "dynamic calls by path, positional and keyword");
    let remote = client.remote();
    let sum: i64 = remote.get("math").get("add").call((40, 2)).await?;
    println!("    \"math/add\" (40, 2)    = {sum}");
    let product: i64 = remote
        .get("math/mul")
        .call_kw((3,), Kwargs::new().arg("b", 5))
        .await?;
    println!("    \"math/mul\" (3, b=5)   = {product}");
    let shout: String = remote
        .get("tools")
        .get("shout")
        .call(("a ServiceDict",))
        .await?;
    println!("    \"tools/shout\"         = {shout:?}");

    step(
        5,
        "the server calls the client back over the same connection",
    );
    println!("    greet()               = {:?}", root.greet().await?);

    step(
        6,
        "the client passes references to its own services; the server calls them",
    );
    println!(
        "    call_me_back(root)    = {:?}",
        root.call_me_back(ServiceRef::root()).await?
    );
    let via_child: String = remote
        .get("call_me_back")
        .call((ServiceRef::at("child"),))
        .await?;
    println!("    call_me_back(child)   = {via_child:?}");

    step(
        7,
        "remote errors arrive typed, with kind, message and origin",
    );
    match root.math().div(1, 0).await {
        Err(Error::Remote(e)) => println!(
            "    math.div(1, 0)        -> {}: {} (from {})",
            e.kind(),
            e.message(),
            e.origin()
        ),
        other => println!("    unexpected: {other:?}"),
    }
    for path in ["nope", "secret", "math"] {
        let err = remote.get(path).call::<()>(()).await.unwrap_err();
        let e = err.remote().expect("a remote error");
        println!("    {path:<21} -> {}: {}", e.kind(), e.message());
    }
    let err = remote.get("math/add").call::<i64>((1,)).await.unwrap_err();
    println!(
        "    math/add (1,)         -> {}",
        err.remote().map_or(err.to_string(), |e| format!(
            "{}: {}",
            e.kind(),
            e.message()
        ))
    );

    step(8, "closing the client, then draining the server");
    client.close().await;
    server.drain().await;
    println!("    done");
    Ok(())
}
