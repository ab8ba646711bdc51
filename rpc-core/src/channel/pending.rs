//! Our requests waiting for their replies, and [`ReplyFuture`], which waits for one.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::{lock, Reply, Shared};
use crate::error::Error;

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

/// Where the reply of one of our requests arrives: a slot in [`Pending`]'s map, read by the
/// request's [`ReplyFuture`]. One lock and one wake per reply, and no allocation of its own
/// (a oneshot channel per call cost an allocation and its own atomics on both sides).
enum Slot {
    /// No reply yet; the waker of the future's last poll.
    Waiting(Option<Waker>),
    /// The reply (or why there will be none), until the future takes it.
    Done(Result<Reply, Error>),
}

#[derive(Default)]
struct Slots {
    map: HashMap<u64, Slot, BuildHasherDefault<IdHasher>>,
    /// Slots still waiting (the map also holds replies not yet taken).
    waiting: usize,
}

impl Slots {
    /// Puts `reply` in request `id`'s slot: the waker of its future if it waited (and had been
    /// polled), or the reply back when nobody waits for it.
    #[inline]
    fn settle(&mut self, id: u64, reply: Reply) -> Result<Option<Waker>, Reply> {
        match self.map.get_mut(&id) {
            Some(slot @ Slot::Waiting(_)) => {
                self.waiting -= 1;
                match std::mem::replace(slot, Slot::Done(Ok(reply))) {
                    Slot::Waiting(waker) => Ok(waker),
                    Slot::Done(_) => unreachable!("the slot was waiting"),
                }
            }
            // The connection failed while the batch this reply came in was read (a later frame
            // of it could not be read, say): the reply came first, so it is the answer. The
            // failure woke the future already; it finds the reply.
            Some(slot @ Slot::Done(Err(_))) => {
                *slot = Slot::Done(Ok(reply));
                Ok(None)
            }
            _ => Err(reply),
        }
    }
}

/// The requests of ours that wait for a reply, by id.
#[derive(Default)]
pub(super) struct Pending {
    slots: Mutex<Slots>,
}

impl Pending {
    /// Registers request `id`; returns whether it is the only request waiting (then it is
    /// written at once rather than batched).
    pub(super) fn insert(&self, id: u64) -> bool {
        let mut slots = lock(&self.slots);
        slots.map.insert(id, Slot::Waiting(None));
        slots.waiting += 1;
        slots.waiting == 1
    }

    /// Whether any request of ours waits for its reply.
    pub(super) fn is_waiting(&self) -> bool {
        lock(&self.slots).waiting > 0
    }

    /// Forgets request `id` (sending it failed, or its caller gave up).
    pub(super) fn remove(&self, id: u64) {
        let removed = {
            let mut slots = lock(&self.slots);
            let removed = slots.map.remove(&id);
            if let Some(Slot::Waiting(_)) = removed {
                slots.waiting -= 1;
            }
            removed
        };
        // A reply nobody took is dropped after the lock: it holds a handle of the channel, and
        // dropping the last one shuts the channel, which takes this lock again.
        drop(removed);
    }

    /// Delivers a batch of replies (emptying `replies`) under one lock, then wakes their
    /// futures; `unknown` is told the id of each reply that nobody waits for.
    pub(super) fn complete_all(
        &self,
        replies: &mut Vec<(u64, Reply)>,
        mut unknown: impl FnMut(u64),
    ) {
        if let [_] = replies[..] {
            // One reply (one call in flight): no lists.
            let (id, reply) = replies.pop().expect("one reply");
            // The guard goes at the end of the statement, before a reply nobody took is dropped.
            let settled = lock(&self.slots).settle(id, reply);
            match settled {
                Ok(waker) => waker.into_iter().for_each(Waker::wake),
                Err(_unclaimed) => unknown(id),
            }
            return;
        }
        let mut wakers: smallvec::SmallVec<[Waker; 32]> = smallvec::SmallVec::new();
        let mut unclaimed: smallvec::SmallVec<[(u64, Reply); 1]> = smallvec::SmallVec::new();
        {
            let mut slots = lock(&self.slots);
            for (id, reply) in replies.drain(..) {
                match slots.settle(id, reply) {
                    Ok(waker) => wakers.extend(waker),
                    Err(reply) => unclaimed.push((id, reply)),
                }
            }
        }
        for w in wakers {
            w.wake();
        }
        // Dropped after the lock: a reply holds a handle of the channel (see `remove`).
        for (id, _) in unclaimed {
            unknown(id);
        }
    }

    /// Fails every waiting request with `err`.
    pub(super) fn fail_all(&self, err: &Error) {
        let mut wakers = Vec::new();
        {
            let mut slots = lock(&self.slots);
            for slot in slots.map.values_mut() {
                if let Slot::Waiting(w) = slot {
                    wakers.extend(w.take());
                    *slot = Slot::Done(Err(err.clone()));
                }
            }
            slots.waiting = 0;
        }
        for w in wakers {
            w.wake();
        }
    }

    /// The reply of request `id` if it came; otherwise `cx` is woken when it does.
    fn poll(&self, id: u64, cx: &mut Context<'_>) -> Poll<Result<Reply, Error>> {
        let mut slots = lock(&self.slots);
        match slots.map.get_mut(&id) {
            Some(Slot::Waiting(w)) => {
                match w {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *w = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Some(Slot::Done(_)) => match slots.map.remove(&id) {
                Some(Slot::Done(res)) => Poll::Ready(res),
                _ => unreachable!("the slot was done"),
            },
            None => Poll::Ready(Err(Error::Closed(Cow::Borrowed("connection closed")))),
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
    shared: Arc<Shared>,
    done: bool,
}

impl ReplyFuture {
    pub(super) fn new(id: u64, shared: Arc<Shared>) -> Self {
        ReplyFuture {
            id,
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
        if self.done {
            return Poll::Ready(Err(Error::Closed(Cow::Borrowed(
                "the reply was already taken",
            ))));
        }
        let res = std::task::ready!(self.shared.pending.poll(self.id, cx));
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
