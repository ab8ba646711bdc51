//! The JSON reader's speed: `skip_value` (the message cutter) and `from_slice` into
//! `rpc_core::Value` against serde_json's `from_slice::<serde_json::Value>` on the same 1 MiB
//! array of small mixed values, plus `skip_value` on long strings and on one typical message.
//! Prints MiB/s and the ratio to serde_json measured in the same run; asserts nothing about time.
//!
//! ```sh
//! cargo bench -p benches --bench json_read
//! ```

use rpc_core::wire::codec::__json_hooks::{from_slice, skip_value};
use rpc_core::Value;

/// A depth limit far above what the documents nest (the codec's default is 128).
const DEPTH: usize = 1024;

fn main() {
    let pieces: &[&str] = &[
        r#"[0, 3, ["add", [1, 2], {}]]"#,
        "0",
        "-17",
        "3.25",
        "1e-7",
        r#""add""#,
        r#""h\u00e9llo w\norld""#,
        "true",
        "false",
        "null",
        r#"{"a": 1, "b": [true, null]}"#,
        "[]",
        "\"caf\u{e9} \u{1f600}\"",
        "123456789012",
        r#"{"method": "sum", "args": [1.5, 2.25, -3], "kwargs": {"x": "y"}}"#,
    ];
    let mut doc = b"[".to_vec();
    let mut k = 0;
    while doc.len() < (1 << 20) - 100 {
        if k > 0 {
            doc.extend_from_slice(b", ");
        }
        doc.extend_from_slice(pieces[k % pieces.len()].as_bytes());
        k += 1;
    }
    doc.push(b']');
    let mib = doc.len() as f64 / (1 << 20) as f64;
    let budget = if cfg!(debug_assertions) { 0.2 } else { 1.0 };
    /// Runs `f` in five batches of about `budget / 5` seconds each (at least two runs
    /// each) and returns the best batch's MiB/s, which is the least disturbed by other work.
    fn measure(mib: f64, budget: f64, mut f: impl FnMut()) -> f64 {
        f();
        let mut best = 0.0f64;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let mut runs = 0;
            while runs < 2 || start.elapsed().as_secs_f64() < budget / 5.0 {
                f();
                runs += 1;
            }
            best = best.max(mib * f64::from(runs) / start.elapsed().as_secs_f64());
        }
        best
    }
    let skip = measure(mib, budget, || {
        let r = skip_value(std::hint::black_box(&doc), DEPTH);
        assert_eq!(r, Ok((0, doc.len())));
    });
    let ours = measure(mib, budget, || {
        let v: Value = from_slice(std::hint::black_box(&doc), DEPTH).unwrap();
        std::hint::black_box(v);
    });
    let theirs = measure(mib, budget, || {
        let v: serde_json::Value = serde_json::from_slice(std::hint::black_box(&doc)).unwrap();
        std::hint::black_box(v);
    });
    // Long strings (as in messages that carry text or base64 payloads).
    let mut long_doc = b"[".to_vec();
    while long_doc.len() < (1 << 20) - 2000 {
        long_doc.push(b'"');
        for i in 0..1000 {
            long_doc.push(b"abcdefghij klmnopqrstuvwxyz0123456789+/"[i % 39]);
        }
        long_doc.extend_from_slice(b"\", ");
    }
    long_doc.extend_from_slice(b"1]");
    let long_mib = long_doc.len() as f64 / (1 << 20) as f64;
    let skip_long = measure(long_mib, budget, || {
        let r = skip_value(std::hint::black_box(&long_doc), DEPTH);
        assert_eq!(r, Ok((0, long_doc.len())));
    });
    // The typical message, a thousand times over.
    let msg = br#"[0, 3, ["add", [1, 2], {}]]"#;
    let thousand_mib = 1000.0 * msg.len() as f64 / (1 << 20) as f64;
    let rate = measure(thousand_mib, budget, || {
        for _ in 0..1000 {
            let r = skip_value(std::hint::black_box(msg), DEPTH);
            assert_eq!(r, Ok((0, msg.len())));
        }
    });
    let msg_ns = 1e9 * thousand_mib / 1000.0 / rate;
    println!(
        "skip_value on 1 KiB strings: {skip_long:.0} MiB/s; on the typical message \
             [0, 3, [\"add\", [1, 2], {{}}]]: {msg_ns:.0} ns each"
    );
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
            "throughput on {mib:.2} MiB ({k} values, {build}): skip_value {skip:.0} MiB/s, \
             from_slice::<rpc_core::Value> {ours:.0} MiB/s (x{:.2} of serde_json), serde_json::from_slice::<Value> {theirs:.0} MiB/s",
        ours / theirs
        );
}
