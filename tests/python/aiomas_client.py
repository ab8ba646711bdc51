"""An aiomas 2.0.1 RPC client that checks a server of the interop tree.

    python aiomas_client.py HOST:PORT|unix:PATH msgpack|json|msgpack-blosc

Prints one JSON object per check, {"check": name, "ok": bool, "detail": str},
then {"summary": {"passed": n, "failed": m}}; exits 1 if any check failed.
The server must offer: add, fail, echo, sleep_add, call_me_back, hang_up,
panic, hidden (not exposed), sub/mul and sub/deep/square.
"""
import asyncio
import json
import math
import re
import sys
import traceback

import aiomas
import msgpack

import aiomas_compat
from peer_services import ClientRoot

RESULTS = []


def report(name, ok, detail=""):
    RESULTS.append(ok)
    print(json.dumps({"check": name, "ok": bool(ok), "detail": str(detail)}), flush=True)


def last_line(exc):
    text = exc.remote_traceback
    lines = [l for l in str(text).splitlines() if l.strip()]
    return lines[-1] if lines else ""


async def expect_remote(name, coro, pattern):
    try:
        res = await coro
    except aiomas.RemoteException as e:
        line = last_line(e)
        report(name, re.fullmatch(pattern, line) is not None, line)
    else:
        report(name, False, "no error, got {!r}".format(res))


def echo_values(codec_name):
    values = [
        None, True, False,
        0, 1, -1, -32, -33, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32,
        -128, -129, -2**15, -2**31 - 1, -2**63, 2**63 - 1, 2**63, 2**64 - 1,
        1.5, -0.25, 1e100, 3.141592653589793,
        "", "ascii", "grüße, 日本語, \u00fc \U0001F600", "x" * 40, "y" * 300,
        [], [1, [2, [3, []]]], {}, {"k": "v", "nested": {"a": [1, 2, {"b": None}]}},
        [None, True, 1.5, "s", {"x": [-1]}],
        list(range(20)), {str(i): i for i in range(20)},
    ]
    if codec_name.startswith("msgpack"):
        values += [b"", b"\x00\x01\xff", bytes(range(256)), [b"in", {"bin": b"\x00"}], "z" * 70000]
    return values


def canonical(codec_name, value):
    """The bytes the codec writes for a value (tuples and lists write alike)."""
    if codec_name.startswith("msgpack"):
        return msgpack.packb(value, use_bin_type=True)
    return json.dumps(value).encode()


async def check_echo(remote, codec_name):
    bad = []
    for value in echo_values(codec_name):
        got = await remote.echo(value)
        if canonical(codec_name, got) != canonical(codec_name, value):
            bad.append("{!r} -> {!r}".format(value, got)[:200])
    report("echo_every_type_bytes_equal", not bad, "; ".join(bad))


async def connect(addr, codec, service=None):
    return await aiomas.rpc.open_connection(addr, rpc_service=service, codec=codec)


async def run(addr, codec_name):
    codec = aiomas_compat.codec_by_name(codec_name)
    service = ClientRoot()
    client = await connect(addr, codec, service)
    remote = client.remote

    report("add_positional", await remote.add(1, 2) == 3)
    report("add_keyword", await remote.add(a=1, b=2) == 3)
    report("sub_mul_mixed", await remote.sub.mul(3, b=5) == 15)
    report("sub_mul_keyword", await remote.sub.mul(a=3, b=4) == 12)
    report("sub_deep_square", await remote.sub.deep.square(7) == 49)
    await expect_remote("error_value_error", remote.fail("boom"), r"ValueError: boom")
    await expect_remote("error_not_found_root", remote.nope(), r'LookupError: Name "nope" not found in ""')
    await expect_remote("error_not_found_sub", remote.sub.nope(), r'LookupError: Name "nope" not found in "sub"')
    await expect_remote("error_not_found_deep", remote.sub.deep.nope(),
                        r'LookupError: Name "nope" not found in "sub/deep"')
    await expect_remote("error_not_exposed", remote.hidden(), r'LookupError: "([\w.]+\.)?\w+\.hidden" is not exposed')
    await expect_remote("error_not_callable", remote.sub(), r"TypeError: '\w+' object is not callable")
    await expect_remote("error_wrong_args", remote.add(1), r"TypeError: .*")
    await expect_remote("error_panic", remote.panic(), r"\w+: .*")
    report("alive_after_panic", await remote.add(2, 3) == 5)
    report("callback_root", await remote.call_me_back(service) == "hello python-root")
    report("callback_child", await remote.call_me_back(service.child) == "hello python-child")

    results = await asyncio.gather(*(remote.sleep_add(i, i, 1) for i in range(100)))
    report("concurrent_100", list(results) == [2 * i for i in range(100)])

    await check_echo(remote, codec_name)
    await client.close()

    # The server hangs up while a call is pending.
    other = await connect(addr, codec)
    try:
        await other.remote.hang_up()
    except ConnectionResetError as e:
        report("reset_by_server", True, repr(e))
    except Exception as e:  # noqa: BLE001
        report("reset_by_server", False, repr(e))
    else:
        report("reset_by_server", False, "no error")
    await other.close()

    # We hang up while a call is pending: the local call fails, the server lives on.
    other = await connect(addr, codec)
    pending = asyncio.ensure_future(other.remote.sleep_add(1, 2, 60000))
    await asyncio.sleep(0)  # let the request go out
    await other.close()
    try:
        await pending
    except ConnectionResetError as e:
        report("reset_by_client", True, repr(e))
    except Exception as e:  # noqa: BLE001
        report("reset_by_client", False, repr(e))
    else:
        report("reset_by_client", False, "no error")

    again = await connect(addr, codec)
    report("server_alive_after_resets", await again.remote.add(20, 22) == 42)
    await again.close()


async def main(addr, codec_name):
    try:
        await asyncio.wait_for(run(aiomas_compat.parse_addr(addr), codec_name), 60)
    except Exception:  # noqa: BLE001
        report("client_run", False, traceback.format_exc())
    passed = sum(1 for r in RESULTS if r)
    failed = len(RESULTS) - passed
    print(json.dumps({"summary": {"passed": passed, "failed": failed}}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
