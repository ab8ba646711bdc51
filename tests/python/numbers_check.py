"""Checks numbers that Rust wrote, the way aiomas's codecs read and write them.

    python numbers_check.py DIR

DIR holds what the Rust test wrote:

* ``doubles.bits``: N doubles as big-endian IEEE 754 (the originals);
* ``doubles.json`` / ``doubles.msgpack``: the same list as Rust's JSON and msgpack codecs wrote it;
* ``decimals.txt``: one decimal literal per line (many not the shortest form of any double);
* ``texts.json``: one JSON text per line, written by Rust (typed NaN, infinities, big integers...).

Here Python (aiomas.codecs.JSON and aiomas.codecs.MsgPack) checks that it reads every double
bit for bit and writes the very same bytes, and that each line of ``texts.json`` is what
``json.dumps`` writes for what it reads. It writes ``decimals.bits``: the double Python reads
for each decimal literal. Prints "ok N" at the end; any mismatch fails with a message.
"""
import math
import struct
import sys

import aiomas.codecs

import aiomas_compat  # noqa: F401  (aiomas 2.0.1 MsgPack with msgpack >= 1.0)


def bits(xs):
    return struct.pack(">%dd" % len(xs), *xs)


def same(a, b):
    """Bit-for-bit equality of two lists of floats (any NaN equals any NaN)."""
    if len(a) != len(b):
        return "lengths %d and %d" % (len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if type(x) is not float or type(y) is not float:
            return "item %d: %r and %r" % (i, x, y)
        if math.isnan(x) and math.isnan(y):
            continue
        if struct.pack(">d", x) != struct.pack(">d", y):
            return "item %d: %r and %r" % (i, x, y)
    return None


def main(d):
    json_codec = aiomas.codecs.JSON()
    msgpack_codec = aiomas.codecs.MsgPack()
    raw = open(d + "/doubles.bits", "rb").read()
    originals = list(struct.unpack(">%dd" % (len(raw) // 8), raw))

    for name, codec in (("json", json_codec), ("msgpack", msgpack_codec)):
        rust = open(d + "/doubles." + name, "rb").read()
        problem = same(codec.decode(rust), originals)
        if problem:
            sys.exit("%s: Python reads Rust's doubles differently: %s" % (name, problem))
        if codec.encode(originals) != rust:
            mine = codec.encode(originals)
            at = next(i for i in range(min(len(mine), len(rust))) if mine[i] != rust[i])
            item = mine[:at].count(b",") if name == "json" else "?"
            sys.exit("%s: Python writes other bytes than Rust, from byte %d (item %s: %r): %r / %r"
                     % (name, at, item, originals[item] if item != "?" else None,
                        mine[at - 20:at + 20], rust[at - 20:at + 20]))

    decimals = open(d + "/decimals.txt").read().split()
    read = json_codec.decode(("[" + ", ".join(decimals) + "]").encode())
    open(d + "/decimals.bits", "wb").write(bits(read))

    lines = open(d + "/texts.json", "rb").read().split(b"\n")
    for line in lines:
        if line and json_codec.encode(json_codec.decode(line)) != line:
            sys.exit("json.dumps(json.loads(%r)) is %r"
                     % (line, json_codec.encode(json_codec.decode(line))))

    print("ok %d" % (len(originals) + len(decimals)), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
