//! `#[service]` expands to absolute paths only: it works without the prelude and with `core` and
//! `std` shadowed by local modules.

mod hygienic {
    #![no_implicit_prelude]

    #[allow(dead_code)]
    mod core {}
    #[allow(dead_code)]
    mod std {}

    use ::rpc_core::service;

    #[service]
    pub(crate) struct Echo {
        #[sub_router]
        pub(crate) inner: Inner,
    }

    #[service]
    impl Echo {
        #[expose]
        fn echo(
            &self,
            text: ::std::string::String,
            times: ::std::option::Option<usize>,
        ) -> ::std::string::String {
            text.repeat(times.unwrap_or(1))
        }

        #[expose]
        async fn checked(&self, value: i64) -> ::core::result::Result<i64, ::rpc_core::CallError> {
            if value < 0 {
                ::core::result::Result::Err(::rpc_core::CallError::value_error("negative"))
            } else {
                ::core::result::Result::Ok(value)
            }
        }

        #[expose]
        fn nothing(&self, #[args] rest: ::std::vec::Vec<::rpc_core::Value>) {
            let _ = rest;
        }
    }

    #[service]
    pub(crate) struct Inner;

    #[service]
    impl Inner {
        #[expose]
        fn path(&self, #[context] cx: ::rpc_core::CallContext) -> ::std::string::String {
            ::std::borrow::ToOwned::to_owned(cx.router().path())
        }
    }
}

/// The trait form, under the same conditions.
mod hygienic_trait {
    #![no_implicit_prelude]

    #[allow(dead_code)]
    mod core {}
    #[allow(dead_code)]
    mod std {}

    use ::rpc_core::service;

    #[service]
    pub(crate) trait Shout {
        fn shout(
            &self,
            text: ::std::string::String,
            times: ::std::option::Option<usize>,
        ) -> ::std::string::String;

        async fn checked(&self, value: i64) -> ::core::result::Result<i64, ::rpc_core::CallError>;

        #[sub_router]
        fn inner(&self) -> &impl Leaf;
    }

    #[service]
    pub(crate) trait Leaf {
        fn path(&self, #[context] cx: ::rpc_core::CallContext) -> ::std::string::String;
    }

    pub(crate) struct Loud(pub(crate) Quiet);
    pub(crate) struct Quiet;

    #[service]
    impl Shout for Loud {
        fn shout(
            &self,
            text: ::std::string::String,
            times: ::std::option::Option<usize>,
        ) -> ::std::string::String {
            text.to_uppercase().repeat(times.unwrap_or(1))
        }

        async fn checked(&self, value: i64) -> ::core::result::Result<i64, ::rpc_core::CallError> {
            if value < 0 {
                ::core::result::Result::Err(::rpc_core::CallError::value_error("negative"))
            } else {
                ::core::result::Result::Ok(value)
            }
        }

        fn inner(&self) -> &impl Leaf {
            &self.0
        }
    }

    #[service]
    impl Leaf for Quiet {
        fn path(&self, cx: ::rpc_core::CallContext) -> ::std::string::String {
            ::std::borrow::ToOwned::to_owned(cx.router().path())
        }
    }
}

use rpc_core::{open_connection, start_server, Router};

#[tokio::test]
async fn trait_service_expands_without_prelude_and_with_shadowed_core_and_std() {
    let root = hygienic_trait::Loud(hygienic_trait::Quiet);
    let server = start_server("127.0.0.1:0", Router::new(root))
        .await
        .unwrap();
    let client = open_connection(server.local_addr()).await.unwrap();
    let shout = client.proxy::<hygienic_trait::ShoutProxy>();
    assert_eq!(shout.shout("ab".to_owned(), Some(2)).await.unwrap(), "ABAB");
    assert_eq!(shout.checked(3).await.unwrap(), 3);
    let err = shout.checked(-1).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "ValueError");
    assert_eq!(shout.inner().path().await.unwrap(), "inner");
    client.close().await;
    server.drain().await;
}

#[tokio::test]
async fn service_expands_without_prelude_and_with_shadowed_core_and_std() {
    let root = hygienic::Echo {
        inner: hygienic::Inner,
    };
    let server = start_server("127.0.0.1:0", Router::new(root))
        .await
        .unwrap();
    let client = open_connection(server.local_addr()).await.unwrap();
    let echo = client.proxy::<hygienic::EchoProxy>();
    assert_eq!(echo.echo("ab".to_owned(), Some(2)).await.unwrap(), "abab");
    assert_eq!(echo.checked(3).await.unwrap(), 3);
    let err = echo.checked(-1).await.unwrap_err();
    assert_eq!(err.remote().unwrap().kind(), "ValueError");
    echo.nothing(vec![1.into()]).await.unwrap();
    assert_eq!(echo.inner().path().await.unwrap(), "inner");
    client.close().await;
    server.drain().await;
}
