use rpc_core::{service, Value};

#[service]
trait Calc {
    fn sum(&self, #[args] rest: Vec<Value>) -> usize;
}

struct MyCalc;

#[service]
impl Calc for MyCalc {
    fn sum(&self, #[args] rest: Vec<Value>) -> usize {
        rest.len()
    }
}

fn main() {}
