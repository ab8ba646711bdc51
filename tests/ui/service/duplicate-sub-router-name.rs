use rpc_core::{service, ServiceDict};

#[service]
struct Calc {
    #[sub_router(name = "child")]
    a: ServiceDict,
    #[sub_router]
    child: ServiceDict,
}

#[service]
impl Calc {}

fn main() {}
