"""Reads MsgPackBlosc payloads (one hex line each) from a file, decodes each with aiomas 2.0.1's
MsgPackBlosc codec (python-blosc 1.x) and prints what the same codec writes for the decoded
message, in hex, one line each; then "done".

    python blosc_frames.py FILE
"""
import sys

import aiomas.codecs

import aiomas_compat  # noqa: F401  (msgpack >= 1.0 decode patch)


def main(path):
    codec = aiomas.codecs.MsgPackBlosc()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                msg = codec.decode(bytes.fromhex(line))
                print(codec.encode(msg).hex(), flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
