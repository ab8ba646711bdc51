//! Examples of rpc-core.
