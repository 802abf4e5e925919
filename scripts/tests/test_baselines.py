"""Tests for the Table 3 baselines (scripts/baselines): Att2Seq and PEPLER.

Without torch (CI without the training extras) they are skipped; with torch they check what each model
must compute — attention weights, causality, padding, the unknown row, the prompt's effect — that both can
learn to say a different explanation per (user, item), and the command's output file for `prism eval`.
"""
import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from baselines import data as B  # noqa: E402
from baselines.att2seq import Att2Seq  # noqa: E402
from baselines.decoding import banned_tokens  # noqa: E402
from baselines.pepler import Pepler  # noqa: E402
from baselines.train import collate, losses  # noqa: E402
from prism_student.tokenizer import BOS, EOS, PAD  # noqa: E402

TEXTS = ["Heat is a crime film you will like.", "Casino comes from the 1990s, like Heat.",
         "Toy Story is an animation film.", "Given Casino in your history, Heat should appeal to you."]


def test_banned_tokens_are_the_continuations_of_a_repeated_prefix():
    assert banned_tokens([0, 5, 6, 7, 5, 6], 3) == {7}
    assert banned_tokens([0, 5, 6, 5, 6, 5, 6], 3) == {5}
    assert banned_tokens([0, 5, 6], 3) == set()
    assert banned_tokens([0, 5, 5], 2) == {5}
    assert banned_tokens([0, 5, 6, 7], 0) == set()


def test_rating_rows():
    assert [B.rating_row(r) for r in (None, 1, 4.6, 5, 9, 0)] == [0, 1, 5, 5, 5, 1]


def ids_batch(rows):
    n = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (n - len(r)) for r in rows])


def test_att2seq_attention_is_a_distribution_over_the_three_attributes():
    torch.manual_seed(0)
    m = Att2Seq(5, 7, 40, attribute_dim=8, hidden=16).eval()
    attrs = m.attributes(torch.tensor([1, 0]), torch.tensor([3, 6]), torch.tensor([5, 0]))
    assert attrs.shape == (2, 3, 8)
    assert torch.count_nonzero(attrs[1, 0]) == 0 and torch.count_nonzero(attrs[1, 2]) == 0  # unknown rows
    states = torch.randn(2, 4, 16)
    logits, weights = m.attend(attrs, states)
    assert logits.shape == (2, 4, 40) and weights.shape == (2, 4, 3)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4), atol=1e-6)


def test_right_padding_changes_no_real_position():
    torch.manual_seed(0)
    short, long = [BOS, 9, 10, EOS], [BOS, 11, 12, 13, 14, 15, EOS]
    users, items, ratings = torch.tensor([1, 2]), torch.tensor([1, 2]), torch.tensor([3, 4])
    for m in (Att2Seq(3, 3, 20, attribute_dim=8, hidden=16).eval(), Pepler(3, 3, 20, d_model=16, layers=2, heads=2).eval()):
        ids = ids_batch([short, long])
        alone = torch.tensor([short])
        if isinstance(m, Pepler):
            batch = m(users, items, ids, (ids != PAD).long())
            single = m(users[:1], items[:1], alone, torch.ones_like(alone))
        else:
            batch, single = m(users, items, ratings, ids[:, :-1]), m(users[:1], items[:1], ratings[:1], alone[:, :-1])
        assert torch.allclose(batch[0, : single.shape[1]], single[0], atol=1e-5), type(m).__name__


def test_pepler_is_causal_and_reads_its_prompts():
    torch.manual_seed(0)
    m = Pepler(4, 4, 30, d_model=16, layers=2, heads=2).eval()
    ids = torch.tensor([[BOS, 5, 6, 7, 8, EOS]])
    mask = torch.ones_like(ids)
    base = m(torch.tensor([1]), torch.tensor([2]), ids, mask)
    changed = ids.clone()
    changed[0, 3] = 20
    after = m(torch.tensor([1]), torch.tensor([2]), changed, mask)
    # Logits at position p predict ids[p + 1] from ids[: p + 1]: those before the change are untouched.
    assert torch.allclose(base[0, :3], after[0, :3], atol=1e-6)
    assert not torch.allclose(base[0, 3:], after[0, 3:], atol=1e-4)
    other_user = m(torch.tensor([3]), torch.tensor([2]), ids, mask)
    other_item = m(torch.tensor([1]), torch.tensor([3]), ids, mask)
    assert not torch.allclose(base, other_user, atol=1e-4) and not torch.allclose(base, other_item, atol=1e-4)
    assert torch.count_nonzero(m.users.weight[0]) == 0 and torch.count_nonzero(m.items.weight[0]) == 0


def tiny_data():
    tok = B.train_bpe(TEXTS * 5, vocab_size=300)
    samples = [{"sample_id": f"s{k}", "user_id": str(k % 2 + 1), "item_id": str(10 + k), "explanation": t}
               for k, t in enumerate(TEXTS)]
    users, items = B.D.user_rows(samples), B.item_rows(samples)
    ratings = {f"s{k}": 1 + k for k in range(len(TEXTS))}
    return tok, B.make_examples(samples, tok, users, items, ratings, 40), users, items


@pytest.mark.parametrize("kind", ["att2seq", "pepler"])
def test_each_model_learns_a_different_explanation_per_user_and_item(kind):
    torch.manual_seed(0)
    tok, examples, users, items = tiny_data()
    vocab = tok.get_vocab_size()
    m = (Att2Seq(len(users) + 1, len(items) + 1, vocab, attribute_dim=16, hidden=64, dropout=0.0) if kind == "att2seq"
         else Pepler(len(users) + 1, len(items) + 1, vocab, d_model=64, layers=2, heads=2, dropout=0.0))
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    rows, ids = collate(examples, range(len(examples)), "cpu")
    before = None
    for _ in range(300):
        text, total, n = losses(m, rows, ids, 0.01)
        before = before if before is not None else float(text.detach())
        opt.zero_grad()
        total.backward()
        opt.step()
    assert float(text.detach()) < before / 20
    m.eval()
    out = m.generate(rows["user"], rows["item"], 40) if kind == "pepler" else \
        m.generate(rows["user"], rows["item"], rows["rating"], 40)
    assert [tok.decode(r, skip_special_tokens=True).strip() for r in out.tolist()] == TEXTS
    assert n == int((ids[:, 1:] != PAD).sum())


def test_unknown_rows_stay_zero_through_training():
    torch.manual_seed(0)
    tok, examples, users, items = tiny_data()
    examples[0]["user"], examples[1]["item"] = 0, 0
    m = Att2Seq(len(users) + 1, len(items) + 1, tok.get_vocab_size(), attribute_dim=8, hidden=16)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2, weight_decay=0.0)
    rows, ids = collate(examples, range(len(examples)), "cpu")
    for _ in range(5):
        _, total, _ = losses(m, rows, ids, 0.0)
        opt.zero_grad()
        total.backward()
        opt.step()
    assert torch.count_nonzero(m.users.weight[0]) == 0 and torch.count_nonzero(m.items.weight[0]) == 0


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


@pytest.mark.parametrize("kind", ["att2seq", "pepler"])
def test_the_command_writes_one_explanation_per_test_sample(tmp_path, kind):
    distilled, samples = [], []
    for u in range(1, 7):
        for k in range(6):
            split = "test" if k == 5 else ("valid" if k == 4 else "train")
            sid = f"u{u}-i{k}"
            distilled.append({"sample_id": sid, "user_id": str(u), "item_id": str(k), "history": [], "split": split,
                              "explanation": TEXTS[(u + k) % len(TEXTS)]})
            samples.append({"sample_id": sid, "user_id": str(u), "item_id": str(k), "rating": 1 + (u + k) % 5})
    write_jsonl(tmp_path / "distilled.jsonl", distilled)
    write_jsonl(tmp_path / "samples.jsonl", samples)
    out = tmp_path / kind
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "train_baseline.py"), "--model", kind,
                          "--distilled", str(tmp_path / "distilled.jsonl"), "--samples", str(tmp_path / "samples.jsonl"),
                          "--output", str(out), "--epochs", "2", "--d-model", "16", "--layers", "1",
                          "--vocab-size", "300", "--max-train-samples", "20", "--threads", "1", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in open(out / "outputs.jsonl")]
    assert [r["sample_id"] for r in rows] == [d["sample_id"] for d in distilled if d["split"] == "test"]
    assert all(isinstance(r["explanation"], str) for r in rows)
    summary = json.load(open(out / "summary.json"))
    # The student's subset: 20 of the 24 train samples, the same seeded choice.
    assert summary["train_samples"] == 20 and summary["steps"] > 0 and len(summary["history"]) == 2


def test_bart_zero_shot_explains_every_test_sample_from_the_student_input(tmp_path):
    fixture = os.path.join(ROOT, "Tests", "Fixtures", "student")
    goldens = [json.loads(line) for line in open(os.path.join(fixture, "distilled.jsonl"))]
    for k, g in enumerate(goldens):
        g["split"] = "test" if k % 60 == 0 else "train"
    write_jsonl(tmp_path / "distilled.jsonl", goldens)
    out = tmp_path / "zero-shot.jsonl"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "baselines", "bart_zero_shot.py"),
                          "--init", os.path.join(fixture, "with-user"), "--distilled", str(tmp_path / "distilled.jsonl"),
                          "--catalog", os.path.join(fixture, "catalog.jsonl"), "--output", str(out),
                          "--max-input-tokens", "64", "--max-new-tokens", "6", "--batch", "4"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in open(out)]
    assert [r["sample_id"] for r in rows] == [g["sample_id"] for g in goldens if g["split"] == "test"]
    assert all(isinstance(r["explanation"], str) for r in rows)
