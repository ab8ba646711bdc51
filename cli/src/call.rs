//! `aiomas call`: calls one function and prints its result as JSON.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args as ClapArgs;
use rpc_core::{Error, Value};

use crate::args::{codec_hint, seconds, ConnectArgs, Target};
use crate::failure::Failure;

#[derive(Debug, ClapArgs)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    conn: ConnectArgs,
    #[command(flatten)]
    target: Target,
    /// Give up after this many seconds without a reply.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    timeout: Duration,
    /// Indent the JSON even when stdout is not a terminal.
    #[arg(long)]
    pretty: bool,
}

pub(crate) async fn run(args: CallArgs) -> Result<(), Failure> {
    let parsed = args.target.parse()?;
    let conn = args.conn.connect().await?;
    let proxy = args.target.proxy(&conn).with_timeout(args.timeout);
    let result: Result<Value, Error> = proxy.call_kw(parsed.args, &parsed.kwargs).await;
    conn.close().await;
    let value = result.map_err(|e| codec_hint(e, args.conn.codec))?;
    let json = to_json(&value);
    let stdout = std::io::stdout();
    let text = if args.pretty || stdout.is_terminal() {
        serde_json::to_string_pretty(&json)
    } else {
        serde_json::to_string(&json)
    }
    .map_err(|e| Failure::usage(format!("cannot print the result: {e}")))?;
    let mut out = stdout.lock();
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// A result as JSON: bytes become an array of numbers, map keys that are not strings their
/// JSON text, NaN and infinities `null` (JSON has none), and integers beyond 64 bits a string of
/// their digits (serde_json's numbers stop at 64 bits; the digits are kept exactly).
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::BigInt(i) => J::String(i.to_string()),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Bin(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Str(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}
