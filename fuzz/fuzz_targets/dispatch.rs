//! cargo-fuzz entry of the `dispatch` target; the body is `fuzz_targets::dispatch::run`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        fuzz_targets::ignore_deliberate_panics();
    },
    |data: &[u8]| {
        fuzz_targets::dispatch::run(data);
    }
);
