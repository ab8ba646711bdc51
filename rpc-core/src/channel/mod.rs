//! The channel: requests and replies over one connection, in both directions.
//!
//! One [`Channel`] serves one connection. [`Channel::request`] sends `[0, id, content]` and
//! returns a future of the reply; ids count up from 0 per connection and direction, and replies
//! are matched by id in whatever order they come. Requests from the peer arrive as
//! [`IncomingRequest`]s through [`Channel::recv`] (or, on an RPC connection, go straight to its
//! service) and are answered with [`IncomingRequest::reply`] or [`IncomingRequest::fail`], which
//! echo the request's id exactly as it came.
//!
//! Two tasks run per connection, each in its own file:
//!
//! - the reader (`reader.rs`) cuts frames, matches replies ([`ReplyFuture`], `pending.rs`) and
//!   hands requests on; on an RPC connection it also drives the service's asynchronous handlers,
//!   which borrow the service it owns;
//! - the writer (`writer.rs`) owns the socket's write half: senders encode their message straight
//!   into a shared buffer, and everything queued since the last write goes out in one `write`.
//!
//! Bad input ends the connection only when the stream is broken or a frame cannot be answered:
//!
//! | input | what happens |
//! |---|---|
//! | reply to an unknown id (say, after the caller gave up) | dropped, with a log line |
//! | payload that does not decode, or is not `[type, id, content]`, but is a request whose id can be read | the sender gets an error reply saying what was wrong; the connection lives |
//! | payload that does not decode, with no request id to read (most often: the peer speaks the other codec) | the connection ends, as in aiomas, once the replies already queued are written: [`Error::Undecodable`], logged once at `WARN` with the peer, the codec and, when the bytes are a message of the other codec, a hint saying so; the peer's pending calls fail at once, the connection closed under them |
//! | unknown message type | skipped, with a log line |
//! | value nested deeper than the codec's limit | treated as a payload that does not decode |
//! | frame over the maximum length | the connection ends; pending requests fail with [`Error::FrameTooLarge`] |
//! | stream ends (or ends in the middle of a frame) | pending requests fail at once with [`Error::Closed`] (or [`Error::Truncated`]) |
//! | nothing can be written for [`ChannelBuilder::write_stall_timeout`] while frames wait (a minute by default) | the connection is aborted with [`Error::WriteStalled`]: what is queued is dropped |
//! | nothing read or written, and no call in progress either way, for [`ChannelBuilder::idle_timeout`] (off by default) | the connection is closed with [`Error::Idle`] |
//! | more requests in progress than [`ChannelBuilder::max_in_flight`] | answered at once with `RuntimeError: too many requests in progress...` |
//! | a peer that sends requests without reading the replies | once 64 KiB wait to be written (and none of our own requests waits for the peer), its further requests are not read until it reads; if [`ChannelBuilder::max_queued`] bytes wait all the same (a smaller limit, or replies of handlers still running), the connection ends with [`Error::Closed`] saying so |

mod message;
mod pending;
mod reader;
mod writer;

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use crate::error::{CallError, Error, ErrorContent, ErrorFormat};
use crate::wire::codec::{is_dispatch_frame, Codec, MsgId, RawCall, Scope, REQUEST};
use crate::wire::frame::DEFAULT_MAX_FRAME_LEN;

pub(crate) use message::ReplyTo;
pub use message::{IncomingRequest, Reply};
pub use pending::ReplyFuture;

use pending::Pending;
use writer::Outbox;

/// The future of an asynchronous handler: it answers its request when it completes, and may
/// borrow the handler that made it.
pub(crate) type HandlerFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Receives the requests of a channel as they arrive, on the channel's reader task.
///
/// Answer at once, or return a future that answers: the reader drives it, and it may borrow the
/// handler, which the reader owns for as long as the connection lives.
pub(crate) trait RequestHandler: Send + Sync + 'static {
    /// Handles one request; `call` is its content already cut, when the reader cut the whole
    /// request in one pass.
    fn handle<'a>(
        &'a self,
        request: IncomingRequest,
        call: Option<&RawCall<'_>>,
    ) -> Option<HandlerFuture<'a>>;
}

/// The default number of the peer's requests that may be in progress at once on a connection.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;

/// The default limit of bytes queued to be written: four maximal frames.
pub const DEFAULT_MAX_QUEUED: usize = 4 * DEFAULT_MAX_FRAME_LEN;

/// Bytes waiting to be written beyond which the reader stops taking the peer's requests, unless
/// one of our own requests waits for the peer's reply.
///
/// A peer that sends requests without reading the replies would otherwise make this side queue
/// replies without end (and run its requests for nothing). Past this, the reader reads nothing
/// more until the queue is down to half, so the peer's writes block instead: memory stays
/// bounded and the connection costs no CPU. While our own requests wait, reading goes on, since
/// their replies may be behind the peer's requests; two peers that both wait for each other
/// therefore never both stop reading.
pub(crate) const PAUSE_READING_QUEUED: usize = 64 * 1024;

/// How long, by default, `drain` waits for the calls in progress, and how long a call still in
/// progress when its connection ends runs on (see `ConnectionBuilder::drain_timeout`).
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long, by default, nothing may be written to the peer while frames wait before the
/// connection is aborted ([`ChannelBuilder::write_stall_timeout`]).
///
/// The peer's kernel buffers and ours fill first (hundreds of KiB), so the clock starts only
/// once a peer has not read for a while; a minute is far longer than any pause of a live peer
/// (a garbage collection, a blocking step of a few seconds) and far shorter than TCP's own give-up
/// on a dead peer (about 15 minutes on Linux), during which the connection's slot, its queue and
/// its kernel buffers stay held.
pub const DEFAULT_WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Channel::close`] waits for queued frames to be written before it drops them.
pub(crate) const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of a channel. Build one with [`Channel::builder`].
#[derive(Clone)]
#[must_use]
pub struct ChannelBuilder {
    codec: Codec,
    max_frame_len: usize,
    max_in_flight: usize,
    max_queued: usize,
    error_format: ErrorFormat,
    peer: String,
    handler: Option<Arc<dyn RequestHandler>>,
    write_stall_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    /// How long the handlers in progress run on once the connection ended; `None`: dropped.
    run_on: Option<Duration>,
    /// Holds a token while handlers run on after the connection ended (a server's drain waits).
    lingering: Option<TaskTracker>,
}

/// Makes the opaque per-connection context that serde impls find in the codec scope, from a
/// handle of the channel being opened.
pub(crate) type ContextFn<'a> = &'a mut dyn FnMut(WeakChannel) -> Arc<dyn Any + Send + Sync>;

impl fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("codec", &self.codec)
            .field("max_frame_len", &self.max_frame_len)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_queued", &self.max_queued)
            .field("error_format", &self.error_format)
            .field("peer", &self.peer)
            .field("write_stall_timeout", &self.write_stall_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ChannelBuilder {
    fn default() -> Self {
        ChannelBuilder {
            codec: Codec::msgpack(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_queued: DEFAULT_MAX_QUEUED,
            error_format: ErrorFormat::Aiomas,
            peer: String::from("?"),
            handler: None,
            write_stall_timeout: Some(DEFAULT_WRITE_STALL_TIMEOUT),
            idle_timeout: None,
            run_on: Some(DEFAULT_DRAIN_TIMEOUT),
            lingering: None,
        }
    }
}

impl ChannelBuilder {
    /// Sets the codec (MsgPack by default). Both peers must use the same one: nothing is
    /// negotiated.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Sets the maximum payload length of a frame, in both directions
    /// ([`DEFAULT_MAX_FRAME_LEN`] by default). With a compressing codec (MsgPackBlosc) it also
    /// bounds a message once decompressed, checked against the length a received frame's
    /// header claims before anything is allocated for it.
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
    /// a new request fails at once with [`Error::Overloaded`]; a reply over it means the peer
    /// sends requests without reading the replies, and the connection is closed.
    pub fn max_queued(mut self, bytes: usize) -> Self {
        self.max_queued = bytes;
        self
    }

    /// Sets how long nothing may be written to the peer while frames wait before the connection
    /// is aborted with [`Error::WriteStalled`] ([`DEFAULT_WRITE_STALL_TIMEOUT`] by default;
    /// `None`: never). A slow reader is not a stalled one: every byte the peer takes starts the
    /// time anew.
    pub fn write_stall_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_stall_timeout = timeout;
        self
    }

    /// Closes the connection with [`Error::Idle`] once nothing was read or written and no call
    /// was in progress, in either direction, for `timeout` (checked four times per `timeout`,
    /// so it closes within 1.25 times it). Off by default.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Sets how error replies are written for errors without a content of their own
    /// ([`ErrorFormat::Aiomas`] by default; [`ErrorFormat::Mosaik`] for mosaik's
    /// `[type, message, traceback]`).
    pub fn error_format(mut self, format: ErrorFormat) -> Self {
        self.error_format = format;
        self
    }

    /// Sets the peer's address as reported in errors ([`RemoteError::origin`](crate::RemoteError::origin)).
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        self.peer = peer.into();
        self
    }

    /// What happens to the handlers in progress when the connection ends: they run on for at
    /// most `bound` (`Some`), or are dropped at once (`None`).
    pub(crate) fn run_on(mut self, bound: Option<Duration>) -> Self {
        self.run_on = bound;
        self
    }

    /// Holds a token of `tracker` while handlers run on after the connection ended.
    pub(crate) fn lingering(mut self, tracker: Option<TaskTracker>) -> Self {
        self.lingering = tracker;
        self
    }

    /// Hands every request to `handler` instead of queueing it for [`Channel::recv`].
    pub(crate) fn handler(mut self, handler: Arc<dyn RequestHandler>) -> Self {
        self.handler = Some(handler);
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
        self.start(reader, writer, None)
    }

    /// Starts the channel with an opaque per-connection context in its codec scope, made from a
    /// handle of the channel before any byte is read.
    pub(crate) fn open_with_context<R, W>(
        self,
        reader: R,
        writer: W,
        context: ContextFn<'_>,
    ) -> Channel
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        self.start(reader, writer, Some(context))
    }

    fn start<R, W>(self, reader: R, writer: W, context: Option<ContextFn<'_>>) -> Channel
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        // Only a channel without a handler queues requests for `recv`: an RPC connection does
        // not pay for the queue (a block of 32 slots, most of an idle connection's memory).
        let queue = self.handler.is_none().then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            (tx, tokio::sync::Mutex::new(rx))
        });
        let shared = Arc::new_cyclic(|me| Shared {
            scope: Scope {
                codec: self.codec,
                context: context.map(|f| f(WeakChannel(me.clone()))),
            },
            max_frame_len: self.max_frame_len,
            max_in_flight: self.max_in_flight,
            max_queued: self.max_queued,
            error_format: self.error_format,
            peer: self.peer,
            next_id: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            write_blocked: AtomicBool::new(false),
            read_paused: AtomicBool::new(false),
            read_resume: AtomicWaker::new(),
            read_capacity: AtomicUsize::new(0),
            incoming: AtomicUsize::new(0),
            pending: Pending::default(),
            out: Mutex::new(Outbox::default()),
            sock: Mutex::new(Some(Box::pin(writer))),
            writer_wake: Notify::new(),
            handler: self.handler,
            write_stall_timeout: self.write_stall_timeout,
            idle_timeout: self.idle_timeout,
            run_on: self.run_on,
            lingering: self.lingering,
            queue,
            closed: Arc::default(),
            tasks: Mutex::new(None),
            handle: OnceLock::new(),
        });
        // The users' handle exists before the reader can hand out requests that refer to it.
        let handle = Arc::new(Handle {
            shared: shared.clone(),
            closes: true,
        });
        let _ = shared.handle.set(Arc::downgrade(&handle));
        let reader_task = tokio::spawn(reader::reader_loop(shared.clone(), reader));
        let writer_task = tokio::spawn(writer::writer_loop(shared.clone()));
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

/// A channel that does not keep the connection open: for what the connection's own context
/// holds, which would otherwise keep it alive forever.
#[derive(Clone, Debug)]
pub(crate) struct WeakChannel(Weak<Shared>);

impl WeakChannel {
    /// The channel, if the connection's state still exists.
    pub(crate) fn upgrade(&self) -> Option<Channel> {
        self.0.upgrade().map(Channel::from_shared)
    }
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
        self.shared.shut(Error::Closed(Cow::Borrowed(
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

/// The state of one connection, shared by its handles and its two tasks.
pub(crate) struct Shared {
    scope: Scope,
    max_frame_len: usize,
    max_in_flight: usize,
    max_queued: usize,
    error_format: ErrorFormat,
    peer: String,
    next_id: AtomicU64,
    /// Set when the channel is shut: the reader takes no further frame of the peer.
    stopping: AtomicBool,
    /// Set when the socket last refused bytes, until a batch is written whole.
    write_blocked: AtomicBool,
    /// Set while the reader waits for the queue to drain ([`PAUSE_READING_QUEUED`]).
    read_paused: AtomicBool,
    /// The paused reader, woken when the queue drained, a request of ours waits, or on shut.
    read_resume: AtomicWaker,
    /// The capacity of the reader's buffer, as last changed.
    read_capacity: AtomicUsize,
    /// Requests of the peer received and not yet dropped (answered or not).
    incoming: AtomicUsize,
    pending: Pending,
    out: Mutex<Outbox>,
    /// The write half of the socket; locked only for one non-blocking write attempt at a time.
    sock: Mutex<Option<writer::BoxWrite>>,
    writer_wake: Notify,
    handler: Option<Arc<dyn RequestHandler>>,
    write_stall_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    /// How long handlers in progress run on once the connection ended (`None`: dropped).
    run_on: Option<Duration>,
    /// Holds a token while handlers run on after the end (see [`ChannelBuilder::lingering`]).
    lingering: Option<TaskTracker>,
    /// The requests waiting for [`Channel::recv`], on a channel without a handler.
    #[allow(clippy::type_complexity)]
    queue: Option<(
        mpsc::UnboundedSender<IncomingRequest>,
        tokio::sync::Mutex<mpsc::UnboundedReceiver<IncomingRequest>>,
    )>,
    /// Why the channel ended, once it has. Apart from the rest, so that waiting for it does not
    /// keep the connection's state alive.
    closed: Arc<Closed>,
    tasks: Mutex<Option<(JoinHandle<()>, JoinHandle<()>)>>,
    handle: OnceLock<Weak<Handle>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while a lock is held cannot leave these maps half-updated; carry on.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Channel {
    /// Settings for a new channel: MsgPack, [`DEFAULT_MAX_FRAME_LEN`], [`DEFAULT_MAX_IN_FLIGHT`],
    /// [`DEFAULT_MAX_QUEUED`].
    pub fn builder() -> ChannelBuilder {
        ChannelBuilder::default()
    }

    /// A handle for internal use (requests, replies, received proxies). It shares the users'
    /// handle while any exists; after that the channel is closed already.
    fn from_shared(shared: Arc<Shared>) -> Self {
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

    /// How this channel writes error replies ([`ChannelBuilder::error_format`]).
    pub fn error_format(&self) -> ErrorFormat {
        self.shared.error_format
    }

    /// The content of the error reply for `error` on this channel.
    pub(crate) fn error_content<'e>(&self, error: &'e CallError) -> ErrorContent<'e> {
        ErrorContent {
            error,
            format: self.shared.error_format,
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
    ///
    /// # Errors
    /// [`Error::Encode`], [`Error::MessageTooLarge`] or [`Error::Overloaded`] when the request
    /// cannot be queued (nothing was sent), or the reason the connection ended.
    pub fn request<C: Serialize + ?Sized>(&self, content: &C) -> Result<ReplyFuture, Error> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let alone = self.shared.pending.insert(id);
        if let Err(e) = self.send_message(REQUEST, MsgId::Num(id), content, alone) {
            // The id stays used, as in aiomas.
            self.shared.pending.remove(id);
            return Err(e);
        }
        // The reply may come behind requests of the peer that a paused reader leaves unread.
        self.shared.resume_reading();
        Ok(ReplyFuture::new(id, self.shared.clone()))
    }

    /// Decodes `frame[at]` with this channel's codec, service references bound to this channel
    /// and [`Blob`](crate::Blob)s sharing the frame.
    pub(crate) fn decode_framed<'de, T: serde::Deserialize<'de>>(
        &self,
        frame: &'de bytes::Bytes,
        at: std::ops::Range<usize>,
    ) -> Result<T, crate::wire::CodecError> {
        let scope = &self.shared.scope;
        let bytes = &frame[at];
        // Within the dispatch of this very frame, in this channel's reader batch, the scope
        // and the frame are set already; and a short value that cannot look at them (a
        // number, say: most replies) needs neither.
        if !scope.codec.may_need_scope(bytes)
            || (is_dispatch_frame(frame) && self.in_reader_batch())
        {
            return scope.codec.decode_slice(bytes);
        }
        scope.enter_framed(frame, || scope.codec.decode_slice(bytes))
    }

    /// Decodes bytes of this channel's codec with service references bound to this channel.
    pub(crate) fn decode_in_scope<'de, T: serde::Deserialize<'de>>(
        &self,
        bytes: &'de [u8],
    ) -> Result<T, crate::wire::CodecError> {
        let scope = &self.shared.scope;
        scope.enter(|| scope.codec.decode_slice(bytes))
    }

    /// Runs `f` with this channel's codec scope (for conversions of dynamic values).
    pub(crate) fn enter_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.shared.scope.enter(f)
    }

    /// Receives the next request from the peer, on a channel that serves nothing itself.
    ///
    /// Fails with the reason once the connection has ended and every queued request was taken.
    /// On a channel of an RPC connection, whose requests go to its service, it waits until the
    /// connection ends.
    pub async fn recv(&self) -> Result<IncomingRequest, Error> {
        let Some((_, rx)) = &self.shared.queue else {
            return Err(self.closed().await);
        };
        let mut rx = rx.lock().await;
        tokio::select! {
            biased;
            Some(req) = rx.recv() => Ok(req),
            err = self.closed() => match rx.try_recv() {
                Ok(req) => Ok(req),
                Err(_) => Err(err),
            },
        }
    }

    /// The bytes this connection holds in its read and write buffers now (for watching memory).
    /// Both grow with bursts and large messages and shrink back once the connection is quiet.
    pub fn buffer_capacity(&self) -> usize {
        let out = lock(&self.shared.out);
        self.shared.read_capacity.load(Ordering::Relaxed) + out.held() + out.in_write
    }

    /// Whether the connection has ended (or is closing).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.why.get().is_some()
    }

    /// Waits until the connection has ended and returns why.
    pub fn closed(&self) -> impl Future<Output = Error> + Send + 'static {
        let closed = self.shared.closed.clone();
        async move {
            loop {
                let notified = closed.notify.notified();
                tokio::pin!(notified);
                // Listening before looking, so that an end in between is not missed.
                notified.as_mut().enable();
                if let Some(e) = closed.why.get() {
                    return e.clone();
                }
                notified.await;
            }
        }
    }

    /// Runs `hook` once the connection has ended (at once if it has), on the thread that ends it:
    /// it must be quick and must not block.
    pub(crate) fn on_closed(&self, hook: impl FnOnce(&Error) + Send + 'static) {
        let closed = &self.shared.closed;
        {
            let mut hooks = lock(&closed.hooks);
            if closed.why.get().is_none() {
                hooks.push(Box::new(hook));
                return;
            }
        }
        if let Some(e) = closed.why.get() {
            hook(e);
        }
    }

    /// Closes the connection: flushes what is queued, shuts the socket down and waits for the
    /// channel's tasks. Pending requests fail with [`Error::Closed`]; requests of the peer that
    /// are still being handled are cancelled.
    ///
    /// A peer that does not read could hold the flush up forever: after 5 seconds
    /// (`CLOSE_FLUSH_TIMEOUT`) what is left unsent is dropped and the socket is closed anyway.
    pub async fn close(&self) {
        self.shared
            .shut(Error::Closed(Cow::Borrowed("connection closed")));
        let tasks = lock(&self.shared.tasks).take();
        if let Some((reader, writer)) = tasks {
            // The writer flushes within CLOSE_FLUSH_TIMEOUT, then closes the socket.
            let _ = writer.await;
            reader.abort();
            let _ = reader.await;
        }
    }

    /// Handles one incoming payload on the caller's thread, exactly as the reader task would. For
    /// benchmarks of dispatch without a socket.
    ///
    /// # Panics
    /// If the request is handled asynchronously and does not finish on its first poll.
    #[cfg(feature = "__bench")]
    #[doc(hidden)]
    pub fn __handle_payload(&self, payload: bytes::Bytes) {
        reader::handle_one(&self.shared, payload);
    }

    /// Shows what is queued for the writer to `f`, then forgets it (keeping the buffer). For
    /// benchmarks.
    #[cfg(feature = "__bench")]
    #[doc(hidden)]
    pub fn __drain_outgoing<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut out = lock(&self.shared.out);
        let r = f(&out.buf);
        out.buf.clear();
        r
    }
}

impl Shared {
    /// Records the capacity of the reader's buffer, for [`Channel::buffer_capacity`].
    fn note_read_capacity(&self, capacity: usize) {
        self.read_capacity.store(capacity, Ordering::Relaxed);
    }

    /// Ends the connection now, without flushing: for a peer that does not read. What is queued
    /// is dropped and the socket is closed; the reader stops reading (the peer's requests in
    /// progress run on or are dropped, as the connection was built).
    fn abort(&self, err: Error) {
        tracing::warn!(peer = %self.peer, error = %err, "closing the connection at once");
        self.shut(err);
        lock(&self.out).clear();
        if let Some((_reader, writer)) = lock(&self.tasks).as_ref() {
            writer.abort();
        }
        drop(lock(&self.sock).take());
    }

    /// Marks the channel closed with `err` (the first reason wins), fails every pending request,
    /// and lets the writer flush and finish.
    fn shut(&self, err: Error) {
        self.stopping.store(true, Ordering::SeqCst);
        // The reader may wait for bytes that never come: it looks at `stopping` when woken.
        self.read_paused.store(false, Ordering::SeqCst);
        self.read_resume.wake();
        self.close_outbox(&err);
        self.pending.fail_all(&err);
        let hooks = {
            let mut hooks = lock(&self.closed.hooks);
            if self.closed.why.set(err).is_err() {
                return;
            }
            std::mem::take(&mut *hooks)
        };
        self.closed.notify.notify_waiters();
        if let Some(why) = self.closed.why.get() {
            for hook in hooks {
                hook(why);
            }
        }
    }
}

/// Tells when something stood still for a whole timeout: it ticks four times per timeout, and
/// expires at the fourth tick in a row at which a count of signs of life did not move (so
/// between one and 1.25 timeouts after the last sign).
struct QuietClock {
    timeout: Duration,
    interval: tokio::time::Interval,
    last: u64,
    quiet: u32,
}

impl QuietClock {
    /// Ticks of a clock for `timeout`; the count of signs of life starts at 0.
    fn new(timeout: Duration) -> Self {
        let period = (timeout / 4).max(Duration::from_millis(1));
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        QuietClock {
            timeout,
            interval,
            last: 0,
            quiet: 0,
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn poll_tick(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.interval.poll_tick(cx).map(|_| ())
    }

    /// After a tick: whether the count (`signs`) stood still, and nothing was `busy`, for the
    /// whole timeout.
    fn expired(&mut self, signs: u64, busy: bool) -> bool {
        if signs != self.last || busy {
            self.last = signs;
            self.quiet = 0;
            return false;
        }
        self.quiet += 1;
        self.quiet >= 4
    }
}

/// How a channel ended, and who waits for it.
#[derive(Default)]
struct Closed {
    why: OnceLock<Error>,
    notify: Notify,
    hooks: Mutex<Vec<CloseHook>>,
}

type CloseHook = Box<dyn FnOnce(&Error) + Send>;
