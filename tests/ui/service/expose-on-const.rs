use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    const LIMIT: i64 = 10;
}

fn main() {}
