"""An aiomas 2.0.1 peer over TLS (asyncio's ssl=), for the TLS interop tests.

    python aiomas_tls_peer.py server ADDR CODEC CERT KEY [CLIENT_CA]
    python aiomas_tls_peer.py client ADDR CODEC CA [CERT KEY]

server: serves peer_services.Calc over TLS with the certificate chain CERT and key KEY;
        with CLIENT_CA it requires a client certificate signed by that CA. Prints
        "listening on <addr>", then serves until stdin closes.
client: connects over TLS trusting CA (with CERT/KEY as its client certificate), calls
        add(1, 2), sub/mul(3, b=5) and call_me_back(<its own service>), and prints
        "result: <json list>"; or "error: <exception>" and exits 1.
"""
import asyncio
import json
import ssl
import sys

import aiomas

import aiomas_compat
from peer_services import Calc, ClientRoot


async def server(addr, codec, cert, key, client_ca=None):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    srv = await aiomas.rpc.start_server(
        aiomas_compat.parse_addr(addr),
        Calc(),
        codec=aiomas_compat.codec_by_name(codec),
        ssl=ctx,
    )
    print("listening on " + aiomas_compat.format_addr(srv.sockets[0].getsockname()), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    srv.close()


async def client(addr, codec, ca, cert=None, key=None):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    service = ClientRoot()
    try:
        rpc = await aiomas.rpc.open_connection(
            aiomas_compat.parse_addr(addr),
            rpc_service=service,
            codec=aiomas_compat.codec_by_name(codec),
            ssl=ctx,
        )
        results = [
            await rpc.remote.add(1, 2),
            await rpc.remote.sub.mul(3, b=5),
            await rpc.remote.call_me_back(service),
        ]
        await rpc.close()
    except Exception as e:  # the test reads what went wrong
        print("error: {}: {}".format(type(e).__name__, e), flush=True)
        sys.exit(1)
    print("result: " + json.dumps(results), flush=True)


if __name__ == "__main__":
    mode, rest = sys.argv[1:2], sys.argv[2:]
    if mode == ["server"] and len(rest) in (4, 5):
        asyncio.run(server(*rest))
    elif mode == ["client"] and len(rest) in (3, 5):
        asyncio.run(client(*rest))
    else:
        raise SystemExit(__doc__)
