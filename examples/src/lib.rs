//! Examples of rpc-core.

pub mod interop;
