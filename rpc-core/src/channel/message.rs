//! What arrives: [`IncomingRequest`], a request of the peer to answer, and [`Reply`], the
//! peer's answer to one of ours.

use std::ops::Range;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Channel;
use crate::error::{CallError, Error};
use crate::wire::codec::{MsgId, ERROR, RESULT};
use crate::wire::{CodecError, Value};

/// A reply from the peer: a result (`[1, id, value]`) or an error (`[2, id, value]`).
#[derive(Debug, Clone)]
pub struct Reply {
    pub(super) is_error: bool,
    pub(super) payload: Bytes,
    pub(super) content: Range<usize>,
    pub(super) channel: Channel,
}

impl Reply {
    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    /// The encoded content (with MsgPackBlosc: MsgPack, cut from the decompressed message).
    pub fn raw_content(&self) -> &[u8] {
        &self.payload[self.content.clone()]
    }

    /// Decodes the content into `T`. Service references in it are bound to this channel;
    /// [`Blob`](crate::Blob)s in it share the frame.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        self.channel
            .decode_framed(&self.payload, self.content.clone())
    }

    /// The content as a dynamic value.
    pub fn content(&self) -> Result<Value, CodecError> {
        self.decode()
    }

    /// The channel the reply came on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

/// A request from the peer, to be answered with [`reply`](Self::reply) or [`fail`](Self::fail).
#[derive(Debug)]
pub struct IncomingRequest {
    pub(super) channel: Channel,
    pub(super) payload: Bytes,
    pub(super) id: Range<usize>,
    pub(super) content: Range<usize>,
}

impl Drop for IncomingRequest {
    fn drop(&mut self) {
        self.channel.shared.incoming.fetch_sub(1, Ordering::Relaxed);
    }
}

impl IncomingRequest {
    /// The encoded content (with MsgPackBlosc: MsgPack, cut from the decompressed message).
    pub fn raw_content(&self) -> &[u8] {
        &self.payload[self.content.clone()]
    }

    /// The whole payload of the message, and where its content is.
    pub(crate) fn payload(&self) -> (&Bytes, Range<usize>) {
        (&self.payload, self.content.clone())
    }

    /// The request id as it was encoded.
    pub fn raw_id(&self) -> &[u8] {
        &self.payload[self.id.clone()]
    }

    /// Decodes the content into `T`. Service references in it are bound to this channel;
    /// [`Blob`](crate::Blob)s in it share the frame.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        self.channel
            .decode_framed(&self.payload, self.content.clone())
    }

    /// The content as a dynamic value.
    pub fn content(&self) -> Result<Value, CodecError> {
        self.decode()
    }

    /// The channel the request came on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// An owned handle that answers this request, for a handler's future; the request itself
    /// (which counts as in progress until dropped) stays with whoever drives that future.
    pub(crate) fn reply_to(&self) -> ReplyTo {
        ReplyTo {
            channel: self.channel.clone(),
            payload: self.payload.clone(),
            id: self.id.clone(),
        }
    }

    /// Whether this is the only request of the peer in progress (then its reply is written at once).
    fn alone(&self) -> bool {
        self.channel.shared.incoming.load(Ordering::Relaxed) <= 1
    }

    /// Answers with a result: `[1, id, value]`.
    ///
    /// # Errors
    /// When the value cannot be encoded ([`Error::Encode`], [`Error::MessageTooLarge`]; nothing
    /// was sent, so the request can still be failed), or the connection has ended.
    pub fn reply<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.channel
            .send_message(RESULT, MsgId::Raw(self.raw_id()), value, self.alone())
    }

    /// Answers with an error: `[2, id, "<Kind>: <message>\n"]`, or the channel's
    /// [`ErrorFormat`](crate::ErrorFormat), or the error's own content
    /// ([`CallError::with_content`]).
    ///
    /// # Errors
    /// When the connection has ended.
    pub fn fail(&self, error: &CallError) -> Result<(), Error> {
        self.fail_with(&self.channel.error_content(error))
    }

    /// Answers with an error reply of any content (aiomas sends a traceback string; mosaik a
    /// list `[type, message, traceback...]`).
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub fn fail_with<T: Serialize + ?Sized>(&self, content: &T) -> Result<(), Error> {
        self.channel
            .send_message(ERROR, MsgId::Raw(self.raw_id()), content, self.alone())
    }
}

/// Answers one request from a handler's future (see [`IncomingRequest::reply_to`]).
#[derive(Debug)]
pub(crate) struct ReplyTo {
    channel: Channel,
    payload: Bytes,
    id: Range<usize>,
}

impl ReplyTo {
    fn alone(&self) -> bool {
        self.channel.shared.incoming.load(Ordering::Relaxed) <= 1
    }

    /// As [`IncomingRequest::reply`].
    pub(crate) fn reply<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let id = MsgId::Raw(&self.payload[self.id.clone()]);
        self.channel.send_message(RESULT, id, value, self.alone())
    }

    /// As [`IncomingRequest::fail`].
    pub(crate) fn fail(&self, error: &CallError) -> Result<(), Error> {
        let id = MsgId::Raw(&self.payload[self.id.clone()]);
        let content = self.channel.error_content(error);
        self.channel.send_message(ERROR, id, &content, self.alone())
    }
}
