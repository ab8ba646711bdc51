//! What the live targets share: a paused-clock runtime that turns a hang into a panic, and the
//! raw peer of a served connection over `tokio::io::duplex`.

use std::future::Future;
use std::time::Duration;

use rpc_core::{Codec, Connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Longer than anything the targets wait for on purpose (`later` sleeps at most 65 s,
/// `CLOSE_FLUSH_TIMEOUT` is 5 s). The clock is paused and jumps ahead when every task waits,
/// so reaching this costs no real time: only a run that waits on nothing reaches it.
const HANG_LIMIT: Duration = Duration::from_secs(3600);

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
}

/// Runs `f` to completion on this thread's paused-clock runtime.
///
/// # Panics
/// When `f` has not finished after [`HANG_LIMIT`] of (virtual) time: it hangs.
pub(crate) fn block_on<F: Future>(what: &str, f: F) -> F::Output {
    RUNTIME.with(|rt| {
        rt.block_on(async {
            match tokio::time::timeout(HANG_LIMIT, f).await {
                Ok(out) => out,
                Err(_) => panic!("{what}: hangs (nothing happened for {HANG_LIMIT:?})"),
            }
        })
    })
}

/// The raw side of a duplex pipe whose other side is a served [`Connection`].
pub(crate) struct Peer {
    wr: WriteHalf<DuplexStream>,
    frames: mpsc::UnboundedReceiver<Vec<u8>>,
    reader: JoinHandle<()>,
}

/// Starts a connection serving the fuzz service on one end of a pipe, and returns it with the
/// other end.
pub(crate) fn open(codec: Codec, max_frame_len: usize) -> (Connection, Peer) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let conn = Connection::builder()
        .codec(codec)
        .max_frame_len(max_frame_len)
        .serve(crate::service::router())
        .open(a, "fuzz");
    let (rd, wr) = tokio::io::split(b);
    let (tx, frames) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_frames(rd, tx));
    (conn, Peer { wr, frames, reader })
}

/// Forwards each frame the connection writes, until it closes the pipe.
async fn read_frames(mut rd: ReadHalf<DuplexStream>, tx: mpsc::UnboundedSender<Vec<u8>>) {
    loop {
        let mut header = [0; 4];
        if rd.read_exact(&mut header).await.is_err() {
            return;
        }
        let mut payload = vec![0; u32::from_be_bytes(header) as usize];
        if rd.read_exact(&mut payload).await.is_err() {
            panic!("the connection closed in the middle of a frame it wrote");
        }
        if tx.send(payload).is_err() {
            return;
        }
    }
}

impl Peer {
    /// Writes raw bytes; an error means the connection has closed its end.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.wr.write_all(bytes).await
    }

    /// Writes one frame holding `payload`.
    pub(crate) async fn write_frame(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        self.write(&frame).await
    }

    /// Ends the stream in this direction.
    pub(crate) async fn shutdown(&mut self) {
        let _ = self.wr.shutdown().await;
    }

    /// The next frame the connection wrote, or `None` once it has closed the pipe.
    pub(crate) async fn next_frame(&mut self) -> Option<Vec<u8>> {
        self.frames.recv().await
    }

    /// Reads frames until the connection has closed the pipe.
    pub(crate) async fn until_closed(&mut self) {
        while self.next_frame().await.is_some() {}
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
