use rpc_core::service;

#[service]
struct Calc;

#[derive(Debug)]
struct Oops;

#[service]
impl Calc {
    #[expose]
    fn fail(&self) -> Result<i64, Oops> {
        Err(Oops)
    }
}

fn main() {}
