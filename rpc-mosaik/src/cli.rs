//! mosaik-api-python v3's command line: `[options] HOST:PORT`, and [`main`] to run a simulator
//! with it.

use std::process::ExitCode;
use std::time::Duration;

use rpc_core::Service;

use crate::run::{Finished, RunError, Runner};
use crate::simulator::Simulator;

/// The usage text, as mosaik-api-python prints it (with this program's name).
const USAGE: &str = "Usage:
    {prog} [options] HOST:PORT

Options:
    HOST:PORT   Connect to this address
    -l LEVEL, --log-level LEVEL
                Log level for simulator (trace, debug, info, warning, error, critical)
    -r, --remote
                Simulator is to be started on a machine remote from mosaik
    -t TIME, --timeout TIME
                Timeout in seconds for mosaik handshake [default: 60]
";

/// A log level, named as mosaik-api-python names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLevel {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info` (the default)
    Info,
    /// `warning`
    Warning,
    /// `error`
    Error,
    /// `critical` (logged as `error`: tracing has no level above it)
    Critical,
}

impl LogLevel {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warning" => LogLevel::Warning,
            "error" => LogLevel::Error,
            "critical" => LogLevel::Critical,
            _ => return None,
        })
    }

    /// The tracing level it logs at.
    pub fn tracing_level(self) -> tracing::Level {
        match self {
            LogLevel::Trace => tracing::Level::TRACE,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Warning => tracing::Level::WARN,
            LogLevel::Error | LogLevel::Critical => tracing::Level::ERROR,
        }
    }
}

/// The parsed command line.
///
/// ```
/// use rpc_mosaik::CommandLine;
/// let cl = CommandLine::parse(["127.0.0.1:5678"]).unwrap();
/// assert_eq!((cl.addr.as_str(), cl.remote), ("127.0.0.1:5678", false));
/// let cl = CommandLine::parse(["-r", "--log-level=debug", "0.0.0.0:5555"]).unwrap();
/// assert!(cl.remote);
/// assert!(CommandLine::parse(["localhost"]).is_err()); // no port
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandLine {
    /// `HOST:PORT`: mosaik's address to connect to, or with `--remote` the address to listen at.
    pub addr: String,
    /// `-r`, `--remote`: listen for mosaik instead of connecting to it.
    pub remote: bool,
    /// `-l`, `--log-level`; `None` when not given.
    pub log_level: Option<LogLevel>,
    /// `-t`, `--timeout`: how long `--remote` waits for mosaik (default 60 s).
    pub timeout: Duration,
}

/// A command line that does not fit mosaik-api-python's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandLineError {
    /// `-h` or `--help` was given: print the usage and exit successfully.
    #[error("help requested")]
    Help,
    /// No `HOST:PORT` argument.
    #[error("missing the address: expected HOST:PORT")]
    MissingAddr,
    /// More than one positional argument.
    #[error("unexpected argument {0:?}: expected one HOST:PORT")]
    ExtraArgument(String),
    /// The address is not `HOST:PORT` with a port number.
    #[error("address {0:?} does not match the expected format HOST:PORT")]
    BadAddr(String),
    /// An option this program does not know.
    #[error("unknown option {0:?}: expected -l/--log-level, -r/--remote or -t/--timeout")]
    UnknownOption(String),
    /// An option that takes a value came last.
    #[error("option {0} needs a value")]
    MissingValue(&'static str),
    /// A log level not in mosaik-api-python's list.
    #[error("log level {0:?} is not one of trace, debug, info, warning, error, critical")]
    BadLogLevel(String),
    /// A timeout that is not a whole number of seconds.
    #[error("timeout {0:?} is not a whole number of seconds")]
    BadTimeout(String),
}

impl CommandLine {
    /// Parses the arguments after the program name.
    pub fn parse<I>(args: I) -> Result<Self, CommandLineError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let mut addr = None;
        let mut remote = false;
        let mut log_level = None;
        let mut timeout = Duration::from_secs(60);
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (opt, inline) = match arg.split_once('=') {
                Some((o, v)) if o.starts_with("--") => (o.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &'static str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or(CommandLineError::MissingValue(name))
            };
            match opt.as_str() {
                "-h" | "--help" => return Err(CommandLineError::Help),
                "-r" | "--remote" => remote = true,
                "-l" | "--log-level" => {
                    let v = value("--log-level")?;
                    log_level = Some(LogLevel::parse(&v).ok_or(CommandLineError::BadLogLevel(v))?);
                }
                "-t" | "--timeout" => {
                    let v = value("--timeout")?;
                    let secs: u64 = v.parse().map_err(|_| CommandLineError::BadTimeout(v))?;
                    timeout = Duration::from_secs(secs);
                }
                o if o.starts_with('-') && o.len() > 1 => {
                    return Err(CommandLineError::UnknownOption(arg))
                }
                _ => {
                    if addr.is_some() {
                        return Err(CommandLineError::ExtraArgument(arg));
                    }
                    addr = Some(arg);
                }
            }
        }
        let addr = addr.ok_or(CommandLineError::MissingAddr)?;
        let addr = addr.trim().to_owned();
        match addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => return Err(CommandLineError::BadAddr(addr)),
        }
        Ok(CommandLine {
            addr,
            remote,
            log_level,
            timeout,
        })
    }
}

/// Runs `sim` as a simulator program with mosaik-api-python's command line
/// (`mosaik_api_v3.start_simulation`): connects to mosaik at `HOST:PORT`, or with `--remote`
/// listens there for mosaik (and prints that address on stdout once ready); logs to stderr at
/// `--log-level` (default `info`, unless the program set up its own tracing subscriber);
/// returns when mosaik stops the simulator, closes the connection, or on SIGTERM or Ctrl-C,
/// after the simulator's `finalize`. [`Runner::main`] is the same with extra methods or
/// connection settings; [`Runner::main_then`] hands the simulator back at the end.
///
/// A scenario starts it with `{"cmd": "my_sim %(addr)s"}`, or connects to it, started as
/// `my_sim --remote 127.0.0.1:5678`, with `{"connect": "127.0.0.1:5678"}`.
///
/// ```no_run
/// # use rpc_mosaik::*;
/// # struct MySim;
/// # impl Simulator for MySim {
/// #     async fn init(&mut self, _: SimId, _: f64, _: Params) -> Result<Meta, SimError> { todo!() }
/// #     async fn create(&mut self, _: usize, _: ModelName, _: Params) -> Result<Vec<CreateResult>, SimError> { todo!() }
/// #     async fn step(&mut self, _: Time, _: InputData, _: Time, _: &Mosaik) -> Result<Option<Time>, SimError> { todo!() }
/// #     async fn get_data(&mut self, _: OutputRequest) -> Result<OutputData, SimError> { todo!() }
/// # }
/// fn main() -> std::process::ExitCode {
///     rpc_mosaik::main(MySim)
/// }
/// ```
pub fn main<S: Simulator>(sim: S) -> ExitCode {
    Runner::new(sim).main()
}

impl<S: Simulator, E: Service> Runner<S, E> {
    /// Runs the simulator as a program with mosaik-api-python's command line, as
    /// [`main`](crate::main) does.
    pub fn main(self) -> ExitCode {
        self.main_then(|_| ExitCode::SUCCESS)
    }

    /// [`main`](Self::main), then `after` with the finished run (the simulator, after its
    /// `finalize`); its exit code is the program's. A command line that does not parse, or a
    /// run that fails, exits without calling it.
    pub fn main_then(self, after: impl FnOnce(Finished<S>) -> ExitCode) -> ExitCode {
        let prog = std::env::args()
            .next()
            .and_then(|p| {
                std::path::Path::new(&p)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "simulator".to_owned());
        let usage = USAGE.replace("{prog}", &prog);
        let cl = match CommandLine::parse(std::env::args().skip(1)) {
            Ok(cl) => cl,
            Err(CommandLineError::Help) => {
                print!("Start the simulation service.\n\n{usage}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("Invalid command-line argument: {e}\n\n{usage}");
                return ExitCode::FAILURE;
            }
        };
        let level = cl.log_level.unwrap_or(LogLevel::Info).tracing_level();
        let _ = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .try_init();
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("{prog}: cannot start the Tokio runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        match runtime.block_on(self.run(&cl)) {
            Ok(finished) => after(finished),
            Err(e) => {
                tracing::error!("{e}");
                ExitCode::FAILURE
            }
        }
    }
}

/// Runs `sim` as the command line `cl` says, until mosaik is done with it or the process gets
/// SIGTERM or Ctrl-C ([`Runner::run`] with the default settings).
pub async fn run<S: Simulator>(sim: S, cl: &CommandLine) -> Result<Finished<S>, RunError> {
    Runner::new(sim).run(cl).await
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub(crate) async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
