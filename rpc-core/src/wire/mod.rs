//! The wire: frames, values and codecs, exactly as aiomas writes them. The bottom layer; it knows
//! nothing of channels, services or connections.
//!
//! ```text
//! +----------------+-------------------------------------------+
//! | length: u32 BE | payload: one message, `length` bytes       |
//! +----------------+-------------------------------------------+
//!                    [type, id, content] as MsgPack or JSON
//! ```
//!
//! - [`frame`]: the length prefix, with a maximum checked before any allocation.
//! - [`codec`]: `[type, id, content]` in either format, behind one [`Codec`](codec::Codec).
//! - [`Value`]: any value a peer can send, unchanged.
//! - [`Blob`]: bytes that share the frame they arrived in.

mod blob;
pub mod codec;
mod error;
pub mod frame;
pub(crate) mod inline;
mod value;

pub use blob::Blob;
pub use error::CodecError;
pub use value::Value;
