"""An aiomas 2.0.1 client that prints the content of error replies as aiomas hands it over.

    python error_content_client.py HOST:PORT msgpack|json NAME...

Calls each function NAME (with the argument "boom") and prints
"content: <JSON of RemoteException.remote_traceback>" for each, in order.
"""
import asyncio
import json
import sys

import aiomas

import aiomas_compat


async def main(addr, codec_name, names):
    client = await aiomas.rpc.open_connection(
        aiomas_compat.parse_addr(addr), codec=aiomas_compat.codec_by_name(codec_name)
    )
    for name in names:
        try:
            await getattr(client.remote, name)("boom")
            print("content: no error", flush=True)
        except aiomas.RemoteException as e:
            print("content: " + json.dumps(e.remote_traceback), flush=True)
    await client.close()


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
