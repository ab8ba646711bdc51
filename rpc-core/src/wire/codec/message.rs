//! Messages: `[type, id, content]`, decoded ([`Message`]) or cut into encoded parts
//! ([`RawMessage`], [`RawCall`]).

use std::borrow::Cow;
use std::ops::Range;

use crate::wire::Value;

/// Message type of a request.
pub(crate) const REQUEST: u8 = 0;
/// Message type of a successful reply.
pub(crate) const RESULT: u8 = 1;
/// Message type of an error reply.
pub(crate) const ERROR: u8 = 2;

/// The type of a message: the first element of `[type, id, content]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `0`: a request; for RPC its content is `[path, args, kwargs]`.
    Request,
    /// `1`: a successful reply; its content is the result.
    Result,
    /// `2`: an error reply; its content describes the error.
    Error,
}

impl MessageKind {
    pub(super) fn code(self) -> u8 {
        match self {
            MessageKind::Request => REQUEST,
            MessageKind::Result => RESULT,
            MessageKind::Error => ERROR,
        }
    }
}

/// A whole message, decoded: what [`Codec::decode_message`](super::Codec::decode_message) returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// The message type.
    pub kind: MessageKind,
    /// The id, as sent (aiomas accepts any value; its own are integers counting from 0).
    pub id: Value,
    /// The content.
    pub content: Value,
}

/// The id to write in a message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MsgId<'a> {
    /// An id of ours (requests count up from 0).
    Num(u64),
    /// The encoded id of a peer's request, echoed byte for byte.
    Raw(&'a [u8]),
}

/// A message cut into its parts, the content still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawMessage {
    /// The message type (0 request, 1 result, 2 error; anything else is invalid).
    pub(crate) kind: i64,
    /// Where the encoded id is in the payload.
    pub(crate) id: Range<usize>,
    /// The id as a number, when it is a non-negative integer.
    pub(crate) id_num: Option<u64>,
    /// Where the encoded content is in the payload.
    pub(crate) content: Range<usize>,
}

/// A request cut whole in one pass ([`Codec::parse_request`](super::Codec::parse_request)).
#[derive(Debug)]
pub(crate) struct ParsedRequest<'a> {
    /// Where the encoded id is in the payload.
    pub(crate) id: Range<usize>,
    /// Where the encoded content is in the payload.
    pub(crate) content: Range<usize>,
    /// The content, cut.
    pub(crate) call: RawCall<'a>,
}

/// A request's `[path, args, kwargs]`, each argument still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawCall<'a> {
    pub(crate) path: Cow<'a, str>,
    pub(crate) args: ArgList<'a>,
    pub(crate) kwargs: Vec<(Cow<'a, str>, &'a [u8])>,
}

/// Encoded arguments, up to four (nearly every call) without touching the heap: a request's cut
/// is moved about, and each inline place is 16 bytes to move.
pub(crate) type ArgList<'a> = crate::wire::inline::InlineVec<&'a [u8], 4>;
