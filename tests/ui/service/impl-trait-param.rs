use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    fn show(&self, value: impl ToString) -> String {
        value.to_string()
    }
}

fn main() {}
