// The expansion of tests/expand/service.rs, printed by prettyplease: written by
// `UPDATE_EXPAND=1 cargo test -p rpc-macros expansion_matches_the_snapshot`
// (src/expand/snapshot.rs). Not compiled; review its diff.

use std::collections::BTreeMap;
use rpc_core::{service, CallContext, CallError, Value};
/// The struct form: a calculator with a sub-router.
pub(crate) struct Calc {
    pub(crate) scale: Scale,
}
///The typed proxy of [`Calc`]: one async method per exposed method, one accessor per sub-router.
#[derive(::core::clone::Clone, ::core::fmt::Debug)]
pub(crate) struct CalcProxy {
    proxy: ::rpc_core::Proxy,
}
const _: () = {
    #[automatically_derived]
    impl ::core::convert::From<::rpc_core::Proxy> for CalcProxy {
        fn from(proxy: ::rpc_core::Proxy) -> Self {
            CalcProxy { proxy }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedProxy for CalcProxy {
        fn proxy(&self) -> &::rpc_core::Proxy {
            &self.proxy
        }
    }
    #[automatically_derived]
    impl<'de> ::rpc_core::__private::serde::Deserialize<'de> for CalcProxy {
        fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
        where
            D: ::rpc_core::__private::serde::Deserializer<'de>,
        {
            ::core::result::Result::map(
                <::rpc_core::Proxy as ::rpc_core::__private::serde::Deserialize<
                    'de,
                >>::deserialize(deserializer),
                |proxy| CalcProxy { proxy },
            )
        }
    }
};
const _: () = {
    #[automatically_derived]
    impl ::rpc_core::__private::ServiceStruct for Calc {
        const SUB_ROUTERS: &'static [&'static str] = &["scale"];
        const SUB_ROUTER_FIELDS: &'static [&'static str] = &["scale"];
        fn __sub_router(
            &self,
            name: &str,
        ) -> ::core::option::Option<&dyn ::rpc_core::Service> {
            match name {
                "scale" => {
                    ::core::option::Option::Some(
                        ::rpc_core::__private::as_service::<Scale>(&self.scale),
                    )
                }
                _ => ::core::option::Option::None,
            }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::Service for Calc {
        fn type_name(&self) -> ::rpc_core::__private::Cow<'_, str> {
            ::rpc_core::__private::Cow::Borrowed("Calc")
        }
        fn sub_router(
            &self,
            name: &str,
        ) -> ::core::option::Option<&dyn ::rpc_core::Service> {
            <Self as ::rpc_core::__private::ServiceStruct>::__sub_router(self, name)
        }
        fn sub_router_names(
            &self,
        ) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
            ::rpc_core::__private::names(
                <Self as ::rpc_core::__private::ServiceStruct>::SUB_ROUTERS,
            )
        }
        fn exposed_names(
            &self,
        ) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
            ::rpc_core::__private::names(
                <Self as ::rpc_core::__private::ServiceImplBlock>::EXPOSED,
            )
        }
        fn is_hidden(&self, name: &str) -> bool {
            <Self as ::rpc_core::__private::ServiceImplBlock>::is_hidden(name)
        }
        fn call<'s>(
            &'s self,
            name: &str,
            call: ::rpc_core::Call<'_>,
        ) -> ::core::option::Option<::rpc_core::Outcome<'s>> {
            <Self as ::rpc_core::__private::ServiceImplBlock>::call(self, name, call)
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedService for Calc {
        type Proxy = CalcProxy;
    }
    impl CalcProxy {
        ///The typed proxy of the sub-router `scale`.
        #[allow(dead_code, clippy::useless_conversion)]
        pub(crate) fn scale(&self) -> <Scale as ::rpc_core::TypedService>::Proxy {
            ::core::convert::From::from(self.proxy.get("scale"))
        }
    }
};
impl Calc {
    /// Adds; `b` defaults to 1.
    pub(crate) fn add(&self, a: i64, b: Option<i64>) -> i64 {
        a + b.unwrap_or(1)
    }
    pub(crate) async fn divide(&self, a: i64, b: i64) -> Result<i64, CallError> {
        a.checked_div(b)
            .ok_or_else(|| CallError::new("ZeroDivisionError", "division by zero"))
    }
    pub(crate) fn count(
        &self,
        cx: CallContext,
        rest: Vec<Value>,
        opts: BTreeMap<String, Value>,
    ) -> String {
        format!("{}: {} and {}", cx.router().path(), rest.len(), opts.len())
    }
    pub(crate) fn not_exposed(&self) {}
}
const _: () = {
    #[automatically_derived]
    impl ::rpc_core::__private::ServiceImplBlock for Calc {
        const EXPOSED: &'static [&'static str] = &["add", "div", "count"];
        fn is_hidden(name: &str) -> bool {
            ::core::matches!(name, "not_exposed")
        }
        fn call<'s>(
            &'s self,
            __rpc_name: &str,
            __rpc_call: ::rpc_core::Call<'_>,
        ) -> ::core::option::Option<::rpc_core::Outcome<'s>> {
            match __rpc_name {
                "add" => {
                    static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                        name: "add",
                        params: &[
                            ::rpc_core::__private::Param {
                                name: "a",
                                optional: false,
                            },
                            ::rpc_core::__private::Param {
                                name: "b",
                                optional: true,
                            },
                        ],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    let __rpc_bound = match ::rpc_core::__private::bind(
                        &__rpc_call,
                        &SIG,
                    ) {
                        ::core::result::Result::Ok(bound) => bound,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg0: i64 = match __rpc_bound.arg::<i64>(0usize) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg1: Option<i64> = match __rpc_bound
                        .arg::<Option<i64>>(1usize)
                    {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_ret = Self::add(self, __rpc_arg0, __rpc_arg1);
                    ::core::option::Option::Some(
                        ::rpc_core::__private::ok(__rpc_call, &__rpc_ret),
                    )
                }
                "div" => {
                    static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                        name: "div",
                        params: &[
                            ::rpc_core::__private::Param {
                                name: "a",
                                optional: false,
                            },
                            ::rpc_core::__private::Param {
                                name: "b",
                                optional: false,
                            },
                        ],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    let __rpc_bound = match ::rpc_core::__private::bind(
                        &__rpc_call,
                        &SIG,
                    ) {
                        ::core::result::Result::Ok(bound) => bound,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg0: i64 = match __rpc_bound.arg::<i64>(0usize) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg1: i64 = match __rpc_bound.arg::<i64>(1usize) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_responder = ::rpc_core::__private::responder(&__rpc_call);
                    ::core::option::Option::Some(
                        ::rpc_core::__private::pending(async move {
                            let __rpc_ret = Self::divide(self, __rpc_arg0, __rpc_arg1)
                                .await;
                            match __rpc_ret {
                                ::core::result::Result::Ok(value) => {
                                    __rpc_responder.ok(&value)
                                }
                                ::core::result::Result::Err(error) => {
                                    __rpc_responder
                                        .err(
                                            &{
                                                #[allow(unused_imports)]
                                                use ::rpc_core::__private::{
                                                    ViaIntoCallError as _, ViaTypeNameDisplay as _,
                                                };
                                                (&&::rpc_core::__private::probe(error)).__rpc_call_error()
                                            },
                                        )
                                }
                            }
                        }),
                    )
                }
                "count" => {
                    static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                        name: "count",
                        params: &[],
                        rest_args: true,
                        rest_kwargs: true,
                    };
                    let __rpc_bound = match ::rpc_core::__private::bind(
                        &__rpc_call,
                        &SIG,
                    ) {
                        ::core::result::Result::Ok(bound) => bound,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg0: CallContext = __rpc_call.context();
                    let __rpc_arg1: Vec<Value> = match __rpc_bound
                        .rest_args::<Vec<Value>>()
                    {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg2: BTreeMap<String, Value> = match __rpc_bound
                        .rest_kwargs::<BTreeMap<String, Value>>()
                    {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_ret = Self::count(
                        self,
                        __rpc_arg0,
                        __rpc_arg1,
                        __rpc_arg2,
                    );
                    ::core::option::Option::Some(
                        ::rpc_core::__private::ok(__rpc_call, &__rpc_ret),
                    )
                }
                _ => ::core::option::Option::None,
            }
        }
    }
    const _: fn() = || {
        ::rpc_core::__private::assert_arg::<i64>();
        ::rpc_core::__private::assert_arg::<Option<i64>>();
        ::rpc_core::__private::assert_ret::<i64>();
    };
    const _: () = ::rpc_core::__private::check_method::<Calc>("add", "add");
    const _: fn() = || {
        ::rpc_core::__private::assert_arg::<i64>();
        ::rpc_core::__private::assert_arg::<i64>();
        ::rpc_core::__private::assert_ret::<i64>();
    };
    const _: () = ::rpc_core::__private::check_method::<Calc>("div", "divide");
    const _: fn() = || {
        ::rpc_core::__private::assert_arg::<Vec<Value>>();
        ::rpc_core::__private::assert_arg::<BTreeMap<String, Value>>();
        ::rpc_core::__private::assert_ret::<String>();
    };
    const _: () = ::rpc_core::__private::check_method::<Calc>("count", "count");
    impl CalcProxy {
        /// Adds; `b` defaults to 1.
        pub async fn add(
            &self,
            a: impl ::rpc_core::IntoArg<i64>,
            b: impl ::rpc_core::IntoArg<Option<i64>>,
        ) -> ::core::result::Result<i64, ::rpc_core::Error>
        where
            for<'__rpc> i64: ::rpc_core::__private::serde::de::DeserializeOwned,
        {
            let a = ::rpc_core::__private::proxy_arg::<i64, _>(a);
            let b = ::rpc_core::__private::proxy_arg::<Option<i64>, _>(b);
            ::rpc_core::__private::proxy_call::<
                i64,
            >(
                    ::rpc_core::TypedProxy::proxy(self),
                    "add",
                    ::rpc_core::__private::ProxyArgs::new().arg("a", &a).opt("b", &b),
                )
                .await
        }
        ///Calls `div` on the peer.
        pub async fn divide(
            &self,
            a: impl ::rpc_core::IntoArg<i64>,
            b: impl ::rpc_core::IntoArg<i64>,
        ) -> ::core::result::Result<i64, ::rpc_core::Error>
        where
            for<'__rpc> i64: ::rpc_core::__private::serde::de::DeserializeOwned,
        {
            let a = ::rpc_core::__private::proxy_arg::<i64, _>(a);
            let b = ::rpc_core::__private::proxy_arg::<i64, _>(b);
            ::rpc_core::__private::proxy_call_args::<
                i64,
            >(::rpc_core::TypedProxy::proxy(self), "div", (&a, &b))
                .await
        }
        ///Calls `count` on the peer.
        pub async fn count(
            &self,
            rest: impl ::rpc_core::IntoArg<Vec<Value>>,
            opts: impl ::rpc_core::IntoArg<BTreeMap<String, Value>>,
        ) -> ::core::result::Result<String, ::rpc_core::Error>
        where
            for<'__rpc> String: ::rpc_core::__private::serde::de::DeserializeOwned,
        {
            ::rpc_core::__private::proxy_call::<
                String,
            >(
                    ::rpc_core::TypedProxy::proxy(self),
                    "count",
                    ::rpc_core::__private::ProxyArgs::new()
                        .rest(&rest)?
                        .rest_kwargs(&opts)?,
                )
                .await
        }
    }
};
/// A sub-router with nothing but one method.
pub(crate) struct Scale;
///The typed proxy of [`Scale`]: one async method per exposed method, one accessor per sub-router.
#[derive(::core::clone::Clone, ::core::fmt::Debug)]
pub(crate) struct ScaleProxy {
    proxy: ::rpc_core::Proxy,
}
const _: () = {
    #[automatically_derived]
    impl ::core::convert::From<::rpc_core::Proxy> for ScaleProxy {
        fn from(proxy: ::rpc_core::Proxy) -> Self {
            ScaleProxy { proxy }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedProxy for ScaleProxy {
        fn proxy(&self) -> &::rpc_core::Proxy {
            &self.proxy
        }
    }
    #[automatically_derived]
    impl<'de> ::rpc_core::__private::serde::Deserialize<'de> for ScaleProxy {
        fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
        where
            D: ::rpc_core::__private::serde::Deserializer<'de>,
        {
            ::core::result::Result::map(
                <::rpc_core::Proxy as ::rpc_core::__private::serde::Deserialize<
                    'de,
                >>::deserialize(deserializer),
                |proxy| ScaleProxy { proxy },
            )
        }
    }
};
const _: () = {
    #[automatically_derived]
    impl ::rpc_core::__private::ServiceStruct for Scale {
        const SUB_ROUTERS: &'static [&'static str] = &[];
        const SUB_ROUTER_FIELDS: &'static [&'static str] = &[];
        fn __sub_router(
            &self,
            name: &str,
        ) -> ::core::option::Option<&dyn ::rpc_core::Service> {
            match name {
                _ => ::core::option::Option::None,
            }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::Service for Scale {
        fn type_name(&self) -> ::rpc_core::__private::Cow<'_, str> {
            ::rpc_core::__private::Cow::Borrowed("Scale")
        }
        fn sub_router(
            &self,
            name: &str,
        ) -> ::core::option::Option<&dyn ::rpc_core::Service> {
            <Self as ::rpc_core::__private::ServiceStruct>::__sub_router(self, name)
        }
        fn sub_router_names(
            &self,
        ) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
            ::rpc_core::__private::names(
                <Self as ::rpc_core::__private::ServiceStruct>::SUB_ROUTERS,
            )
        }
        fn exposed_names(
            &self,
        ) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
            ::rpc_core::__private::names(
                <Self as ::rpc_core::__private::ServiceImplBlock>::EXPOSED,
            )
        }
        fn is_hidden(&self, name: &str) -> bool {
            <Self as ::rpc_core::__private::ServiceImplBlock>::is_hidden(name)
        }
        fn call<'s>(
            &'s self,
            name: &str,
            call: ::rpc_core::Call<'_>,
        ) -> ::core::option::Option<::rpc_core::Outcome<'s>> {
            <Self as ::rpc_core::__private::ServiceImplBlock>::call(self, name, call)
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedService for Scale {
        type Proxy = ScaleProxy;
    }
    impl ScaleProxy {}
};
impl Scale {
    pub(crate) async fn mul(&self, a: i64, b: i64) -> i64 {
        a * b
    }
}
const _: () = {
    #[automatically_derived]
    impl ::rpc_core::__private::ServiceImplBlock for Scale {
        const EXPOSED: &'static [&'static str] = &["mul"];
        fn is_hidden(name: &str) -> bool {
            false
        }
        fn call<'s>(
            &'s self,
            __rpc_name: &str,
            __rpc_call: ::rpc_core::Call<'_>,
        ) -> ::core::option::Option<::rpc_core::Outcome<'s>> {
            match __rpc_name {
                "mul" => {
                    static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                        name: "mul",
                        params: &[
                            ::rpc_core::__private::Param {
                                name: "a",
                                optional: false,
                            },
                            ::rpc_core::__private::Param {
                                name: "b",
                                optional: false,
                            },
                        ],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    let __rpc_bound = match ::rpc_core::__private::bind(
                        &__rpc_call,
                        &SIG,
                    ) {
                        ::core::result::Result::Ok(bound) => bound,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg0: i64 = match __rpc_bound.arg::<i64>(0usize) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_arg1: i64 = match __rpc_bound.arg::<i64>(1usize) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(
                                ::rpc_core::__private::err(__rpc_call, error),
                            );
                        }
                    };
                    let __rpc_responder = ::rpc_core::__private::responder(&__rpc_call);
                    ::core::option::Option::Some(
                        ::rpc_core::__private::pending(async move {
                            let __rpc_ret = Self::mul(self, __rpc_arg0, __rpc_arg1)
                                .await;
                            __rpc_responder.ok(&__rpc_ret);
                        }),
                    )
                }
                _ => ::core::option::Option::None,
            }
        }
    }
    const _: fn() = || {
        ::rpc_core::__private::assert_arg::<i64>();
        ::rpc_core::__private::assert_arg::<i64>();
        ::rpc_core::__private::assert_ret::<i64>();
    };
    const _: () = ::rpc_core::__private::check_method::<Scale>("mul", "mul");
    impl ScaleProxy {
        ///Calls `mul` on the peer.
        pub async fn mul(
            &self,
            a: impl ::rpc_core::IntoArg<i64>,
            b: impl ::rpc_core::IntoArg<i64>,
        ) -> ::core::result::Result<i64, ::rpc_core::Error>
        where
            for<'__rpc> i64: ::rpc_core::__private::serde::de::DeserializeOwned,
        {
            let a = ::rpc_core::__private::proxy_arg::<i64, _>(a);
            let b = ::rpc_core::__private::proxy_arg::<i64, _>(b);
            ::rpc_core::__private::proxy_call_args::<
                i64,
            >(::rpc_core::TypedProxy::proxy(self), "mul", (&a, &b))
                .await
        }
    }
};
/// The trait form: an interface with a sub-router.
#[allow(dead_code)]
pub(crate) trait Meter: ::rpc_core::Service {
    /// Reads a channel; `unit` defaults to volts.
    fn read(&self, channel: u8, unit: Option<String>) -> f64;
    fn reset(
        &self,
        opts: BTreeMap<String, Value>,
    ) -> impl ::core::future::Future<
        Output = Result<(), CallError>,
    > + ::core::marker::Send;
    fn scale(&self) -> &Scale;
    #[doc(hidden)]
    /// The sub-router of the given name (generated by `#[service]`).
    fn __rpc_sub_router(
        &self,
        __rpc_name: &str,
    ) -> ::core::option::Option<&dyn ::rpc_core::Service>
    where
        Self: ::core::marker::Sized,
    {
        match __rpc_name {
            "scale" => {
                ::core::option::Option::Some(
                    Self::scale(self) as &dyn ::rpc_core::Service,
                )
            }
            _ => ::core::option::Option::None,
        }
    }
    #[doc(hidden)]
    /// What the `Service` impl of an implementation forwards to (generated by `#[service]`).
    fn __rpc_dispatch() -> ::rpc_core::__private::TraitDispatch<Self>
    where
        Self: ::core::marker::Sized,
    {
        ::rpc_core::__private::TraitDispatch {
            exposed: &["read", "reset"],
            sub_routers: &["scale"],
            sub_router: Self::__rpc_sub_router,
            call: Self::__rpc_call,
        }
    }
    #[doc(hidden)]
    /// Calls the exposed method `__rpc_name` (generated by `#[service]`).
    #[allow(unused_variables)]
    fn __rpc_call<'s>(
        &'s self,
        __rpc_name: &str,
        __rpc_call: ::rpc_core::Call<'_>,
    ) -> ::core::option::Option<::rpc_core::Outcome<'s>>
    where
        Self: ::core::marker::Sized,
    {
        match __rpc_name {
            "read" => {
                static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                    name: "read",
                    params: &[
                        ::rpc_core::__private::Param {
                            name: "channel",
                            optional: false,
                        },
                        ::rpc_core::__private::Param {
                            name: "unit",
                            optional: true,
                        },
                    ],
                    rest_args: false,
                    rest_kwargs: false,
                };
                let __rpc_bound = match ::rpc_core::__private::bind(&__rpc_call, &SIG) {
                    ::core::result::Result::Ok(bound) => bound,
                    ::core::result::Result::Err(error) => {
                        return ::core::option::Option::Some(
                            ::rpc_core::__private::err(__rpc_call, error),
                        );
                    }
                };
                let __rpc_arg0: u8 = match __rpc_bound.arg::<u8>(0usize) {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(error) => {
                        return ::core::option::Option::Some(
                            ::rpc_core::__private::err(__rpc_call, error),
                        );
                    }
                };
                let __rpc_arg1: Option<String> = match __rpc_bound
                    .arg::<Option<String>>(1usize)
                {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(error) => {
                        return ::core::option::Option::Some(
                            ::rpc_core::__private::err(__rpc_call, error),
                        );
                    }
                };
                let __rpc_ret = Self::read(self, __rpc_arg0, __rpc_arg1);
                ::core::option::Option::Some(
                    ::rpc_core::__private::ok(__rpc_call, &__rpc_ret),
                )
            }
            "reset" => {
                static SIG: ::rpc_core::__private::Signature = ::rpc_core::__private::Signature {
                    name: "reset",
                    params: &[],
                    rest_args: false,
                    rest_kwargs: true,
                };
                let __rpc_bound = match ::rpc_core::__private::bind(&__rpc_call, &SIG) {
                    ::core::result::Result::Ok(bound) => bound,
                    ::core::result::Result::Err(error) => {
                        return ::core::option::Option::Some(
                            ::rpc_core::__private::err(__rpc_call, error),
                        );
                    }
                };
                let __rpc_arg0: BTreeMap<String, Value> = match __rpc_bound
                    .rest_kwargs::<BTreeMap<String, Value>>()
                {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(error) => {
                        return ::core::option::Option::Some(
                            ::rpc_core::__private::err(__rpc_call, error),
                        );
                    }
                };
                let __rpc_responder = ::rpc_core::__private::responder(&__rpc_call);
                ::core::option::Option::Some(
                    ::rpc_core::__private::pending(async move {
                        let __rpc_ret = Self::reset(self, __rpc_arg0).await;
                        match __rpc_ret {
                            ::core::result::Result::Ok(value) => {
                                __rpc_responder.ok(&value)
                            }
                            ::core::result::Result::Err(error) => {
                                __rpc_responder
                                    .err(
                                        &{
                                            #[allow(unused_imports)]
                                            use ::rpc_core::__private::{
                                                ViaIntoCallError as _, ViaTypeNameDisplay as _,
                                            };
                                            (&&::rpc_core::__private::probe(error)).__rpc_call_error()
                                        },
                                    )
                            }
                        }
                    }),
                )
            }
            _ => ::core::option::Option::None,
        }
    }
}
///The typed proxy of [`Meter`]: one async method per method, one accessor per sub-router; usable against any aiomas peer.
#[derive(::core::clone::Clone, ::core::fmt::Debug)]
pub(crate) struct MeterProxy {
    proxy: ::rpc_core::Proxy,
}
const _: () = {
    #[automatically_derived]
    impl ::core::convert::From<::rpc_core::Proxy> for MeterProxy {
        fn from(proxy: ::rpc_core::Proxy) -> Self {
            MeterProxy { proxy }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedProxy for MeterProxy {
        fn proxy(&self) -> &::rpc_core::Proxy {
            &self.proxy
        }
    }
    #[automatically_derived]
    impl<'de> ::rpc_core::__private::serde::Deserialize<'de> for MeterProxy {
        fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
        where
            D: ::rpc_core::__private::serde::Deserializer<'de>,
        {
            ::core::result::Result::map(
                <::rpc_core::Proxy as ::rpc_core::__private::serde::Deserialize<
                    'de,
                >>::deserialize(deserializer),
                |proxy| MeterProxy { proxy },
            )
        }
    }
};
const _: () = {
    const _: fn() = || {
        ::rpc_core::__private::assert_arg::<u8>();
        ::rpc_core::__private::assert_arg::<Option<String>>();
        ::rpc_core::__private::assert_ret::<f64>();
    };
    const _: fn() = || {
        ::rpc_core::__private::assert_arg::<BTreeMap<String, Value>>();
        ::rpc_core::__private::assert_ret::<()>();
    };
    impl MeterProxy {
        ///The typed proxy of the sub-router `scale`.
        #[allow(dead_code, clippy::useless_conversion)]
        pub(crate) fn scale(&self) -> <Scale as ::rpc_core::TypedService>::Proxy {
            ::core::convert::From::from(self.proxy.get("scale"))
        }
        /// Reads a channel; `unit` defaults to volts.
        pub async fn read(
            &self,
            channel: impl ::rpc_core::IntoArg<u8>,
            unit: impl ::rpc_core::IntoArg<Option<String>>,
        ) -> ::core::result::Result<f64, ::rpc_core::Error>
        where
            for<'__rpc> f64: ::rpc_core::__private::serde::de::DeserializeOwned,
        {
            let channel = ::rpc_core::__private::proxy_arg::<u8, _>(channel);
            let unit = ::rpc_core::__private::proxy_arg::<Option<String>, _>(unit);
            ::rpc_core::__private::proxy_call::<
                f64,
            >(
                    ::rpc_core::TypedProxy::proxy(self),
                    "read",
                    ::rpc_core::__private::ProxyArgs::new()
                        .arg("channel", &channel)
                        .opt("unit", &unit),
                )
                .await
        }
        ///Calls `reset` on the peer.
        pub async fn reset(
            &self,
            opts: impl ::rpc_core::IntoArg<BTreeMap<String, Value>>,
        ) -> ::core::result::Result<(), ::rpc_core::Error>
        where
            for<'__rpc> (): ::rpc_core::__private::serde::de::DeserializeOwned,
        {
            ::rpc_core::__private::proxy_call::<
                (),
            >(
                    ::rpc_core::TypedProxy::proxy(self),
                    "reset",
                    ::rpc_core::__private::ProxyArgs::new().rest_kwargs(&opts)?,
                )
                .await
        }
    }
};
/// An implementation of the interface.
pub(crate) struct Device {
    pub(crate) scale: Scale,
}
impl Meter for Device {
    fn read(&self, channel: u8, unit: Option<String>) -> f64 {
        f64::from(channel) * if unit.as_deref() == Some("mV") { 1000.0 } else { 1.0 }
    }
    async fn reset(&self, opts: BTreeMap<String, Value>) -> Result<(), CallError> {
        if opts.contains_key("refuse") {
            return Err(CallError::new("ValueError", "refused"));
        }
        Ok(())
    }
    fn scale(&self) -> &Scale {
        &self.scale
    }
}
const _: () = {
    fn __rpc_dispatch() -> ::rpc_core::__private::TraitDispatch<Device> {
        <Device as Meter>::__rpc_dispatch()
    }
    #[automatically_derived]
    impl ::rpc_core::Service for Device {
        fn type_name(&self) -> ::rpc_core::__private::Cow<'_, str> {
            ::rpc_core::__private::Cow::Borrowed("Device")
        }
        fn sub_router(
            &self,
            name: &str,
        ) -> ::core::option::Option<&dyn ::rpc_core::Service> {
            (__rpc_dispatch().sub_router)(self, name)
        }
        fn sub_router_names(
            &self,
        ) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
            ::rpc_core::__private::names(__rpc_dispatch().sub_routers)
        }
        fn exposed_names(
            &self,
        ) -> ::rpc_core::__private::Vec<::rpc_core::__private::Cow<'_, str>> {
            ::rpc_core::__private::names(__rpc_dispatch().exposed)
        }
        fn is_hidden(&self, _: &str) -> bool {
            false
        }
        fn call<'s>(
            &'s self,
            name: &str,
            call: ::rpc_core::Call<'_>,
        ) -> ::core::option::Option<::rpc_core::Outcome<'s>> {
            (__rpc_dispatch().call)(self, name, call)
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedService for Device {
        type Proxy = MeterProxy;
    }
};
