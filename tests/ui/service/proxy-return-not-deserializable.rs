// A service whose result is only `Serialize` compiles; its typed proxy's method fails where it
// is called, on the result type.
use rpc_core::{service, Connection};

#[derive(serde::Serialize)]
struct OnlyOut;

#[service]
struct Svc;

#[service]
impl Svc {
    #[expose]
    fn make(&self) -> OnlyOut {
        OnlyOut
    }
}

async fn call(conn: Connection) {
    let _ = conn.proxy::<SvcProxy>().make().await;
}

fn main() {
    let _ = call;
}
