//! Reading: cut frames, match replies to our requests, hand the peer's requests on, and drive
//! the asynchronous handlers of an RPC connection's service.

use std::borrow::Cow;
use std::cell::Cell;
use std::future::poll_fn;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::io::AsyncRead;

use super::writer::IN_READER_BATCH;
use super::{lock, Channel, HandlerFuture, IncomingRequest, QuietClock, Reply, Shared};
use crate::error::{CallError, Error};
use crate::wire::codec::{Codec, CodecKind, MsgId, Scope, ERROR};
use crate::wire::frame::{FrameDecoder, HEADER_LEN};
use crate::wire::CodecError;

/// Marks the current thread as dispatching a batch of `shared`'s frames while `f` runs, so that
/// the replies made meanwhile are written once, afterwards; and enters the channel's codec
/// scope once for the batch, so that what is decoded and encoded for this channel meanwhile
/// (arguments, replies) need not enter it again.
fn in_batch<R>(shared: &Shared, f: impl FnOnce() -> R) -> R {
    let me = shared as *const Shared as usize;
    let prev = IN_READER_BATCH.replace(me);
    let r = shared.scope.enter(f);
    IN_READER_BATCH.set(prev);
    r
}

thread_local! {
    /// The read buffer of whichever connection reads next on this thread (see [`SCRATCH_LEN`]).
    static SCRATCH: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

/// The room of a thread's read buffer.
///
/// A connection holds a read buffer of its own only while a frame is incomplete. Otherwise it
/// reads into its thread's buffer, and takes it only if bytes came, until they are handled: an
/// idle connection holds no read buffer at all, and buffers do not come and go with every
/// connection. A frame handed on (to a handler that runs on, or as a reply the caller keeps)
/// keeps its part of the buffer alive; reads go on after it, and once the room runs low the
/// buffer starts anew if such a frame is still alive.
const SCRATCH_LEN: usize = 16 * 1024;

/// The start of a frame up to which a connection still reads through its thread's buffer (the
/// part held is copied in front of the read); past it, into its own buffer.
const SMALL_PARTIAL: usize = SCRATCH_LEN / 4;

/// Reads into this thread's read buffer, behind `partial` (the start of a frame the connection
/// holds); takes the buffer if bytes came (`None` at the end of the stream).
fn poll_read_scratch<R: AsyncRead + Unpin>(
    reader: &mut R,
    cx: &mut std::task::Context<'_>,
    partial: &[u8],
) -> Poll<std::io::Result<Option<BytesMut>>> {
    let mut buf = SCRATCH.take().unwrap_or_default();
    if buf.capacity() < partial.len() + SCRATCH_LEN / 4 {
        buf.reserve(partial.len() + SCRATCH_LEN);
    }
    buf.extend_from_slice(partial);
    match tokio_util::io::poll_read_buf(Pin::new(reader), cx, &mut buf) {
        Poll::Ready(Ok(n)) if n > 0 => Poll::Ready(Ok(Some(buf))),
        other => {
            buf.clear();
            SCRATCH.set(Some(buf));
            other.map_ok(|_| None)
        }
    }
}

/// Hands a read buffer back to this thread once what was read into it is handled.
fn give_back_scratch(buf: BytesMut) {
    debug_assert!(buf.is_empty());
    SCRATCH.set(Some(buf));
}

/// How many frames the reader handles before it lets the other tasks run: one connection's
/// burst must not hold a thread for thousands of requests while other connections wait.
///
/// Measured with `scripts/soak.sh --only e` (a client's sequential calls while 8 peers flood
/// the server, which stops reading them once their replies pile up): turns of 256 frames made
/// that client's p99 5-6x its unloaded p99, turns of 32 1.0-3.5x over eleven runs. Turns of 16
/// cost a quarter of the throughput of one connection with 1 000 calls in flight; 32 cost none
/// measurable (the replies of a read still go out in one write).
const FRAMES_PER_TURN: usize = 32;

/// The room a connection's own read buffer gets next while it holds the start of a large frame
/// (at least [`SMALL_PARTIAL`] bytes, header included). It grows with what arrived, never with
/// what a header announces alone: as much again as came (at least 256 bytes), and never past
/// the frame's end; once a quarter of the frame is here, room for all the rest at once. A peer
/// that announces 16 MiB and trickles costs twice what it sent; a large frame that does come is
/// copied by `realloc` about half its size in all, where growing in fixed steps copied it many
/// times over (15% of a 1 MiB echo's client CPU). Reserved room that nothing was read into is
/// address space, not resident memory.
fn read_room(buf: &[u8]) -> usize {
    let have = buf.len();
    let end = match buf.get(..HEADER_LEN) {
        Some(h) => HEADER_LEN + u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize,
        None => return 256,
    };
    let rest = end.saturating_sub(have);
    if have >= end / 4 {
        rest
    } else {
        have.max(256).min(rest)
    }
}

/// The reader task. It owns `shared`, and with it the request handler, so the handlers'
/// futures may borrow the service for as long as they run. When the connection ends, it reads
/// no more but drives the handlers still in progress to their end, for at most the run-on bound
/// (as aiomas lets their tasks run on); without one they are dropped (cancelled) at once.
pub(super) async fn reader_loop<R: AsyncRead + Unpin>(owner: Arc<Shared>, reader: R) {
    let shared: &Shared = &owner;
    let mut running: FuturesUnordered<HandlerFuture<'_>> = FuturesUnordered::new();
    if let Some(err) = read_loop(&owner, reader, &mut running).await {
        tracing::debug!(peer = %shared.peer, reason = %err, "connection ended");
        shared.shut(err);
    }
    run_on(shared, running).await;
}

/// Drives the handlers still in progress once the connection has ended, for at most
/// [`Shared::run_on`]; drops them at once when there is none, and those left when it passes.
async fn run_on(shared: &Shared, mut running: FuturesUnordered<HandlerFuture<'_>>) {
    if running.is_empty() {
        return;
    }
    let Some(bound) = shared.run_on else {
        tracing::debug!(peer = %shared.peer, calls = running.len(), "the connection ended: its calls in progress are cancelled");
        return;
    };
    // A server's drain waits for these too, though the connection is gone from its list.
    let _lingering = shared.lingering.as_ref().map(|t| t.token());
    tracing::debug!(peer = %shared.peer, calls = running.len(), "the connection ended: its calls in progress run on");
    let all_done = poll_fn(|cx| {
        while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
        if running.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    if tokio::time::timeout(bound, all_done).await.is_err() {
        tracing::warn!(
            peer = %shared.peer,
            calls = running.len(),
            bound = ?bound,
            "calls still in progress this long after their connection ended were cancelled"
        );
    }
}

/// Reads and dispatches until the connection ends: returns why it ended, or `None` when it was
/// shut by someone else (the reason is recorded already).
async fn read_loop<'s, R: AsyncRead + Unpin>(
    owner: &'s Arc<Shared>,
    mut reader: R,
    running: &mut FuturesUnordered<HandlerFuture<'s>>,
) -> Option<Error> {
    let shared: &Shared = owner;
    let mut decoder = FrameDecoder::new(shared.max_frame_len);
    // What was read and is not handled yet: this thread's buffer (`on_scratch`) while a read is
    // handled, the connection's own buffer while a frame is incomplete, else nothing.
    let mut buf = BytesMut::new();
    let mut on_scratch = false;
    shared.note_read_capacity(0);
    // Frames read since the channel opened, and the idle clock that watches them.
    let mut frames_read = 0u64;
    let mut idle = shared.idle_timeout.map(QuietClock::new);
    // Frames handled since this task last let the others run, over however many reads.
    let mut turn = 0usize;
    // The replies to our requests that this batch read, delivered together after it.
    let mut replies: Vec<(u64, Reply)> = Vec::new();
    loop {
        let res = in_batch(shared, || {
            while turn < FRAMES_PER_TURN {
                if shared.stopping.load(Ordering::Relaxed) {
                    // Shut while this batch was handled: the peer's other requests do not run.
                    return Ok(false);
                }
                match decoder.decode(&mut buf)? {
                    Some(frame) => {
                        turn += 1;
                        frames_read += 1;
                        // The message itself, decompressed for a compressing codec (one that
                        // does not decompress, or claims too much, ends the connection).
                        let codec = &shared.scope.codec;
                        let frame = if codec.compresses() {
                            match codec.open_payload(frame.clone(), shared.max_frame_len) {
                                Ok(opened) => opened,
                                // Not compressed at all: most likely a peer of another codec.
                                Err(e @ CodecError::Decompress(_)) => {
                                    shared.end_undecodable(&frame, e);
                                    return Ok(false);
                                }
                                Err(e) => return Err(e),
                            }
                        } else {
                            frame
                        };
                        if let Some(fut) = shared.dispatch(owner, frame, &mut replies) {
                            running.push(fut);
                        }
                    }
                    None => return Ok(false),
                }
            }
            Ok(true)
        });
        shared.deliver(&mut replies);
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
                return None;
            }
        };
        if shared.stopping.load(Ordering::Relaxed) {
            // Closed meanwhile (by a handle, the writer, or an overload): read no further.
            return None;
        }
        if turn >= FRAMES_PER_TURN {
            // A turn's worth handled: let the other connections have theirs first.
            turn = 0;
            tokio::task::yield_now().await;
            if more {
                continue;
            }
        }
        if buf.is_empty() {
            if on_scratch {
                on_scratch = false;
                give_back_scratch(std::mem::take(&mut buf));
            } else {
                // A large frame is complete: its buffer goes with it. Even one with no room
                // left (its growth ended at the frame's end) still shares the frame's memory.
                buf = BytesMut::new();
                shared.note_read_capacity(0);
            }
        } else if on_scratch {
            // The read ended inside a frame: the connection keeps just that part, in a buffer of
            // its own, and the thread gets its buffer back.
            on_scratch = false;
            // A small part goes in front of the next read into the thread's buffer; a large one
            // is read onto in its own buffer, which gets room to grow.
            let room = if buf.len() > SMALL_PARTIAL {
                read_room(&buf)
            } else {
                0
            };
            let mut own = BytesMut::with_capacity(buf.len() + room);
            own.extend_from_slice(&buf);
            buf.clear();
            give_back_scratch(std::mem::replace(&mut buf, own));
            shared.note_read_capacity(buf.capacity());
        } else if buf.len() > SMALL_PARTIAL && buf.capacity() - buf.len() < 1024 {
            // Still inside a large frame: grow with what arrived (a header announcing 16 MiB followed
            // by a trickle costs a few hundred bytes, not a buffer of growth size).
            buf.reserve(read_room(&buf));
            shared.note_read_capacity(buf.capacity());
        }
        // Wait for bytes, driving the handlers meanwhile.
        let read = poll_fn(|cx| {
            // Woken by `shut` too: an ended connection reads no more.
            shared.read_resume.register(cx.waker());
            if shared.stopping.load(Ordering::SeqCst) {
                return Poll::Ready(None);
            }
            if let Some(clock) = idle.as_mut() {
                while clock.poll_tick(cx).is_ready() {
                    let signs = frames_read + lock(&shared.out).frames;
                    let busy = !running.is_empty()
                        || shared.incoming.load(Ordering::Relaxed) > 0
                        || shared.pending.is_waiting();
                    if clock.expired(signs, busy) {
                        let timeout = clock.timeout();
                        tracing::debug!(peer = %shared.peer, ?timeout, "closing an idle connection");
                        shared.shut(Error::Idle { timeout });
                        return Poll::Ready(None);
                    }
                }
            }
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
            if buf.len() > SMALL_PARTIAL {
                // Well into a large frame: its own buffer, grown with what arrived.
                return tokio_util::io::poll_read_buf(Pin::new(&mut reader), cx, &mut buf)
                    .map(Some);
            }
            // Read into this thread's buffer, behind the start of a frame if one is held (a
            // small copy: reading into the connection's own small buffer would make small
            // reads of a busy stream), and hold it only if bytes came.
            Poll::Ready(Some(
                match std::task::ready!(poll_read_scratch(&mut reader, cx, &buf)) {
                    Ok(Some(scratch)) => {
                        let new = scratch.len() - buf.len();
                        if buf.capacity() > 0 {
                            shared.note_read_capacity(0);
                        }
                        buf = scratch;
                        on_scratch = true;
                        Ok(new)
                    }
                    Ok(None) => Ok(0),
                    Err(e) => Err(e),
                },
            ))
        })
        .await;
        match read {
            None => return None,
            Some(Ok(0)) => {
                return Some(match decoder.decode_eof(&mut buf) {
                    Err(e) => Error::from_frame(e),
                    Ok(_) => Error::Closed(Cow::Borrowed("the peer closed the connection")),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Some(e.into()),
        }
    }
}

impl Shared {
    /// Handles one frame: a reply goes to its waiter, a request to the handler (which may
    /// return a future that answers it later) or to the queue of [`Channel::recv`].
    fn dispatch<'a>(
        &'a self,
        owner: &Arc<Shared>,
        payload: Bytes,
        replies: &mut Vec<(u64, Reply)>,
    ) -> Option<HandlerFuture<'a>> {
        let codec = &self.scope.codec;
        // A valid request to a handler (an RPC service), the usual message, is cut whole in one
        // pass; everything else is read (and any error found) the general way.
        // The handler runs with the request's frame set, so that the arguments it decodes (in
        // the channel's scope, which the batch entered) share it.
        if let Some(handler) = &self.handler {
            if let Some(parsed) = codec.parse_request(&payload) {
                let req =
                    self.incoming_request(owner, parsed.id, parsed.content, payload.clone())?;
                return Scope::with_frame(&payload, || handler.handle(req, Some(&parsed.call)));
            }
        }
        // With a handler, requests are checked as they are taken apart.
        let msg = match codec.parse_message_lazily(&payload, self.handler.is_none()) {
            Ok(msg) => msg,
            Err(e) => {
                self.reject(owner, &payload, e);
                return None;
            }
        };
        match msg.kind {
            0 => {
                let req = self.incoming_request(owner, msg.id, msg.content, payload.clone())?;
                match (&self.handler, &self.queue) {
                    (Some(h), _) => Scope::with_frame(&payload, || h.handle(req, None)),
                    (None, Some((queue, _))) => {
                        let _ = queue.send(req);
                        None
                    }
                    (None, None) => unreachable!("a channel without a handler has a queue"),
                }
            }
            1 | 2 => {
                // Delivered with the others of the batch (`deliver`): one lock for them all,
                // and their callers woken once the batch is read.
                match msg.id_num {
                    Some(id) => replies.push((
                        id,
                        Reply {
                            is_error: msg.kind == 2,
                            payload,
                            content: msg.content,
                            channel: Channel::from_shared(owner.clone()),
                        },
                    )),
                    None => tracing::warn!(
                        peer = %self.peer,
                        id = %String::from_utf8_lossy(&payload[msg.id.clone()]),
                        "dropped a reply to an unknown request id"
                    ),
                }
                None
            }
            other => {
                tracing::warn!(peer = %self.peer, kind = other, "skipped a message of unknown type {other}");
                None
            }
        }
    }

    /// A request of the peer, counted as in progress; `None` when it is one too many (it is
    /// answered with an error).
    fn incoming_request(
        &self,
        owner: &Arc<Shared>,
        id: Range<usize>,
        content: Range<usize>,
        payload: Bytes,
    ) -> Option<IncomingRequest> {
        let in_flight = self.incoming.fetch_add(1, Ordering::Relaxed) + 1;
        let req = IncomingRequest {
            channel: Channel::from_shared(owner.clone()),
            id,
            content,
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
        Some(req)
    }

    /// Hands the replies a batch read to their callers: one lock for all of them, then the
    /// wake-ups (a reply nobody waits for any more is dropped with a line in the log).
    fn deliver(&self, replies: &mut Vec<(u64, Reply)>) {
        if replies.is_empty() {
            return;
        }
        self.pending.complete_all(replies, |id| {
            tracing::warn!(peer = %self.peer, id, "dropped a reply to an unknown request id");
        });
    }

    /// Answers a payload that is not a valid message: with an error reply if it was a request
    /// whose id can be read (the connection lives), else by ending the connection once the
    /// replies already queued are written, as aiomas does: a peer that sends what this end
    /// cannot read (most often, a peer of the other codec) learns at once instead of waiting.
    fn reject(&self, owner: &Arc<Shared>, payload: &[u8], err: CodecError) {
        let Some(id) = self.scope.codec.salvage_request_id(payload) else {
            self.end_undecodable(payload, err);
            return;
        };
        tracing::warn!(peer = %self.peer, error = %err, "answered an invalid request with an error");
        let error = CallError::new("ValueError", format!("invalid request: {err}"));
        let chan = Channel::from_shared(owner.clone());
        let content = chan.error_content(&error);
        if let Err(e) = chan.send_message(ERROR, MsgId::Raw(&payload[id]), &content, false) {
            tracing::debug!(error = %e, "could not answer an invalid request");
        }
    }
}

impl Shared {
    /// Ends the connection on a frame that is no message of this end's codec: logged once at
    /// WARN with the peer and the codec, and with a hint when it is a message of another codec.
    fn end_undecodable(&self, payload: &[u8], err: CodecError) {
        let ours = self.scope.codec.kind();
        let err = Error::Undecodable {
            codec: codec_label(ours),
            reason: err.to_string(),
            hint: other_codec_hint(ours, payload),
        };
        // Logged once: nothing more is read from this peer.
        tracing::warn!(peer = %self.peer, codec = codec_label(ours), error = %err, "closing the connection");
        self.shut(err);
    }
}

/// How errors and logs name a codec.
fn codec_label(kind: CodecKind) -> &'static str {
    match kind {
        CodecKind::MsgPack => "MsgPack",
        CodecKind::Json => "JSON",
        #[cfg(feature = "msgpack-blosc")]
        CodecKind::MsgPackBlosc => "MsgPackBlosc",
    }
}

/// Says so when `payload`, which this end's codec (`ours`) cannot read, is a whole message of
/// another codec: the most common misconfiguration there is.
fn other_codec_hint(ours: CodecKind, payload: &[u8]) -> Option<&'static str> {
    let json = || Codec::json().decode_message(payload).is_ok();
    let msgpack = || Codec::msgpack().decode_message(payload).is_ok();
    #[cfg(feature = "msgpack-blosc")]
    let blosc = || Codec::msgpack_blosc().decode_message(payload).is_ok();
    match ours {
        CodecKind::MsgPack => {
            #[cfg(feature = "msgpack-blosc")]
            if blosc() {
                return Some("this looks like MsgPackBlosc; this end speaks MsgPack");
            }
            json().then_some("this looks like JSON; this end speaks MsgPack")
        }
        CodecKind::Json => {
            #[cfg(feature = "msgpack-blosc")]
            if blosc() {
                return Some("this looks like MsgPackBlosc; this end speaks JSON");
            }
            msgpack().then_some("this looks like MsgPack; this end speaks JSON")
        }
        #[cfg(feature = "msgpack-blosc")]
        CodecKind::MsgPackBlosc => {
            if msgpack() {
                Some("this looks like MsgPack; this end speaks MsgPackBlosc")
            } else {
                json().then_some("this looks like JSON; this end speaks MsgPackBlosc")
            }
        }
    }
}

/// Handles one payload as the reader would, on the caller's thread (the benchmark hook).
#[cfg(feature = "__bench")]
pub(super) fn handle_one(owner: &Arc<Shared>, payload: Bytes) {
    let shared: &Shared = owner;
    let payload = shared
        .scope
        .codec
        .open_payload(payload, shared.max_frame_len)
        .expect("__handle_payload takes payloads that open");
    in_batch(shared, || {
        let mut replies = Vec::new();
        let fut = shared.dispatch(owner, payload, &mut replies);
        shared.deliver(&mut replies);
        if let Some(mut fut) = fut {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(
                fut.as_mut().poll(&mut cx).is_ready(),
                "__handle_payload drives handlers that finish on their first poll only"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::read_room;

    /// The start of a frame announcing `len` bytes, of which `have` (header included) came.
    fn partial(len: usize, have: usize) -> Vec<u8> {
        let mut b = (len as u32).to_be_bytes().to_vec();
        b.resize(have, 0);
        b
    }

    #[test]
    fn a_large_frame_gets_room_with_what_arrived_then_all_it_still_needs() {
        // A header announcing 16 MiB and a trickle: room as much again as came, at least 256.
        assert_eq!(read_room(&partial(16 << 20, 5_000)), 5_000);
        assert_eq!(read_room(&partial(16 << 20, 100)), 256);
        // Never past the frame's end.
        assert_eq!(read_room(&partial(5_000, 4_900)), 104);
        // A quarter of the frame is here: the rest at once, not in steps.
        let mib = 1 << 20;
        assert_eq!(read_room(&partial(mib, mib / 4 + 4)), mib - mib / 4);
        assert_eq!(read_room(&partial(mib, 100_000)), 100_000);
    }
}
