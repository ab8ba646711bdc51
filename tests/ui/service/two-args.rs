use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    fn sum(&self, #[args] first: Vec<i64>, #[args] second: Vec<i64>) -> i64 {
        first.iter().chain(&second).sum()
    }
}

fn main() {}
