use rpc_core::{service, ServiceDict};

#[service]
struct Calc {
    #[sub_router(path = "child")]
    child: ServiceDict,
}

#[service]
impl Calc {}

fn main() {}
