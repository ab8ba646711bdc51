//! The process-wide panic hook, for the suites that check who sees a handler's panic.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Sets a panic hook that only counts the panics it sees, and returns the count.
///
/// The hook is the process's: a suite that sets it is a test binary of its own.
pub fn counting_hook() -> Arc<AtomicUsize> {
    let hooked = Arc::new(AtomicUsize::new(0));
    let seen = hooked.clone();
    std::panic::set_hook(Box::new(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    }));
    hooked
}
