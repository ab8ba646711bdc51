use rpc_core::service;

#[service]
trait Adder {
    fn add(&self, a: i64, b: i64) -> i64;
}

#[service]
struct Calc;

#[service]
impl Calc {}

#[service]
impl Adder for Calc {
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
