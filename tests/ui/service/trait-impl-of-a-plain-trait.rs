use rpc_core::service;

struct Calc;

trait Adder {
    fn add(&self, a: i64, b: i64) -> i64;
}

#[service]
impl Adder for Calc {
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
