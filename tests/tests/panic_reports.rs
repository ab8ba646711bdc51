//! With `quiet_handler_panics`, a peer that makes handlers panic on purpose does not get a
//! panic report (and a backtrace) printed per request: handler panics are answered and logged
//! at most once a second, while other panics still reach the panic hook the program set. A test
//! binary of its own, not a module of `it/`: the panic hook is process-wide, and the quiet hook
//! stays installed for the life of the process.

use std::sync::atomic::Ordering;

use rpc_core::{DynCall, Router, Server, ServiceDict};
use tests::panics::counting_hook;

#[tokio::test]
async fn handler_panics_are_answered_without_reaching_the_panic_hook() {
    let hooked = counting_hook();
    let service = ServiceDict::new()
        .function("boom", |_: DynCall| -> Result<(), rpc_core::CallError> {
            panic!("on purpose")
        })
        .async_function("later", |_: DynCall| async move {
            tokio::task::yield_now().await;
            if true {
                panic!("on purpose, later");
            }
            Ok(())
        });
    let server = Server::builder(Router::new(service))
        .quiet_handler_panics()
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let conn = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    for i in 0..200 {
        let name = if i % 2 == 0 { "boom" } else { "later" };
        let err = conn.remote().get(name).call::<()>(()).await.unwrap_err();
        assert_eq!(err.remote().unwrap().kind(), "Panic");
    }
    assert_eq!(
        hooked.load(Ordering::SeqCst),
        0,
        "handler panics reached the program's hook"
    );
    // Any other panic still does.
    let _ = std::panic::catch_unwind(|| panic!("not a handler"));
    assert_eq!(hooked.load(Ordering::SeqCst), 1);
    conn.close().await;
    server.shutdown().await;
}
