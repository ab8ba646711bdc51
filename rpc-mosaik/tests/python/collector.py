"""The mosaik tutorial's collector: records every input it receives, into the module-level
DATA (full id -> attribute -> [[time, value], ...]), which the scenario reads after the run."""

import mosaik_api_v3

META = {
    "api_version": "3.0",
    "type": "event-based",
    "models": {"Monitor": {"public": True, "any_inputs": True, "params": [], "attrs": []}},
}

DATA = {}


class Collector(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__(META)

    def create(self, num, model):
        return [{"eid": "Monitor_%d" % i, "type": model} for i in range(num)]

    def step(self, time, inputs, max_advance):
        for attrs in inputs.values():
            for attr, values in attrs.items():
                for src, value in values.items():
                    DATA.setdefault(src, {}).setdefault(attr, []).append([time, value])
        return None

    def get_data(self, outputs):
        return {}
