//! How a connection ends, answered at once and in words: a frame of the wrong codec, a handler
//! still running when its connection goes, a peer that stops reading, a quiet connection.
//!
//! The Python side of the wrong-codec case is in `interop_python.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_core::{Codec, Connection, DynCall, Error, Router, Server, ServiceDict};
use tokio::sync::oneshot;

/// Bound for any one step: a hang fails the test instead of holding the suite.
const STEP: Duration = Duration::from_secs(30);

fn adder() -> Router {
    Router::new(ServiceDict::new().function("add", |c: DynCall| {
        Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?)
    }))
}

/// A server with `codec` that hands the first connection it accepts to the test.
async fn server_with(codec: Codec) -> (Server, oneshot::Receiver<Connection>) {
    let (tx, rx) = oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let server = Server::builder(adder())
        .codec(codec)
        .on_connect(move |conn| {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(conn);
            }
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    (server, rx)
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(STEP, f)
        .await
        .expect("no answer within the step bound: something waits silently")
}

/// A client of one codec against a server of the other fails at once, with the connection
/// closed by the peer; the server says why, with a hint at the other codec.
#[tokio::test]
async fn a_frame_of_the_other_codec_ends_the_connection_at_once_both_ways() {
    for (server_codec, client_codec, hint) in [
        (
            Codec::msgpack(),
            Codec::json(),
            "this looks like JSON; this end speaks MsgPack",
        ),
        (
            Codec::json(),
            Codec::msgpack(),
            "this looks like MsgPack; this end speaks JSON",
        ),
    ] {
        let (server, accepted) = server_with(server_codec).await;
        let client = Connection::builder()
            .codec(client_codec)
            .connect(server.local_addr())
            .await
            .unwrap();
        let err = bounded(client.remote().get("add").call::<i64>((1, 2)))
            .await
            .unwrap_err();
        assert!(err.is_connection_reset(), "{err:?}");
        assert!(
            err.to_string().contains("the peer closed the connection"),
            "{err}"
        );
        let server_side = accepted.await.unwrap();
        let why = bounded(server_side.closed()).await;
        assert!(matches!(why, Error::Undecodable { .. }), "{why:?}");
        let text = why.to_string();
        assert!(text.contains(hint), "{text}");
        client.close().await;
        server.shutdown().await;
    }
}

/// The `WARN` events of target `rpc_core*`, as `message; field=value; ...` lines.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("; {}={value:?}", field.name()));
            }
        }
        let meta = event.metadata();
        if *meta.level() == tracing::Level::WARN && meta.target().starts_with("rpc_core") {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
}

/// Replies queued before the bad frame still go out: the connection ends after them, and says
/// so once at `WARN`, with the peer and the codec, however many bad frames follow.
#[tokio::test]
async fn replies_queued_before_an_undecodable_frame_are_sent_first() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tracing_subscriber::layer::SubscriberExt;
    let warnings = Warnings::default();
    let _log =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(warnings.clone()));
    let (server, accepted) = server_with(Codec::msgpack()).await;
    let addr = server.local_addr().to_string();
    let mut sock = tokio::net::TcpStream::connect(addr.as_str()).await.unwrap();
    let add = Codec::msgpack()
        .encode_message(
            rpc_core::wire::codec::MessageKind::Request,
            0,
            &(
                "add",
                (1, 2),
                std::collections::HashMap::<String, i64>::new(),
            ),
        )
        .unwrap();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&(add.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&add);
    // Then frames that are nothing at all: no id to answer.
    for _ in 0..3 {
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(&[0xc1, 0xc1, 0xc1]);
    }
    sock.write_all(&bytes).await.unwrap();
    let mut got = Vec::new();
    bounded(sock.read_to_end(&mut got)).await.unwrap();
    let reply = Codec::msgpack()
        .decode_message(&got[4..])
        .expect("the reply to the request before the bad frame");
    assert_eq!(reply.content.as_i64(), Some(3), "{reply:?}");
    let why = bounded(accepted.await.unwrap().closed()).await;
    assert!(
        matches!(why, Error::Undecodable { hint: None, .. }),
        "{why:?}"
    );
    server.shutdown().await;
}

/// A bad frame whose request id can be read is still answered, and the connection lives.
#[tokio::test]
async fn a_bad_request_with_a_readable_id_is_answered_and_the_connection_lives() {
    let (server, _accepted) = server_with(Codec::json()).await;
    let client = Connection::builder()
        .codec(Codec::json())
        .connect(server.local_addr())
        .await
        .unwrap();
    let proxy = client.remote().get("add");
    assert_eq!(bounded(proxy.call::<i64>((1, 2))).await.unwrap(), 3);
    // A path that is not a string: answered with an error, as before.
    let reply = bounded(client.channel().request(&(1, [1, 2], ())).unwrap()).await;
    assert!(reply.as_ref().is_ok_and(|r| r.is_error()), "{reply:?}");
    assert!(!client.is_closed());
    assert_eq!(bounded(proxy.call::<i64>((2, 2))).await.unwrap(), 4);
    client.close().await;
    server.shutdown().await;
}
