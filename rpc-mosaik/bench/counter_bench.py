"""One run of the benchmark scenario (`scripts/mosaik-bench.sh` alternates them): N `Counter`
entities in one simulator started by mosaik with `cmd`, all fed by one constant and read by a
sink (both Python, inside mosaik's process), S steps. Each step is one `step` with N inputs,
two calls back into mosaik, and one `get_data` of N values.

    python counter_bench.py rust|python COUNTER_SIM ENTITIES STEPS

Prints one line of JSON: the simulator process's CPU time (user + system) and peak RSS, from
the kernel's rusage of that one process (`rusage_of.py` starts it and reports them when it
exits), and the wall time of `world.run`.
"""

import json
import os
import sys
import tempfile
import time

import mosaik
import mosaik.util
import mosaik_api_v3

HERE = os.path.dirname(os.path.abspath(__file__))


class Const(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__({"type": "time-based", "models": {"Const": {"public": True, "params": [], "attrs": ["out"]}}})

    def create(self, num, model):
        return [{"eid": "K_%d" % i, "type": model} for i in range(num)]

    def step(self, time, inputs, max_advance):
        return time + 1

    def get_data(self, outputs):
        return {eid: {"out": 1} for eid in outputs}


class Sink(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__({"type": "event-based", "models": {"Sink": {"public": True, "any_inputs": True, "params": [], "attrs": []}}})
        self.total = 0

    def create(self, num, model):
        return [{"eid": "Sink_%d" % i, "type": model} for i in range(num)]

    def step(self, time, inputs, max_advance):
        for attrs in inputs.values():
            for values in attrs.values():
                self.total += sum(values.values())
        return None

    def get_data(self, outputs):
        return {}


def main():
    kind, sim, entities, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    from loguru import logger
    logger.remove()
    out = os.path.join(tempfile.mkdtemp(prefix="mosaik-bench-"), "rusage.json")
    wrap = "%s %s %s " % (sys.executable, os.path.join(HERE, "rusage_of.py"), out)
    if kind == "rust":
        cmd = wrap + sim + " -l warning %(addr)s"
    else:
        cmd = wrap + sys.executable + " " + sim + " %(addr)s"
    world = mosaik.World({
        # The simulator exits by itself after `stop`; mosaik must not SIGTERM the wrapper.
        "Counter": {"cmd": cmd, "auto_terminate": False},
        "Const": {"python": "counter_bench:Const"},
        "Sink": {"python": "counter_bench:Sink"},
    })
    const = world.start("Const").Const()
    counters = world.start("Counter").Counter.create(entities)
    sink_sim = world.start("Sink")
    sink = sink_sim.Sink()
    for c in counters:
        world.connect(const, c, ("out", "in"))
    mosaik.util.connect_many_to_one(world, counters, sink, "count")
    start = time.perf_counter()
    world.run(until=steps, print_progress=False)
    wall = time.perf_counter() - start
    for _ in range(600):
        if os.path.exists(out):
            break
        time.sleep(0.05)
    with open(out) as f:
        ru = json.load(f)
    if ru["status"] != 0:
        sys.exit("the simulator exited with status %d" % ru["status"])
    print(json.dumps({
        "sim": kind, "entities": entities, "steps": steps,
        "cpu_s": round(ru["cpu_s"], 3), "user_s": round(ru["user_s"], 3),
        "sys_s": round(ru["sys_s"], 3), "peak_rss_mb": round(ru["peak_rss_mb"], 1),
        "wall_s": round(wall, 3),
    }), flush=True)


if __name__ == "__main__":
    main()
