//! The runtime against a Rust client that plays mosaik's part: each API call, bad arguments,
//! stop, a closed connection, finalize, extra methods, and the command line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{service, CallContext, Connection, Error, Proxy, Value};
use rpc_mosaik::*;
use tokio::task::JoinHandle;

/// A simulator whose entities count their steps; `create` can be told to return too few.
#[derive(Debug, Default)]
struct Counter {
    steps: u64,
    short: bool,
    /// Shared with the test, which sees it after the run too.
    finalized: Arc<AtomicU64>,
}

#[derive(serde::Deserialize)]
struct InitParams {
    #[serde(default)]
    short: bool,
}

impl Simulator for Counter {
    async fn init(&mut self, _sid: SimId, res: f64, params: Params) -> Result<Meta, SimError> {
        self.short = params.parse::<InitParams>()?.short;
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

    async fn finalize(&mut self) -> Result<(), SimError> {
        self.finalized.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The counter's extra methods, typed.
#[service]
struct Extras {
    sim: SimHandle<Counter>,
}

#[service]
impl Extras {
    /// `double(x)`: twice `x`.
    #[expose]
    fn double(&self, x: i64) -> i64 {
        x * 2
    }

    /// `steps()`: how often the simulator stepped.
    #[expose]
    async fn steps(&self) -> Result<u64, SimError> {
        Ok(self.sim.lock().await?.steps)
    }

    /// `progress()`: mosaik's, asked back.
    #[expose]
    async fn progress(&self, #[context] cx: CallContext) -> Result<f64, SimError> {
        Ok(Mosaik::new(cx.remote()).get_progress().await?)
    }
}

async fn start(sim: Counter) -> (Connection, JoinHandle<Result<Finished<Counter>, RunError>>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runner = Runner::new(sim).extra_methods(|sim| Extras { sim });
    let task = tokio::spawn(
        runner.run_as_server("127.0.0.1:0", Duration::from_secs(30), |a| {
            let _ = tx.send(a);
        }),
    );
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
    let finalized = Arc::new(AtomicU64::new(0));
    let sim = Counter {
        finalized: finalized.clone(),
        ..Counter::default()
    };
    let (conn, task) = start(sim).await;
    let api = conn.proxy::<MosaikApiProxy>();
    let meta = api
        .init("Counter-0".to_owned(), Some(1.0), Params::new())
        .await
        .unwrap();
    assert_eq!(meta.sim_type, SimType::EventBased);
    assert_eq!(meta.extra_methods, ["double", "steps", "progress"]);
    let created = api.create(2, "C".to_owned(), Params::new()).await.unwrap();
    assert_eq!(
        created,
        [CreateResult::new("c0", "C"), CreateResult::new("c1", "C")]
    );
    api.setup_done().await.unwrap();
    let next = api.step(4, InputData::new(), 10).await.unwrap();
    assert_eq!(next, Some(6));
    let data = api
        .get_data(OutputRequest::from_iter([("c0", ["n"])]))
        .await
        .unwrap();
    assert_eq!(data.get("c0", "n"), Some(&Value::from(1)));
    let four: i64 = conn.remote().get("double").call((2,)).await.unwrap();
    assert_eq!(four, 4);
    let steps: u64 = conn.remote().get("steps").call(()).await.unwrap();
    assert_eq!(steps, 1);
    assert_eq!(finalized.load(Ordering::SeqCst), 0);
    api.stop().await.unwrap();
    let finished = task.await.unwrap().unwrap();
    assert_eq!(finished.ended, Ended::Stopped);
    assert_eq!(finished.sim.steps, 1, "the simulator is handed back");
    assert_eq!(finalized.load(Ordering::SeqCst), 1, "finalize ran once");
}

#[tokio::test]
async fn closing_the_connection_ends_the_run_after_finalize() {
    let finalized = Arc::new(AtomicU64::new(0));
    let sim = Counter {
        finalized: finalized.clone(),
        ..Counter::default()
    };
    let (conn, task) = start(sim).await;
    init(&conn.remote()).await.unwrap();
    conn.close().await;
    let finished = task.await.unwrap().unwrap();
    assert_eq!(finished.ended, Ended::Closed);
    assert_eq!(finalized.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_finalize_is_the_runs_error() {
    #[derive(Debug)]
    struct Failing(Counter);
    impl Simulator for Failing {
        async fn init(&mut self, s: SimId, r: f64, p: Params) -> Result<Meta, SimError> {
            self.0.init(s, r, p).await
        }
        async fn create(
            &mut self,
            n: usize,
            m: ModelName,
            p: Params,
        ) -> Result<Vec<CreateResult>, SimError> {
            self.0.create(n, m, p).await
        }
        async fn step(
            &mut self,
            t: Time,
            i: InputData,
            x: Time,
            m: &Mosaik,
        ) -> Result<Option<Time>, SimError> {
            self.0.step(t, i, x, m).await
        }
        async fn get_data(&mut self, o: OutputRequest) -> Result<OutputData, SimError> {
            self.0.get_data(o).await
        }
        async fn finalize(&mut self) -> Result<(), SimError> {
            Err(SimError::new("OSError", "results.csv: disk full"))
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run_as_server(
        Failing(Counter::default()),
        "127.0.0.1:0",
        Duration::from_secs(30),
        |a| {
            let _ = tx.send(a);
        },
    ));
    let conn = connection_builder()
        .connect(rx.await.unwrap())
        .await
        .unwrap();
    conn.proxy::<MosaikApiProxy>().stop().await.unwrap();
    let e = task.await.unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "finalize() failed: OSError: results.csv: disk full"
    );
}

#[tokio::test]
async fn a_call_back_on_a_closed_connection_is_a_connection_reset() {
    let (conn, task) = start(Counter::default()).await;
    let mosaik = Mosaik::new(conn.remote());
    conn.close().await;
    let e = mosaik.get_progress().await.unwrap_err();
    assert!(e.is_connection_reset(), "{e}");
    assert!(e.remote().is_none());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn connection_settings_go_through_the_runner() {
    // A frame limit of 1 KiB: a step whose inputs are larger ends the connection.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runner = Runner::new(Counter::default()).connection(|c| c.max_frame_len(1024));
    let task = tokio::spawn(
        runner.run_as_server("127.0.0.1:0", Duration::from_secs(30), |a| {
            let _ = tx.send(a);
        }),
    );
    let conn = connection_builder()
        .connect(rx.await.unwrap())
        .await
        .unwrap();
    let api = conn.proxy::<MosaikApiProxy>();
    assert_eq!(api.step(0, InputData::new(), 0).await.unwrap(), Some(2));
    let mut big = InputData::new();
    for i in 0..100 {
        big.insert(format!("c{i}"), "in", "K-0.K_0", i);
    }
    let e = api.step(1, big, 0).await.unwrap_err();
    assert!(e.is_connection_reset(), "{e}");
    let finished = task.await.unwrap().unwrap();
    assert_eq!(finished.ended, Ended::Closed);
    assert_eq!(finished.sim.steps, 1);
}

#[tokio::test]
async fn an_extra_method_calls_mosaik_back() {
    // The test plays mosaik and answers get_progress itself.
    #[service]
    struct FakeMosaik;
    #[service]
    impl FakeMosaik {
        #[expose]
        fn get_progress(&self) -> f64 {
            42.5
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runner = Runner::new(Counter::default()).extra_methods(|sim| Extras { sim });
    let task = tokio::spawn(
        runner.run_as_server("127.0.0.1:0", Duration::from_secs(30), |a| {
            let _ = tx.send(a);
        }),
    );
    let conn = connection_builder()
        .serve(rpc_core::Router::new(FakeMosaik))
        .connect(rx.await.unwrap())
        .await
        .unwrap();
    let p: f64 = conn.remote().get("progress").call(()).await.unwrap();
    assert_eq!(p, 42.5);
    conn.close().await;
    task.await.unwrap().unwrap();
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
            "step() missing 2 required positional arguments: 'inputs' and 'max_advance'"
        )
    );
    let e = api
        .get("step")
        .call::<Value>((0, "not a map", 1))
        .await
        .unwrap_err();
    assert_eq!(remote(&e).0, "TypeError");
    // Typed extra methods check their arguments as the API does; a name that is not one.
    let e = api.get("double").call::<Value>(("x",)).await.unwrap_err();
    assert_eq!(remote(&e).0, "TypeError");
    assert!(remote(&e).1.contains("double() argument 'x'"), "{e}");
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
    // A parameter of the wrong type names itself, as Python would.
    let e = api
        .get("init")
        .call_kw::<Meta>(
            ("Counter-0",),
            std::collections::BTreeMap::from([("short", Value::from("yes"))]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        remote(&e),
        (
            "TypeError",
            "parameter 'short': invalid type: string \"yes\", expected a boolean"
        )
    );
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

#[tokio::test]
async fn an_extra_method_named_like_an_api_call_is_left_out() {
    #[service]
    struct Clashing;
    #[service]
    impl Clashing {
        /// Would shadow mosaik's `step`: refused with a warning.
        #[expose]
        fn step(&self) -> i64 {
            -1
        }
        #[expose]
        fn fine(&self) -> i64 {
            1
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runner = Runner::new(Counter::default()).extra_methods(|_| Clashing);
    let task = tokio::spawn(
        runner.run_as_server("127.0.0.1:0", Duration::from_secs(30), |a| {
            let _ = tx.send(a);
        }),
    );
    let conn = connection_builder()
        .connect(rx.await.unwrap())
        .await
        .unwrap();
    let api = conn.proxy::<MosaikApiProxy>();
    let meta = api
        .init("Counter-0".to_owned(), None, Params::new())
        .await
        .unwrap();
    assert_eq!(meta.extra_methods, ["fine"]);
    // `step` is still mosaik's.
    assert_eq!(api.step(3, InputData::new(), 3).await.unwrap(), Some(5));
    conn.close().await;
    task.await.unwrap().unwrap();
}
