"""The Python aiomas 2.0.1 peer of the benchmark (MsgPack codec).

    python aiomas_peer.py server --tcp HOST:PORT
        prints "LISTEN tcp=HOST:PORT", serves add(a, b) and echo(data) until stdin closes
    python aiomas_peer.py client --addr HOST:PORT --op add|echo [--size N] [--conns N]
        [--inflight N] [--duration S] [--warmup S] [--server-pid PID]
        prints one JSON line with the same fields as the Rust clients

aiomas 2.0.1 calls msgpack.unpackb(..., encoding='utf-8'), which msgpack >= 1.0 rejects; the
small patch below restores the old decoding (raw=False, strict_map_key=False, tuples).
"""
import argparse
import asyncio
import json
import os
import sys
import time

import aiomas
import aiomas.codecs
import msgpack

if msgpack.version >= (1, 0, 0):
    def _decode(self, data):
        return msgpack.unpackb(data, object_hook=self.deserialize_obj, use_list=False,
                               raw=False, strict_map_key=False)
    aiomas.codecs.MsgPack.decode = _decode


class Bench:
    router = aiomas.rpc.Service()

    @aiomas.expose
    def add(self, a, b):
        return a + b

    @aiomas.expose
    def echo(self, data):
        return data


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_addr(s):
    host, port = s.rsplit(":", 1)
    return (host, int(port))


async def serve(args):
    server = await aiomas.rpc.start_server(parse_addr(args.tcp), Bench(), codec=aiomas.MsgPack)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"LISTEN tcp={host}:{port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


async def client(args):
    conns = [await aiomas.rpc.open_connection(parse_addr(args.addr), codec=aiomas.MsgPack)
             for _ in range(args.conns)]
    data = bytes(i % 256 for i in range(args.size))
    state = {"measuring": False, "stop": False}
    counts, lats = [0], []

    async def worker(remote, slot):
        i = slot
        while not state["stop"]:
            t = time.perf_counter_ns()
            if args.op == "add":
                r = await remote.add(i, 1)
                assert r == i + 1, r
            else:
                r = await remote.echo(data)
                assert len(r) == len(data)
            if state["measuring"]:
                counts[0] += 1
                lats.append(time.perf_counter_ns() - t)
            i = (i + 1) & 0xFFFF

    tasks = [asyncio.ensure_future(worker(c.remote, s)) for c in conns for s in range(args.inflight)]
    await asyncio.sleep(args.warmup)
    me = os.getpid()
    c0, s0 = cpu_seconds(me), cpu_seconds(args.server_pid)
    t0 = time.perf_counter()
    state["measuring"] = True
    await asyncio.sleep(args.duration)
    state["measuring"] = False
    secs = time.perf_counter() - t0
    c1, s1 = cpu_seconds(me), cpu_seconds(args.server_pid)
    state["stop"] = True
    await asyncio.gather(*tasks)
    for c in conns:
        await c.close()
    lats.sort()

    def pct(p):
        return lats[round((len(lats) - 1) * p)] / 1000 if lats else 0.0

    calls = counts[0]
    cps = calls / secs
    print(json.dumps({
        "calls": calls, "secs": secs, "calls_per_sec": cps,
        "mib_per_sec": cps * (args.size if args.op == "echo" else 0) / (1024 * 1024),
        "p50_us": pct(0.5), "p99_us": pct(0.99),
        "cpu_client_s": c1 - c0, "cpu_server_s": s1 - s0,
        "cpu_us_per_call": (c1 - c0 + s1 - s0) * 1e6 / calls if calls else 0.0,
    }))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["server", "client"])
    p.add_argument("--tcp", default="127.0.0.1:0")
    p.add_argument("--addr")
    p.add_argument("--op", default="add")
    p.add_argument("--size", type=int, default=1 << 20)
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--inflight", type=int, default=1)
    p.add_argument("--duration", type=float, default=1.0)
    p.add_argument("--warmup", type=float, default=0.2)
    p.add_argument("--server-pid", type=int, default=0)
    args = p.parse_args()
    asyncio.run(serve(args) if args.cmd == "server" else client(args))


if __name__ == "__main__":
    main()
