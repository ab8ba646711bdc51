use rpc_core::service;

/// A type of the user's that happens to have the name of the generated proxy.
struct CalcProxy;

#[service]
struct Calc;

#[service]
impl Calc {}

fn main() {
    let _ = CalcProxy;
}
