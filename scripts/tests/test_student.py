"""Tests for the student training code (scripts/prism_student).

Without torch (CI): the input-format reference and the token budget against committed expectations.
With torch + transformers: a few-step training run, export, reload, row 0, user dependence, resume, and the
committed parity fixtures (Tests/Fixtures/student) regenerated bit for bit.
"""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "student")

from prism_student.input_format import clean, render_item, student_input  # noqa: E402

TOY = {"id": "1", "title": "Toy Story", "year": 1995, "genres": ["Animation", "Children's", "Comedy"],
       "directors": ["John Lasseter"], "actors": ["Tom Hanks", "Tim Allen"]}
HEAT = {"id": "6", "title": "Heat", "year": 1995, "genres": ["Action", "Crime", "Thriller"],
        "directors": ["Michael Mann"], "actors": ["Al Pacino", "Robert De Niro", "Val Kilmer", "Jon Voight"]}
CASINO = {"id": "16", "title": "Casino", "year": 1995, "genres": ["Crime", "Drama"],
          "directors": ["Martin Scorsese"], "actors": ["Robert De Niro"]}
CATALOG = {i["id"]: i for i in (TOY, HEAT, CASINO)}


def test_item_rendering_matches_swift_expectations():
    # The same expectations as Tests/PrismDataTests/PromptTests.swift.
    assert render_item(TOY) == "Toy Story (1995; Animation, Children's, Comedy; dir. John Lasseter; with Tom Hanks, Tim Allen)"
    assert render_item(HEAT) == "Heat (1995; Action, Crime, Thriller; dir. Michael Mann; with Al Pacino, Robert De Niro, Val Kilmer)"
    assert render_item({"id": "x", "title": "  Two\n lines\t"}) == "Two lines"
    assert render_item({"id": "x", "title": "", "genres": ["", "Noir"]}) == "x (Noir)"
    assert render_item(HEAT, max_genres=1, max_actors=1) == "Heat (1995; Action; dir. Michael Mann; with Al Pacino)"
    assert clean(" a \x0b\x0c b\r\n") == "a b"


def test_student_input_text():
    sample = {"history": ["1", "6"], "item_id": "16"}
    text = student_input(sample, CATALOG)
    assert text == (
        "History: Toy Story (1995; Animation, Children's, Comedy; dir. John Lasseter; with Tom Hanks, Tim Allen) | "
        "Heat (1995; Action, Crime, Thriller; dir. Michael Mann; with Al Pacino, Robert De Niro, Val Kilmer)\n"
        "Recommended: Casino (1995; Crime, Drama; dir. Martin Scorsese; with Robert De Niro)")
    assert student_input({"history": [], "item_id": "16"}, CATALOG) == \
        "History: (none)\nRecommended: Casino (1995; Crime, Drama; dir. Martin Scorsese; with Robert De Niro)"
    assert student_input({"history": ["nope"], "item_id": "16"}, CATALOG).startswith("History: nope\n")
    budgeted = student_input(sample, CATALOG, budget=len(text) - 1)
    assert budgeted.startswith("History: Heat (1995;")
    assert student_input(sample, CATALOG, budget=10).startswith("History: (none)\n")


def _fixture_tokenizer():
    tokenizers = pytest.importorskip("tokenizers")
    return tokenizers.Tokenizer.from_file(os.path.join(FIXTURES, "with-user", "tokenizer.json"))


def test_token_budget_equals_linear_scan():
    from prism_student.input_format import fit_student_input, token_length
    tok = _fixture_tokenizer()
    length = token_length(tok)
    catalog = {it["id"]: it for it in map(json.loads, open(os.path.join(FIXTURES, "catalog.jsonl")))}
    catalog.update(CATALOG)
    ids = sorted(catalog)
    for k in range(60):
        sample = {"history": [ids[(k * 7 + j * 3) % len(ids)] for j in range(k % 9)] + (["unknown id"] if k % 5 == 0 else []),
                  "item_id": ids[k % len(ids)]}
        for budget in (8, 20, 30, 48, 64, 1000):
            fitted = fit_student_input(sample, catalog, tok, budget)
            assert fitted.text == student_input(sample, catalog, budget, length), (k, budget)
            assert fitted.length == length(fitted.text)
            assert fitted.dropped + fitted.kept == len(sample["history"])


def test_parity_inputs_match_committed_fixture():
    """The committed parity cases' input texts and ids are what the renderer + tokenizer produce now."""
    from prism_student.input_format import fit_student_input
    tok = _fixture_tokenizer()
    catalog = {it["id"]: it for it in map(json.loads, open(os.path.join(FIXTURES, "catalog.jsonl")))}
    manifest = json.load(open(os.path.join(FIXTURES, "with-user", "prism.json")))
    parity = json.load(open(os.path.join(FIXTURES, "parity.json")))
    assert manifest["input_format"]["name"] == "student-input/1"
    assert any(c["history_dropped"] > 0 for c in parity["cases"])
    for case in parity["cases"]:
        fitted = fit_student_input(case["sample"], catalog, tok, manifest["max_input_tokens"])
        assert fitted.text == case["text"]
        assert fitted.dropped == case["history_dropped"]
        assert tok.encode(fitted.text).ids == case["input_ids"]
    # The committed behaviour: the user changes the with-user model's output, never the ablation's.
    assert all(g["with_user_differs"] for g in parity["groups"])
    assert not any(g["no_user_differs"] for g in parity["groups"])


# ---------------------------------------------------------------------------------------------------------
# With torch


@pytest.fixture(scope="module")
def torch_modules():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("safetensors")
    return torch


def _synthetic(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
    import make_student_fixtures as F
    items = F.catalog()
    rows = F.distilled(items, n_inputs=24)
    F.write_jsonl(str(tmp_path / "catalog.jsonl"), items)
    F.write_jsonl(str(tmp_path / "distilled.jsonl"), rows)
    return tmp_path / "distilled.jsonl", tmp_path / "catalog.jsonl"


def _train(tmp_path, name, extra):
    from prism_student import train
    distilled, catalog = _synthetic(tmp_path)
    out = tmp_path / name
    args = ["--distilled", str(distilled), "--catalog", str(catalog), "--output", str(out), "--from-scratch",
            "--d-model", "16", "--encoder-layers", "1", "--decoder-layers", "1", "--heads", "2", "--ffn", "32",
            "--vocab-size", "300", "--max-input-tokens", "40", "--max-target-tokens", "16", "--epochs", "2",
            "--batch-size", "8", "--lr", "3e-3", "--seed", "1", "--threads", "1", "--user-init-std", "1.0",
            "--show", "1", "--quiet"] + extra
    return out, train.run(train.parse_args(args))


def test_train_export_reload(tmp_path, torch_modules):
    torch = torch_modules
    from safetensors.torch import load_file
    from prism_student.infer import Student
    out, summary = _train(tmp_path, "with-user", [])
    assert summary["epochs"] == 2 and summary["steps"] > 0 and summary["valid_loss"] > 0
    for name in ("config.json", "model.safetensors", "tokenizer.json", "user_embeddings.safetensors", "users.json",
                 "prism.json", "words.txt"):
        assert (out / name).exists(), name
    # words.txt: the training goldens' whitespace-separated pieces, each once, sorted (the guard's vocabulary).
    from prism_student.export import golden_words
    words = (out / "words.txt").read_text(encoding="utf-8").splitlines()
    assert words == sorted(set(words)) and "directed" in words and "film." in words
    assert golden_words(["a b  a", "c\nb."]) == ["a", "b", "b.", "c"]
    cfg = json.load(open(out / "config.json"))
    assert cfg["model_type"] == "bart" and cfg["forced_bos_token_id"] == 0 and cfg["forced_eos_token_id"] == 2
    assert cfg["no_repeat_ngram_size"] == 3 and cfg["max_length"] == 17
    users = json.load(open(out / "users.json"))
    assert users == {"alice": 1, "bob": 2, "carol": 3}
    table = load_file(str(out / "user_embeddings.safetensors"))["user_embeddings"]
    assert table.shape == (4, 16) and table.dtype == torch.float32
    assert torch.count_nonzero(table[0]) == 0, "row 0 (unknown user) must stay zero after training"
    assert torch.count_nonzero(table[1:]) > 0
    weights = load_file(str(out / "model.safetensors"))
    assert "model.shared.weight" in weights and "lm_head.weight" not in weights
    manifest = json.load(open(out / "prism.json"))
    assert manifest["with_user_embeddings"] is True and manifest["input_format"]["name"] == "student-input/1"
    assert len(manifest["data"]["distilled_sha256"]) == 64 and manifest["max_input_tokens"] == 40

    st = Student(str(out))
    text = "History: Moon (1984; Drama; dir. Lee)\nRecommended: River (1997; Comedy; dir. Lee)"
    ids = st.encode_text(text)
    x = torch.tensor([ids])
    mask = torch.ones_like(x)
    dec = torch.tensor([[2, 0]])

    def logits(row):
        enc = st.model.encode(x, mask, torch.tensor([row]))
        return st.model.bart(encoder_outputs=enc, attention_mask=mask, decoder_input_ids=dec).logits

    with torch.no_grad():
        # Unknown user == row 0 == plain BART (no user term at all).
        plain = st.model.bart(input_ids=x, attention_mask=mask, decoder_input_ids=dec).logits
        assert torch.allclose(logits(st.row("nobody")), plain, atol=1e-6)
        assert not torch.allclose(logits(st.row("alice")), logits(st.row("bob")), atol=1e-4)
    seq, decoded = st.explain("alice", text)
    assert seq[:2] == [2, 0] and isinstance(decoded, str)


def test_ablation_ignores_user_and_resume(tmp_path, torch_modules):
    from prism_student import train
    from prism_student.infer import Student
    out, _ = _train(tmp_path, "no-user", ["--no-user", "--epochs", "1"])
    assert not (out / "user_embeddings.safetensors").exists() and not (out / "users.json").exists()
    assert json.load(open(out / "prism.json"))["with_user_embeddings"] is False
    st = Student(str(out))
    text = "History: (none)\nRecommended: Echo (1997; Action; dir. Kim)"
    assert st.explain("alice", text)[0] == st.explain("bob", text)[0] == st.explain(None, text)[0]
    # --resume continues after the saved epoch.
    distilled, catalog = tmp_path / "distilled.jsonl", tmp_path / "catalog.jsonl"
    summary = train.run(train.parse_args([
        "--distilled", str(distilled), "--catalog", str(catalog), "--output", str(out), "--resume",
        "--max-input-tokens", "40", "--max-target-tokens", "16", "--epochs", "2", "--batch-size", "8",
        "--threads", "1", "--show", "0", "--quiet"]))
    assert summary["epochs"] == 2 and len(summary["history"]) == 2


def test_committed_parity_fixture_regenerates(torch_modules):
    """PyTorch greedy outputs of the committed folders equal parity.json (this transformers/torch)."""
    from prism_student.infer import Student
    parity = json.load(open(os.path.join(FIXTURES, "parity.json")))
    students = {name: Student(os.path.join(FIXTURES, name)) for name in ("with-user", "no-user")}
    for case in parity["cases"]:
        for name, st in students.items():
            seq = st.generate_ids([case["input_ids"]], [case["user_id"]])[0]
            assert st.row(case["user_id"]) == case[name]["row"]
            if case[name]["min_margin"] is not None and case[name]["min_margin"] < 1e-3:
                continue  # a near-tie: not a stable expectation across library versions
            assert seq == case[name]["ids"], (case["user_id"], case["text"], name)
            assert st.decode(seq) == case[name]["text"]
    b = parity["batched"]
    assert students[b["model"]].generate_ids(b["inputs"], b["users"]) == b["sequences"]
