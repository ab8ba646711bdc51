//! rpc-core's JSON reader agrees with Python's `json` module: the tables of valid and invalid
//! inputs, about 4000 random and mutated documents written by Python, and tens of thousands of
//! float texts, each compared with what `json.loads` (or `float()`) makes of it.
//!
//! Python runs through the suite's harness (`tests::python`): without the venv the tests fail,
//! unless `RPC_SKIP_PYTHON=1` says to skip them. The reader is reached through the hooks of the
//! `__bench` feature (`rpc_core::wire::codec::__json_hooks`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use rpc_core::wire::codec::__json_hooks::{from_slice, skips_whole};
use tests::python::python;

use crate::support::{self, hex};

/// The depth limit the cross-checks read with.
const DEPTH: usize = 1024;
/// A JSON value as Python sees it (shared with rpc-core's reader tests).
#[path = "../../../rpc-core/src/wire/codec/json/read/py_value.rs"]
mod py_value;
use py_value::{arr, int, obj, MyValue};

/// Shorthand for a float value.
fn fl(x: f64) -> MyValue {
    MyValue::Float(x.to_bits())
}

/// Shorthand for a string value.
fn st(s: &str) -> MyValue {
    MyValue::Str(s.to_owned())
}

/// Reads `input` as a [`MyValue`] with the usual depth limit.
fn read(input: &[u8]) -> Result<MyValue, String> {
    from_slice(input, DEPTH)
}

/// The bytes of the hex text `s` ("-" stands for no bytes).
fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    support::unhex(s)
}

/// Writes `v` in the token form that the Python side prints for `json.loads` results.
/// Objects are folded as a Python dict folds them: first position, last value.
fn canon(v: &MyValue, out: &mut Vec<String>) {
    match v {
        MyValue::Null => out.push("N".into()),
        MyValue::Bool(true) => out.push("T".into()),
        MyValue::Bool(false) => out.push("F".into()),
        MyValue::Int(i) => out.push(format!("I{i}")),
        MyValue::UInt(u) => out.push(format!("I{u}")),
        MyValue::Float(b) if f64::from_bits(*b).is_nan() => out.push("Dnan".into()),
        MyValue::Float(b) => out.push(format!("D{b:016x}")),
        MyValue::Str(s) => out.push(format!("S{}", hex(s.as_bytes()))),
        MyValue::Array(items) => {
            out.push(format!("A{}", items.len()));
            items.iter().for_each(|x| canon(x, out));
        }
        MyValue::Object(entries) => {
            let mut folded: Vec<(&String, &MyValue)> = Vec::new();
            for (k, x) in entries {
                match folded.iter_mut().find(|(k2, _)| *k2 == k) {
                    Some(slot) => slot.1 = x,
                    None => folded.push((k, x)),
                }
            }
            out.push(format!("O{}", folded.len()));
            for (k, x) in folded {
                out.push(format!("S{}", hex(k.as_bytes())));
                canon(x, out);
            }
        }
    }
}

/// [`canon`] as one space-separated line.
fn canon_line(v: &MyValue) -> String {
    let mut out = Vec::new();
    canon(v, &mut out);
    out.join(" ")
}

/// The Python helpers shared by the cross-checks: `canon` prints a `json.loads` result in
/// tokens, and `judge` gives "OK tokens", "BAD tokens" (Python holds something Rust cannot:
/// a lone surrogate or an integer beyond 128 bits), "ERR" or "SKIP" (not UTF-8 input).
const PY_COMMON: &str = r#"
import json, struct, sys
def bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]
def canon(x, out):
    if x is None: out.append('N'); return True
    if x is True: out.append('T'); return True
    if x is False: out.append('F'); return True
    if isinstance(x, int):
        out.append('I%d' % x); return -2**127 <= x < 2**128
    if isinstance(x, float):
        out.append('Dnan' if x != x else 'D%016x' % bits(x)); return True
    if isinstance(x, str):
        try:
            out.append('S' + x.encode('utf-8').hex()); return True
        except UnicodeEncodeError:
            out.append('L'); return False
    ok = True
    if isinstance(x, list):
        out.append('A%d' % len(x))
        for y in x: ok = canon(y, out) and ok
        return ok
    out.append('O%d' % len(x))
    for k, y in x.items():
        ok = canon(k, out) and ok
        ok = canon(y, out) and ok
    return ok
def judge(text):
    if json.detect_encoding(text) not in ('utf-8', 'utf-8-sig'): return 'SKIP'
    try: x = json.loads(text)
    except (ValueError, RecursionError): return 'ERR'
    out = []
    ok = canon(x, out)
    return ('OK ' if ok else 'BAD ') + ' '.join(out)
"#;

/// Runs `script` with the venv's Python (`tests::python`), feeding it `input`; `None` only
/// when `RPC_SKIP_PYTHON=1` says to skip: a missing Python otherwise fails the test.
fn run_python(script: &str, input: &[u8]) -> Option<String> {
    let python = python()?;
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{} failed", python.display());
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Compares our reading of `input` with Python's verdict line from `judge`; also checks that
/// `skip_value` accepts exactly what `from_slice` accepts.
fn agree(input: &[u8], verdict: &str) -> Result<(), String> {
    let ours = read(input);
    let skipped = skips_whole(input, DEPTH);
    let (status, tokens) = verdict.split_once(' ').unwrap_or((verdict, ""));
    let shown = String::from_utf8_lossy(input);
    match (status, ours) {
        ("OK", Ok(v)) if canon_line(&v) != tokens => Err(format!(
            "{shown:?}: Python gives {tokens}, we give {}",
            canon_line(&v)
        )),
        ("OK", Ok(_)) if !skipped => Err(format!("{shown:?}: skip_value refuses it")),
        ("OK", Err(e)) => Err(format!("{shown:?}: Python accepts it, we say {e}")),
        ("BAD", Ok(v)) => Err(format!(
            "{shown:?}: should be refused (lone surrogate or >128 bits), we give {v:?}"
        )),
        ("ERR", Ok(v)) => Err(format!("{shown:?}: Python refuses it, we give {v:?}")),
        ("ERR", Err(_)) if skipped => Err(format!(
            "{shown:?}: Python refuses it, skip_value accepts it"
        )),
        ("OK" | "BAD" | "ERR" | "SKIP", _) => Ok(()),
        _ => Err(format!("unexpected verdict {verdict:?}")),
    }
}

/// Valid inputs and the values they read as.
fn valid_table() -> Vec<(&'static [u8], MyValue)> {
    vec![
        (b"null", MyValue::Null),
        (b"true", MyValue::Bool(true)),
        (b"false", MyValue::Bool(false)),
        (b" \t\n\r1 \t\n\r", int(1)),
        (b"0", int(0)),
        (b"-0", int(0)),
        (b"-1", int(-1)),
        (b"1234567890", int(1234567890)),
        (b"9223372036854775807", int(i64::MAX.into())),
        (b"-9223372036854775808", int(i64::MIN.into())),
        (b"-9223372036854775809", int(i128::from(i64::MIN) - 1)),
        (b"18446744073709551615", int(u64::MAX.into())),
        (b"18446744073709551616", int(1 << 64)),
        (b"-18446744073709551616", int(-(1 << 64))),
        (b"9999999999999999999", int(9_999_999_999_999_999_999)),
        (b"-9999999999999999999", int(-9_999_999_999_999_999_999)),
        (b"170141183460469231731687303715884105727", int(i128::MAX)),
        (b"-170141183460469231731687303715884105728", int(i128::MIN)),
        (
            b"340282366920938463463374607431768211455",
            MyValue::UInt(u128::MAX),
        ),
        (b"1.5", fl(1.5)),
        (b"-0.0", fl(-0.0)),
        (b"0.0", fl(0.0)),
        (b"0e0", fl(0.0)),
        (b"-0e-0", fl(-0.0)),
        (b"1E2", fl(100.0)),
        (b"1e+2", fl(100.0)),
        (b"1e-2", fl(0.01)),
        (b"1.5e3", fl(1500.0)),
        (b"2e-28", fl(2e-28)),
        (b"0.1", fl(0.1)),
        (b"1.7976931348623157e308", fl(f64::MAX)),
        (b"1.7976931348623159e308", fl(f64::INFINITY)),
        (b"4.9406564584124654e-324", fl(5e-324)),
        (b"2.4703282292062327e-324", fl(0.0)),
        (b"2.4703282292062328e-324", fl(5e-324)),
        (b"1e400", fl(f64::INFINITY)),
        (b"-1e400", fl(f64::NEG_INFINITY)),
        (b"1e-400", fl(0.0)),
        (b"-1e-400", fl(-0.0)),
        (b"1e99999999999999999999", fl(f64::INFINITY)),
        (b"NaN", fl(f64::NAN)),
        (b"Infinity", fl(f64::INFINITY)),
        (b"-Infinity", fl(f64::NEG_INFINITY)),
        (
            b"[NaN,Infinity,-Infinity]",
            arr(vec![fl(f64::NAN), fl(f64::INFINITY), fl(f64::NEG_INFINITY)]),
        ),
        (b"\"\"", st("")),
        (b"\"abc\"", st("abc")),
        (br#""\"\\\/\b\f\n\r\t""#, st("\"\\/\u{8}\u{c}\n\r\t")),
        (
            br#""\u00e9\u00E9\u0000\u001f""#,
            st("\u{e9}\u{e9}\u{0}\u{1f}"),
        ),
        (br#""\ud83d\ude00\uD83D\uDE00""#, st("\u{1f600}\u{1f600}")),
        (br#""\udbff\udfff""#, st("\u{10ffff}")),
        (br#""\uffff\ufeff""#, st("\u{ffff}\u{feff}")),
        (
            "\"h\u{e9}llo \u{1f600} \u{2028}\u{7f}\"".as_bytes(),
            st("h\u{e9}llo \u{1f600} \u{2028}\u{7f}"),
        ),
        (b"[]", arr(vec![])),
        (b"[ ]", arr(vec![])),
        (
            b" [ 1 , [ 2 , [ 3 ] ] ] ",
            arr(vec![int(1), arr(vec![int(2), arr(vec![int(3)])])]),
        ),
        (b"{}", obj(vec![])),
        (b"{ }", obj(vec![])),
        (br#"{"a":1,"a":2}"#, obj(vec![("a", int(1)), ("a", int(2))])),
        (
            br#"{ "a" : [ ] , "b" : { } , "\u0063" : "d" }"#,
            obj(vec![("a", arr(vec![])), ("b", obj(vec![])), ("c", st("d"))]),
        ),
        (b"\xEF\xBB\xBF[1]", arr(vec![int(1)])),
        (b"\xEF\xBB\xBF 2 ", int(2)),
        (
            br#"[0, 3, ["add", [1, 2], {}]]"#,
            arr(vec![
                int(0),
                int(3),
                arr(vec![st("add"), arr(vec![int(1), int(2)]), obj(vec![])]),
            ]),
        ),
    ]
}

/// Invalid inputs, the exact error message, and whether Python accepts them anyway (the
/// cases we refuse on purpose).
fn invalid_table() -> Vec<(&'static [u8], &'static str, bool)> {
    vec![
            (b"", "EOF while parsing a value at byte 0", false),
            (b"   ", "EOF while parsing a value at byte 3", false),
            (b"nul", "EOF while parsing a value at byte 3", false),
            (b"nulL", "invalid literal at byte 0", false),
            (b"nan", "invalid literal at byte 0", false),
            (b"None", "invalid literal at byte 0", false),
            (b"True", "expected value at byte 0", false),
            (b"inf", "expected value at byte 0", false),
            (b"-inf", "invalid number at byte 1", false),
            (b"-NaN", "invalid number at byte 1", false),
            (b"-Infinit", "EOF while parsing a value at byte 8", false),
            (b"Infinityy", "trailing characters at byte 8", false),
            (b"+1", "expected value at byte 0", false),
            (b".5", "expected value at byte 0", false),
            (b"01", "trailing characters at byte 1", false),
            (b"-01", "trailing characters at byte 2", false),
            (b"1.", "EOF while parsing a number at byte 2", false),
            (b"1.e5", "invalid number at byte 2", false),
            (b"1e", "EOF while parsing a number at byte 2", false),
            (b"1e+", "EOF while parsing a number at byte 3", false),
            (b"1e+x", "invalid number at byte 3", false),
            (b"-", "EOF while parsing a number at byte 1", false),
            (b"-a", "invalid number at byte 1", false),
            (b"0x10", "trailing characters at byte 1", false),
            (b"1_000", "trailing characters at byte 1", false),
            (b"[1.]", "invalid number at byte 3", false),
            (b"[1,]", "trailing comma at byte 3", false),
            (b"[,1]", "expected value at byte 1", false),
            (b"[1 2]", "expected `,` or `]` at byte 3", false),
            (b"[1", "EOF while parsing a list at byte 2", false),
            (b"[1,", "EOF while parsing a value at byte 3", false),
            (b"[", "EOF while parsing a list at byte 1", false),
            (b"[ \n", "EOF while parsing a list at byte 3", false),
            (b"[1]]", "trailing characters at byte 3", false),
            (b"[1}", "expected `,` or `]` at byte 2", false),
            (br#"{"a":1,}"#, "trailing comma at byte 7", false),
            (br#"{"a" 1}"#, "expected `:` at byte 5", false),
            (br#"{"a"}"#, "expected `:` at byte 4", false),
            (b"{1:2}", "key must be a string at byte 1", false),
            (b"{'a':1}", "key must be a string at byte 1", false),
            (b"{a:1}", "key must be a string at byte 1", false),
            (br#"{"a":1,2:3}"#, "key must be a string at byte 7", false),
            (br#"{"a":1"#, "EOF while parsing an object at byte 6", false),
            (br#"{"a":}"#, "expected value at byte 5", false),
            (br#"{"a":1]"#, "expected `,` or `}` at byte 6", false),
            (b"{", "EOF while parsing an object at byte 1", false),
            (b"1 2", "trailing characters at byte 2", false),
            (b"/* */1", "expected value at byte 0", false),
            (b"1 // x", "trailing characters at byte 2", false),
            (b"\x0c1", "expected value at byte 0", false),
            (b"\x0b1", "expected value at byte 0", false),
            (b"1 \x00", "trailing characters at byte 2", false),
            ("\u{a0}1".as_bytes(), "expected value at byte 0", false),
            (b"'a'", "expected value at byte 0", false),
            (b"\"abc", "EOF while parsing a string at byte 4", false),
            (b"\"", "EOF while parsing a string at byte 1", false),
            (b"\"a\nb\"", "control character U+000A in string at byte 2", false),
            (b"\"\t\"", "control character U+0009 in string at byte 1", false),
            (b"\"\x00\"", "control character U+0000 in string at byte 1", false),
            (b"\"\x1f\"", "control character U+001F in string at byte 1", false),
            (br#""\q""#, "invalid escape \\q at byte 1", false),
            (br#""\x41""#, "invalid escape \\x at byte 1", false),
            (br#""\U00e9""#, "invalid escape \\U at byte 1", false),
            (br#""\'""#, "invalid escape \\' at byte 1", false),
            (b"\"\\\n\"", "invalid escape \\ followed by byte 0x0a at byte 1", false),
            (br#""\u12""#, "invalid \\uXXXX escape at byte 1", false),
            (br#""\u12g4""#, "invalid \\uXXXX escape at byte 1", false),
            (br#""\u 123""#, "invalid \\uXXXX escape at byte 1", false),
            (br#""\u12"#, "EOF while parsing a string at byte 5", false),
            (br#""\"#, "EOF while parsing a string at byte 2", false),
            (br#""\ud800""#, "lone surrogate \\ud800 at byte 1 cannot be represented", true),
            (br#""\uDC00""#, "lone surrogate \\udc00 at byte 1 cannot be represented", true),
            (br#""\ud800\u0041""#, "lone surrogate \\ud800 at byte 1 cannot be represented", true),
            (br#""\ud800\ud800\udc00""#, "lone surrogate \\ud800 at byte 1 cannot be represented", true),
            (br#""ab\ud83d""#, "lone surrogate \\ud83d at byte 3 cannot be represented", true),
            (br#""\ude00\ud83d""#, "lone surrogate \\ude00 at byte 1 cannot be represented", true),
            (br#""\ud800\uzzzz""#, "invalid \\uXXXX escape at byte 7", false),
            (b"\"\xff\"", "invalid UTF-8 at byte 1", false),
            (b"\"a\xc3\"", "invalid UTF-8 at byte 2", false),
            (b"\"\xc0\x80\"", "invalid UTF-8 at byte 1", false),
            (b"\"\xf4\x90\x80\x80\"", "invalid UTF-8 at byte 1", false),
            (b"\"\xed\xa0\x80\"", "invalid UTF-8 at byte 1", true),
            (b"\xff", "expected value at byte 0", false),
            (b"\xEF\xBB\xBF", "EOF while parsing a value at byte 3", false),
            (b"\xEF\xBB\xBF\xEF\xBB\xBF1", "expected value at byte 3", false),
            (b" \xEF\xBB\xBF1", "expected value at byte 1", false),
            (b"340282366920938463463374607431768211456", "integer 340282366920938463463374607431768211456 does not fit in 128 bits", true),
            (b"-170141183460469231731687303715884105729", "integer -170141183460469231731687303715884105729 does not fit in 128 bits", true),
            (b"[1606938044258990275541962092341162602522202993782792835301376]", "integer 1606938044258990275541962092341162602522202993782792835301376 does not fit in 128 bits", true),
            (leak(format!("[{}]", "7".repeat(4300))), "integer 77777777777777777777...77777777777777777777 (4300 digits) does not fit in 128 bits", true),
            (leak(format!("[{}]", "7".repeat(4301))), "integer of 4301 digits exceeds Python's limit of 4300 at byte 1", false),
            (leak(format!("{{\"a\": -{}}}", "7".repeat(4301))), "integer of 4301 digits exceeds Python's limit of 4300 at byte 6", false),
        ]
}

/// Keeps `s` for the rest of the test run, for tables of static byte strings.
fn leak(s: String) -> &'static [u8] {
    Box::leak(s.into_bytes().into_boxed_slice())
}

/// Every valid row reads as expected, and `skip_value` spans it.
#[test]
fn valid_inputs() {
    for (input, want) in valid_table() {
        let shown = String::from_utf8_lossy(input);
        assert_eq!(read(input), Ok(want), "{shown:?}");
        assert!(
            skips_whole(input, DEPTH),
            "{shown:?}: skip_value refuses it"
        );
    }
}

/// Every invalid row fails with its exact message, and `skip_value` refuses it too where the
/// problem is syntax (it does not decode integers).
#[test]
fn invalid_inputs() {
    for (input, want, _) in invalid_table() {
        let shown = String::from_utf8_lossy(input);
        assert_eq!(read(input), Err(want.to_owned()), "{shown:?}");
        let skipped = skips_whole(input, DEPTH);
        assert_eq!(
            skipped,
            want.ends_with("does not fit in 128 bits"),
            "{shown:?}"
        );
    }
}

/// The tables agree with Python's `json.loads`, except for the rows we refuse on purpose.
#[test]
fn tables_agree_with_python() {
    let mut inputs: Vec<(Vec<u8>, Option<MyValue>, bool)> = Vec::new();
    for (input, want) in valid_table() {
        inputs.push((input.to_vec(), Some(want), true));
    }
    for (input, _, python_accepts) in invalid_table() {
        inputs.push((input.to_vec(), None, python_accepts));
    }
    let stdin: String = inputs
        .iter()
        .map(|(i, _, _)| format!("{}\n", if i.is_empty() { "-".to_owned() } else { hex(i) }))
        .collect();
    let script = format!(
        "{PY_COMMON}\nfor line in sys.stdin:\n    h = line.strip()\n    print(judge(b'' if h == '-' else bytes.fromhex(h)))\n"
    );
    let Some(out) = run_python(&script, stdin.as_bytes()) else {
        return;
    };
    let verdicts: Vec<&str> = out.lines().collect();
    assert_eq!(verdicts.len(), inputs.len());
    for ((input, want, python_accepts), verdict) in inputs.iter().zip(verdicts) {
        let shown = String::from_utf8_lossy(input);
        let status = verdict.split(' ').next().unwrap();
        match want {
            Some(v) => assert_eq!(verdict, format!("OK {}", canon_line(v)), "{shown:?}"),
            None if *python_accepts => assert_eq!(status, "BAD", "{shown:?}"),
            None => assert_eq!(status, "ERR", "{shown:?}"),
        }
    }
}

/// Python generates random documents (nested values, doubles of every kind, big integers,
/// strings with every escape form, surrogate pairs and lone surrogates, raw UTF-8,
/// whitespace), writes them with `json.dumps` or a random-form encoder, mutates half of them
/// at random, and prints each with its `json.loads` verdict.
const PY_RANDOM_DOCS: &str = r#"
import random, math
rnd = random.Random(20240611)
def rand_float():
    r = rnd.random()
    if r < 0.3: return struct.unpack('<d', struct.pack('<Q', rnd.getrandbits(64)))[0]
    if r < 0.45: return rnd.choice([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
        2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308, float('inf'),
        float('-inf'), float('nan'), 0.1, 1e22, 1e23, 2e-28, 9007199254740993.0, 1.5, -2.5])
    if r < 0.6: return rnd.uniform(-1e6, 1e6)
    if r < 0.8: return rnd.random() * 10.0 ** rnd.randint(-330, 308)
    return float(rnd.randint(-2**60, 2**60))
def rand_int():
    r = rnd.random()
    if r < 0.5: return rnd.randint(-1000, 1000)
    if r < 0.75: return rnd.randint(-2**63 - 10, 2**64 + 10)
    if r < 0.93: return rnd.randint(-2**127, 2**128 - 1)
    if r < 0.98: return rnd.choice([2**63, 2**63 - 1, -2**63, -2**63 - 1, 2**64 - 1, 2**64,
        -2**64, 2**127 - 1, 2**127, -2**127, -2**127 - 1, 2**128 - 1, 2**128, -2**128, 0])
    return rnd.randint(-2**200, 2**200)
def rand_char():
    r = rnd.random()
    if r < 0.5: return chr(rnd.randint(0x20, 0x7e))
    if r < 0.6: return chr(rnd.randint(0, 0x1f))
    if r < 0.7: return chr(rnd.randint(0x80, 0x7ff))
    if r < 0.8:
        c = rnd.randint(0x800, 0xfffd)
        return chr(c) if not 0xd800 <= c <= 0xdfff else 'x'
    if r < 0.9: return chr(rnd.randint(0x10000, 0x10ffff))
    if r < 0.995: return rnd.choice('"\\/\b\f\n\r\t\u2028\x7f\ufeff\U0001f600')
    return rnd.choice('\ud800\udfff\udbff')
def rand_str():
    return ''.join(rand_char() for _ in range(rnd.randint(0, 10)))
def rand_value(d):
    r = rnd.random()
    if d < 4 and r < 0.25: return [rand_value(d + 1) for _ in range(rnd.randint(0, 5))]
    if d < 4 and r < 0.45: return {rand_str(): rand_value(d + 1) for _ in range(rnd.randint(0, 5))}
    r = rnd.random()
    if r < 0.05: return None
    if r < 0.1: return rnd.random() < 0.5
    if r < 0.4: return rand_int()
    if r < 0.7: return rand_float()
    return rand_str()
SHORT = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '/': '\\/'}
def u(c):
    h = '%04x' % c
    return '\\u' + (h.upper() if rnd.random() < 0.5 else h)
def enc_str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        must = ch in '"\\' or o < 0x20
        r = rnd.random()
        if not must and r < 0.6: out.append(ch)
        elif ch in SHORT and r < 0.85: out.append(SHORT[ch])
        elif o >= 0x10000:
            o -= 0x10000
            out.append(u(0xd800 + (o >> 10)) + u(0xdc00 + (o & 0x3ff)))
        else: out.append(u(o))
    out.append('"')
    return ''.join(out)
def ws():
    return rnd.choice(['', '', '', ' ', '\n', '\t', '\r\n  '])
def enc(v):
    if v is None: return 'null'
    if v is True: return 'true'
    if v is False: return 'false'
    if isinstance(v, int): return str(v)
    if isinstance(v, float):
        if v != v: return 'NaN'
        if math.isinf(v): return 'Infinity' if v > 0 else '-Infinity'
        r = rnd.random()
        if r < 0.5: return repr(v)
        if r < 0.7: return '%.17e' % v
        if r < 0.85: return '%.*g' % (rnd.randint(1, 25), v)
        return '%.*E' % (rnd.randint(0, 30), v)
    if isinstance(v, str): return enc_str(v)
    sep = ws() + ',' + ws()
    if isinstance(v, list): return '[' + ws() + sep.join(enc(x) for x in v) + ws() + ']'
    return '{' + ws() + sep.join(enc_str(k) + ws() + ':' + ws() + enc(x) for k, x in v.items()) + ws() + '}'
docs = []
for n in range(N):
    v = rand_value(0)
    k = n % 3
    if k == 0:
        text = json.dumps(v).encode()
    elif k == 1:
        text = json.dumps(v, ensure_ascii=False, indent=rnd.choice([None, 0, 2, '\t']),
            separators=rnd.choice([None, (',', ':'), (' , ', ' : ')])).encode('utf-8', 'surrogatepass')
    else:
        text = (ws() + enc(v) + ws()).encode('utf-8', 'surrogatepass')
    docs.append(text)
BITS = [b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'0', b'1', b'-', b'e', b'.', b'+', b' ',
    b'\n', b'\t', b'\r', b'\x0c', b'\x0b', b'\xc2\xa0', b'u', b'n', b'N', b'I', b'\x00', b'\x1f', b'\x7f', b'\xff', b'\xc3', b'\xed\xa0\x80',
    b'/', b'd8', b'\\u', b'\\ud800', b'\\udc00', b'null', b'1e400', b'"a"', b'[]', b'{}', b'\xef\xbb\xbf']
mutants = []
for n in range(N):
    t = bytearray(rnd.choice(docs))
    for _ in range(rnd.randint(1, 3)):
        op = rnd.random()
        p = rnd.randint(0, len(t))
        if op < 0.3: del t[p:p + 1]
        elif op < 0.55: t[p:p + 1] = rnd.choice(BITS)
        elif op < 0.8: t[p:p] = rnd.choice(BITS)
        else: t = t[:p]
    mutants.append(bytes(t))
for text in docs + mutants:
    print(text.hex() or '-', judge(text))
"#;

/// About 2000 random documents written by Python, and as many mutated ones, read exactly as
/// `json.loads` reads them (or refused where Python holds something we cannot).
#[test]
fn random_documents_agree_with_python() {
    let n = 2000;
    let script = format!("{PY_COMMON}\nN = {n}\n{PY_RANDOM_DOCS}");
    let Some(out) = run_python(&script, b"") else {
        return;
    };
    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut lines = 0;
    for line in out.lines() {
        lines += 1;
        let (hex_input, verdict) = line.split_once(' ').unwrap();
        *counts
            .entry(verdict.split(' ').next().unwrap())
            .or_default() += 1;
        if let Err(e) = agree(&unhex(hex_input), verdict) {
            failures.push(e);
        }
    }
    println!("{lines} documents from Python: {counts:?}");
    assert_eq!(lines, 2 * n);
    assert!(
        counts.get("OK").copied().unwrap_or(0) > n,
        "too few valid documents: {counts:?}"
    );
    assert!(
        counts.get("ERR").copied().unwrap_or(0) > n / 2,
        "too few invalid documents: {counts:?}"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}

/// Python prints `float(s)` as bits for each line it is given, then adds its own cases:
/// `repr` of random doubles, `%.17g`, and the exact halfway points between neighbouring
/// doubles with the smallest nudges up and down (hundreds of digits long).
const PY_FLOATS: &str = r#"
import math, random
from decimal import Decimal, getcontext
getcontext().prec = 1200
for line in sys.stdin:
    s = line.strip()
    print(s, '%016x' % bits(float(s)))
rnd = random.Random(99)
for _ in range(N):
    x = struct.unpack('<d', struct.pack('<Q', rnd.getrandbits(64)))[0]
    if math.isinf(x) or x != x: continue
    cases = [repr(x), '%.17g' % x]
    y = math.nextafter(x, math.inf)
    if not math.isinf(y):
        m = (Decimal(x) + Decimal(y)) / 2
        cases += [str(m), str(m.next_plus()), str(m.next_minus())]
    for s in cases:
        print(s, '%016x' % bits(float(s)))
"#;

/// Random doubles written by Rust (`{:e}`, `{:?}`, `{}`), random decimal texts, integer
/// texts, edge forms, and Python's own `repr` and halfway cases all read bit for bit as
/// Python's `float()` reads them.
#[test]
fn floats_agree_with_python() {
    let mut rng = fastrand::Rng::with_seed(0x5EED);
    let mut texts: Vec<String> = [
        "2e-28",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1e400",
        "-1e400",
        "1e-400",
        "-1e-400",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "0.1",
        "1e23",
        "9007199254740993",
        "9007199254740993.0",
        "8.98846567431158e307",
        "0e0",
        "-0.0",
        "1E+2",
        "123456789e-5",
        "1e99999999999999999999",
        "1e-99999999999999999999",
        "0.000000000000000000000000000001e30",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    texts.push(format!("0.{}1e400", "0".repeat(400)));
    texts.push(format!("1{}e-500", "0".repeat(800)));
    texts.push(format!("{}.5", "1".repeat(400)));
    for _ in 0..10_000 {
        let x = f64::from_bits(rng.u64(..));
        if !x.is_finite() {
            continue;
        }
        texts.push(format!("{x:e}"));
        texts.push(format!("{x:?}"));
        if x.abs() > 1e-30 && x.abs() < 1e30 {
            texts.push(format!("{x}"));
        }
    }
    for _ in 0..3000 {
        let mut t = String::new();
        if rng.bool() {
            t.push('-');
        }
        // An integer part of up to 25 digits that does not start with 0.
        for k in 0..rng.usize(1..=25) {
            let d = if k == 0 { rng.u8(1..10) } else { rng.u8(..10) };
            t.push(char::from(b'0' + d));
        }
        if rng.bool() {
            t.push('.');
            for _ in 0..rng.usize(1..=30) {
                t.push(char::from(b'0' + rng.u8(..10)));
            }
        }
        if rng.u8(..4) != 0 {
            t.push(if rng.bool() { 'e' } else { 'E' });
            t.push_str(["", "+", "-"][rng.usize(..3)]);
            t.push_str(&rng.u16(..360).to_string());
        }
        texts.push(t);
    }
    let stdin: String = texts.iter().map(|t| format!("{t}\n")).collect();
    let script = format!("{PY_COMMON}\nN = 3000\n{PY_FLOATS}");
    let Some(out) = run_python(&script, stdin.as_bytes()) else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in out.lines() {
        let (text, want) = line.split_once(' ').unwrap();
        let want = u64::from_str_radix(want, 16).unwrap();
        let is_float = text.contains(['.', 'e', 'E']);
        let ours = from_slice::<f64>(text.as_bytes(), DEPTH).map(f64::to_bits);
        checked += 1;
        if !is_float && f64::from_bits(want).is_infinite() {
            // Python's float() of an integer this large raises OverflowError.
            if ours.is_ok() {
                failures.push(format!("{text}: should be too large for a float"));
            }
            continue;
        }
        // An integer text is an int to json.loads: -0 has no sign.
        let want = if !is_float && f64::from_bits(want) == 0.0 {
            0
        } else {
            want
        };
        if ours != Ok(want) {
            failures.push(format!("{text}: Python {want:016x}, we {ours:x?}"));
        }
        if is_float && read(text.as_bytes()) != Ok(MyValue::Float(want)) {
            failures.push(format!("{text}: MyValue differs"));
        }
    }
    println!("{checked} float texts checked against Python");
    assert!(checked > 35_000, "only {checked} checked");
    assert!(
        failures.is_empty(),
        "{} disagreements, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}
