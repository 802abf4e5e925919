#!/usr/bin/env python3
"""Reference figures for Prism's Swift metrics, from the packages the field uses.

Reads JSON on stdin: {"pairs": [[reference, hypothesis], ...], "words": [...]}
Writes JSON on stdout:
  rouge:  per pair [R1, R2, RL, R1 stemmed, R2 stemmed, RL stemmed] F1 (rouge-score, default tokenizer)
  bleu1, bleu4: sacrebleu corpus BLEU (max order 1 / 4) of the hypotheses against the references
  tokens13a: sacrebleu's 13a tokenization of every hypothesis
  stems: nltk PorterStemmer().stem(word) (the stemmer rouge-score uses)
"""
import json
import sys

from nltk.stem import porter
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a


def main() -> None:
    data = json.load(sys.stdin)
    pairs = data.get("pairs", [])
    types = ["rouge1", "rouge2", "rougeL"]
    plain = rouge_scorer.RougeScorer(types, use_stemmer=False)
    stemmed = rouge_scorer.RougeScorer(types, use_stemmer=True)
    rouge = []
    for ref, hyp in pairs:
        a, b = plain.score(ref, hyp), stemmed.score(ref, hyp)
        rouge.append([a[t].fmeasure for t in types] + [b[t].fmeasure for t in types])
    hyps = [h for _, h in pairs]
    refs = [[r for r, _ in pairs]]
    out = {"rouge": rouge, "tokens13a": [Tokenizer13a()(h.rstrip()) for h in hyps]}
    if pairs:
        out["bleu1"] = BLEU(max_ngram_order=1).corpus_score(hyps, refs).score
        out["bleu4"] = BLEU().corpus_score(hyps, refs).score
    stemmer = porter.PorterStemmer()
    out["stems"] = [stemmer.stem(w) for w in data.get("words", [])]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
