use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

#[service]
impl Calc {
    #[expose]
    fn mul(&self, a: i64, b: i64) -> i64 {
        a * b
    }
}

fn main() {}
