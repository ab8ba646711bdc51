//! Our requests waiting for their replies, and [`ReplyFuture`], which waits for one.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use super::{lock, Reply, Shared};
use crate::error::Error;

type PendingTx = oneshot::Sender<Result<Reply, Error>>;

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

/// The requests of ours that wait for a reply, by id.
#[derive(Default)]
pub(super) struct Pending {
    map: Mutex<HashMap<u64, PendingTx, BuildHasherDefault<IdHasher>>>,
}

impl Pending {
    /// Registers request `id`; returns where its reply will arrive, and whether it is the only
    /// request waiting (then it is written at once rather than batched).
    pub(super) fn insert(&self, id: u64) -> (oneshot::Receiver<Result<Reply, Error>>, bool) {
        let (tx, rx) = oneshot::channel();
        let mut map = lock(&self.map);
        map.insert(id, tx);
        (rx, map.len() == 1)
    }

    /// Forgets request `id` (sending it failed, or its caller gave up).
    pub(super) fn remove(&self, id: u64) {
        lock(&self.map).remove(&id);
    }

    /// Takes the waiter of request `id`, if it still waits.
    pub(super) fn take(&self, id: u64) -> Option<PendingTx> {
        lock(&self.map).remove(&id)
    }

    /// Fails every waiting request with `err`.
    pub(super) fn fail_all(&self, err: &Error) {
        let waiting: Vec<PendingTx> = lock(&self.map).drain().map(|(_, tx)| tx).collect();
        for tx in waiting {
            let _ = tx.send(Err(err.clone()));
        }
    }
}

/// The future of a reply, from [`Channel::request`](super::Channel::request).
///
/// Dropping it before the reply came forgets the request: the late reply is dropped with a log
/// line, and the connection lives on.
#[derive(Debug)]
#[must_use = "a request's reply is lost unless its future is awaited"]
pub struct ReplyFuture {
    id: u64,
    rx: oneshot::Receiver<Result<Reply, Error>>,
    shared: Arc<Shared>,
    done: bool,
}

impl ReplyFuture {
    pub(super) fn new(
        id: u64,
        rx: oneshot::Receiver<Result<Reply, Error>>,
        shared: Arc<Shared>,
    ) -> Self {
        ReplyFuture {
            id,
            rx,
            shared,
            done: false,
        }
    }

    /// The id of the request.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Future for ReplyFuture {
    type Output = Result<Reply, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let res = match Pin::new(&mut self.rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(res)) => res,
            Poll::Ready(Err(_)) => Err(Error::Closed(Cow::Borrowed("connection closed"))),
        };
        self.done = true;
        Poll::Ready(res)
    }
}

impl Drop for ReplyFuture {
    fn drop(&mut self) {
        if !self.done {
            self.shared.pending.remove(self.id);
        }
    }
}
