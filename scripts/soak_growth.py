"""Growth of each process's RSS and open fds over a soak run (scripts/soak.sh): the mean of the last
three samples against the mean of the three samples right after the warm-up. Exit 1 when any grows
by more than --limit."""
import argparse
import csv
import sys
from collections import defaultdict


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("samples")
    parser.add_argument("--warmup", type=float, default=120, help="seconds ignored at the start")
    parser.add_argument("--limit", type=float, default=0.10, help="allowed growth (0.10 = 10 %%)")
    args = parser.parse_args()
    series = defaultdict(list)
    with open(args.samples) as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            series[row["process"]].append((float(row["t_s"]), float(row["rss_kb"]), float(row["fds"])))
    failed = False
    print("process        rss after warm-up  rss at end  growth   fds after warm-up  fds at end")
    for name in sorted(series):
        points = [p for p in series[name] if p[0] >= args.warmup]
        if len(points) < 6:
            print(f"{name:14} too few samples after the warm-up ({len(points)})")
            failed = True
            continue
        first, last = points[:3], points[-3:]
        rss0, rss1 = sum(p[1] for p in first) / 3, sum(p[1] for p in last) / 3
        fd0, fd1 = sum(p[2] for p in first) / 3, sum(p[2] for p in last) / 3
        growth = rss1 / rss0 - 1
        fd_growth = fd1 / fd0 - 1
        bad = growth > args.limit or fd_growth > args.limit
        failed |= bad
        print(f"{name:14} {rss0 / 1024:10.1f} MiB {rss1 / 1024:9.1f} MiB {growth * 100:+6.1f} %   {fd0:9.0f} {fd1:14.0f}"
              + ("   OVER THE LIMIT" if bad else ""))
    print("soak: " + ("FAILED" if failed else f"passed (no process grew more than {args.limit * 100:.0f} % after the warm-up)"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
