#!/usr/bin/env python3
"""A real ranking stage for Prism's demo and evaluation: implicit-feedback ALS (the `implicit` library)
trained on the same training split the student uses, evaluated on the held-out test split next to a
most-popular baseline, and the top-k UNSEEN items of every test user written out for explanation.

    .venv/bin/python scripts/ranker/train_ranker.py --data out/demo/data --output out/ranker

Writes `metrics.json` (HR@10, NDCG@10 of ALS and of most-popular, same users, same candidates) and
`rankings.jsonl` (per test user: the history the student will read, and the top-k unseen items with
their scores, best first). Why ALS from `implicit`: ML-100K is implicit-feedback-shaped once ratings
are read as interactions, ALS is the standard strong baseline for it, and `implicit` ships wheels
(no compiler) and trains here in seconds on 2 cores.
"""
import argparse
import json
import math
import os
import sys
from collections import Counter, defaultdict

# implicit runs its own threads: OpenBLAS's pool must be off before numpy loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from scipy.sparse import csr_matrix  # noqa: E402


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def interactions(samples):
    """(user -> set of items) seen in the train split: each train sample's history and its item."""
    seen = defaultdict(set)
    for s in samples:
        if s["split"] == "train":
            seen[s["user_id"]].update(s["history"])
            seen[s["user_id"]].add(s["item_id"])
    return seen


def metrics_at(ranked_lists, targets, k=10):
    hits, ndcg = 0, 0.0
    for ranked, target in zip(ranked_lists, targets):
        top = ranked[:k]
        if target in top:
            hits += 1
            ndcg += 1.0 / math.log2(top.index(target) + 2)
    n = max(1, len(targets))
    return {"hr@10": hits / n, "ndcg@10": ndcg / n, "users": len(targets)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a `prism data prepare` folder (samples.jsonl, catalog.jsonl)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--regularization", type=float, default=0.05)
    parser.add_argument("--alpha", type=float, default=20.0, help="confidence weight of an interaction")
    parser.add_argument("--top-k", type=int, default=10, help="unseen items written per test user")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from implicit.als import AlternatingLeastSquares

    samples = read_jsonl(os.path.join(args.data, "samples.jsonl"))
    catalog = {c["id"]: c for c in read_jsonl(os.path.join(args.data, "catalog.jsonl"))}
    seen = interactions(samples)
    users = sorted(seen)
    items = sorted(catalog)
    user_index = {u: i for i, u in enumerate(users)}
    item_index = {it: i for i, it in enumerate(items)}
    rows, cols = [], []
    for u, its in seen.items():
        for it in its:
            if it in item_index:
                rows.append(user_index[u])
                cols.append(item_index[it])
    matrix = csr_matrix((np.full(len(rows), args.alpha, dtype=np.float32), (rows, cols)), shape=(len(users), len(items)))
    model = AlternatingLeastSquares(factors=args.factors, iterations=args.iterations,
                                    regularization=args.regularization, random_state=args.seed)
    model.fit(matrix, show_progress=False)

    tests = [s for s in samples if s["split"] == "test" and s["user_id"] in user_index and s["item_id"] in item_index]
    popularity = Counter(cols)
    popular = [items[i] for i, _ in popularity.most_common()]
    als_lists, pop_lists, targets, rankings = [], [], [], []
    for s in tests:
        u = user_index[s["user_id"]]
        ids, scores = model.recommend(u, matrix[u], N=max(10, args.top_k), filter_already_liked_items=True)
        ranked = [items[i] for i in ids]
        als_lists.append(ranked)
        pop_lists.append([it for it in popular if it not in seen[s["user_id"]]][:10])
        targets.append(s["item_id"])
        rankings.append({"user_id": s["user_id"], "sample_id": s["sample_id"], "history": s["history"],
                         "held_out_item": s["item_id"],
                         "ranked": [{"item_id": it, "rank": r + 1, "score": float(sc)}
                                    for r, (it, sc) in enumerate(zip(ranked[:args.top_k], scores[:args.top_k]))]})
    report = {"ranker": f"implicit ALS (factors {args.factors}, iterations {args.iterations}, "
                        f"regularization {args.regularization}, alpha {args.alpha})",
              "als": metrics_at(als_lists, targets), "most_popular": metrics_at(pop_lists, targets),
              "train_users": len(users), "items": len(items), "interactions": int(matrix.nnz)}
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    with open(os.path.join(args.output, "rankings.jsonl"), "w", encoding="utf-8") as handle:
        for row in rankings:
            handle.write(json.dumps(row) + "\n")
    print(f"ALS:          HR@10 {report['als']['hr@10']:.4f}  NDCG@10 {report['als']['ndcg@10']:.4f}  ({len(targets)} test users)")
    print(f"most popular: HR@10 {report['most_popular']['hr@10']:.4f}  NDCG@10 {report['most_popular']['ndcg@10']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
