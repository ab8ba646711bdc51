"""The mosaik tutorial's simple simulator, with mosaik-api-python: the Python twin of
rpc-mosaik's `example_sim` example (same meta, same behaviour), for mixed scenarios and the
benchmark. Runs in-process (`{"python": "example_sim_py:ExampleSim"}`) or as a program."""

import mosaik_api_v3

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "ExampleModel": {
            "public": True,
            "params": ["init_val"],
            "attrs": ["delta", "val"],
        },
    },
}


class ExampleSim(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__(META)
        self.eid_prefix = "Model_"
        self.entities = {}  # eid -> [val, delta]

    def init(self, sid, time_resolution=1.0, eid_prefix=None):
        if eid_prefix is not None:
            self.eid_prefix = eid_prefix
        return self.meta

    def create(self, num, model, init_val=0):
        start = len(self.entities)
        out = []
        for i in range(start, start + num):
            eid = "%s%d" % (self.eid_prefix, i)
            self.entities[eid] = [float(init_val), 1.0]
            out.append({"eid": eid, "type": model})
        return out

    def step(self, time, inputs, max_advance):
        for eid, model in self.entities.items():
            attrs = inputs.get(eid, {})
            if "delta" in attrs:
                model[1] = sum(attrs["delta"].values())
            model[0] += model[1]
        return time + 1

    def get_data(self, outputs):
        data = {}
        for eid, attrs in outputs.items():
            val, delta = self.entities[eid]
            data[eid] = {a: (val if a == "val" else delta) for a in attrs}
        return data


if __name__ == "__main__":
    mosaik_api_v3.start_simulation(ExampleSim())
