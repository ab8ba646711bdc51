"""An aiomas 2.0.1 client that calls add(1, 2) with the given codec, for the test of a server
that speaks the other one.

    python wrong_codec_client.py HOST:PORT msgpack|json

Prints "result: <value>" or "error: <ExcType>: <message>", then exits. The call has a timeout
of 60 s, far above the test's own bound, so that a server that waits silently shows as a
TimeoutError rather than as a quick failure.
"""
import asyncio
import sys

import aiomas

import aiomas_compat


async def main(addr, codec_name):
    client = await aiomas.rpc.open_connection(
        aiomas_compat.parse_addr(addr), codec=aiomas_compat.codec_by_name(codec_name)
    )
    try:
        result = await asyncio.wait_for(client.remote.add(1, 2), 60)
        print("result: {!r}".format(result), flush=True)
    except Exception as exc:  # the test reads the type and the message
        print("error: {}: {}".format(type(exc).__name__, exc), flush=True)
    finally:
        await client.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
