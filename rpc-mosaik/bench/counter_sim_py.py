"""The benchmark's simulator with mosaik-api-python: the twin of rpc-mosaik's `counter_sim`
example. `Counter` entities add up their `in` input each step and keep every step's inputs;
each step calls mosaik back twice (the progress, and the entities related to the first
counter).

    python counter_sim_py.py HOST:PORT     # {"cmd": "python counter_sim_py.py %(addr)s"}
"""

import mosaik_api_v3

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Counter": {"public": True, "params": [], "attrs": ["in", "count"]}},
}


class CounterSim(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__(META)
        self.sid = None
        self.counts = []
        self.history = []
        self.progress = 0.0
        self.related = 0

    def init(self, sid, time_resolution=1.0):
        self.sid = sid
        return self.meta

    def create(self, num, model):
        start = len(self.counts)
        self.counts.extend([0] * num)
        return [{"eid": "Counter_%d" % i, "type": model} for i in range(start, start + num)]

    def step(self, time, inputs, max_advance):
        # Calls back are yielded, as mosaik-api-python documents.
        self.progress = yield self.mosaik.get_progress()
        self.related = len((yield self.mosaik.get_related_entities("%s.Counter_0" % self.sid)))
        counts = self.counts
        for eid, attrs in inputs.items():
            i = int(eid[8:])  # "Counter_<i>"
            if "in" in attrs:
                counts[i] += sum(attrs["in"].values())
        self.history.append(inputs)
        return time + 1

    def get_data(self, outputs):
        counts = self.counts
        return {eid: {a: counts[int(eid[8:])] for a in attrs} for eid, attrs in outputs.items()}


if __name__ == "__main__":
    mosaik_api_v3.start_simulation(CounterSim())
