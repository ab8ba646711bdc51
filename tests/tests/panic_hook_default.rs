//! Without being asked, the library changes nothing process-wide: a handler's panic is answered
//! (`Panic: <message>`) and still reaches the panic hook the program set, because no hook of the
//! library's own was installed. `ServerBuilder::quiet_handler_panics` opts in to one
//! (`panic_reports.rs`). A test binary of its own, not a module of `it/`: the panic hook is
//! process-wide.

use std::sync::atomic::Ordering;

use rpc_core::{start_server, DynCall, Router, ServiceDict};
use tests::panics::counting_hook;

#[tokio::test]
async fn by_default_handler_panics_reach_the_programs_panic_hook() {
    let hooked = counting_hook();
    let service = ServiceDict::new()
        .function("boom", |_: DynCall| -> Result<(), rpc_core::CallError> {
            panic!("on purpose")
        });
    let server = start_server("127.0.0.1:0", Router::new(service))
        .await
        .unwrap();
    let conn = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let err = conn.remote().get("boom").call::<()>(()).await.unwrap_err();
        kinds.push(err.remote().map(|r| r.kind().to_owned()));
    }
    // The default hook again, so that a failed assertion below is printed.
    drop(std::panic::take_hook());
    assert_eq!(kinds, vec![Some("Panic".to_owned()); 3]);
    assert_eq!(
        hooked.load(Ordering::SeqCst),
        3,
        "the program's panic hook did not see the handler panics: the library replaced it"
    );
    conn.close().await;
    server.shutdown().await;
}
