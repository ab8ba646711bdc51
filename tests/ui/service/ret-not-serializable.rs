use rpc_core::service;

#[service]
struct Calc;

struct Point {
    x: i64,
}

#[service]
impl Calc {
    #[expose]
    fn origin(&self) -> Point {
        Point { x: 0 }
    }
}

fn main() {}
