//! The runtime against a Rust client that plays mosaik's part: each API call, bad arguments,
//! stop, a closed connection, extra methods, and the command line.

use std::time::Duration;

use rpc_core::{Connection, Error, Proxy, Value};
use rpc_mosaik::*;
use tokio::task::JoinHandle;

/// A simulator whose entities count their steps; `create` can be told to return too few.
#[derive(Default)]
struct Counter {
    steps: u64,
    short: bool,
}

impl Simulator for Counter {
    async fn init(&mut self, _sid: SimId, res: f64, params: Params) -> Result<Meta, SimError> {
        self.short = params
            .get("short")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if res <= 0.0 {
            return Err(SimError::value_error(format!(
                "time_resolution must be positive, got {res}"
            )));
        }
        Ok(Meta::new(SimType::EventBased).model("C", ModelDescription::public([""; 0], ["n"])))
    }

    async fn create(
        &mut self,
        num: usize,
        model: ModelName,
        _params: Params,
    ) -> Result<Vec<CreateResult>, SimError> {
        let n = if self.short { num - 1 } else { num };
        Ok((0..n)
            .map(|i| CreateResult::new(format!("c{i}"), model.clone()))
            .collect())
    }

    async fn step(
        &mut self,
        time: Time,
        _inputs: InputData,
        _max: Time,
        _m: &Mosaik,
    ) -> Result<Option<Time>, SimError> {
        self.steps += 1;
        Ok(Some(time + 2))
    }

    async fn get_data(&mut self, _outputs: OutputRequest) -> Result<OutputData, SimError> {
        let mut d = OutputData::new();
        d.insert("c0", "n", self.steps);
        Ok(d)
    }

    fn extra_methods(&self) -> Vec<String> {
        vec!["double".into(), "unhandled".into()]
    }

    async fn extra_method(
        &mut self,
        name: &str,
        args: Vec<Value>,
        _kwargs: Params,
        _m: &Mosaik,
    ) -> Result<Value, SimError> {
        match name {
            "double" => {
                let x = args
                    .first()
                    .and_then(Value::as_i64)
                    .ok_or_else(|| SimError::type_error("double() takes one integer"))?;
                Ok(Value::from(x * 2))
            }
            other => Err(SimError::new(
                "NotImplementedError",
                format!("{other}() is not implemented"),
            )),
        }
    }
}

async fn start(sim: Counter) -> (Connection, JoinHandle<Result<Ended, RunError>>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run_as_server(
        sim,
        "127.0.0.1:0",
        Duration::from_secs(30),
        |a| {
            let _ = tx.send(a);
        },
    ));
    let addr = rx.await.unwrap();
    (connection_builder().connect(addr).await.unwrap(), task)
}

async fn init(api: &Proxy) -> Result<Meta, Error> {
    api.get("init")
        .call_kw(
            ("Counter-0",),
            std::collections::BTreeMap::from([("time_resolution", 1.0)]),
        )
        .await
}

fn remote(e: &Error) -> (&str, &str) {
    let r = e
        .remote()
        .unwrap_or_else(|| panic!("not a remote error: {e}"));
    (r.kind(), r.message())
}

#[tokio::test]
async fn api_calls_reach_the_simulator_and_stop_ends_the_run() {
    let (conn, task) = start(Counter::default()).await;
    let api = conn.remote();
    let meta = init(&api).await.unwrap();
    assert_eq!(meta.sim_type, SimType::EventBased);
    assert_eq!(meta.extra_methods, ["double", "unhandled"]);
    let created: Vec<CreateResult> = api.get("create").call((2, "C")).await.unwrap();
    assert_eq!(
        created,
        [CreateResult::new("c0", "C"), CreateResult::new("c1", "C")]
    );
    let _: Value = api.get("setup_done").call(()).await.unwrap();
    let next: Option<Time> = api
        .get("step")
        .call((4, InputData::new(), 10))
        .await
        .unwrap();
    assert_eq!(next, Some(6));
    let data: OutputData = api
        .get("get_data")
        .call((OutputRequest::from([("c0".into(), vec!["n".into()])]),))
        .await
        .unwrap();
    assert_eq!(data.entities["c0"]["n"], Value::from(1));
    let four: i64 = api.get("double").call((2,)).await.unwrap();
    assert_eq!(four, 4);
    let stopped: Value = api.get("stop").call(()).await.unwrap();
    assert!(stopped.is_nil());
    assert_eq!(task.await.unwrap().unwrap(), Ended::Stopped);
}

#[tokio::test]
async fn closing_the_connection_ends_the_run() {
    let (conn, task) = start(Counter::default()).await;
    init(&conn.remote()).await.unwrap();
    conn.close().await;
    assert_eq!(task.await.unwrap().unwrap(), Ended::Closed);
}

#[tokio::test]
async fn errors_arrive_in_mosaiks_form() {
    let (conn, _task) = start(Counter::default()).await;
    let api = conn.remote();
    // A SimError from the simulator, as [type, message, traceback].
    let e = api
        .get("init")
        .call_kw::<Meta>(
            ("Counter-0",),
            std::collections::BTreeMap::from([("time_resolution", 0.0)]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        remote(&e),
        ("ValueError", "time_resolution must be positive, got 0")
    );
    assert_eq!(
        e.remote().unwrap().content(),
        &Value::Array(vec![
            "ValueError".into(),
            "time_resolution must be positive, got 0".into(),
            "ValueError: time_resolution must be positive, got 0\n".into(),
        ])
    );
    init(&api).await.unwrap();
    // Arguments of the wrong type, or missing, are TypeErrors in the same form.
    let e = api
        .get("create")
        .call::<Value>(("two", "C"))
        .await
        .unwrap_err();
    assert_eq!(remote(&e).0, "TypeError");
    assert!(e.remote().unwrap().content().as_array().is_some(), "{e}");
    let e = api.get("step").call::<Value>((0,)).await.unwrap_err();
    assert_eq!(
        remote(&e),
        (
            "TypeError",
            "step() missing 1 required positional argument: 'inputs'"
        )
    );
    let e = api
        .get("step")
        .call::<Value>((0, "not a map", 1))
        .await
        .unwrap_err();
    assert_eq!(remote(&e).0, "TypeError");
    // Errors from extra methods; a name that is not one.
    let e = api.get("double").call::<Value>(("x",)).await.unwrap_err();
    assert_eq!(remote(&e), ("TypeError", "double() takes one integer"));
    let e = api.get("unhandled").call::<Value>(()).await.unwrap_err();
    assert_eq!(
        remote(&e),
        ("NotImplementedError", "unhandled() is not implemented")
    );
    let e = api.get("triple").call::<Value>(()).await.unwrap_err();
    assert_eq!(remote(&e).0, "LookupError");
}

#[tokio::test]
async fn create_returning_the_wrong_count_is_an_error() {
    let (conn, _task) = start(Counter::default()).await;
    let api = conn.remote();
    let _: Meta = api
        .get("init")
        .call_kw(
            ("Counter-0",),
            std::collections::BTreeMap::from([
                ("time_resolution", Value::from(1.0)),
                ("short", Value::from(true)),
            ]),
        )
        .await
        .unwrap();
    let e = api.get("create").call::<Value>((3, "C")).await.unwrap_err();
    assert_eq!(
        remote(&e),
        (
            "ValueError",
            "create(3, \"C\") returned 2 entities; mosaik expects exactly 3"
        )
    );
}

#[tokio::test]
async fn a_simulator_waiting_for_mosaik_gives_up_after_its_timeout() {
    let e = run_as_server(Counter::default(), "127.0.0.1:0", Duration::ZERO, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, RunError::NoConnection { .. }), "{e}");
}

#[tokio::test]
async fn a_client_without_mosaik_reports_the_address() {
    // Bind and drop a listener: nothing listens on that port afterwards.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = run_as_client(Counter::default(), &addr.to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RunError::Connect { addr: a, .. } if *a == addr.to_string()),
        "{e}"
    );
    let e = run_as_server(Counter::default(), "not an address", Duration::ZERO, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, RunError::Listen { .. }), "{e}");
}

#[test]
fn command_line_follows_mosaik_api_python() {
    let cl = CommandLine::parse(["-l", "debug", "-t", "5", "--remote", "localhost:5678"]).unwrap();
    assert_eq!(cl.addr, "localhost:5678");
    assert!(cl.remote);
    assert_eq!(cl.log_level, Some(LogLevel::Debug));
    assert_eq!(cl.timeout, Duration::from_secs(5));
    let cl = CommandLine::parse(["--log-level=critical", "--timeout=7", "1.2.3.4:1"]).unwrap();
    assert_eq!(
        (cl.log_level, cl.timeout),
        (Some(LogLevel::Critical), Duration::from_secs(7))
    );
    assert_eq!(LogLevel::Warning.tracing_level(), tracing::Level::WARN);
}

#[test]
fn bad_command_lines_say_what_was_expected() {
    use CommandLineError as E;
    let err = |args: &[&str]| CommandLine::parse(args.iter().copied()).unwrap_err();
    assert_eq!(err(&[]), E::MissingAddr);
    assert_eq!(err(&["-h"]), E::Help);
    assert_eq!(err(&["a:1", "b:2"]), E::ExtraArgument("b:2".into()));
    assert_eq!(err(&["localhost"]), E::BadAddr("localhost".into()));
    assert_eq!(err(&[":80"]), E::BadAddr(":80".into()));
    assert_eq!(err(&["h:port"]), E::BadAddr("h:port".into()));
    assert_eq!(err(&["-x", "h:1"]), E::UnknownOption("-x".into()));
    assert_eq!(err(&["h:1", "-l"]), E::MissingValue("--log-level"));
    assert_eq!(err(&["-l", "loud", "h:1"]), E::BadLogLevel("loud".into()));
    assert_eq!(err(&["-t", "soon", "h:1"]), E::BadTimeout("soon".into()));
    assert_eq!(
        E::BadAddr("x".into()).to_string(),
        "address \"x\" does not match the expected format HOST:PORT"
    );
}

#[derive(Debug)]
struct Inner;

impl std::fmt::Display for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inner failed")
    }
}

impl std::error::Error for Inner {}

#[derive(Debug)]
struct Outer(Inner);

impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("outer failed")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn any_error_converts_into_a_sim_error_with_its_kind_and_sources() {
    let e = SimError::from(Outer(Inner));
    assert_eq!((e.kind(), e.message()), ("Outer", "outer failed"));
    assert_eq!(
        e.traceback(),
        "caused by: inner failed\nOuter: outer failed\n"
    );
    let c: rpc_core::CallError = SimError::type_error("t").with_traceback("tb").into();
    assert_eq!(
        c.content(),
        Some(&Value::Array(vec![
            "TypeError".into(),
            "t".into(),
            "tb".into()
        ]))
    );
}
