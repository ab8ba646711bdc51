//! The representative service whose expansion `service.expanded.rs` holds: the struct form and
//! the trait form, each with a sub-router, synchronous and asynchronous methods, a default
//! (`Option`), `#[args]`, `#[kwargs]`, `#[context]`, a renamed method and a `Result`.
//!
//! `rpc-macros/src/expand/snapshot.rs` expands every `#[service]` item of this file and compares
//! the result with `service.expanded.rs`; `tests/tests/it/service_expand.rs` compiles this file
//! and calls it, so that the snapshot is of code that builds and serves.

use std::collections::BTreeMap;

use rpc_core::{service, CallContext, CallError, Value};

/// The struct form: a calculator with a sub-router.
#[service]
pub(crate) struct Calc {
    #[sub_router]
    pub(crate) scale: Scale,
}

#[service]
impl Calc {
    /// Adds; `b` defaults to 1.
    #[expose]
    pub(crate) fn add(&self, a: i64, b: Option<i64>) -> i64 {
        a + b.unwrap_or(1)
    }

    #[expose(name = "div")]
    pub(crate) async fn divide(&self, a: i64, b: i64) -> Result<i64, CallError> {
        a.checked_div(b)
            .ok_or_else(|| CallError::new("ZeroDivisionError", "division by zero"))
    }

    #[expose]
    pub(crate) fn count(
        &self,
        #[context] cx: CallContext,
        #[args] rest: Vec<Value>,
        #[kwargs] opts: BTreeMap<String, Value>,
    ) -> String {
        format!("{}: {} and {}", cx.router().path(), rest.len(), opts.len())
    }

    pub(crate) fn not_exposed(&self) {}
}

/// A sub-router with nothing but one method.
#[service]
pub(crate) struct Scale;

#[service]
impl Scale {
    #[expose]
    pub(crate) async fn mul(&self, a: i64, b: i64) -> i64 {
        a * b
    }
}

/// The trait form: an interface with a sub-router.
#[service]
pub(crate) trait Meter {
    /// Reads a channel; `unit` defaults to volts.
    fn read(&self, channel: u8, unit: Option<String>) -> f64;

    async fn reset(&self, #[kwargs] opts: BTreeMap<String, Value>) -> Result<(), CallError>;

    #[sub_router]
    fn scale(&self) -> &Scale;
}

/// An implementation of the interface.
pub(crate) struct Device {
    pub(crate) scale: Scale,
}

#[service]
impl Meter for Device {
    fn read(&self, channel: u8, unit: Option<String>) -> f64 {
        f64::from(channel)
            * if unit.as_deref() == Some("mV") {
                1000.0
            } else {
                1.0
            }
    }

    async fn reset(&self, opts: BTreeMap<String, Value>) -> Result<(), CallError> {
        if opts.contains_key("refuse") {
            return Err(CallError::new("ValueError", "refused"));
        }
        Ok(())
    }

    fn scale(&self) -> &Scale {
        &self.scale
    }
}
