"""An aiomas 2.0.1 RPC client of a Rust service that implements the trait `PyCalc` of the
interop tests (the interface of peer_services.Calc), so that it answers as Calc does.

    python trait_client.py HOST:PORT|unix:PATH msgpack|json

Prints one JSON object per check, {"check": name, "ok": bool, "detail": str},
then {"summary": {"passed": n, "failed": m}}; exits 1 if any check failed.
"""
import asyncio
import json
import sys
import traceback

import aiomas

import aiomas_compat
from peer_services import ClientRoot

RESULTS = []


def lists(value):
    """`value` with tuples as lists (msgpack arrays arrive as tuples)."""
    if isinstance(value, (list, tuple)):
        return [lists(v) for v in value]
    if isinstance(value, dict):
        return {k: lists(v) for k, v in value.items()}
    return value


def report(name, got, expected):
    got = lists(got)
    ok = got == expected
    RESULTS.append(ok)
    print(json.dumps({"check": name, "ok": ok, "detail": "got {!r}, expected {!r}".format(got, expected)}),
          flush=True)


async def remote_error(coro):
    try:
        return "no error: {!r}".format(await coro)
    except aiomas.RemoteException as e:
        lines = [l for l in str(e.remote_traceback).splitlines() if l.strip()]
        return lines[-1] if lines else ""


async def run(addr, codec_name):
    codec = aiomas_compat.codec_by_name(codec_name)
    service = ClientRoot()
    client = await aiomas.rpc.open_connection(addr, rpc_service=service, codec=codec)
    remote = client.remote
    report("add", await remote.add(1, 2), 3)
    report("add_keyword", await remote.add(b=2, a=1), 3)
    report("defaults_all_left_out", await remote.defaults(4), [4, 2, 3, "default"])
    report("defaults_keyword", await remote.defaults(4, c=6), [4, 2, 6, "default"])
    # The one place where the Rust service differs from peer_services.Calc (which answers
    # [4, None, 5, "x"]): an `Option` parameter reads an explicit None as None, like a left-out
    # one, and the implementation applies its default to both.
    report("defaults_none", await remote.defaults(4, None, 5, "x"), [4, 2, 5, "x"])
    report("gather", await remote.gather(1, 2, 3, k="v"), [1, [2, 3], {"k": "v"}])
    report("sub_mul", await remote.sub.mul(6, 7), 42)
    report("sub_deep_square", await remote.sub.deep.square(9), 81)
    report("fail", await remote_error(remote.fail("boom")), "ValueError: boom")
    report("call_me_back", await remote.call_me_back(service), "hello python-root")
    report("call_me_back_child", await remote.call_me_back(service.child), "hello python-child")
    await client.close()


async def main(addr, codec_name):
    try:
        await asyncio.wait_for(run(aiomas_compat.parse_addr(addr), codec_name), 60)
    except Exception:  # noqa: BLE001
        RESULTS.append(False)
        print(json.dumps({"check": "client_run", "ok": False, "detail": traceback.format_exc()}), flush=True)
    passed = sum(1 for r in RESULTS if r)
    failed = len(RESULTS) - passed
    print(json.dumps({"summary": {"passed": passed, "failed": failed}}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
