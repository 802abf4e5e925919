"""The baselines' data: the student's goldens, split and training subset, with ids for users, items and ratings.

The baselines read no text input: only who (user), what (item) and how much (rating) — the ID-based
setting of the explainable-recommendation literature. Row 0 of every table is "unknown" (a user or
item the training split never shows, a sample without a rating).
"""
from prism_student import data as D
from prism_student.tokenizer import train_bpe


def load_splits(distilled, samples_path=None, seed=0, max_train_samples=None, max_valid_samples=200):
    """(train, valid, test, ratings): the student's split of distilled.jsonl (`prism_student.data`) and the
    same seeded training subset; ratings maps sample id -> rating from the data folder's samples.jsonl."""
    goldens = D.read_jsonl(distilled)
    train, valid = D.split_samples(goldens, seed=seed)
    train = D.training_subset(train, max_train_samples, seed=seed)
    if max_valid_samples:
        valid = valid[:max_valid_samples]
    test = [g for g in goldens if g.get("split") == "test"]
    ratings = {}
    if samples_path:
        ratings = {s["sample_id"]: s["rating"] for s in D.read_jsonl(samples_path) if s.get("rating") is not None}
    return train, valid, test, ratings


def item_rows(samples):
    """Item id -> row >= 1 for the items the given (training) samples recommend; 0 stays unknown."""
    items = sorted({str(s["item_id"]) for s in samples}, key=D.user_sort_key)
    return {item: k + 1 for k, item in enumerate(items)}


def rating_row(rating):
    """Ratings 1-5 -> rows 1-5 (rounded, clamped); none -> 0."""
    if rating is None:
        return 0
    return min(5, max(1, int(round(float(rating)))))


def tokenizer_for(train, vocab_size):
    """A byte-level BPE (the student's construction) trained on the training explanations only."""
    return train_bpe((s["explanation"] for s in train), vocab_size=vocab_size)


def make_examples(samples, tokenizer, users, items, ratings, max_target_tokens):
    """One dict per sample: user, item and rating rows and `<s> explanation </s>` ids (truncated, `</s>` kept)."""
    targets = tokenizer.encode_batch([s["explanation"] for s in samples], add_special_tokens=True)
    return [{
        "sample_id": s.get("sample_id"), "user_id": str(s["user_id"]), "item_id": str(s["item_id"]),
        "user": users.get(str(s["user_id"]), 0), "item": items.get(str(s["item_id"]), 0),
        "rating": rating_row(ratings.get(s.get("sample_id"))),
        "ids": D.truncate_target(t.ids, max_target_tokens),
    } for s, t in zip(samples, targets)]
