//! The channel: requests and replies over one connection, in both directions.
//!
//! One [`Channel`] serves one connection. [`Channel::request`] sends `[0, id, content]` and
//! returns a future of the reply; ids count up from 0 per connection and direction, and replies
//! are matched by id in whatever order they come. Requests from the peer arrive as
//! [`IncomingRequest`]s, through [`Channel::recv`] or a [`RequestHandler`], and are answered with
//! [`IncomingRequest::reply`] or [`IncomingRequest::fail`], which echo the request's id exactly as
//! it came.
//!
//! Two tasks run per connection. The reader cuts frames, matches replies and hands requests on.
//! The writer owns the socket's write half: senders encode their message straight into a shared
//! buffer, and the writer sends everything queued since its last write in one `write` call.
//!
//! Bad input never ends the connection unless the stream itself is broken:
//!
//! | input | what happens |
//! |---|---|
//! | reply to an unknown id (say, after the caller gave up) | dropped, with a log line |
//! | payload that does not decode, or is not `[type, id, content]` | skipped, with a log line; if it was a request whose id can be read, the sender gets an error reply saying what was wrong |
//! | unknown message type | skipped, with a log line |
//! | value nested deeper than the codec's limit | treated as a payload that does not decode |
//! | frame over the maximum length | the connection ends; pending requests fail with [`FrameError::TooLarge`](crate::frame::FrameError::TooLarge) |
//! | stream ends (or ends in the middle of a frame) | pending requests fail at once with [`ChannelError::ConnectionReset`] |
//! | more requests in progress than [`ChannelBuilder::max_in_flight`] | answered at once with `RuntimeError: too many requests in progress...` |
//! | a peer that sends requests without reading the replies, until [`ChannelBuilder::max_queued`] bytes wait | the connection ends with [`ChannelError::Overloaded`] |

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio_util::codec::Decoder;

use crate::codec::{Codec, MsgId, Scope, ERROR, REQUEST, RESULT};
use crate::error::{CallError, ChannelError, CodecError};
use crate::frame::{self, FrameDecoder, DEFAULT_MAX_FRAME_LEN};
use crate::value::Value;

/// Receives the requests of a channel as they arrive, on the channel's reader task.
///
/// Handling must not block: answer at once, or spawn a task that answers later.
pub trait RequestHandler: Send + Sync + 'static {
    /// Handles one request.
    fn handle(&self, request: IncomingRequest);
}

/// Settings of a channel. Build one with [`Channel::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ChannelBuilder {
    codec: Codec,
    max_frame_len: usize,
    max_in_flight: usize,
    max_queued: usize,
    peer: String,
}

/// The default number of the peer's requests that may be in progress at once on a connection.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;

/// The default limit of bytes queued to be written: four maximal frames.
pub const DEFAULT_MAX_QUEUED: usize = 4 * DEFAULT_MAX_FRAME_LEN;

impl ChannelBuilder {
    /// Sets the codec (MsgPack by default).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Sets the maximum payload length of a frame, in both directions
    /// ([`DEFAULT_MAX_FRAME_LEN`] by default).
    pub fn max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len;
        self
    }

    /// Sets how many of the peer's requests may be in progress at once
    /// ([`DEFAULT_MAX_IN_FLIGHT`] by default). A request over the limit is answered at once with
    /// `RuntimeError: too many requests in progress...`, so a greedy peer cannot pile up work.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Sets how many bytes may wait to be written ([`DEFAULT_MAX_QUEUED`] by default). Over it,
    /// a new request fails at once with [`ChannelError::Overloaded`]; a reply over it means the
    /// peer sends requests without reading the replies, and the connection is closed with that
    /// error.
    pub fn max_queued(mut self, bytes: usize) -> Self {
        self.max_queued = bytes;
        self
    }

    /// Sets the peer's address as reported in errors (`RemoteError::origin`).
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        self.peer = peer.into();
        self
    }

    /// Starts the channel on a stream (a socket, or `tokio::io::duplex` in tests).
    ///
    /// Must be called within a Tokio runtime: the reader and writer tasks are spawned here.
    pub fn open<S>(self, stream: S) -> Channel
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(stream);
        self.open_split(r, w)
    }

    /// Starts the channel on the two halves of a stream.
    pub fn open_split<R, W>(self, reader: R, writer: W) -> Channel
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (closed_tx, _) = watch::channel(None);
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let shared = Arc::new_cyclic(|me| Shared {
            scope: Scope {
                codec: self.codec.clone(),
                conn: Some(ConnHooks {
                    channel: me.clone(),
                    service: OnceLock::new(),
                }),
            },
            max_frame_len: self.max_frame_len,
            max_in_flight: self.max_in_flight,
            max_queued: self.max_queued,
            peer: self.peer,
            next_id: AtomicU64::new(0),
            incoming: AtomicUsize::new(0),
            pending: Mutex::new(HashMap::default()),
            out: Mutex::new(Outbox::default()),
            sock: Mutex::new(Some(Box::pin(writer))),
            writer_wake: Notify::new(),
            handler: OnceLock::new(),
            queueing: Mutex::new(()),
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            closed: closed_tx,
            tasks: Mutex::new(None),
            handle: OnceLock::new(),
        });
        // The users' handle exists before the reader can hand out requests that refer to it.
        let handle = Arc::new(Handle {
            shared: shared.clone(),
            closes: true,
        });
        let _ = shared.handle.set(Arc::downgrade(&handle));
        let reader_task = tokio::spawn(reader_loop(shared.clone(), reader));
        let writer_task = tokio::spawn(writer_loop(shared.clone()));
        *lock(&shared.tasks) = Some((reader_task, writer_task));
        Channel {
            shared,
            _handle: handle,
        }
    }
}

/// A request/reply channel over one connection. Cheap to clone; all clones are one channel.
///
/// When the last clone is dropped (with every proxy, request and reply that refers to it), the
/// connection is closed as by [`close`](Self::close), without waiting.
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
    _handle: Arc<Handle>,
}

/// Closes the connection when the last [`Channel`] handle goes away.
struct Handle {
    shared: Arc<Shared>,
    /// False for the stand-in made after every users' handle was gone.
    closes: bool,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.closes {
            return;
        }
        self.shared
            .shut(ChannelError::ConnectionReset(Cow::Borrowed(
                "every handle of the channel was dropped",
            )));
        if let Some((reader, _writer)) = lock(&self.shared.tasks).as_ref() {
            reader.abort();
        }
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("peer", &self.shared.peer)
            .field("codec", &self.shared.scope.codec.kind())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// What the codec's scope knows of the connection: how to bind received service references to
/// it, and which local service sent ones must belong to.
pub(crate) struct ConnHooks {
    pub(crate) channel: Weak<Shared>,
    pub(crate) service: OnceLock<crate::service::Router>,
}

#[derive(Default)]
struct Outbox {
    /// Frames waiting to be written, in order.
    buf: BytesMut,
    /// Whether somebody (the writer task or a sender writing directly) owns the socket now.
    writing: bool,
    closed: Option<ChannelError>,
}

type BoxWrite = Pin<Box<dyn AsyncWrite + Send>>;

/// How long [`Channel::close`] waits for queued frames to be written before it drops them.
pub const CLOSE_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How many rounds a sender that found the socket idle writes on behalf of the others before it
/// hands the rest to the writer task.
const DIRECT_ROUNDS: usize = 4;

thread_local! {
    /// The channel whose reader is dispatching a batch of frames on this thread: its replies are
    /// queued and written once, when the batch is done.
    static IN_READER_BATCH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

type PendingTx = oneshot::Sender<Result<Reply, ChannelError>>;

/// Hashes our own request ids, which count up from 0: a multiplication spreads them well enough,
/// and SipHash's protection against chosen keys is moot for keys we choose ourselves.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) struct Shared {
    scope: Scope,
    max_frame_len: usize,
    max_in_flight: usize,
    max_queued: usize,
    peer: String,
    next_id: AtomicU64,
    /// Requests of the peer received and not yet dropped (answered or not).
    incoming: AtomicUsize,
    pending: Mutex<HashMap<u64, PendingTx, BuildHasherDefault<IdHasher>>>,
    out: Mutex<Outbox>,
    /// The write half of the socket; locked only for one non-blocking write attempt at a time.
    sock: Mutex<Option<BoxWrite>>,
    writer_wake: Notify,
    handler: OnceLock<Arc<dyn RequestHandler>>,
    /// Held while a request is queued for `recv` and while a handler is installed.
    queueing: Mutex<()>,
    queue_tx: mpsc::UnboundedSender<IncomingRequest>,
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<IncomingRequest>>,
    closed: watch::Sender<Option<ChannelError>>,
    tasks: Mutex<Option<(JoinHandle<()>, JoinHandle<()>)>>,
    handle: OnceLock<Weak<Handle>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while a lock is held cannot leave these maps half-updated; carry on.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Channel {
    /// Settings for a new channel: MsgPack, [`DEFAULT_MAX_FRAME_LEN`].
    pub fn builder() -> ChannelBuilder {
        ChannelBuilder {
            codec: Codec::msgpack(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_queued: DEFAULT_MAX_QUEUED,
            peer: String::from("?"),
        }
    }

    /// A handle for internal use (requests, replies, received proxies). It shares the users'
    /// handle while any exists; after that the channel is closed already.
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        let handle = shared
            .handle
            .get()
            .and_then(Weak::upgrade)
            .unwrap_or_else(|| {
                Arc::new(Handle {
                    shared: shared.clone(),
                    closes: false,
                })
            });
        Channel {
            shared,
            _handle: handle,
        }
    }

    /// The codec of this channel.
    pub fn codec(&self) -> &Codec {
        &self.shared.scope.codec
    }

    /// The peer's address.
    pub fn peer(&self) -> &str {
        &self.shared.peer
    }

    /// Sends a request and returns the future of its reply.
    ///
    /// The request is queued before this returns, so requests go out in the order of the calls.
    /// Dropping the future forgets the request: a reply that comes later is dropped.
    pub fn request<C: Serialize + ?Sized>(&self, content: &C) -> Result<ReplyFuture, ChannelError> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let alone = {
            let mut pending = lock(&self.shared.pending);
            pending.insert(id, tx);
            pending.len() == 1
        };
        if let Err(e) = self.send_message(REQUEST, MsgId::Num(id), content, alone) {
            // The id stays used, as in aiomas.
            lock(&self.shared.pending).remove(&id);
            return Err(e);
        }
        Ok(ReplyFuture {
            id,
            rx,
            shared: self.shared.clone(),
            done: false,
        })
    }

    /// Encodes a message into the outgoing buffer and wakes the writer.
    pub(crate) fn send_message<C: Serialize + ?Sized>(
        &self,
        kind: u8,
        id: MsgId<'_>,
        content: &C,
        direct: bool,
    ) -> Result<(), ChannelError> {
        self.write_frame(kind, direct, |codec, buf| {
            codec.encode_message(buf, kind, id, content)
        })
    }

    /// Queues one frame. With `direct`, a sender that finds the socket idle writes it at once
    /// instead of waking the writer task: right when nothing else is likely to follow (one call in
    /// flight), wrong for a burst, which the writer task coalesces into one write.
    fn write_frame(
        &self,
        kind: u8,
        direct: bool,
        write: impl FnOnce(&Codec, &mut BytesMut) -> Result<(), CodecError>,
    ) -> Result<(), ChannelError> {
        let shared = &*self.shared;
        let mut out = lock(&shared.out);
        if let Some(e) = &out.closed {
            return Err(e.clone());
        }
        let start = frame::begin_frame(&mut out.buf);
        if let Err(e) = shared
            .scope
            .enter(|| write(&shared.scope.codec, &mut out.buf))
        {
            out.buf.truncate(start);
            return Err(e.into());
        }
        frame::finish_frame(&mut out.buf, start, shared.max_frame_len)?;
        if out.buf.len() > shared.max_queued {
            let err = ChannelError::Overloaded {
                queued: out.buf.len(),
                limit: shared.max_queued,
            };
            out.buf.truncate(start);
            drop(out);
            if kind != REQUEST {
                // Replies pile up: the peer asks without reading the answers.
                tracing::warn!(peer = %shared.peer, error = %err, "closing the connection");
                shared.shut(err.clone());
            }
            return Err(err);
        }
        let idle = start == 0 && !out.writing;
        drop(out);
        if idle && IN_READER_BATCH.with(|b| b.get()) != Arc::as_ptr(&self.shared) as usize {
            if direct {
                shared.write_now();
            } else {
                shared.writer_wake.notify_one();
            }
        }
        Ok(())
    }

    /// Handles one incoming payload on the caller's thread, exactly as the reader task would.
    /// For benchmarks of dispatch without a socket; not a stable API.
    #[doc(hidden)]
    pub fn __handle_payload(&self, payload: Bytes) {
        let me = Arc::as_ptr(&self.shared) as usize;
        let prev = IN_READER_BATCH.with(|b| b.replace(me));
        self.shared.dispatch(payload);
        IN_READER_BATCH.with(|b| b.set(prev));
    }

    /// Shows what is queued for the writer to `f`, then forgets it (keeping the buffer). For
    /// benchmarks; not a stable API.
    #[doc(hidden)]
    pub fn __drain_outgoing<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut out = lock(&self.shared.out);
        let r = f(&out.buf);
        out.buf.clear();
        r
    }

    /// Decodes bytes of this channel's codec with service references bound to this channel.
    pub(crate) fn decode_in_scope<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
    ) -> Result<T, CodecError> {
        let scope = &self.shared.scope;
        scope.enter(|| scope.codec.decode_slice(bytes))
    }

    /// Runs `f` with this channel's codec scope (for conversions of dynamic values).
    pub(crate) fn enter_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.shared.scope.enter(f)
    }

    /// Receives the next request from the peer (when no [`RequestHandler`] is installed).
    ///
    /// Fails with the reason once the connection has ended and every queued request was taken.
    pub async fn recv(&self) -> Result<IncomingRequest, ChannelError> {
        let mut rx = self.shared.queue_rx.lock().await;
        tokio::select! {
            biased;
            Some(req) = rx.recv() => Ok(req),
            err = self.closed() => match rx.try_recv() {
                Ok(req) => Ok(req),
                Err(_) => Err(err),
            },
        }
    }

    /// Installs the handler that receives every request from now on, instead of [`recv`](Self::recv).
    /// Requests that were already queued are handed to it at once.
    ///
    /// # Panics
    /// If a handler is already installed.
    #[track_caller]
    pub fn set_handler(&self, handler: Arc<dyn RequestHandler>) {
        // Under `queueing`, so that the reader cannot queue a request after the drain below.
        let _queueing = lock(&self.shared.queueing);
        assert!(
            self.shared.handler.set(handler.clone()).is_ok(),
            "the channel already has a request handler"
        );
        if let Ok(mut rx) = self.shared.queue_rx.try_lock() {
            while let Ok(req) = rx.try_recv() {
                handler.handle(req);
            }
        }
    }

    pub(crate) fn set_service(&self, router: crate::service::Router) {
        if let Some(hooks) = &self.shared.scope.conn {
            let _ = hooks.service.set(router);
        }
    }

    /// Whether the connection has ended (or is closing).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.borrow().is_some()
    }

    /// Waits until the connection has ended and returns why.
    pub fn closed(&self) -> impl Future<Output = ChannelError> + Send + 'static {
        let mut rx = self.shared.closed.subscribe();
        async move {
            loop {
                if let Some(e) = rx.borrow_and_update().clone() {
                    return e;
                }
                if rx.changed().await.is_err() {
                    return ChannelError::ConnectionReset(Cow::Borrowed("connection closed"));
                }
            }
        }
    }

    /// Closes the connection: flushes what is queued, shuts the socket down and waits for the
    /// channel's tasks. Pending requests fail with a connection-reset error.
    ///
    /// A peer that does not read could hold the flush up forever: after [`CLOSE_FLUSH_TIMEOUT`]
    /// what is left unsent is dropped and the socket is closed anyway.
    pub async fn close(&self) {
        self.shared
            .shut(ChannelError::ConnectionReset(Cow::Borrowed(
                "connection closed",
            )));
        let tasks = lock(&self.shared.tasks).take();
        if let Some((reader, mut writer)) = tasks {
            if tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, &mut writer)
                .await
                .is_err()
            {
                tracing::warn!(peer = %self.shared.peer, "the peer did not read; closing without flushing");
                writer.abort();
                let _ = writer.await;
                lock(&self.shared.sock).take();
            }
            reader.abort();
            let _ = reader.await;
        }
    }
}

impl Shared {
    /// Writes what is queued from the calling thread, without waiting: the fast path when the
    /// socket is idle, which saves waking the writer task. Frames that others queue meanwhile go
    /// out in the next round; what cannot be written at once is left to the writer task.
    fn write_now(&self) {
        for _ in 0..DIRECT_ROUNDS {
            let mut batch = {
                let mut out = lock(&self.out);
                if out.writing || out.buf.is_empty() {
                    return;
                }
                out.writing = true;
                std::mem::take(&mut out.buf)
            };
            let written = match self.try_write(&batch) {
                Ok(n) => n,
                Err(e) => {
                    lock(&self.out).writing = false;
                    self.shut(e.into());
                    return;
                }
            };
            let mut out = lock(&self.out);
            out.writing = false;
            if written < batch.len() {
                // The socket is full: the rest goes first, and the writer task waits for room.
                let mut rest = batch.split_off(written);
                rest.extend_from_slice(&out.buf);
                out.buf = rest;
                break;
            }
            if out.buf.is_empty() {
                batch.clear();
                out.buf = batch;
                if out.closed.is_none() {
                    return;
                }
                break;
            }
        }
        self.writer_wake.notify_one();
    }

    /// Writes as much of `bytes` as the socket takes without blocking.
    fn try_write(&self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut sock = lock(&self.sock);
        let Some(w) = sock.as_mut() else {
            return Ok(0);
        };
        let mut off = 0;
        while off < bytes.len() {
            match w.as_mut().poll_write(&mut cx, &bytes[off..]) {
                Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => off += n,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
        Ok(off)
    }

    /// Marks the channel closed with `err` (the first reason wins), fails every pending request,
    /// and lets the writer flush and finish.
    fn shut(&self, err: ChannelError) {
        {
            let mut out = lock(&self.out);
            if out.closed.is_none() {
                out.closed = Some(err.clone());
            }
        }
        self.writer_wake.notify_one();
        let pending: Vec<PendingTx> = lock(&self.pending).drain().map(|(_, tx)| tx).collect();
        for tx in pending {
            let _ = tx.send(Err(err.clone()));
        }
        self.closed.send_if_modified(|c| {
            if c.is_none() {
                *c = Some(err);
                true
            } else {
                false
            }
        });
    }

    fn dispatch(self: &Arc<Self>, payload: Bytes) {
        let codec = &self.scope.codec;
        // With a handler (an RPC service), requests are checked as they are taken apart.
        let msg = match codec.parse_message_lazily(&payload, self.handler.get().is_none()) {
            Ok(msg) => msg,
            Err(e) => {
                self.reject(&payload, e);
                return;
            }
        };
        match msg.kind {
            0 => {
                let in_flight = self.incoming.fetch_add(1, Ordering::Relaxed) + 1;
                let req = IncomingRequest {
                    channel: Channel::from_shared(self.clone()),
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
                    return;
                }
                if let Some(h) = self.handler.get() {
                    h.handle(req);
                    return;
                }
                let queueing = lock(&self.queueing);
                match self.handler.get() {
                    Some(h) => {
                        drop(queueing);
                        h.handle(req);
                    }
                    None => {
                        let _ = self.queue_tx.send(req);
                    }
                }
            }
            1 | 2 => {
                let tx = msg.id_num.and_then(|id| lock(&self.pending).remove(&id));
                match tx {
                    Some(tx) => {
                        let _ = tx.send(Ok(Reply {
                            is_error: msg.kind == 2,
                            payload,
                            content: msg.content,
                            channel: Channel::from_shared(self.clone()),
                        }));
                    }
                    None => tracing::warn!(
                        peer = %self.peer,
                        id = %String::from_utf8_lossy(&payload[msg.id.clone()]),
                        "dropped a reply to an unknown request id"
                    ),
                }
            }
            other => {
                tracing::warn!(peer = %self.peer, kind = other, "skipped a message of unknown type {other}")
            }
        }
    }

    /// Logs a payload that is not a valid message and answers it if it was a request.
    fn reject(self: &Arc<Self>, payload: &[u8], err: CodecError) {
        tracing::warn!(peer = %self.peer, error = %err, "skipped an invalid message");
        if let Some(id) = salvage_request_id(&self.scope.codec, payload) {
            let text = CallError::new("ValueError", format!("invalid request: {err}")).wire_text();
            let chan = Channel::from_shared(self.clone());
            if let Err(e) = chan.send_message(ERROR, MsgId::Raw(&payload[id]), &text, false) {
                tracing::debug!(error = %e, "could not answer an invalid request");
            }
        }
    }
}

/// The id of a malformed message that looks like a request (`[0, id, ...]`), if it can be read.
fn salvage_request_id(codec: &Codec, payload: &[u8]) -> Option<Range<usize>> {
    match codec.kind() {
        crate::codec::CodecKind::MsgPack => {
            let (n, mut pos) = match *payload.first()? {
                m @ 0x90..=0x9f => (usize::from(m & 0x0f), 1),
                0xdc => (
                    usize::from(u16::from_be_bytes([*payload.get(1)?, *payload.get(2)?])),
                    3,
                ),
                _ => return None,
            };
            if n < 2 || *payload.get(pos)? != 0 {
                return None;
            }
            pos += 1;
            let end = crate::codec::msgpack::skip(payload, pos, 8).ok()?;
            Some(pos..end)
        }
        crate::codec::CodecKind::Json => {
            let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(payload).ok()?;
            if items.len() < 2 || items[0].get() != "0" {
                return None;
            }
            let id = items[1].get();
            let start = id.as_ptr() as usize - payload.as_ptr() as usize;
            Some(start..start + id.len())
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

async fn reader_loop<R: AsyncRead + Unpin>(shared: Arc<Shared>, mut reader: R) {
    let mut decoder = FrameDecoder::new(shared.max_frame_len);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let me = Arc::as_ptr(&shared) as usize;
    let err = loop {
        let prev = IN_READER_BATCH.with(|b| b.replace(me));
        let res = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => shared.dispatch(frame),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        IN_READER_BATCH.with(|b| b.set(prev));
        // The replies of the whole batch go out in one write.
        shared.write_now();
        if let Err(e) = res {
            tracing::warn!(peer = %shared.peer, error = %e, "closing the connection");
            shared.shut(e);
            return;
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) => {
                break match decoder.decode_eof(&mut buf) {
                    Err(e) => e,
                    Ok(_) => ChannelError::ConnectionReset(Cow::Borrowed(
                        "the peer closed the connection",
                    )),
                };
            }
            Ok(_) => {}
            Err(e) => break e.into(),
        }
    };
    tracing::debug!(peer = %shared.peer, reason = %err, "connection ended");
    shared.shut(err);
}

async fn writer_loop(shared: Arc<Shared>) {
    loop {
        let batch = {
            let mut out = lock(&shared.out);
            if out.writing || out.buf.is_empty() {
                if out.closed.is_some() && !out.writing {
                    break;
                }
                None
            } else {
                out.writing = true;
                Some(std::mem::take(&mut out.buf))
            }
        };
        let Some(mut batch) = batch else {
            shared.writer_wake.notified().await;
            // Woken by the first frame of a burst: let the tasks that are ready to run now (the
            // callers that a batch of replies just woke) queue theirs too, then write them all
            // at once. Without this the writer often runs right after each caller and sends
            // every frame with its own syscall.
            tokio::task::yield_now().await;
            continue;
        };
        let mut off = 0;
        let res = std::future::poll_fn(|cx| {
            let mut sock = lock(&shared.sock);
            let Some(w) = sock.as_mut() else {
                return Poll::Ready(Ok(()));
            };
            while off < batch.len() {
                match w.as_mut().poll_write(cx, &batch[off..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                    }
                    Poll::Ready(Ok(n)) => off += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Poll::Ready(Ok(()))
        })
        .await;
        let mut out = lock(&shared.out);
        out.writing = false;
        if let Err(e) = res {
            drop(out);
            shared.shut(e.into());
            break;
        }
        // Keep a moderate buffer for the next batch; let a huge one go.
        if out.buf.is_empty() && batch.capacity() <= 1024 * 1024 {
            batch.clear();
            out.buf = batch;
        }
    }
    let sock = lock(&shared.sock).take();
    if let Some(mut w) = sock {
        let _ = w.shutdown().await;
    }
}

/// The future of a reply, from [`Channel::request`].
///
/// Dropping it before the reply came forgets the request: the late reply is dropped with a log
/// line, and the connection lives on.
#[derive(Debug)]
#[must_use = "a request's reply is lost unless its future is awaited"]
pub struct ReplyFuture {
    id: u64,
    rx: oneshot::Receiver<Result<Reply, ChannelError>>,
    shared: Arc<Shared>,
    done: bool,
}

impl ReplyFuture {
    /// The id of the request.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Future for ReplyFuture {
    type Output = Result<Reply, ChannelError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let res = match Pin::new(&mut self.rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(res)) => res,
            Poll::Ready(Err(_)) => Err(ChannelError::ConnectionReset(Cow::Borrowed(
                "connection closed",
            ))),
        };
        self.done = true;
        Poll::Ready(res)
    }
}

impl Drop for ReplyFuture {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.shared.pending).remove(&self.id);
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// A reply from the peer: a result (`[1, id, value]`) or an error (`[2, id, value]`).
#[derive(Debug, Clone)]
pub struct Reply {
    is_error: bool,
    payload: Bytes,
    content: Range<usize>,
    channel: Channel,
}

impl Reply {
    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    /// The encoded content.
    pub fn raw_content(&self) -> &[u8] {
        &self.payload[self.content.clone()]
    }

    /// Decodes the content into `T`. Service references in it are bound to this channel.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        let scope = &self.channel.shared.scope;
        scope.enter(|| scope.codec.decode_slice(self.raw_content()))
    }

    /// The content as a dynamic value.
    pub fn value(&self) -> Result<Value, CodecError> {
        self.decode()
    }

    /// The channel the reply came on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

impl Drop for IncomingRequest {
    fn drop(&mut self) {
        self.channel.shared.incoming.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A request from the peer, to be answered with [`reply`](Self::reply) or [`fail`](Self::fail).
#[derive(Debug)]
pub struct IncomingRequest {
    channel: Channel,
    payload: Bytes,
    id: Range<usize>,
    content: Range<usize>,
}

impl IncomingRequest {
    /// The encoded content.
    pub fn raw_content(&self) -> &[u8] {
        &self.payload[self.content.clone()]
    }

    /// The whole payload of the message, and where its content is.
    pub fn payload(&self) -> (&Bytes, Range<usize>) {
        (&self.payload, self.content.clone())
    }

    /// The request id as it was encoded.
    pub fn raw_id(&self) -> &[u8] {
        &self.payload[self.id.clone()]
    }

    /// Decodes the content into `T`. Service references in it are bound to this channel.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        let scope = &self.channel.shared.scope;
        scope.enter(|| scope.codec.decode_slice(self.raw_content()))
    }

    /// The content as a dynamic value.
    pub fn content(&self) -> Result<Value, CodecError> {
        self.decode()
    }

    /// The channel the request came on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Whether this is the only request of the peer in progress (then its reply is written at once).
    fn alone(&self) -> bool {
        self.channel.shared.incoming.load(Ordering::Relaxed) <= 1
    }

    /// Answers with a result: `[1, id, value]`.
    pub fn reply<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), ChannelError> {
        self.channel
            .send_message(RESULT, MsgId::Raw(self.raw_id()), value, self.alone())
    }

    /// Answers with an error: `[2, id, "<Kind>: <message>\n"]`.
    pub fn fail(&self, error: &CallError) -> Result<(), ChannelError> {
        self.fail_with(&error.wire_text())
    }

    /// Answers with an error reply of any content (aiomas sends a traceback string; mosaik a
    /// list `[type, message, traceback...]`).
    pub fn fail_with<T: Serialize + ?Sized>(&self, content: &T) -> Result<(), ChannelError> {
        self.channel
            .send_message(ERROR, MsgId::Raw(self.raw_id()), content, self.alone())
    }
}
