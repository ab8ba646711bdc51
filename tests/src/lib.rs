//! The integration suites of rpc-core live in `tests/` beside this file (one file per topic),
//! with the compile-fail cases in `ui/`, the Python aiomas peers in `python/` and the captured
//! aiomas frames in `data/`. This library holds what several suites share: starting Python
//! peers and other processes ([`python`]), and certificates made for a test ([`certs`]).

pub mod certs;
pub mod python;
