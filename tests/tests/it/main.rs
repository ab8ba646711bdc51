//! The integration suites of rpc-core, one module per topic, built as one test binary so that
//! tokio, rustls and rpc-core are linked once rather than once per topic (nextest shows each
//! test as `module::test`, e.g. `channel::requests_count_ids_from_zero_and_replies_match_in_any_order`).
//!
//! Three suites stay binaries of their own in `tests/tests/`, because each needs a process to
//! itself: `blosc_alloc.rs` installs a counting global allocator, and `panic_hook_default.rs`
//! and `panic_reports.rs` set the process-wide panic hook (and the latter installs the library's
//! quiet-panics filter, which stays for the life of the process). `ui.rs` (trybuild) is a
//! binary of its own too: it links neither tokio nor rpc-core, so keeping it apart costs no
//! link of them, and `TRYBUILD=overwrite cargo test -p tests --test ui` refreshes its `.stderr`
//! files without building the rest.

// `names` checks `#[service(crate = "::renamed_rpc")]`: a renamed dependency lives in the
// extern prelude, which only the crate root can extend.
extern crate rpc_core as renamed_rpc;

mod abuse;
mod channel;
mod codec;
mod compose;
mod connection;
mod endings;
mod frame;
mod fuzz_replay;
mod hostile;
mod hygiene;
mod interop_python;
mod json_python;
mod layers;
mod msgpack_blosc;
mod names;
mod no_silent_skips;
mod rpc;
mod service_expand;
mod service_macro;
mod service_trait;
mod support;
mod tls;
mod tracing;
