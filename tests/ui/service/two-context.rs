use rpc_core::service;

#[service]
struct Calc;

use rpc_core::CallContext;

#[service]
impl Calc {
    #[expose]
    fn peer(&self, #[context] a: CallContext, #[context] b: CallContext) -> String {
        format!("{} {}", a.peer(), b.peer())
    }
}

fn main() {}
