use rpc_core::service;

#[service(name = "calc")]
struct Calc;

#[service]
impl Calc {}

fn main() {}
