use rpc_core::service;

#[service]
trait Child {}

#[service]
trait Calc {
    #[sub_router]
    fn child(&self) -> impl Child;
}

fn main() {}
