use rpc_core::service;

#[service]
trait Calc {
    fn add(&self, a: i64, b: i64) -> i64;
}

struct MyCalc;

impl Calc for MyCalc {
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
