use rpc_core::service;

#[service]
struct Calc;

#[service]
impl Calc {
    #[expose]
    fn greet(&self, name: &str) -> String {
        format!("hello {name}")
    }
}

fn main() {}
