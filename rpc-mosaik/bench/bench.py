"""Benchmark: the same simulator (the tutorial's ExampleSim) in Rust (rpc-mosaik) and in Python
(mosaik-api-python), each started by mosaik with `cmd`, N entities, S steps, every entity's
`val` read by a sink each step (so each step is a `step` and a `get_data` of N values).

    python bench.py RUST_EXAMPLE_SIM [ENTITIES] [STEPS]

Prints one line per simulator: steps/s of the whole scenario, and the simulator process's CPU
time per step (user + system, from getrusage of the reaped child).
"""

import resource
import sys
import time

import mosaik
import mosaik.util
import mosaik_api_v3


class Sink(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__({"type": "event-based", "models": {"Sink": {"public": True, "any_inputs": True, "params": [], "attrs": []}}})
        self.count = 0

    def create(self, num, model):
        return [{"eid": "Sink_%d" % i, "type": model} for i in range(num)]

    def step(self, time, inputs, max_advance):
        self.count += sum(len(v) for attrs in inputs.values() for v in attrs.values())

    def get_data(self, outputs):
        return {}


def run(cmd, entities, steps):
    world = mosaik.World({"Sim": {"cmd": cmd}, "Sink": {"python": "bench:Sink"}})
    sim = world.start("Sim")
    models = sim.ExampleModel.create(entities, init_val=0)
    sink = world.start("Sink").Sink()
    mosaik.util.connect_many_to_one(world, models, sink, "val")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    world.run(until=steps, print_progress=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return steps / wall, cpu / steps


def main():
    rust = sys.argv[1]
    entities = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    from loguru import logger
    logger.remove()
    here = __file__.rsplit("/", 1)[0]
    py = "%(python)s " + here + "/../tests/python/example_sim_py.py %(addr)s"
    for name, cmd in [("rust (rpc-mosaik)", rust + " -l warning %(addr)s"), ("python (mosaik-api-v3)", py)]:
        sps, cpu = run(cmd, entities, steps)
        print("%-24s %5d entities x %4d steps: %8.1f steps/s, simulator CPU %7.3f ms/step" % (name, entities, steps, sps, cpu * 1e3), flush=True)


if __name__ == "__main__":
    main()
