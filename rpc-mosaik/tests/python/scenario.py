"""Scenarios that run rpc-mosaik's example simulators under real mosaik, next to Python ones.

    python scenario.py mixed EXAMPLE_SIM MONITOR_SIM CONNECT_ADDR
    python scenario.py error MONITOR_SIM

Prints one line `RESULT <json>`: the collector's records and the errors mosaik logged.
"""

import json
import sys

from loguru import logger

import mosaik

import collector

ERRORS = []
logger.add(lambda m: ERRORS.append(m.record["message"]), level="ERROR")


def mixed(example_sim, monitor_sim, connect_addr):
    sim_config = {
        "RustCmd": {"cmd": example_sim + " %(addr)s"},
        "RustConnect": {"connect": connect_addr},
        "RustMonitor": {"cmd": monitor_sim + " %(addr)s"},
        "PyExample": {"python": "example_sim_py:ExampleSim"},
        "Collector": {"python": "collector:Collector"},
    }
    world = mosaik.World(sim_config)
    rust_cmd = world.start("RustCmd", eid_prefix="C_")
    rust_conn = world.start("RustConnect", eid_prefix="N_")
    py = world.start("PyExample", eid_prefix="P_")
    mon = world.start("RustMonitor")
    sink = world.start("Collector").Monitor()

    a = rust_cmd.ExampleModel.create(2, init_val=2)
    b = rust_conn.ExampleModel(init_val=10)
    c = py.ExampleModel(init_val=-1)
    m = mon.Monitor(limit=None)
    for e in a + [b, c]:
        world.connect(e, sink, "val")
    world.connect(c, a[0], ("val", "delta"))  # Python -> Rust (cmd)
    world.connect(c, b, ("val", "delta"))  # Python -> Rust (connect)
    # The monitor is fed by the one simulator that nothing else runs beside: mosaik 3.6 moves an
    # event-based simulator's progress to `until` when another simulator finishes a step while
    # its triggering ancestor is still stepping ("cannot progress backwards" follows).
    world.connect(c, m, "val")  # Python -> Rust (event-based, calls back)
    world.connect(m, sink, "val", "progress", "related", "related_sids", "seen")  # Rust -> Python
    world.run(until=5, print_progress=False)


def error(monitor_sim):
    sim_config = {
        "RustMonitor": {"cmd": monitor_sim + " %(addr)s"},
        "PyExample": {"python": "example_sim_py:ExampleSim"},
    }
    world = mosaik.World(sim_config)
    c = world.start("PyExample").ExampleModel(init_val=0)
    m = world.start("RustMonitor").Monitor(limit=3)
    world.connect(c, m, "val")
    world.run(until=10, print_progress=False)


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    {"mixed": mixed, "error": error}[kind](*args)
    print("RESULT " + json.dumps({"data": collector.DATA, "errors": ERRORS}), flush=True)


if __name__ == "__main__":
    main()
