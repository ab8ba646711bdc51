use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose(name = "add")]
    fn plus(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
