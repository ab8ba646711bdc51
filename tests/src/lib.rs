//! The integration suites of rpc-core live in `tests/` beside this file (one file per topic),
//! with the compile-fail cases in `ui/`, the Python aiomas peers in `python/` and the captured
//! aiomas frames in `data/`. This library is empty: Cargo needs a target for the package.
