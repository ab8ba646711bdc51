"""An aiomas 2.0.1 client that checks how a server carries 128-bit integers.

    python int128_client.py HOST:PORT msgpack|json

The server offers typed/double(x) and typed/double_u(x) (a #[service], x: i128 and u128) and
double_dyn(x) (a ServiceDict function reading x as i128). Prints one JSON object per check,
{"check": name, "ok": bool, "detail": str}, and exits 1 if any check failed.
"""
import asyncio
import json
import re
import sys
import traceback

import aiomas

import aiomas_compat

RESULTS = []


def report(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print(json.dumps({"check": name, "ok": bool(ok), "detail": str(detail)}), flush=True)


async def expect_int(name, coro, want):
    try:
        got = await coro
    except Exception as e:  # noqa: BLE001
        report(name, False, repr(e))
        return
    # An int, not the 16 bytes of a bin, and the exact number.
    report(name, type(got) is int and got == want, "{!r} ({})".format(got, type(got).__name__))


async def expect_error(name, coro, pattern):
    try:
        got = await coro
    except aiomas.RemoteException as e:
        lines = [l for l in str(e.remote_traceback).splitlines() if l.strip()]
        last = lines[-1] if lines else ""
        report(name, re.search(pattern, last) is not None, last)
    else:
        report(name, False, "no error, got {!r}".format(got))


async def run(addr, codec_name):
    codec = aiomas_compat.codec_by_name(codec_name)
    client = await aiomas.rpc.open_connection(addr, codec=codec)
    r = client.remote
    t = r.typed
    for fn, f in (("double", t.double), ("double_dyn", r.double_dyn)):
        await expect_int(fn + "_small", f(21), 42)
        await expect_int(fn + "_negative", f(-2**62), -2**63)
        await expect_int(fn + "_to_u64", f(2**63 - 1), 2**64 - 2)
    await expect_int("double_u_small", t.double_u(2**31), 2**32)
    if codec_name == "json":
        # JSON carries every digit, both ways.
        await expect_int("double_wide", t.double(2**100), 2**101)
        await expect_int("double_wide_negative", t.double(-2**120), -2**121)
        await expect_int("double_dyn_wide", r.double_dyn(2**100), 2**101)
        await expect_int("double_u_wide", t.double_u(2**126), 2**127)
        await expect_error("double_overflow", t.double(2**126), r"overflow")
    else:
        # msgpack has no integer beyond 64 bits: the server says so instead of sending bytes.
        await expect_error("double_beyond_64_bits", t.double(2**63), r"beyond 64 bits")
        await expect_error("double_u_beyond_64_bits", t.double_u(2**64 - 1), r"beyond 64 bits")
    await client.close()


async def main(addr, codec_name):
    try:
        await asyncio.wait_for(run(aiomas_compat.parse_addr(addr), codec_name), 60)
    except Exception:  # noqa: BLE001
        report("client_run", False, traceback.format_exc())
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
