use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    fn show<T: ToString>(&self, value: T) -> String {
        value.to_string()
    }
}

fn main() {}
