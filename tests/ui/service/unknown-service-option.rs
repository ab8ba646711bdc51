use rpc_core::service;

#[service(crate = "rpc_core", proxy = "Other")]
struct Calc;

#[service]
impl Calc {}

fn main() {}
