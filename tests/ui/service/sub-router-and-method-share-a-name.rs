use rpc_core::service;

#[service]
struct Calc {
    #[sub_router(name = "scaling")]
    scale: Scale,
}

#[service]
impl Calc {
    #[expose]
    fn scale(&self, x: i64) -> i64 {
        x
    }
}

#[service]
struct Scale;

#[service]
impl Scale {}

fn main() {}
