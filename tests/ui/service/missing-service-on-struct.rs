use rpc_core::service;

struct Calc;

#[service]
impl Calc {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
