use rpc_core::expose;

struct Calc;

impl Calc {
    #[expose]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
