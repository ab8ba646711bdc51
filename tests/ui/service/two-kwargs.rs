use rpc_core::service;

#[service]
struct Calc;

use std::collections::HashMap;

#[service]
impl Calc {
    #[expose]
    fn keys(&self, #[kwargs] a: HashMap<String, i64>, #[kwargs] b: HashMap<String, i64>) -> usize {
        a.len() + b.len()
    }
}

fn main() {}
