"""The Python side of `inputs_memory` (rpc-mosaik/examples/inputs_memory.rs): decodes the
inputs mosaik sends in the benchmark scenario STEPS times with `json.loads`, as
mosaik-api-python does, keeps every one, and prints the growth of the process's resident
memory.

    python inputs_memory.py [ENTITIES] [STEPS]     # default 10000 300
"""

import json
import sys


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main():
    entities = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    text = json.dumps({"Counter_%d" % i: {"in": {"Const-0.K_0": 1}} for i in range(entities)})
    before = rss()
    kept = [json.loads(text) for _ in range(steps)]
    grown = rss() - before
    n = entities * steps
    print(json.dumps({
        "impl": "python dicts", "entities": entities, "steps": steps,
        "rss_growth_mb": round(grown / 1048576, 1), "bytes_per_input": round(grown / n, 1),
    }))
    assert len(kept) == steps


if __name__ == "__main__":
    main()
