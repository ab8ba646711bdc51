"""A bare aiomas 2.0.1 channel peer (no RPC layer), as aiomas's channel docs show it.

    python aiomas_channel_peer.py server HOST:PORT msgpack|json
    python aiomas_channel_peer.py client HOST:PORT msgpack|json

server: prints "listening on <addr>", then answers every request on every connection:
        "fail" with req.fail(ValueError(42)), anything else with req.reply(["echo", content]).
client: sends "ohai", then ["numbers", 1, 2.5], and prints "reply: <json of the reply>" for
        each; then sends "fail" and prints "error: <last line of the remote traceback>".
"""
import asyncio
import json
import sys

import aiomas

import aiomas_compat


async def serve(addr, codec):
    async def client_connected(channel):
        while True:
            try:
                req = await channel.recv()
            except ConnectionError:
                return
            if req.content == "fail":
                await req.fail(ValueError(42))
            else:
                await req.reply(["echo", req.content])

    server = await aiomas.channel.start_server(addr, client_connected, codec=codec)
    print("listening on " + aiomas_compat.format_addr(server.sockets[0].getsockname()), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


async def client(addr, codec):
    channel = await aiomas.channel.open_connection(addr, codec=codec)
    for content in ["ohai", ["numbers", 1, 2.5]]:
        reply = await channel.send(content)
        print("reply: " + json.dumps(reply), flush=True)
    try:
        await channel.send("fail")
    except aiomas.RemoteException as e:
        print("error: " + e.remote_traceback.strip().splitlines()[-1], flush=True)
    await channel.close()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("server", "client"):
        raise SystemExit(__doc__)
    mode, addr, codec = sys.argv[1], aiomas_compat.parse_addr(sys.argv[2]), aiomas_compat.codec_by_name(sys.argv[3])
    asyncio.run((serve if mode == "server" else client)(addr, codec))
