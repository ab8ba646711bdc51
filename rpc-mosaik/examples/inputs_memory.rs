//! How much memory a simulator's kept inputs take: decodes the inputs mosaik sends in the
//! benchmark scenario (`ENTITIES` counters, one `in` input each from one constant) `STEPS`
//! times, keeps every one, and prints the growth of the process's resident memory and what
//! `InputData` holds on the heap. `rpc-mosaik/bench/inputs_memory.py` does the same with
//! Python's `json.loads` dicts, as mosaik-api-python keeps them; `scripts/mosaik-bench.sh`
//! runs both.
//!
//! ```text
//! inputs_memory [ENTITIES] [STEPS]     # default 10000 300
//! ```

use rpc_mosaik::rpc_core::Codec;
use rpc_mosaik::InputData;

/// The process's resident memory in bytes (Linux: /proc/self/statm).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The inputs of one step as mosaik writes them (`json.dumps` of its inputs dict).
fn inputs_json(entities: usize) -> String {
    let mut s = String::from("{");
    for i in 0..entities {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!(
            "\"Counter_{i}\": {{\"in\": {{\"Const-0.K_0\": 1}}}}"
        ));
    }
    s.push('}');
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let entities: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let steps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let json = inputs_json(entities);
    let codec = Codec::json();
    let before = rss();
    let mut kept = Vec::with_capacity(steps);
    let mut heap = 0;
    for _ in 0..steps {
        let inputs: InputData = codec.decode(json.as_bytes()).expect("valid inputs");
        heap += inputs.heap_bytes();
        kept.push(inputs);
    }
    let grown = rss().saturating_sub(before);
    let inputs = (entities * steps) as f64;
    println!(
        "{{\"impl\": \"rust InputData\", \"entities\": {entities}, \"steps\": {steps}, \
         \"rss_growth_mb\": {:.1}, \"bytes_per_input\": {:.1}, \"heap_bytes_per_input\": {:.1}}}",
        grown as f64 / 1048576.0,
        grown as f64 / inputs,
        heap as f64 / inputs
    );
    assert_eq!(kept.len(), steps);
}
