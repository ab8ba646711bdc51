use rpc_core::service;

#[service(crate = "not a path")]
struct Calc;

#[service]
impl Calc {}

fn main() {}
