use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    fn sum(&self, #[args] rest: Vec<i64>) -> i64 {
        rest.iter().sum()
    }
}

fn main() {}
