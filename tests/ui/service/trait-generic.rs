use rpc_core::service;

#[service]
trait Store<T> {
    fn get(&self, key: String) -> i64;
}

fn main() {}
