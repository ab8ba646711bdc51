//! The integration suites of rpc-core live in `tests/` beside this file: one test binary,
//! `tests/it/`, with a module per topic, and beside it the few suites that need a process of
//! their own (see `tests/it/main.rs`). The compile-fail cases are in `ui/`, the Python aiomas
//! peers in `python/` and the captured aiomas frames in `data/`. This library holds what
//! several binaries share (the `cli` crate's tests too): starting Python peers and other
//! processes ([`python`]), certificates made for a test ([`certs`]), hand-made MsgPackBlosc
//! payloads ([`blosc`]), and a panic hook that counts ([`panics`]).

pub mod blosc;
pub mod certs;
pub mod panics;
pub mod python;
