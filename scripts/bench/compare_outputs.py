#!/usr/bin/env python3
"""How many of two systems' explanations are identical, case by case, in one `prism eval --output` folder:
outputs-A.jsonl against outputs-B.jsonl, and the same for each mode suffix (-free, -student).

Usage: compare_outputs.py EVAL_FOLDER A B
"""
import json
import sys
from pathlib import Path


def read(path):
    with open(path) as f:
        return {row["sample_id"]: row["explanation"] for row in map(json.loads, f)}


def main():
    folder, a, b = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    for suffix in ("", "-free", "-student"):
        left, right = folder / f"outputs-{a}{suffix}.jsonl", folder / f"outputs-{b}{suffix}.jsonl"
        if not (left.exists() and right.exists()):
            continue
        x, y = read(left), read(right)
        common = sorted(set(x) & set(y))
        same = sum(x[k] == y[k] for k in common)
        share = 100 * same / max(1, len(common))
        print(f"{(suffix[1:] or 'served'):8s} identical {same}/{len(common)} = {share:.1f} %")
        for k in [k for k in common if x[k] != y[k]][:3]:
            print(f"    {k}\n      {a}: {x[k]}\n      {b}: {y[k]}")


if __name__ == "__main__":
    main()
