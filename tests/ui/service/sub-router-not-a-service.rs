use rpc_core::service;

#[service]
struct Calc {
    #[sub_router]
    count: u32,
}

#[service]
impl Calc {}

fn main() {}
