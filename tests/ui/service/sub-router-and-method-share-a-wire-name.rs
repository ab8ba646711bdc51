use rpc_core::service;

#[service]
struct Calc {
    #[sub_router(name = "stats")]
    statistics: Stats,
}

#[service]
impl Calc {
    #[expose(name = "stats")]
    fn summary(&self) -> i64 {
        0
    }
}

#[service]
struct Stats;

#[service]
impl Stats {}

fn main() {}
