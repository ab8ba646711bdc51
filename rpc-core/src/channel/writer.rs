//! Writing: senders encode their frames straight into one shared buffer, and one write takes
//! everything queued since the last.
//!
//! A sender that finds the socket idle writes at once from its own thread when nothing else is
//! likely to follow (one call in flight); otherwise it wakes the writer task, which lets the
//! other ready tasks queue theirs and sends the whole burst in one `write`. The reader sends the
//! replies of a whole read batch in one write too ([`IN_READER_BATCH`]).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use serde::Serialize;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::{lock, Channel, QuietClock, Shared, CLOSE_FLUSH_TIMEOUT, PAUSE_READING_QUEUED};
use crate::error::Error;
use crate::wire::codec::msgpack::ser::Splices;
use crate::wire::codec::{MsgId, REQUEST};
use crate::wire::{frame, CodecError};

pub(super) type BoxWrite = Pin<Box<dyn AsyncWrite + Send>>;

/// Frames waiting to be written.
#[derive(Default)]
pub(super) struct Outbox {
    /// Frames waiting to be written, in order, but for the shared byte strings of `splices`.
    pub(super) buf: BytesMut,
    /// Large shared byte strings ([`Blob`](crate::Blob)s) that go out from where they are, not
    /// copied: each is written after `buf[..position]`, in order.
    splices: Vec<(usize, Bytes)>,
    /// The bytes in `splices`.
    spliced: usize,
    /// What the socket did not take of a batch with splices: written before `buf`.
    front: VecDeque<Bytes>,
    /// The bytes in `front`.
    front_len: usize,
    /// Whether somebody (the writer task or a sender writing directly) owns the socket now.
    writing: bool,
    /// The bytes of the batch being written now (taken out of `buf`).
    pub(super) in_write: usize,
    /// Frames queued since the channel opened (a sign of life for the idle timeout).
    pub(super) frames: u64,
    closed: Option<Error>,
}

/// A batch of frames to write: one buffer, or, when it holds shared byte strings, the pieces of
/// a vectored write.
enum Batch {
    Plain(BytesMut),
    Pieces(VecDeque<Bytes>),
}

impl Batch {
    #[inline]
    fn len(&self) -> usize {
        match self {
            Batch::Plain(b) => b.len(),
            Batch::Pieces(p) => p.iter().map(Bytes::len).sum(),
        }
    }

    /// Drops the first `n` bytes (written).
    fn advance(&mut self, mut n: usize) {
        match self {
            Batch::Plain(b) => b.advance(n),
            Batch::Pieces(p) => {
                while n > 0 {
                    let Some(first) = p.front_mut() else { return };
                    let k = n.min(first.len());
                    first.advance(k);
                    n -= k;
                    if first.is_empty() {
                        p.pop_front();
                    }
                }
            }
        }
    }

    /// Writes from byte `off` on, once.
    fn poll_write_from(
        &self,
        w: Pin<&mut (dyn AsyncWrite + Send)>,
        cx: &mut Context<'_>,
        off: usize,
    ) -> Poll<std::io::Result<usize>> {
        match self {
            Batch::Plain(b) => w.poll_write(cx, &b[off..]),
            Batch::Pieces(p) => {
                let mut slices = [IoSlice::new(&[]); 16];
                let (mut n, mut skip) = (0, off);
                for piece in p {
                    if skip >= piece.len() {
                        skip -= piece.len();
                        continue;
                    }
                    slices[n] = IoSlice::new(&piece[skip..]);
                    skip = 0;
                    n += 1;
                    if n == slices.len() {
                        break;
                    }
                }
                w.poll_write_vectored(cx, &slices[..n])
            }
        }
    }
}

impl Outbox {
    /// The memory the queue holds: the buffer's capacity and the shared bytes waiting in it.
    pub(super) fn held(&self) -> usize {
        self.buf.capacity() + self.spliced + self.front_len
    }

    /// Bytes queued and not yet taken for a write.
    fn queued_len(&self) -> usize {
        self.buf.len() + self.spliced + self.front_len
    }

    /// Whether nothing is queued.
    fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.splices.is_empty() && self.front.is_empty()
    }

    /// Takes everything queued as the batch to write, and the socket with it.
    fn take_batch(&mut self) -> Batch {
        self.writing = true;
        self.in_write = self.queued_len();
        if self.splices.is_empty() && self.front.is_empty() {
            return Batch::Plain(std::mem::take(&mut self.buf));
        }
        let mut pieces = std::mem::take(&mut self.front);
        let mut buf = std::mem::take(&mut self.buf);
        let mut cut = 0;
        for (at, shared) in self.splices.drain(..) {
            pieces.push_back(buf.split_to(at - cut).freeze());
            cut = at;
            pieces.push_back(shared);
        }
        pieces.push_back(buf.freeze());
        self.spliced = 0;
        self.front_len = 0;
        Batch::Pieces(pieces)
    }

    /// Puts back what the socket did not take of `batch`, to go first.
    fn put_back(&mut self, batch: Batch) {
        match batch {
            Batch::Plain(mut rest) if self.splices.is_empty() && self.front.is_empty() => {
                rest.extend_from_slice(&self.buf);
                self.buf = rest;
            }
            Batch::Plain(rest) => {
                self.front_len += rest.len();
                self.front.push_front(rest.freeze());
            }
            Batch::Pieces(pieces) => {
                for piece in pieces.into_iter().rev() {
                    self.front_len += piece.len();
                    self.front.push_front(piece);
                }
            }
        }
    }

    /// Gives a written batch's buffer back for the next one, if it is small (a hundred replies
    /// fit): a quiet connection does not hold on to what a burst grew.
    fn recycle(&mut self, batch: Batch) {
        if let Batch::Plain(mut b) = batch {
            if self.is_empty() && b.capacity() <= KEPT_WRITE_CAPACITY {
                b.clear();
                self.buf = b;
            }
        }
    }

    /// The batch is written (or given up): the socket is free.
    fn end_write(&mut self) {
        self.writing = false;
        self.in_write = 0;
    }

    /// Forgets everything queued.
    pub(super) fn clear(&mut self) {
        self.buf = BytesMut::new();
        self.splices.clear();
        self.spliced = 0;
        self.front.clear();
        self.front_len = 0;
    }
}

/// The most capacity the outgoing buffer keeps between writes.
const KEPT_WRITE_CAPACITY: usize = 4 * 1024;

/// How many rounds a sender that found the socket idle writes on behalf of the others before it
/// hands the rest to the writer task.
const DIRECT_ROUNDS: usize = 4;

thread_local! {
    /// The channel whose reader is dispatching a batch of frames on this thread: its replies are
    /// queued and written once, when the batch is done.
    pub(super) static IN_READER_BATCH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Channel {
    /// Whether this thread runs this channel's reader batch now, in which the channel's codec
    /// scope is entered already (see `reader::in_batch`).
    #[inline]
    pub(super) fn in_reader_batch(&self) -> bool {
        IN_READER_BATCH.get() == Arc::as_ptr(&self.shared) as usize
    }

    /// Encodes a message into the outgoing buffer and wakes the writer.
    pub(crate) fn send_message<C: Serialize + ?Sized>(
        &self,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
        direct: bool,
    ) -> Result<(), Error> {
        let shared = &*self.shared;
        let mut out = lock(&shared.out);
        if let Some(e) = &out.closed {
            return Err(e.clone());
        }
        let start = frame::begin_frame(&mut out.buf);
        // A `Serialize` impl may panic half-way: the frame is then taken out again as the panic
        // unwinds, so that only whole frames are ever written.
        let mut partial = Partial {
            buf: Some(&mut out.buf),
            start,
        };
        let too_large = |e| match e {
            CodecError::FrameTooLarge { len, limit } => Error::MessageTooLarge { len, limit },
            other => Error::Encode(other),
        };
        // Large shared byte strings are left out of the buffer and written from where they
        // are, unless the codec compresses the whole message.
        let splices = (!shared.scope.codec.compresses()).then(Splices::arm);
        // A compressing codec checks the plain message against the limit here (the peer would
        // refuse to decompress more), the others when the frame is finished. This channel's
        // reader, dispatching a batch, has entered its scope already.
        let in_batch = self.in_reader_batch();
        let write = |buf: &mut BytesMut| {
            let codec = &shared.scope.codec;
            codec.write_message(buf, kind, id, content, shared.max_frame_len)
        };
        if in_batch {
            write(partial.buf())
        } else {
            shared.scope.enter(|| write(partial.buf()))
        }
        .map_err(too_large)?;
        partial.whole();
        let kept = out.splices.len();
        let spliced = splices.map_or(0, |s| s.take_into(&mut out.splices));
        let o = &mut *out;
        if let Err(e) = frame::finish_frame(&mut o.buf, start, spliced, shared.max_frame_len) {
            o.splices.truncate(kept);
            return Err(too_large(e));
        }
        o.spliced += spliced;
        if o.queued_len() > shared.max_queued {
            let queued = o.queued_len();
            o.buf.truncate(start);
            o.splices.truncate(kept);
            o.spliced -= spliced;
            drop(out);
            let err = Error::Overloaded {
                queued,
                limit: shared.max_queued,
            };
            if kind != REQUEST {
                // Replies pile up: the peer asks without reading the answers. Waiting for it to
                // read would keep its socket and queue for as long as it likes.
                shared.abort(Error::Closed(Cow::Owned(format!(
                    "closed by this side: {err}"
                ))));
            }
            return Err(err);
        }
        out.frames += 1;
        let idle = start == 0 && kept == 0 && out.front.is_empty() && !out.writing;
        drop(out);
        if idle && !in_batch {
            if direct {
                shared.write_now();
            } else {
                shared.writer_wake.notify_one();
            }
        }
        Ok(())
    }
}

/// A frame being encoded at the end of the outgoing buffer: dropped before [`whole`](Self::whole)
/// (by an error or a panic), it removes what was written of it.
struct Partial<'a> {
    buf: Option<&'a mut BytesMut>,
    start: usize,
}

impl<'a> Partial<'a> {
    fn buf(&mut self) -> &mut BytesMut {
        self.buf.as_deref_mut().expect("a partial frame is open")
    }

    /// The frame is whole: keep it.
    fn whole(mut self) -> &'a mut BytesMut {
        self.buf.take().expect("a partial frame is open")
    }
}

impl Drop for Partial<'_> {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            buf.truncate(self.start);
        }
    }
}

impl Shared {
    /// Writes what is queued from the calling thread, without waiting: the fast path when the
    /// socket is idle, which saves waking the writer task. Frames that others queue meanwhile go
    /// out in the next round; what cannot be written at once is left to the writer task.
    pub(super) fn write_now(&self) {
        for _ in 0..DIRECT_ROUNDS {
            let mut batch = {
                let mut out = lock(&self.out);
                if out.writing || out.is_empty() {
                    return;
                }
                out.take_batch()
            };
            let written = match self.try_write(&batch) {
                Ok(n) => n,
                Err(e) => {
                    lock(&self.out).end_write();
                    self.shut(e.into());
                    return;
                }
            };
            let mut out = lock(&self.out);
            out.end_write();
            if written < batch.len() {
                // The socket is full: the rest goes first, and the writer task waits for room.
                // Marked at once, so that the reader sees the queue grow before that task runs.
                self.write_blocked.store(true, Ordering::Relaxed);
                batch.advance(written);
                out.put_back(batch);
                break;
            }
            if out.is_empty() {
                out.recycle(batch);
                let closed = out.closed.is_some();
                drop(out);
                self.drained();
                if !closed {
                    return;
                }
                break;
            }
        }
        self.writer_wake.notify_one();
    }

    /// Bytes waiting to be written: queued, and in the write under way.
    fn queued(out: &Outbox) -> usize {
        out.queued_len() + out.in_write
    }

    /// Whether the reader should stop taking the peer's requests for now: too many bytes wait to
    /// be written and none of our requests waits for the peer ([`PAUSE_READING_QUEUED`]). If so,
    /// `cx` is woken when that changes.
    pub(super) fn backed_up(&self, cx: &mut Context<'_>) -> bool {
        // Bytes pile up only while the socket takes none: the cheap test first.
        if !self.write_blocked.load(Ordering::Relaxed)
            || Self::queued(&lock(&self.out)) <= PAUSE_READING_QUEUED
        {
            return false;
        }
        // Registered and marked before looking again, so that a writer or a request that
        // changes things meanwhile sees the mark and wakes us.
        self.read_resume.register(cx.waker());
        self.read_paused.store(true, Ordering::SeqCst);
        let still = Self::queued(&lock(&self.out)) > PAUSE_READING_QUEUED / 2
            && !self.pending.is_waiting()
            && !self.stopping.load(Ordering::SeqCst);
        if !still {
            self.read_paused.store(false, Ordering::SeqCst);
        }
        still
    }

    /// Wakes a paused reader (the queue drained, a request of ours waits, or the channel shut).
    pub(super) fn resume_reading(&self) {
        if self.read_paused.load(Ordering::SeqCst) {
            self.read_paused.store(false, Ordering::SeqCst);
            self.read_resume.wake();
        }
    }

    /// A write finished: wakes a paused reader once the queue is down to half the pause mark.
    fn drained(&self) {
        if self.read_paused.load(Ordering::SeqCst)
            && Self::queued(&lock(&self.out)) <= PAUSE_READING_QUEUED / 2
        {
            self.resume_reading();
        }
    }

    /// Writes as much of `batch` as the socket takes without blocking.
    fn try_write(&self, batch: &Batch) -> std::io::Result<usize> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut sock = lock(&self.sock);
        let Some(w) = sock.as_mut() else {
            return Ok(0);
        };
        let mut off = 0;
        // One buffer (the usual batch) is written as before; pieces with a vectored write.
        let (plain, len) = match batch {
            Batch::Plain(b) => (Some(&b[..]), b.len()),
            Batch::Pieces(_) => (None, batch.len()),
        };
        while off < len {
            let res = match plain {
                Some(bytes) => w.as_mut().poll_write(&mut cx, &bytes[off..]),
                None => batch.poll_write_from(w.as_mut(), &mut cx, off),
            };
            match res {
                Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => off += n,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
        Ok(off)
    }

    /// Refuses further frames with `err` (the first reason wins) and lets the writer flush what
    /// is queued and finish.
    pub(super) fn close_outbox(&self, err: &Error) {
        {
            let mut out = lock(&self.out);
            if out.closed.is_none() {
                out.closed = Some(err.clone());
            }
        }
        self.writer_wake.notify_one();
    }
}

/// What the writer task woke up for.
enum Step {
    /// The batch is written (or the write failed).
    Written(std::io::Result<()>),
    /// New frames were queued, or the channel was closed.
    Woken,
    /// The write-stall clock ticked.
    Tick,
}

/// The writer task: writes what is queued, in bursts, until the channel is closed and flushed.
pub(super) async fn writer_loop(shared: Arc<Shared>) {
    let mut flush_deadline = None;
    'run: loop {
        let batch = {
            let mut out = lock(&shared.out);
            if out.writing || out.is_empty() {
                if out.closed.is_some() && !out.writing {
                    break;
                }
                None
            } else {
                Some(out.take_batch())
            }
        };
        let Some(batch) = batch else {
            shared.writer_wake.notified().await;
            // Woken by the first frame of a burst: let the tasks that are ready to run now (the
            // callers that a batch of replies just woke) queue theirs too, then write them all
            // at once. Without this the writer often runs right after each caller and sends
            // every frame with its own syscall.
            tokio::task::yield_now().await;
            continue;
        };
        // Bytes of the batch written so far; the stall clock watches it move.
        let off = AtomicUsize::new(0);
        let len = batch.len();
        let write = std::future::poll_fn(|cx| {
            let mut sock = lock(&shared.sock);
            let Some(w) = sock.as_mut() else {
                return Poll::Ready(Ok(()));
            };
            while off.load(Ordering::Relaxed) < len {
                match batch.poll_write_from(w.as_mut(), cx, off.load(Ordering::Relaxed)) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                    }
                    Poll::Ready(Ok(n)) => {
                        off.fetch_add(n, Ordering::Relaxed);
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        shared.write_blocked.store(true, Ordering::Relaxed);
                        return Poll::Pending;
                    }
                }
            }
            Poll::Ready(Ok(()))
        });
        let mut write = std::pin::pin!(write);
        // Made only once a write waits for room: most batches go out at once, and a timer
        // costs a registration in the runtime's timer wheel.
        let mut stall: Option<QuietClock> = None;
        let res = loop {
            // Once the channel is closed, what is queued gets CLOSE_FLUSH_TIMEOUT to go out, also
            // when it closes in the middle of a write: a peer that does not read cannot hold the
            // socket and the queue forever.
            if lock(&shared.out).closed.is_some() {
                let deadline =
                    *flush_deadline.get_or_insert_with(|| Instant::now() + CLOSE_FLUSH_TIMEOUT);
                match tokio::time::timeout_at(deadline, write.as_mut()).await {
                    Ok(res) => break res,
                    Err(_) => {
                        tracing::warn!(peer = %shared.peer, "the peer did not read; closing without flushing");
                        break 'run;
                    }
                }
            }
            let step = {
                let mut woken = std::pin::pin!(shared.writer_wake.notified());
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(res) = write.as_mut().poll(cx) {
                        return Poll::Ready(Step::Written(res));
                    }
                    if stall.is_none() {
                        stall = shared.write_stall_timeout.map(QuietClock::new);
                    }
                    // Closing wakes the writer: look again.
                    if woken.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Step::Woken);
                    }
                    if let Some(clock) = stall.as_mut() {
                        if clock.poll_tick(cx).is_ready() {
                            return Poll::Ready(Step::Tick);
                        }
                    }
                    Poll::Pending
                })
                .await
            };
            match step {
                Step::Written(res) => break res,
                Step::Woken => {}
                Step::Tick => {
                    if let Some(clock) = stall.as_mut() {
                        if clock.expired(off.load(Ordering::Relaxed) as u64, false) {
                            // Nothing moved for the whole timeout while this batch waited.
                            shared.abort(Error::WriteStalled {
                                timeout: clock.timeout(),
                            });
                            return;
                        }
                    }
                }
            }
        };
        shared.write_blocked.store(false, Ordering::Relaxed);
        let mut out = lock(&shared.out);
        out.end_write();
        if let Err(e) = res {
            drop(out);
            shared.shut(e.into());
            break;
        }
        out.recycle(batch);
        drop(out);
        shared.drained();
    }
    let sock = lock(&shared.sock).take();
    if let Some(mut w) = sock {
        let _ = w.shutdown().await;
    }
}
