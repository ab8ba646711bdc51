"""Runs a command and writes its CPU time and peak RSS, from the kernel's rusage of that one
process (os.wait4), to a JSON file: the benchmark's simulator wrapper.

    python rusage_of.py OUT.json CMD [ARGS...]
"""

import json
import os
import signal
import subprocess
import sys


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(cmd)
    # Pass a SIGTERM on to the simulator, and still record it.
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    _, status, ru = os.wait4(child.pid, 0)
    with open(out + ".tmp", "w") as f:
        json.dump({
            "cpu_s": ru.ru_utime + ru.ru_stime,
            "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime,
            "peak_rss_mb": ru.ru_maxrss / 1024,
            "status": os.waitstatus_to_exitcode(status),
        }, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
