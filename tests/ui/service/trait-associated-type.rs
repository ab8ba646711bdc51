use rpc_core::service;

#[service]
trait Store {
    type Key;
    fn get(&self, key: String) -> i64;
}

fn main() {}
