#!/usr/bin/env python3
"""A ranking service in front of Prism: it reads a ranker's top unseen items per user (the
`rankings.jsonl` of scripts/ranker/train_ranker.py), publishes one explanation request per (user,
top item) through the broker with many requests in flight (prism_client.AsyncClient), and prints a
progress bar, p50/p95 latency, explanations/s and a few explanations with the ranker's pick, rank and
score. `--unknown-users N` sends the last N users as users nobody has seen (cold start).

    python clients/python/examples/ranking_service.py --broker tcp://127.0.0.1:5555 \
        --rankings out/ranker/rankings.jsonl --catalog out/data/catalog.jsonl --top 1 --concurrency 16
"""
import argparse
import asyncio
import json
import statistics
import sys
import time

from prism_client import AsyncClient, ExplainRequest, PrismError


def progress(done, total, width=40):
    filled = int(width * done / max(1, total))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


async def run(args):
    with open(args.rankings, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()][: args.users]
    titles = {}
    if args.catalog:
        with open(args.catalog, encoding="utf-8") as handle:
            titles = {str(item["id"]): item.get("title", "") for item in map(json.loads, handle) if item}
    for row in rows[len(rows) - min(args.unknown_users, len(rows)):] if args.unknown_users else []:
        row["user_id"] = "new-" + str(row["user_id"])  # a user the student was never trained on
    jobs = [(row, entry) for row in rows for entry in row["ranked"][: args.top]]
    latencies, results, failures = [], [], []
    limit = asyncio.Semaphore(args.concurrency)

    async def explain(client, row, entry):
        async with limit:
            request = ExplainRequest(user_id=row["user_id"], history_item_ids=row["history"], item_id=entry["item_id"],
                                     ranker=args.ranker, rank=entry["rank"], score=entry["score"])
            started = time.monotonic()
            try:
                reply = await client.explain(request, timeout_ms=args.timeout_ms)
            except PrismError as error:
                failures.append(error)
                return
            latencies.append((time.monotonic() - started) * 1000)
            results.append((row, entry, reply))
            progress(len(results) + len(failures), len(jobs))

    started = time.monotonic()
    async with AsyncClient(args.broker) as client:
        await asyncio.gather(*(explain(client, row, entry) for row, entry in jobs))
    elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    # Known users first, then a third of the lines for cold-start ones.
    shown = [r for r in results if not r[2].cold_start][: args.show - args.show // 3]
    shown += [r for r in results if r[2].cold_start][: args.show - len(shown)]
    for row, entry, reply in shown:
        ranker, rank, score = reply.ranking or ("?", entry["rank"], entry["score"])
        title = titles.get(str(entry["item_id"]), "")
        print(f"user {row['user_id']} | {ranker} pick #{rank} (score {score:.3f}): {title or entry['item_id']} | "
              f"cold start: {'yes' if reply.cold_start else 'no'} | {reply.grounding}")
        print(f"    → {reply.explanation}")
    if latencies:
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
        print(f"{len(results)} explanations, {len(failures)} failed; p50 {statistics.median(latencies):.0f} ms, "
              f"p95 {p95:.0f} ms, {len(results) / elapsed:.1f} explanations/s")
    for error in failures[:3]:
        print(f"failed: {error}", file=sys.stderr)
    return 0 if results and not failures else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default="tcp://127.0.0.1:5555")
    parser.add_argument("--rankings", required=True)
    parser.add_argument("--users", type=int, default=200, help="test users taken from the rankings")
    parser.add_argument("--top", type=int, default=1, help="explained items per user, best first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout-ms", type=int, default=30_000)
    parser.add_argument("--show", type=int, default=8)
    parser.add_argument("--catalog", help="catalog.jsonl: print the picked items' titles")
    parser.add_argument("--unknown-users", type=int, default=0, help="the last N users are sent as users nobody has seen")
    parser.add_argument("--ranker", default="als", help="the ranker's name, sent with each request and echoed back")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
