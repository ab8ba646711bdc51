use rpc_core::service;

#[service]
struct Calc;

struct Point {
    x: i64,
}

#[service]
impl Calc {
    #[expose]
    fn norm(&self, p: Point) -> i64 {
        p.x.abs()
    }
}

fn main() {}
