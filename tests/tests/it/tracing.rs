//! The call spans (`rpc.call`, `rpc.serve`, target `rpc_core::calls`): a call chain client →
//! server → call back to the client, captured by a subscriber of the test's own, with each
//! span's fields and parent checked; and the outcome of failed calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_core::{
    service, CallContext, CallError, Codec, Connection, Error, Router, Server, ServiceDict,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One captured span.
#[derive(Debug, Clone)]
struct Captured {
    name: &'static str,
    /// The index of the parent in the capture, if any.
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
    closed: bool,
}

impl Captured {
    fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("span {} has no field {name}: {:?}", self.name, self.fields))
    }
}

#[derive(Default)]
struct Spans {
    all: Vec<Captured>,
    /// Live span ids (which the registry reuses after a close) to their index in `all`.
    live: HashMap<u64, usize>,
}

/// A layer that keeps the spans of target `rpc_core::calls`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Spans>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target() != "rpc_core::calls" {
            return;
        }
        let mut spans = self.0.lock().unwrap();
        let parent_id = if let Some(p) = attrs.parent() {
            Some(p.clone())
        } else if attrs.is_contextual() {
            ctx.current_span().id().cloned()
        } else {
            None
        };
        let parent = parent_id.and_then(|p| spans.live.get(&p.into_u64()).copied());
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        spans.all.push(Captured {
            name: attrs.metadata().name(),
            parent,
            fields,
            closed: false,
        });
        let index = spans.all.len() - 1;
        spans.live.insert(id.into_u64(), index);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some(&i) = spans.live.get(&id.into_u64()) {
            values.record(&mut Fields(&mut spans.all[i].fields));
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some(i) = spans.live.remove(&id.into_u64()) {
            spans.all[i].closed = true;
        }
    }
}

#[service]
#[derive(Default)]
struct Greeter {}

#[service]
impl Greeter {
    /// Calls the caller back for its name.
    #[expose]
    async fn greet(&self, #[context] cx: CallContext) -> Result<String, Error> {
        let name: String = cx.remote().get("name").call(()).await?;
        Ok(format!("hello {name}"))
    }

    #[expose]
    fn fail(&self) -> Result<(), CallError> {
        Err(CallError::value_error("no"))
    }

    #[expose]
    fn boom(&self) {
        panic!("boom")
    }

    /// Never answers.
    #[expose]
    async fn hang(&self) {
        std::future::pending::<()>().await
    }
}

/// Every span the test captured, once all are closed.
fn captured(capture: &Capture) -> Vec<Captured> {
    let spans = capture.0.lock().unwrap();
    assert!(spans.live.is_empty(), "spans still open: {:?}", spans.live);
    spans.all.clone()
}

/// The one span named `name` whose field `path` is `path` and `peer` satisfies `peer`.
fn find<'a>(
    spans: &'a [Captured],
    name: &str,
    path: &str,
    peer: impl Fn(&str) -> bool,
) -> (usize, &'a Captured) {
    let found: Vec<_> = spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.name == name && s.fields.get("path").map(String::as_str) == Some(path))
        .filter(|(_, s)| peer(s.field("peer")))
        .collect();
    assert_eq!(found.len(), 1, "one {name} span for {path}: {spans:#?}");
    found[0]
}

#[tokio::test]
async fn spans_of_a_call_chain_with_a_call_back_carry_fields_and_nest() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let server = greeter_server(Codec::json()).await;
    let addr = server.local_addr().to_string();
    let conn = Connection::builder()
        .codec(Codec::json())
        .serve(Router::new(
            ServiceDict::new().function("name", |_| Ok("client")),
        ))
        .connect(&*addr)
        .await
        .unwrap();
    let hello: String = conn.remote().get("greet").call(()).await.unwrap();
    assert_eq!(hello, "hello client");
    let err = conn.remote().get("fail").call::<()>(()).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "ValueError");
    let err = conn.remote().get("nope").call::<()>(()).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "LookupError");
    let err = conn.remote().get("boom").call::<()>(()).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "Panic");
    conn.close().await;
    server.drain().await;

    let spans = captured(&capture);
    let at_server = |p: &str| p == addr;
    let at_client = |p: &str| p != addr;

    // The client's call of greet: a root span, id 0 (its first request).
    let (_, call_greet) = find(&spans, "rpc.call", "greet", at_server);
    assert_eq!(call_greet.parent, None);
    let expect = |s: &Captured, fields: &[(&str, &str)]| {
        for (k, v) in fields {
            assert_eq!(s.field(k), *v, "{k} of {s:#?}");
        }
    };
    expect(
        call_greet,
        &[("codec", "json"), ("id", "0"), ("outcome", "ok")],
    );
    assert!(
        !call_greet.fields.contains_key("error.kind"),
        "{call_greet:#?}"
    );

    // The server's serving of it: same id, the client's address as peer.
    let (serve_greet_i, serve_greet) = find(&spans, "rpc.serve", "greet", at_client);
    expect(
        serve_greet,
        &[("codec", "json"), ("id", "0"), ("outcome", "ok")],
    );
    let client_addr = serve_greet.field("peer").to_owned();

    // The call back, made while serving greet: a child of that span, to the client.
    let (_, call_name) = find(&spans, "rpc.call", "name", |p| p == client_addr);
    assert_eq!(call_name.parent, Some(serve_greet_i), "{call_name:#?}");
    expect(
        call_name,
        &[("codec", "json"), ("id", "0"), ("outcome", "ok")],
    );

    // The client serving the call back: the wire carries no trace context, so it is a root,
    // linked to the server's call by peer and id.
    let (_, serve_name) = find(&spans, "rpc.serve", "name", at_server);
    assert_eq!(serve_name.parent, None);
    expect(
        serve_name,
        &[("codec", "json"), ("id", "0"), ("outcome", "ok")],
    );

    // Failures: the outcome and the error's kind, on both sides.
    let (_, call_fail) = find(&spans, "rpc.call", "fail", at_server);
    expect(
        call_fail,
        &[
            ("id", "1"),
            ("outcome", "error"),
            ("error.kind", "ValueError"),
        ],
    );
    let (_, serve_fail) = find(&spans, "rpc.serve", "fail", at_client);
    expect(
        serve_fail,
        &[
            ("id", "1"),
            ("outcome", "error"),
            ("error.kind", "ValueError"),
        ],
    );
    let (_, call_nope) = find(&spans, "rpc.call", "nope", at_server);
    expect(
        call_nope,
        &[
            ("id", "2"),
            ("outcome", "error"),
            ("error.kind", "LookupError"),
        ],
    );
    let (_, serve_nope) = find(&spans, "rpc.serve", "nope", at_client);
    expect(
        serve_nope,
        &[
            ("id", "2"),
            ("outcome", "error"),
            ("error.kind", "LookupError"),
        ],
    );

    let boom = [("id", "3"), ("outcome", "error"), ("error.kind", "Panic")];
    expect(find(&spans, "rpc.call", "boom", at_server).1, &boom);
    expect(find(&spans, "rpc.serve", "boom", at_client).1, &boom);

    assert_eq!(spans.len(), 10, "no other call spans: {spans:#?}");
    assert!(spans.iter().all(|s| s.closed));
}

#[tokio::test]
async fn a_call_that_gets_no_reply_records_why() {
    let capture = Capture::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let server = greeter_server(Codec::msgpack()).await;
    let conn = Connection::builder()
        .connect(server.local_addr())
        .await
        .unwrap();
    let hang = conn.remote().get("hang");
    let err = hang
        .clone()
        .with_timeout(Duration::from_millis(1))
        .call::<()>(())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // The server closes while the call waits for its reply.
    let (result, ()) = tokio::join!(hang.call::<()>(()), server.shutdown());
    let err = result.unwrap_err();
    assert!(err.is_connection_reset(), "{err:?}");
    conn.close().await;

    let spans = captured(&capture);
    let calls: Vec<_> = spans.iter().filter(|s| s.name == "rpc.call").collect();
    assert_eq!(calls.len(), 2, "{spans:#?}");
    for (call, kind) in calls.iter().zip(["Timeout", "ConnectionReset"]) {
        assert_eq!(call.field("path"), "hang");
        assert_eq!(call.field("outcome"), "error");
        assert_eq!(call.field("error.kind"), kind);
    }
    // The server's spans of the calls it never answered: no outcome.
    let serves: Vec<_> = spans.iter().filter(|s| s.name == "rpc.serve").collect();
    assert_eq!(serves.len(), 2, "{spans:#?}");
    assert!(
        serves.iter().all(|s| !s.fields.contains_key("outcome")),
        "{serves:#?}"
    );
}

async fn greeter_server(codec: Codec) -> Server {
    Server::builder(Router::new(Greeter::default()))
        .codec(codec)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}
