"""GPTScore of scripts/eval/semantic_scores.py on a tiny random GPT-2: equal to the mean token
log-likelihood that transformers' own loss gives over the candidate's positions (with PyTorch only)."""
import importlib.util
import os
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("semantic_scores", os.path.join(os.path.dirname(HERE), "eval", "semantic_scores.py"))
semantic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(semantic)


def tiny_lm():
    words = "explain in one or two sentences faithfully to the facts below why user would like recommended film . " \
            "history : heat casino recommended explanation given your is a crime , drama of should appeal you".split()
    vocab = {"<unk>": 0, "<s>": 1}
    for w in words:
        vocab.setdefault(w, len(vocab))
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = tokenizers.normalizers.Lowercase()
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([tokenizers.pre_tokenizers.Whitespace()])
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=2, n_head=2)
    return fast, transformers.GPT2LMHeadModel(config).eval()


def test_gpt_score_is_the_mean_log_likelihood_of_the_candidate():
    tok, model = tiny_lm()
    context = "History: Heat\nRecommended: Casino"
    candidate = "Given Heat in your history, the crime drama of Casino should appeal to you."
    score = semantic.gpt_score(tok, model, context, candidate)
    prompt_ids = tok(semantic.INSTRUCTION + context + "\nExplanation:", add_special_tokens=False).input_ids
    cand_ids = tok(" " + candidate, add_special_tokens=False).input_ids
    ids = torch.tensor([[tok.bos_token_id] + prompt_ids + cand_ids])
    labels = ids.clone()
    labels[0, : 1 + len(prompt_ids)] = -100
    with torch.no_grad():
        loss = model(ids, labels=labels).loss.item()
    assert score == pytest.approx(-loss, abs=1e-5)
    # A candidate the context does not support scores differently (the figure depends on the text).
    assert semantic.gpt_score(tok, model, context, "you you you you you") != pytest.approx(score, abs=1e-6)


def test_an_empty_candidate_scores_zero_without_reaching_bert_score():
    seen = []

    def scorer(candidates, references):
        assert all(c.strip() for c in candidates), "bert-score cannot encode an empty candidate"
        seen.extend(candidates)
        return [0.5 for _ in candidates]

    pairs = [("Heat is a crime film.", "Heat is a crime film."), ("", "Casino is a drama."), ("Jaws.", "Jaws is...")]
    assert semantic.mean_bertscore(pairs, scorer) == pytest.approx(100 * (0.5 + 0 + 0.5) / 3)
    assert seen == ["Heat is a crime film.", "Jaws."]
    assert semantic.mean_bertscore([("  ", "x")], scorer) == 0
