"""Makes aiomas 2.0.1's MsgPack and MsgPackBlosc codecs work with msgpack >= 1.0.

aiomas 2.0.1 decodes with ``msgpack.unpackb(..., encoding='utf-8')``. msgpack 1.0
dropped the ``encoding`` argument, so every frame a MsgPack peer receives raises
TypeError inside the protocol and the connection is closed. This module swaps in
a decoder with the old semantics:

* ``raw=False``: msgpack str -> Python str, bin -> bytes (what encoding='utf-8' did);
* ``strict_map_key=False``: any map key type is allowed, as msgpack < 1.0 allowed;
* ``use_list=False``: arrays become tuples, as aiomas asks.

MsgPackBlosc decodes with the same call after ``blosc.decompress``, so it gets
the same decoder behind python-blosc's decompression (blosc 1.x, installed by
scripts/python-env.sh).

Encoding needs no change. Import this module after aiomas and before making a
connection; importing it twice is harmless.
"""
import msgpack

import aiomas.codecs

NEEDS_PATCH = msgpack.version >= (1, 0, 0)


def _unpack(codec, data):
    return msgpack.unpackb(
        data,
        object_hook=codec.deserialize_obj,
        use_list=False,
        raw=False,
        strict_map_key=False,
    )


def _msgpack_decode(self, data):
    return _unpack(self, data)


def _msgpack_blosc_decode(self, data):
    import blosc
    return _unpack(self, blosc.decompress(bytes(data)))


if NEEDS_PATCH and not getattr(aiomas.codecs.MsgPack.decode, "_rpc_patched", False):
    _msgpack_decode._rpc_patched = True
    aiomas.codecs.MsgPack.decode = _msgpack_decode
    _msgpack_blosc_decode._rpc_patched = True
    aiomas.codecs.MsgPackBlosc.decode = _msgpack_blosc_decode


def codec_by_name(name):
    """'msgpack', 'json' or 'msgpack-blosc' -> the aiomas codec class."""
    codecs = {
        "msgpack": aiomas.codecs.MsgPack,
        "json": aiomas.codecs.JSON,
        "msgpack-blosc": aiomas.codecs.MsgPackBlosc,
    }
    try:
        return codecs[name.lower()]
    except KeyError:
        raise SystemExit("unknown codec {!r}; use msgpack, json or msgpack-blosc".format(name))


def parse_addr(text):
    """'HOST:PORT' -> (host, port); 'unix:PATH' -> 'PATH' (aiomas takes a str as a Unix path)."""
    if text.startswith("unix:"):
        return text[len("unix:"):]
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit("bad address {!r}; use HOST:PORT or unix:PATH".format(text))
    return (host.strip("[]"), int(port))


def format_addr(sockname):
    """The inverse of parse_addr for a listening socket's name."""
    if isinstance(sockname, str):
        return "unix:" + sockname
    return "{}:{}".format(sockname[0], sockname[1])
