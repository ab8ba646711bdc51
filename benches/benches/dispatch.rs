//! Dispatch alone: an encoded `add(1, 2)` request in, the encoded reply out, with no socket and
//! no task switch, through a `#[service]` type and through a `ServiceDict`.
//!
//! ```sh
//! cargo bench -p benches --bench dispatch
//! ```
//!
//! Each iteration hands one request payload to the channel exactly as its reader task would
//! (`Channel::__handle_payload`) and takes the reply frame from the outgoing buffer.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use rpc_core::{Connection, Router};
use tokio::io::{AsyncRead, ReadBuf};

fn main() {
    divan::main();
}

/// A read half that never yields data: the benchmark feeds payloads by hand.
struct Silent;

impl AsyncRead for Silent {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }
}

/// `[0, 0, ["add", [1, 2], {}]]`, as aiomas sends it.
const ADD_1_2: &[u8] = &[
    0x93, 0x00, 0x00, 0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x01, 0x02, 0x80,
];

/// `[1, 0, 3]` with its frame header.
const REPLY_3: &[u8] = &[0, 0, 0, 4, 0x93, 0x01, 0x00, 0x03];

fn bench_router(bencher: divan::Bencher, router: Router) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    // A connection serving `router` whose reader never yields data, and whose writer task never
    // runs (the runtime is entered, never driven): the reply stays in the outgoing buffer.
    let conn = Connection::builder()
        .serve(router)
        .open(tokio::io::join(Silent, tokio::io::sink()), "bench");
    let channel = conn.channel().clone();
    let payload = Bytes::from_static(ADD_1_2);
    channel.__handle_payload(payload.clone());
    assert!(
        channel.__drain_outgoing(|out| out == REPLY_3),
        "the reply is [1, 0, 3]"
    );
    bencher.bench_local(|| {
        channel.__handle_payload(payload.clone());
        channel.__drain_outgoing(|out| divan::black_box(out.len()))
    });
}

#[divan::bench]
fn typed_service(bencher: divan::Bencher) {
    bench_router(bencher, benches::ours::router());
}

#[divan::bench]
fn service_dict(bencher: divan::Bencher) {
    bench_router(bencher, benches::ours::dict_router());
}
