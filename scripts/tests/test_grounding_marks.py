"""The shared vectors of Sources/PrismGrounding/GROUNDING.md (Tests/Fixtures/grounding/marks-vectors.json), also
checked by Tests/PrismGroundingTests/GroundingMarksTests.swift. No torch needed."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from prism_student import grounding_marks as G  # noqa: E402

VECTORS = json.load(open(os.path.join(ROOT, "Tests", "Fixtures", "grounding", "marks-vectors.json"), encoding="utf-8"))


def test_marks_and_format():
    assert VECTORS["format"] == G.FORMAT_NAME
    assert VECTORS["marks"] == list(G.MARKS)


def test_strip_and_forms():
    catalog = {c["id"]: c for c in VECTORS["catalog"]}
    for case in VECTORS["cases"]:
        assert G.strip(case["marked"]) == case["plain"]
        if "forms" in case:
            forms = G.allowed_forms([catalog[i] for i in case["history"]], catalog[case["item_id"]])
            assert forms == {k: case["forms"].get(k, []) for k in G.KINDS}, case["item_id"]


def test_spans():
    assert G.spans("<e:item>Casino</e> stars<e:person> Robert De Niro</e>, as in<e:title> Heat") == [
        ("item", "Casino"), ("person", "Robert De Niro"), ("title", "Heat")]
    assert G.spans("no marks <e:bogus> here") == []


def test_committed_marked_parity_fixture_regenerates():
    """PyTorch's GroundedLogitsProcessor on the committed marked student gives parity.json's tokens (the same
    file Tests/PrismExplainTests/MarkedStudentParityTests.swift checks the Swift worker against)."""
    import pytest
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from prism_student.infer import Student
    folder = os.path.join(ROOT, "Tests", "Fixtures", "student-marked")
    parity = json.load(open(os.path.join(folder, "parity.json"), encoding="utf-8"))
    catalog = {c["id"]: c for c in map(json.loads, open(os.path.join(folder, "catalog.jsonl"), encoding="utf-8"))}
    st = Student(os.path.join(folder, "model"))
    ablation = Student(os.path.join(folder, "no-user"))
    for case in parity["cases"]:
        s = case["sample"]
        tries = st.constraints([catalog[h] for h in s["history"][case["history_dropped"]:]], catalog[s["item_id"]])
        seq = st.generate_ids([case["input_ids"]], [case["user_id"]], constraints=[tries])[0]
        if (case["constrained"]["min_margin"] or 1) >= 1e-3:
            assert seq == case["constrained"]["ids"], (case["user_id"], case["text"])
        if (case["no_user"]["min_margin"] or 1) >= 1e-3:
            assert ablation.generate_ids([case["input_ids"]], [case["user_id"]], constraints=[tries])[0] == case["no_user"]["ids"]
        # Whatever the margins: every closed span writes an allowed form.
        forms = G.allowed_forms([catalog[h] for h in s["history"][case["history_dropped"]:]], catalog[s["item_id"]])
        marked = st.decode_marked(seq)
        closed = marked if marked.endswith("</e>") or "</e>" not in marked else marked[: marked.rindex("</e>") + 4]
        for kind, form in G.spans(closed):
            assert form in forms[kind], (kind, form, marked)


def test_a_span_left_open_at_the_length_limit_is_dropped():
    marks = [5, 6, 7, 8, 9, 10]  # opens (item, title, person, genre, era), then close
    words, name = [100, 101], [200, 201]
    assert G.drop_unclosed_span(words + [6] + name, marks) == words
    assert G.drop_unclosed_span(words + [6] + name + [10], marks) == words + [6] + name + [10]
    assert G.drop_unclosed_span(words + [5] + name + [10] + [7] + name, marks) == words + [5] + name + [10]
    assert G.drop_unclosed_span(words, marks) == words
