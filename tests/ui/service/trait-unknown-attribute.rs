use rpc_core::service;

#[service]
trait Calc {
    #[context]
    fn add(&self, a: i64, b: i64) -> i64;
}

fn main() {}
