"""Loading distilled goldens + the catalog, user rows, and tokenized examples (no torch needed)."""
import hashlib
import json
import random

from .input_format import fit_student_input


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_catalog(path):
    return {str(item["id"]): item for item in read_jsonl(path)}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def user_sort_key(user):
    """Numeric ids in numeric order, then the others in string order (deterministic)."""
    return (0, int(user), user) if user.isdigit() else (1, 0, user)


def user_rows(samples):
    """External user id -> row >= 1 for the users of the given (training) samples, sorted by `user_sort_key`.
    Row 0 is the zero "unknown user" vector."""
    users = sorted({str(s["user_id"]) for s in samples}, key=user_sort_key)
    return {u: i + 1 for i, u in enumerate(users)}


def split_samples(samples, valid_fraction=0.05, seed=0):
    """(train, valid): the `split` field; when no sample is marked `valid`, a seeded held-out slice of train."""
    train = [s for s in samples if s.get("split", "train") == "train"]
    valid = [s for s in samples if s.get("split") == "valid"]
    if not valid and len(train) > 1:
        order = list(range(len(train)))
        random.Random(seed).shuffle(order)
        k = max(1, int(round(len(train) * valid_fraction)))
        held = set(order[:k])
        valid = [s for i, s in enumerate(train) if i in held]
        train = [s for i, s in enumerate(train) if i not in held]
    return train, valid


def training_subset(train, max_samples, seed=0):
    """At most `max_samples` of the training samples, a seeded choice in their original order (every system
    trained for a comparison sees the same ones)."""
    if not max_samples or max_samples >= len(train):
        return train
    keep = sorted(random.Random(seed).sample(range(len(train)), max_samples))
    return [train[i] for i in keep]


def truncate_target(ids, max_tokens):
    """`<s> explanation </s>` ids truncated to `max_tokens` keeping the final `</s>`."""
    return ids if len(ids) <= max_tokens else ids[: max_tokens - 1] + [ids[-1]]


def target_ids(tokenizer, text, max_tokens):
    """`<s> explanation </s>`, truncated to `max_tokens` ids keeping the final `</s>`."""
    return truncate_target(tokenizer.encode(text, add_special_tokens=True).ids, max_tokens)


def target_text(sample, marks):
    """The training target: the marked golden (GROUNDING.md) for a marked student, else the plain one."""
    if marks:
        if "marked" not in sample:
            raise ValueError(f"sample {sample.get('sample_id')} has no 'marked' golden (distill again, or --marks off)")
        return sample["marked"]
    return sample["explanation"]


def make_examples(samples, catalog, tokenizer, rows, max_input_tokens, max_target_tokens, with_text=False,
                  marks=False):
    """One dict per sample: input_ids (budgeted student input), labels (target ids), user_row (0 if unknown)."""
    from .input_format import FittedInput, student_input
    out = []
    # Most inputs fit whole: encode all full texts in one (parallel) batch and budget only the others.
    full_texts = [student_input(s, catalog) for s in samples]
    full_ids = [e.ids for e in tokenizer.encode_batch(full_texts, add_special_tokens=True)]
    targets = [e.ids for e in tokenizer.encode_batch([target_text(s, marks) for s in samples], add_special_tokens=True)]
    for s, text, ids, target in zip(samples, full_texts, full_ids, targets):
        if len(ids) <= max_input_tokens:
            fitted = FittedInput(text, 0, len(s["history"]), len(ids))
        else:
            fitted = fit_student_input(s, catalog, tokenizer, max_input_tokens)
            ids = tokenizer.encode(fitted.text, add_special_tokens=True).ids
        if len(ids) > max_input_tokens:  # even "History: (none)" is too long: hard cut, keep </s>
            ids = ids[: max_input_tokens - 1] + [ids[-1]]
        ex = {
            "sample_id": s.get("sample_id"),
            "user_id": str(s["user_id"]),
            "user_row": rows.get(str(s["user_id"]), 0),
            "input_ids": ids,
            "labels": truncate_target(target, max_target_tokens),
            "dropped": fitted.dropped,
        }
        if with_text:
            ex["text"] = fitted.text
            ex["explanation"] = s["explanation"]
        out.append(ex)
    return out


def corpus_texts(samples, catalog):
    """Tokenizer training corpus: every (unbudgeted) student input and every explanation."""
    from .input_format import student_input
    for s in samples:
        yield student_input(s, catalog)
        yield s["explanation"]
