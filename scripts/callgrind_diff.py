"""Per-call inclusive cost of each function: the difference of two `callgrind_annotate
--inclusive=yes` listings taken at two call counts, divided by the difference in calls.

    python3 callgrind_diff.py small.txt large.txt DELTA_CALLS [TOP] [inclusive|self]
"""
import re
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$")


def load(path):
    costs = {}
    started = False
    with open(path, errors="replace") as f:
        for line in f:
            if "file:function" in line:
                started = True
                continue
            if not started:
                continue
            m = LINE.match(line)
            if not m:
                continue
            name = re.sub(r"\s*\[[^\]]*\]\s*$", "", m.group(2)).strip()
            name = re.sub(r"^\S*?:(?=[^:])", "", name, count=1) if name.startswith(("???:", "/")) else name
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def main():
    small, large, delta = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    kind = sys.argv[5] if len(sys.argv) > 5 else "inclusive"
    rows = sorted(((large[k] - small.get(k, 0)) / delta, k) for k in large)
    rows.reverse()
    # Drop the frames that only wrap everything (main, block_on, ...): they say nothing.
    total = rows[0][0] if rows else 0
    if kind == "inclusive":
        rows = [r for r in rows if r[0] < 0.99 * total]
    print(f"   {'Ir/call':>9}  {kind}, per call")
    for per_call, name in rows[:top]:
        if per_call < 1:
            break
        print(f"   {per_call:9.0f}  {name[:160]}")


if __name__ == "__main__":
    main()
