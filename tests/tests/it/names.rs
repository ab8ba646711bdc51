//! Names that `#[service]` generates or reads: a renamed dependency, and user types whose names
//! look like generated ones.

// Under another name in the extern prelude, as a renamed dependency would be.
extern crate rpc_core as renamed_rpc;

use renamed_rpc as rpc;
use serde::{Deserialize, Serialize};

/// A type of the user's whose name ends in `Proxy`: an ordinary argument and result, nothing
/// more (names are not how the macro tells proxies apart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PointProxy {
    x: i64,
    y: i64,
}

#[rpc::service(crate = "::renamed_rpc")]
struct Geometry {
    #[sub_router(name = "more")]
    extra: Extra,
}

#[rpc::service(crate = "::renamed_rpc")]
impl Geometry {
    #[expose]
    fn flip(&self, p: PointProxy) -> PointProxy {
        PointProxy { x: p.y, y: p.x }
    }

    #[expose]
    async fn norm1(&self, p: PointProxy) -> i64 {
        p.x.abs() + p.y.abs()
    }
}

#[rpc::service(crate = "::renamed_rpc")]
struct Extra;

#[rpc::service(crate = "::renamed_rpc")]
impl Extra {
    #[expose]
    fn one(&self) -> i64 {
        1
    }
}

#[tokio::test]
async fn a_service_written_against_a_renamed_dependency_serves_and_calls() {
    let server = rpc::start_server("127.0.0.1:0", rpc::Router::new(Geometry { extra: Extra }))
        .await
        .unwrap();
    let conn = rpc::open_connection(server.local_addr()).await.unwrap();
    let g = conn.proxy::<GeometryProxy>();
    let p = PointProxy { x: 1, y: -2 };
    assert_eq!(g.flip(p.clone()).await.unwrap(), PointProxy { x: -2, y: 1 });
    assert_eq!(g.norm1(p).await.unwrap(), 3);
    assert_eq!(g.extra().one().await.unwrap(), 1);
    conn.close().await;
    server.shutdown().await;
}
