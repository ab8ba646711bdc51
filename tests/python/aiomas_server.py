"""An aiomas 2.0.1 RPC server for the interop tests.

    python aiomas_server.py HOST:PORT|unix:PATH msgpack|json|msgpack-blosc [points]

With "points", the connection registers the Point serializer first (extra_serializers),
so that Points travel as {"__type__": [0, [x, y]]} and service references take typeid 1.

Prints "listening on <addr>" (with the real port) once it accepts connections,
and "connection reset: <exc>" whenever a client's connection ends.
"""
import asyncio
import sys

import aiomas

import aiomas_compat
from peer_services import Calc, point_serializer


async def main(addr, codec_name, points=False):
    service = Calc()

    def connected(rpc_client):
        service.clients.append(rpc_client)

        def reset(exc):
            print("connection reset: {!r}".format(exc), flush=True)
            if rpc_client in service.clients:
                service.clients.remove(rpc_client)

        rpc_client.on_connection_reset(reset)

    server = await aiomas.rpc.start_server(
        aiomas_compat.parse_addr(addr),
        service,
        client_connected_cb=connected,
        codec=aiomas_compat.codec_by_name(codec_name),
        extra_serializers=[point_serializer] if points else [],
    )
    print("listening on " + aiomas_compat.format_addr(server.sockets[0].getsockname()), flush=True)
    # Run until killed, or until stdin closes (the test harness went away).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["points"]):
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], points=sys.argv[3:] == ["points"]))
