//! What several suites of this binary share: hex text, frames, and the small services that
//! many tests call.

use rpc_core::{
    service, start_server, Connection, DynCall, Proxy, Router, Server, Service, ServiceDict,
    ServiceRef, Value,
};

/// The bytes as lower-case hex text.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of the hex text `s` (an even number of hex digits).
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `payload` as a frame: its length as 4 bytes big-endian, then itself.
pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// A server of `service` on a free local TCP port, and a client connected to it.
pub(crate) async fn serve_and_connect(service: impl Service) -> (Server, Connection) {
    let server = start_server("127.0.0.1:0", Router::new(service))
        .await
        .unwrap();
    let conn = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    (server, conn)
}

/// A service with `add(a, b)` on `i64`s.
pub(crate) fn adder() -> ServiceDict {
    ServiceDict::new().function("add", |c: DynCall| {
        Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
    })
}

/// A tree whose root and its sub-router `child` answer `get_name()` with `"{side}-root"` and
/// `"{side}-child"`: what a peer's `call_me_back` calls.
pub(crate) fn named_tree(side: &str) -> ServiceDict {
    let (root, child) = (format!("{side}-root"), format!("{side}-child"));
    ServiceDict::new()
        .function("get_name", move |_: DynCall| Ok(root.clone()))
        .with_sub_router(
            "child",
            ServiceDict::new().function("get_name", move |_: DynCall| Ok(child.clone())),
        )
}

/// Passes this side's root and its `child` (a [`named_tree`] of `side`) to the peer's
/// `call_me_back(proxy)`, which calls `proxy.get_name()` and answers `"hello <name>"`.
pub(crate) async fn peer_calls_back_root_and_child(remote: &Proxy, side: &str) {
    for (service, name) in [
        (ServiceRef::root(), "root"),
        (ServiceRef::at("child"), "child"),
    ] {
        let r: String = remote
            .get("call_me_back")
            .call((service,))
            .await
            .unwrap_or_else(|e| panic!("call_me_back({name}): {e}"));
        assert_eq!(r, format!("hello {side}-{name}"));
    }
}

/// What Python's `defaults(a, b=2, c=3, label="default")` answers: the values its parameters
/// got.
pub(crate) fn python_defaults(
    a: i64,
    b: Option<i64>,
    c: Option<i64>,
    label: Option<String>,
) -> Value {
    Value::Array(vec![
        a.into(),
        b.unwrap_or(2).into(),
        c.unwrap_or(3).into(),
        label.unwrap_or_else(|| "default".to_owned()).into(),
    ])
}

/// Python's `def defaults(a, b=2, c=3, label="default")` (the Python peer's, in
/// `tests/python/`), written in Rust: it answers with the values its parameters got, as a
/// `Value`, so that a recorder can answer the same proxy; and a few other signatures.
#[service]
pub(crate) struct Defaults;

#[service]
impl Defaults {
    #[expose]
    fn defaults(&self, a: i64, b: Option<i64>, c: Option<i64>, label: Option<String>) -> Value {
        python_defaults(a, b, c, label)
    }

    #[expose]
    fn spread(&self, a: i64, b: Option<i64>, #[args] rest: Vec<i64>) -> Value {
        (a + b.unwrap_or(10) + rest.iter().sum::<i64>()).into()
    }

    /// Only required parameters: the proxy sends them as a tuple, without `ProxyArgs`.
    #[expose]
    fn required(&self, a: i64, label: String, flag: bool) -> Value {
        Value::Array(vec![a.into(), label.into(), flag.into()])
    }

    #[expose]
    fn nothing(&self) -> Value {
        Value::Nil
    }
}
