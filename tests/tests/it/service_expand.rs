//! The representative service of the expansion snapshot (`rpc-macros/tests/expand/service.rs`,
//! whose expansion `rpc-macros/src/expand/snapshot.rs` compares with
//! `service.expanded.rs`), compiled and called here, so that the snapshot is of code that
//! builds and serves.

#[path = "../../../rpc-macros/tests/expand/service.rs"]
mod representative;

use std::collections::BTreeMap;

use representative::{Calc, CalcProxy, Device, MeterProxy, Scale};
use rpc_core::{start_server, Router, Value};

#[tokio::test]
async fn the_struct_form_of_the_snapshot_serves() {
    let server = start_server("127.0.0.1:0", Router::new(Calc { scale: Scale }))
        .await
        .unwrap();
    let client = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let calc = client.proxy::<CalcProxy>();
    assert_eq!(calc.add(2, None).await.unwrap(), 3, "`b` defaults to 1");
    assert_eq!(calc.add(2, Some(5)).await.unwrap(), 7);
    assert_eq!(calc.divide(7, 2).await.unwrap(), 3);
    let err = calc.divide(1, 0).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "ZeroDivisionError");
    let opts = BTreeMap::from([("x".to_owned(), Value::from(1))]);
    let counted = calc
        .count(vec![Value::from(1), Value::from(2)], opts)
        .await
        .unwrap();
    assert_eq!(counted, ": 2 and 1");
    assert_eq!(calc.scale().mul(3, 4).await.unwrap(), 12);
    let hidden = client.remote().get("not_exposed").call::<()>(()).await;
    let hidden = hidden.unwrap_err();
    assert_eq!(hidden.remote().unwrap().kind(), "LookupError", "{hidden:?}");
    Calc { scale: Scale }.not_exposed(); // served, it is only callable from Rust
    client.close().await;
    server.drain().await;
}

#[tokio::test]
async fn the_trait_form_of_the_snapshot_serves() {
    let device = Device { scale: Scale };
    let server = start_server("127.0.0.1:0", Router::new(device))
        .await
        .unwrap();
    let client = rpc_core::open_connection(server.local_addr())
        .await
        .unwrap();
    let meter = client.proxy::<MeterProxy>();
    assert_eq!(meter.read(3, None).await.unwrap(), 3.0);
    assert_eq!(meter.read(3, Some("mV".to_owned())).await.unwrap(), 3000.0);
    meter.reset(BTreeMap::new()).await.unwrap();
    let refused = BTreeMap::from([("refuse".to_owned(), Value::from(true))]);
    let err = meter.reset(refused).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "ValueError");
    assert_eq!(meter.scale().mul(2, 5).await.unwrap(), 10);
    client.close().await;
    server.drain().await;
}
