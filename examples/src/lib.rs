//! Examples of rpc-core: `examples/demo.rs` (the README demo), `examples/interop_server.rs`, and
//! the interop service tree they and the aiomas interop tests share ([`interop`]).

pub mod interop;
