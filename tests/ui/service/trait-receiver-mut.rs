use rpc_core::service;

#[service]
trait Counter {
    fn bump(&mut self);
}

fn main() {}
