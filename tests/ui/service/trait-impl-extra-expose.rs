use rpc_core::service;

#[service]
trait Calc {
    fn add(&self, a: i64, b: i64) -> i64;
}

struct MyCalc;

#[service]
impl Calc for MyCalc {
    #[expose(name = "plus")]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
