//! Reading: cut frames, match replies to our requests, hand the peer's requests on, and drive
//! the asynchronous handlers of an RPC connection's service.

use std::borrow::Cow;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::io::AsyncRead;

use super::writer::IN_READER_BATCH;
use super::{Channel, HandlerFuture, IncomingRequest, Reply, Shared};
use crate::error::{CallError, Error};
use crate::wire::codec::{MsgId, ERROR};
use crate::wire::frame::FrameDecoder;
use crate::wire::CodecError;

/// Marks the current thread as dispatching a batch of `shared`'s frames while `f` runs, so that
/// the replies made meanwhile are written once, afterwards.
fn in_batch<R>(shared: &Shared, f: impl FnOnce() -> R) -> R {
    let me = shared as *const Shared as usize;
    let prev = IN_READER_BATCH.with(|b| b.replace(me));
    let r = f();
    IN_READER_BATCH.with(|b| b.set(prev));
    r
}

/// A fresh read buffer of the idle size (out of line: it is the rare path).
#[cold]
fn shrunk(shared: &Shared) -> BytesMut {
    let buf = BytesMut::with_capacity(IDLE_READ_CAPACITY);
    shared.note_read_capacity(buf.capacity());
    buf
}

/// How many frames the reader handles before it lets the other tasks run: one connection's
/// burst must not hold a thread for thousands of requests while other connections wait.
///
/// Measured with `scripts/soak.sh --only e` (a client's sequential calls while 8 peers flood
/// the server): turns of 256 frames made that client's p99 5-6x its unloaded p99, turns of 32
/// 1.2-2x. Turns of 16 cost a quarter of the throughput of one connection with 1 000 calls in
/// flight; 32 cost none measurable (the replies of a read still go out in one write).
const FRAMES_PER_TURN: usize = 32;

/// The read buffer a connection keeps while it waits for bytes. It grows while bytes come
/// faster than frames are handled, and shrinks back to this once everything read is handled,
/// so that a burst or a large frame is not held on to by an idle connection. A connection whose
/// peer has not sent anything yet holds none.
const IDLE_READ_CAPACITY: usize = 4 * 1024;

/// How much the read buffer grows by when it runs out of room.
const READ_GROWTH: usize = 64 * 1024;

/// The reader task. It owns `shared`, and with it the request handler, so the handlers'
/// futures may borrow the service for as long as they run; they are dropped (cancelled) when
/// the connection ends.
pub(super) async fn reader_loop<R: AsyncRead + Unpin>(owner: Arc<Shared>, mut reader: R) {
    let shared: &Shared = &owner;
    let mut decoder = FrameDecoder::new(shared.max_frame_len);
    // No buffer until the peer sends something: a connection that only waits (a server's idle
    // clients) holds none. The first bytes are read onto the stack, then kept in a buffer of
    // just their size, which grows as described below.
    let mut buf = BytesMut::new();
    let mut fresh = true;
    shared.note_read_capacity(0);
    let mut running: FuturesUnordered<HandlerFuture<'_>> = FuturesUnordered::new();
    // Frames handled since this task last let the others run, over however many reads.
    let mut turn = 0usize;
    let err = loop {
        let res = in_batch(shared, || {
            while turn < FRAMES_PER_TURN {
                if shared.stopping.load(Ordering::Relaxed) {
                    // Shut while this batch was handled: the peer's other requests do not run.
                    return Ok(false);
                }
                match decoder.decode(&mut buf)? {
                    Some(frame) => {
                        turn += 1;
                        if let Some(fut) = shared.dispatch(&owner, frame) {
                            running.push(fut);
                        }
                    }
                    None => return Ok(false),
                }
            }
            Ok(true)
        });
        // The replies of the whole read go out in one write.
        if !matches!(res, Ok(true)) {
            shared.write_now();
        }
        let more = match res {
            Ok(more) => more,
            Err(e) => {
                let e = Error::from_frame(e);
                tracing::warn!(peer = %shared.peer, error = %e, "closing the connection");
                shared.shut(e);
                return;
            }
        };
        if shared.stopping.load(Ordering::Relaxed) {
            // Closed meanwhile (by a handle, the writer, or an overload): read no further.
            return;
        }
        if turn >= FRAMES_PER_TURN {
            // A turn's worth handled: let the other connections have theirs first.
            turn = 0;
            tokio::task::yield_now().await;
            if more {
                continue;
            }
        }
        if fresh {
            // Nothing read yet: no buffer to size.
        } else if buf.is_empty() {
            if buf.capacity() > IDLE_READ_CAPACITY {
                // All read is handled: give back what a burst or a large frame grew.
                buf = shrunk(shared);
            } else if buf.capacity() < 1024 {
                // Taken back from its start (its frames are gone), or grown to the idle size.
                buf.reserve(IDLE_READ_CAPACITY);
                shared.note_read_capacity(buf.capacity());
            }
        } else if buf.capacity() - buf.len() < 1024 {
            // Holding a partial frame: grow with what arrived (a header announcing 16 MiB
            // followed by a trickle costs a few hundred bytes, not a buffer of growth size).
            buf.reserve(buf.len().clamp(256, READ_GROWTH));
            shared.note_read_capacity(buf.capacity());
        }
        // Wait for bytes, driving the handlers meanwhile.
        let read = poll_fn(|cx| {
            if !running.is_empty() {
                in_batch(shared, || {
                    while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
                });
                // What the handlers sent meanwhile (replies, and their own requests) goes out
                // in one write.
                shared.write_now();
            }
            if shared.backed_up(cx) {
                // The peer does not read its replies: leave its requests unread (its writes
                // block) until the queue drains.
                return Poll::Pending;
            }
            if fresh {
                return poll_first_read(Pin::new(&mut reader), cx, &mut buf, &mut fresh, shared);
            }
            tokio_util::io::poll_read_buf(Pin::new(&mut reader), cx, &mut buf)
        })
        .await;
        match read {
            Ok(0) => {
                break match decoder.decode_eof(&mut buf) {
                    Err(e) => Error::from_frame(e),
                    Ok(_) => Error::Closed(Cow::Borrowed("the peer closed the connection")),
                };
            }
            Ok(_) => {}
            Err(e) => break e.into(),
        }
    };
    tracing::debug!(peer = %shared.peer, reason = %err, "connection ended");
    shared.shut(err);
}

/// The first read of a connection: onto the stack (up to the idle size, as a first read into
/// the buffer would take), and only once bytes came, into a buffer of just their size (see
/// `reader_loop`).
#[cold]
fn poll_first_read<R: AsyncRead>(
    reader: Pin<&mut R>,
    cx: &mut std::task::Context<'_>,
    buf: &mut BytesMut,
    fresh: &mut bool,
    shared: &Shared,
) -> Poll<std::io::Result<usize>> {
    // As much as the idle buffer would have taken, so that the first read is no shorter.
    let mut first = [std::mem::MaybeUninit::<u8>::uninit(); IDLE_READ_CAPACITY];
    let mut rb = tokio::io::ReadBuf::uninit(&mut first);
    std::task::ready!(reader.poll_read(cx, &mut rb))?;
    let n = rb.filled().len();
    if n > 0 {
        // Just what came: whole requests are handled and the buffer grows to the idle size
        // then; a partial frame grows with what arrives.
        *buf = BytesMut::from(rb.filled());
        shared.note_read_capacity(buf.capacity());
        *fresh = false;
    }
    Poll::Ready(Ok(n))
}

impl Shared {
    /// Handles one frame: a reply goes to its waiter, a request to the handler (which may
    /// return a future that answers it later) or to the queue of [`Channel::recv`].
    fn dispatch<'a>(&'a self, owner: &Arc<Shared>, payload: Bytes) -> Option<HandlerFuture<'a>> {
        let codec = &self.scope.codec;
        // With a handler (an RPC service), requests are checked as they are taken apart.
        let msg = match codec.parse_message_lazily(&payload, self.handler.is_none()) {
            Ok(msg) => msg,
            Err(e) => {
                self.reject(owner, &payload, e);
                return None;
            }
        };
        match msg.kind {
            0 => {
                let in_flight = self.incoming.fetch_add(1, Ordering::Relaxed) + 1;
                let req = IncomingRequest {
                    channel: Channel::from_shared(owner.clone()),
                    id: msg.id,
                    content: msg.content,
                    payload,
                };
                if in_flight > self.max_in_flight {
                    let _ = req.fail(&CallError::new(
                        "RuntimeError",
                        format!(
                            "too many requests in progress on this connection (the limit is {})",
                            self.max_in_flight
                        ),
                    ));
                    return None;
                }
                match (&self.handler, &self.queue) {
                    (Some(h), _) => h.handle(req),
                    (None, Some((queue, _))) => {
                        let _ = queue.send(req);
                        None
                    }
                    (None, None) => unreachable!("a channel without a handler has a queue"),
                }
            }
            1 | 2 => {
                let delivered = msg.id_num.is_some_and(|id| {
                    self.pending.complete(id, || Reply {
                        is_error: msg.kind == 2,
                        payload: payload.clone(),
                        content: msg.content.clone(),
                        channel: Channel::from_shared(owner.clone()),
                    })
                });
                if !delivered {
                    tracing::warn!(
                        peer = %self.peer,
                        id = %String::from_utf8_lossy(&payload[msg.id.clone()]),
                        "dropped a reply to an unknown request id"
                    );
                }
                None
            }
            other => {
                tracing::warn!(peer = %self.peer, kind = other, "skipped a message of unknown type {other}");
                None
            }
        }
    }

    /// Logs a payload that is not a valid message and answers it if it was a request.
    fn reject(&self, owner: &Arc<Shared>, payload: &[u8], err: CodecError) {
        tracing::warn!(peer = %self.peer, error = %err, "skipped an invalid message");
        if let Some(id) = self.scope.codec.salvage_request_id(payload) {
            let error = CallError::new("ValueError", format!("invalid request: {err}"));
            let chan = Channel::from_shared(owner.clone());
            let content = chan.error_content(&error);
            if let Err(e) = chan.send_message(ERROR, MsgId::Raw(&payload[id]), &content, false) {
                tracing::debug!(error = %e, "could not answer an invalid request");
            }
        }
    }
}

/// Handles one payload as the reader would, on the caller's thread (the benchmark hook).
#[cfg(feature = "__bench")]
pub(super) fn handle_one(owner: &Arc<Shared>, payload: Bytes) {
    let shared: &Shared = owner;
    in_batch(shared, || {
        if let Some(mut fut) = shared.dispatch(owner, payload) {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(
                fut.as_mut().poll(&mut cx).is_ready(),
                "__handle_payload drives handlers that finish on their first poll only"
            );
        }
    });
}
