use rpc_core::service;

#[service]
trait Calc {
    fn add(&self, a: i64, b: i64) -> i64;
}

struct MyCalc<T>(T);

#[service]
impl<T: Send + Sync + 'static> Calc for MyCalc<T> {
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
