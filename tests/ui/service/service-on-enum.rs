use rpc_core::service;

#[service]
enum Calc {
    Add,
}

fn main() {}
