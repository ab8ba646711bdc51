//! The scope: what serde impls need to know about the connection they encode for, set for the
//! time of one encode or decode.

use std::any::Any;
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
