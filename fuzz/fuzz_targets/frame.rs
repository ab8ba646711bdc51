//! cargo-fuzz entry of the `frame` target; the body is `fuzz_targets::frame::run`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        fuzz_targets::ignore_deliberate_panics();
    },
    |data: &[u8]| {
        fuzz_targets::frame::run(data);
    }
);
