use rpc_core::service;

#[service]
trait Child {}

#[service]
trait Calc {
    #[sub_router(name = "kid")]
    fn first(&self) -> &impl Child;
    #[sub_router(name = "kid")]
    fn second(&self) -> &impl Child;
}

fn main() {}
