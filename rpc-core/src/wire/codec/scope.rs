//! The scope: what serde impls need to know about the connection they encode for, set for the
//! time of one encode or decode.

use std::any::Any;
use std::cell::Cell;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::{Codec, CodecKind};

/// What `Serialize`/`Deserialize` impls of envelopes need while a message is encoded or decoded:
/// the codec's registered types and, on an RPC connection, an opaque per-connection context that
/// the layer which set it downcasts (the RPC layer binds received service references with it).
pub(crate) struct Scope {
    pub(crate) codec: Codec,
    pub(crate) context: Option<Arc<dyn Any + Send + Sync>>,
}

scoped_tls::scoped_thread_local!(static CURRENT: Scope);
scoped_tls::scoped_thread_local!(static FRAME: Bytes);

impl Scope {
    pub(crate) fn detached(codec: Codec) -> Self {
        Scope {
            codec,
            context: None,
        }
    }

    /// Runs `f` with this scope as the current one.
    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT.set(self, f)
    }

    /// Runs `f` with this scope as the current one, decoding from `frame`: a
    /// [`Blob`](crate::Blob) decoded from its bytes shares them instead of copying.
    pub(crate) fn enter_framed<R>(&self, frame: &Bytes, f: impl FnOnce() -> R) -> R {
        CURRENT.set(self, || FRAME.set(frame, f))
    }

    /// Runs `f` decoding from `frame`, under whichever scope is current: the reader enters its
    /// channel's scope once for a batch of frames and sets each request's frame with this.
    /// Meanwhile [`is_dispatch_frame`] knows the frame.
    pub(crate) fn with_frame<R>(frame: &Bytes, f: impl FnOnce() -> R) -> R {
        // Not restored if `f` unwinds (handlers' panics are caught inside it): a stale mark
        // names no frame alive, or, should the memory come back as another frame of the same
        // length, makes a `Blob` in it a copy instead of a view; nothing worse.
        let outer = DISPATCH_FRAME.replace(frame_tag(frame));
        let r = FRAME.set(frame, f);
        DISPATCH_FRAME.set(outer);
        r
    }

    /// The context, if it is a `T`.
    pub(crate) fn context<T: Any>(&self) -> Option<&T> {
        self.context.as_deref()?.downcast_ref()
    }

    /// Runs `f` with the current scope, if any.
    pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Scope>) -> R) -> R {
        if CURRENT.is_set() {
            CURRENT.with(|s| f(Some(s)))
        } else {
            f(None)
        }
    }
}

thread_local! {
    /// Where the frame set by [`Scope::with_frame`] is, and its length: a cheap way to ask
    /// whether a frame is the one being dispatched.
    static DISPATCH_FRAME: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn frame_tag(frame: &Bytes) -> (usize, usize) {
    (frame.as_ptr() as usize, frame.len())
}

/// Whether `frame` is the frame the reader dispatches now ([`Scope::with_frame`]): then it is
/// set for decoding already, in the scope of the channel whose batch this is.
pub(crate) fn is_dispatch_frame(frame: &Bytes) -> bool {
    DISPATCH_FRAME.get() == frame_tag(frame)
}

/// Where `part` is in `whole`, if it is a slice of `whole`'s memory (a value cut from a frame).
pub(crate) fn place_in(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    let start = p.checked_sub(w)?;
    (start + part.len() <= whole.len()).then_some(start..start + part.len())
}

/// `part` as a view into the frame being decoded, if it lies in it.
pub(crate) fn share_from_frame(part: &[u8]) -> Option<Bytes> {
    if !FRAME.is_set() {
        return None;
    }
    FRAME.with(|frame| place_in(frame, part).map(|at| frame.slice(at)))
}

/// Whether values are human-readable where they are converted now: under a JSON codec's scope,
/// as `serde_json` says of itself; elsewhere not, as MsgPack says.
pub(crate) fn is_human_readable_here() -> bool {
    Scope::with_current(|scope| scope.is_some_and(|s| s.codec.kind == CodecKind::Json))
}
