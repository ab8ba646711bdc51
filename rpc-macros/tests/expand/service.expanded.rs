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
    use ::rpc_core::__private as __rpc;
    #[automatically_derived]
    impl __rpc::ServiceStruct for Calc {
        const SUB_ROUTERS: &'static [&'static str] = &["scale"];
        const SUB_ROUTER_FIELDS: &'static [&'static str] = &["scale"];
    }
    #[automatically_derived]
    impl ::rpc_core::Service for Calc {
        fn type_name(&self) -> __rpc::Cow<'_, str> {
            __rpc::Cow::Borrowed("Calc")
        }
        fn sub_router(&self, name: &str) -> __rpc::Option<&dyn ::rpc_core::Service> {
            match name {
                "scale" => __rpc::Some(__rpc::as_service::<Scale>(&self.scale)),
                _ => __rpc::None,
            }
        }
        fn sub_router_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
            __rpc::names(<Self as __rpc::ServiceStruct>::SUB_ROUTERS)
        }
        fn exposed_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
            __rpc::names(<Self as __rpc::ServiceImplBlock>::EXPOSED)
        }
        fn is_hidden(&self, name: &str) -> bool {
            <Self as __rpc::ServiceImplBlock>::HIDDEN.contains(&name)
        }
        fn call<'s>(
            &'s self,
            name: &str,
            call: ::rpc_core::Call<'_>,
        ) -> __rpc::Option<::rpc_core::Outcome<'s>> {
            <Self as __rpc::ServiceImplBlock>::call(self, name, call)
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedService for Calc {
        type Proxy = CalcProxy;
    }
    #[automatically_derived]
    impl ::core::convert::From<::rpc_core::Proxy> for CalcProxy {
        fn from(proxy: ::rpc_core::Proxy) -> Self {
            Self { proxy }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedProxy for CalcProxy {
        fn proxy(&self) -> &::rpc_core::Proxy {
            &self.proxy
        }
    }
    #[automatically_derived]
    impl<'de> __rpc::serde::Deserialize<'de> for CalcProxy {
        fn deserialize<D: __rpc::serde::Deserializer<'de>>(
            deserializer: D,
        ) -> __rpc::Result<Self, D::Error> {
            __rpc::deserialize_proxy(deserializer)
        }
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
    use ::rpc_core::__private as __rpc;
    #[allow(unused_imports)]
    use __rpc::{ViaIntoCallError as _, ViaTypeNameDisplay as _};
    #[automatically_derived]
    impl __rpc::ServiceImplBlock for Calc {
        const EXPOSED: &'static [&'static str] = &["add", "div", "count"];
        const HIDDEN: &'static [&'static str] = &["not_exposed"];
        fn call<'s>(
            &'s self,
            __rpc_name: &str,
            __rpc_call: ::rpc_core::Call<'_>,
        ) -> __rpc::Option<::rpc_core::Outcome<'s>> {
            match __rpc_name {
                "add" => {
                    static SIG: __rpc::Signature = __rpc::Signature {
                        name: "add",
                        params: &[__rpc::required("a"), __rpc::optional("b")],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    __rpc::answer(
                        __rpc_call,
                        &SIG,
                        |_, __rpc_args| __rpc::Ok((
                            __rpc_args.arg::<i64>(0)?,
                            __rpc_args.arg::<Option<i64>>(1)?,
                        )),
                        |(a, b)| Self::add(self, a, b),
                        __rpc::returns::<i64>,
                    )
                }
                "div" => {
                    static SIG: __rpc::Signature = __rpc::Signature {
                        name: "div",
                        params: &[__rpc::required("a"), __rpc::required("b")],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    __rpc::answer_later(
                        __rpc_call,
                        &SIG,
                        |_, __rpc_args| __rpc::Ok((
                            __rpc_args.arg::<i64>(0)?,
                            __rpc_args.arg::<i64>(1)?,
                        )),
                        |(a, b)| Self::divide(self, a, b),
                        |__rpc_ret| __rpc::returns_ok::<
                            i64,
                            _,
                        >(__rpc_ret, |error| (&&__rpc::probe(error)).__rpc_call_error()),
                    )
                }
                "count" => {
                    static SIG: __rpc::Signature = __rpc::Signature {
                        name: "count",
                        params: &[],
                        rest_args: true,
                        rest_kwargs: true,
                    };
                    __rpc::answer(
                        __rpc_call,
                        &SIG,
                        |__rpc_call, __rpc_args| __rpc::Ok((
                            __rpc_call.context(),
                            __rpc_args.rest_args::<Vec<Value>>()?,
                            __rpc_args.rest_kwargs::<BTreeMap<String, Value>>()?,
                        )),
                        |(cx, rest, opts)| Self::count(self, cx, rest, opts),
                        __rpc::returns::<String>,
                    )
                }
                _ => __rpc::None,
            }
        }
    }
    const _: () = __rpc::check_method::<Calc>("add", "add");
    const _: () = __rpc::check_method::<Calc>("div", "divide");
    const _: () = __rpc::check_method::<Calc>("count", "count");
    impl CalcProxy {
        /// Adds; `b` defaults to 1.
        pub async fn add(
            &self,
            a: impl ::rpc_core::IntoArg<i64>,
            b: impl ::rpc_core::IntoArg<Option<i64>>,
        ) -> __rpc::Result<i64, ::rpc_core::Error>
        where
            for<'__rpc> i64: __rpc::serde::de::DeserializeOwned,
        {
            let __rpc_args = __rpc::ProxyArgs::new().arg("a", &a).opt("b", &b);
            __rpc::proxy_call(&self.proxy, "add", __rpc_args).await
        }
        ///Calls `div` on the peer.
        pub async fn divide(
            &self,
            a: impl ::rpc_core::IntoArg<i64>,
            b: impl ::rpc_core::IntoArg<i64>,
        ) -> __rpc::Result<i64, ::rpc_core::Error>
        where
            for<'__rpc> i64: __rpc::serde::de::DeserializeOwned,
        {
            __rpc::proxy_call_args(&self.proxy, "div", (&a, &b)).await
        }
        ///Calls `count` on the peer.
        pub async fn count(
            &self,
            rest: impl ::rpc_core::IntoArg<Vec<Value>>,
            opts: impl ::rpc_core::IntoArg<BTreeMap<String, Value>>,
        ) -> __rpc::Result<String, ::rpc_core::Error>
        where
            for<'__rpc> String: __rpc::serde::de::DeserializeOwned,
        {
            let __rpc_args = __rpc::ProxyArgs::new().rest(&rest)?.rest_kwargs(&opts)?;
            __rpc::proxy_call(&self.proxy, "count", __rpc_args).await
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
    use ::rpc_core::__private as __rpc;
    #[automatically_derived]
    impl __rpc::ServiceStruct for Scale {}
    #[automatically_derived]
    impl ::rpc_core::Service for Scale {
        fn type_name(&self) -> __rpc::Cow<'_, str> {
            __rpc::Cow::Borrowed("Scale")
        }
        fn sub_router(&self, _: &str) -> __rpc::Option<&dyn ::rpc_core::Service> {
            __rpc::None
        }
        fn sub_router_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
            __rpc::names(<Self as __rpc::ServiceStruct>::SUB_ROUTERS)
        }
        fn exposed_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
            __rpc::names(<Self as __rpc::ServiceImplBlock>::EXPOSED)
        }
        fn is_hidden(&self, name: &str) -> bool {
            <Self as __rpc::ServiceImplBlock>::HIDDEN.contains(&name)
        }
        fn call<'s>(
            &'s self,
            name: &str,
            call: ::rpc_core::Call<'_>,
        ) -> __rpc::Option<::rpc_core::Outcome<'s>> {
            <Self as __rpc::ServiceImplBlock>::call(self, name, call)
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedService for Scale {
        type Proxy = ScaleProxy;
    }
    #[automatically_derived]
    impl ::core::convert::From<::rpc_core::Proxy> for ScaleProxy {
        fn from(proxy: ::rpc_core::Proxy) -> Self {
            Self { proxy }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedProxy for ScaleProxy {
        fn proxy(&self) -> &::rpc_core::Proxy {
            &self.proxy
        }
    }
    #[automatically_derived]
    impl<'de> __rpc::serde::Deserialize<'de> for ScaleProxy {
        fn deserialize<D: __rpc::serde::Deserializer<'de>>(
            deserializer: D,
        ) -> __rpc::Result<Self, D::Error> {
            __rpc::deserialize_proxy(deserializer)
        }
    }
};
impl Scale {
    pub(crate) async fn mul(&self, a: i64, b: i64) -> i64 {
        a * b
    }
}
const _: () = {
    use ::rpc_core::__private as __rpc;
    #[automatically_derived]
    impl __rpc::ServiceImplBlock for Scale {
        const EXPOSED: &'static [&'static str] = &["mul"];
        const HIDDEN: &'static [&'static str] = &[];
        fn call<'s>(
            &'s self,
            __rpc_name: &str,
            __rpc_call: ::rpc_core::Call<'_>,
        ) -> __rpc::Option<::rpc_core::Outcome<'s>> {
            match __rpc_name {
                "mul" => {
                    static SIG: __rpc::Signature = __rpc::Signature {
                        name: "mul",
                        params: &[__rpc::required("a"), __rpc::required("b")],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    __rpc::answer_later(
                        __rpc_call,
                        &SIG,
                        |_, __rpc_args| __rpc::Ok((
                            __rpc_args.arg::<i64>(0)?,
                            __rpc_args.arg::<i64>(1)?,
                        )),
                        |(a, b)| Self::mul(self, a, b),
                        __rpc::returns::<i64>,
                    )
                }
                _ => __rpc::None,
            }
        }
    }
    const _: () = __rpc::check_method::<Scale>("mul", "mul");
    impl ScaleProxy {
        ///Calls `mul` on the peer.
        pub async fn mul(
            &self,
            a: impl ::rpc_core::IntoArg<i64>,
            b: impl ::rpc_core::IntoArg<i64>,
        ) -> __rpc::Result<i64, ::rpc_core::Error>
        where
            for<'__rpc> i64: __rpc::serde::de::DeserializeOwned,
        {
            __rpc::proxy_call_args(&self.proxy, "mul", (&a, &b)).await
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
    /// What the `Service` impl of an implementation forwards to (generated by `#[service]`).
    fn __rpc_dispatch() -> ::rpc_core::__private::TraitDispatch<Self>
    where
        Self: ::core::marker::Sized,
    {
        use ::rpc_core::__private as __rpc;
        #[allow(unused_imports)]
        use __rpc::{ViaIntoCallError as _, ViaTypeNameDisplay as _};
        __rpc::TraitDispatch {
            exposed: &["read", "reset"],
            sub_routers: &["scale"],
            sub_router: |__rpc_self, __rpc_name| match __rpc_name {
                "scale" => {
                    __rpc::Some(Self::scale(__rpc_self) as &dyn ::rpc_core::Service)
                }
                _ => __rpc::None,
            },
            call: |__rpc_self, __rpc_name, __rpc_call| match __rpc_name {
                "read" => {
                    static SIG: __rpc::Signature = __rpc::Signature {
                        name: "read",
                        params: &[__rpc::required("channel"), __rpc::optional("unit")],
                        rest_args: false,
                        rest_kwargs: false,
                    };
                    __rpc::answer(
                        __rpc_call,
                        &SIG,
                        |_, __rpc_args| __rpc::Ok((
                            __rpc_args.arg::<u8>(0)?,
                            __rpc_args.arg::<Option<String>>(1)?,
                        )),
                        |(channel, unit)| Self::read(__rpc_self, channel, unit),
                        __rpc::returns::<f64>,
                    )
                }
                "reset" => {
                    static SIG: __rpc::Signature = __rpc::Signature {
                        name: "reset",
                        params: &[],
                        rest_args: false,
                        rest_kwargs: true,
                    };
                    __rpc::answer_later(
                        __rpc_call,
                        &SIG,
                        |_, __rpc_args| __rpc::Ok((
                            __rpc_args.rest_kwargs::<BTreeMap<String, Value>>()?,
                        )),
                        |(opts,)| Self::reset(__rpc_self, opts),
                        |__rpc_ret| __rpc::returns_ok::<
                            (),
                            _,
                        >(__rpc_ret, |error| (&&__rpc::probe(error)).__rpc_call_error()),
                    )
                }
                _ => __rpc::None,
            },
        }
    }
}
///The typed proxy of [`Meter`]: one async method per method, one accessor per sub-router; usable against any aiomas peer.
#[derive(::core::clone::Clone, ::core::fmt::Debug)]
pub(crate) struct MeterProxy {
    proxy: ::rpc_core::Proxy,
}
const _: () = {
    use ::rpc_core::__private as __rpc;
    #[automatically_derived]
    impl ::core::convert::From<::rpc_core::Proxy> for MeterProxy {
        fn from(proxy: ::rpc_core::Proxy) -> Self {
            Self { proxy }
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedProxy for MeterProxy {
        fn proxy(&self) -> &::rpc_core::Proxy {
            &self.proxy
        }
    }
    #[automatically_derived]
    impl<'de> __rpc::serde::Deserialize<'de> for MeterProxy {
        fn deserialize<D: __rpc::serde::Deserializer<'de>>(
            deserializer: D,
        ) -> __rpc::Result<Self, D::Error> {
            __rpc::deserialize_proxy(deserializer)
        }
    }
    impl MeterProxy {
        ///The typed proxy of the sub-router `scale`.
        #[allow(dead_code, clippy::useless_conversion)]
        pub(crate) fn scale(&self) -> <Scale as ::rpc_core::TypedService>::Proxy {
            ::core::convert::From::from(self.proxy.get("scale"))
        }
        /// Reads a channel; `unit` defaults to volts.
        pub(crate) async fn read(
            &self,
            channel: impl ::rpc_core::IntoArg<u8>,
            unit: impl ::rpc_core::IntoArg<Option<String>>,
        ) -> __rpc::Result<f64, ::rpc_core::Error>
        where
            for<'__rpc> f64: __rpc::serde::de::DeserializeOwned,
        {
            let __rpc_args = __rpc::ProxyArgs::new()
                .arg("channel", &channel)
                .opt("unit", &unit);
            __rpc::proxy_call(&self.proxy, "read", __rpc_args).await
        }
        ///Calls `reset` on the peer.
        pub(crate) async fn reset(
            &self,
            opts: impl ::rpc_core::IntoArg<BTreeMap<String, Value>>,
        ) -> __rpc::Result<(), ::rpc_core::Error>
        where
            for<'__rpc> (): __rpc::serde::de::DeserializeOwned,
        {
            let __rpc_args = __rpc::ProxyArgs::new().rest_kwargs(&opts)?;
            __rpc::proxy_call(&self.proxy, "reset", __rpc_args).await
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
    use ::rpc_core::__private as __rpc;
    fn __rpc_dispatch() -> __rpc::TraitDispatch<Device> {
        <Device as Meter>::__rpc_dispatch()
    }
    #[automatically_derived]
    impl ::rpc_core::Service for Device {
        fn type_name(&self) -> __rpc::Cow<'_, str> {
            __rpc::Cow::Borrowed("Device")
        }
        fn sub_router(&self, name: &str) -> __rpc::Option<&dyn ::rpc_core::Service> {
            (__rpc_dispatch().sub_router)(self, name)
        }
        fn sub_router_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
            __rpc::names(__rpc_dispatch().sub_routers)
        }
        fn exposed_names(&self) -> __rpc::Vec<__rpc::Cow<'_, str>> {
            __rpc::names(__rpc_dispatch().exposed)
        }
        fn is_hidden(&self, _: &str) -> bool {
            false
        }
        fn call<'s>(
            &'s self,
            name: &str,
            call: ::rpc_core::Call<'_>,
        ) -> __rpc::Option<::rpc_core::Outcome<'s>> {
            (__rpc_dispatch().call)(self, name, call)
        }
    }
    #[automatically_derived]
    impl ::rpc_core::TypedService for Device {
        type Proxy = MeterProxy;
    }
};
