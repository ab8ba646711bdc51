use rpc_core::service;

#[service]
trait Child {}

#[service]
trait Calc {
    #[expose(name = "child")]
    fn get_child(&self) -> i64;
    #[sub_router]
    fn child(&self) -> &impl Child;
}

fn main() {}
