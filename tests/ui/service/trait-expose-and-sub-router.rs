use rpc_core::service;

#[service]
trait Child {}

#[service]
trait Calc {
    #[expose]
    #[sub_router]
    fn child(&self) -> &impl Child;
}

fn main() {}
