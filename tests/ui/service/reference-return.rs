use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    fn name(&self) -> &'static str {
        "calc"
    }
}

fn main() {}
