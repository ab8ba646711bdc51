use rpc_core::{open_connection, start_server, DynCall, Options, Router, ServiceDict};

#[tokio::test]
async fn smoke_dict_over_tcp() {
    let svc = ServiceDict::new()
        .function("add", |c: DynCall| Ok(c.arg::<i64>(0, "a")? + c.arg::<i64>(1, "b")?))
        .sub_router("sub", ServiceDict::new().async_function("mul", |c: DynCall| async move {
            Ok(c.arg::<i64>(0, "a")? * c.arg::<i64>(1, "b")?)
        }));
    let server = start_server("127.0.0.1:0", Router::new(svc), None, Options::new()).await.unwrap();
    let client = open_connection(server.local_addr(), None, Options::new()).await.unwrap();
    let r: i64 = client.remote().get("add").call((1, 2)).await.unwrap();
    assert_eq!(r, 3);
    let r: i64 = client.remote().get("sub").get("mul").call_kw((3,), rpc_core::Kwargs::new().arg("b", 5)).await.unwrap();
    assert_eq!(r, 15);
    let e = client.remote().get("nope").call::<i64>(()).await.unwrap_err();
    println!("{e}");
    let e = client.remote().get("sub").call::<i64>(()).await.unwrap_err();
    println!("{e}");
    let e = client.remote().get("add").call::<i64>((1,)).await.unwrap_err();
    println!("{e}");
    client.close().await;
    server.drain().await;
}
