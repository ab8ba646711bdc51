use rpc_core::service;

#[service]
struct Calc<T> {
    value: T,
}

fn main() {}
