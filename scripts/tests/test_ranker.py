"""The ranker's evaluation (scripts/ranker/train_ranker.py): HR@10 and NDCG@10 by hand, and the
training interactions taken from the train split only."""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ranker"))
import train_ranker as R  # noqa: E402


def test_hit_rate_and_ndcg_at_10():
    ranked = [["a", "b", "c"], ["x", "y", "z"], [str(i) for i in range(20)]]
    targets = ["b", "q", "15"]  # rank 2, missing, beyond 10
    m = R.metrics_at(ranked, targets)
    assert m["users"] == 3
    assert math.isclose(m["hr@10"], 1 / 3)
    assert math.isclose(m["ndcg@10"], (1 / math.log2(3)) / 3)


def test_interactions_come_from_the_train_split_only():
    samples = [
        {"user_id": "u", "split": "train", "history": ["1", "2"], "item_id": "3"},
        {"user_id": "u", "split": "test", "history": ["2", "3"], "item_id": "9"},
        {"user_id": "v", "split": "valid", "history": ["4"], "item_id": "5"},
    ]
    seen = R.interactions(samples)
    assert seen == {"u": {"1", "2", "3"}}
