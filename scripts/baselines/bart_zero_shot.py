#!/usr/bin/env python3
"""BART zero-shot (Table 3): a pretrained Hugging Face BART folder, not fine-tuned, explains each test sample
from the student's input text (the same facts the student reads, under the same token budget), greedy with
no repeated trigram. Writes JSON lines for `prism eval --candidate bart-zero-shot=FILE`.

usage: bart_zero_shot.py --init BART_FOLDER --distilled distilled.jsonl --catalog catalog.jsonl --output FILE
                         [--split test] [--max-input-tokens 448] [--max-new-tokens 95] [--batch 16]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from prism_student import data as D  # noqa: E402
from prism_student.input_format import fit_student_input  # noqa: E402
from prism_student.tokenizer import load_tokenizer  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--init", required=True, help="a pretrained Hugging Face BART folder (config.json, weights, tokenizer)")
    ap.add_argument("--distilled", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--max-input-tokens", type=int, default=448)
    ap.add_argument("--max-new-tokens", type=int, default=95)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args(argv)
    import torch
    from transformers import BartForConditionalGeneration

    model = BartForConditionalGeneration.from_pretrained(args.init).eval()
    tokenizer = load_tokenizer(args.init)
    pad = model.config.pad_token_id
    # The input budget cannot exceed the model's positions.
    budget = min(args.max_input_tokens, model.config.max_position_embeddings)
    catalog = D.load_catalog(args.catalog)
    samples = [s for s in D.read_jsonl(args.distilled) if s.get("split") == args.split]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        for k in range(0, len(samples), args.batch):
            part = samples[k:k + args.batch]
            texts = [fit_student_input(s, catalog, tokenizer, budget).text for s in part]
            encoded = [e.ids[:budget] for e in tokenizer.encode_batch(texts, add_special_tokens=True)]
            width = max(len(e) for e in encoded)
            ids = torch.tensor([e + [pad] * (width - len(e)) for e in encoded])
            with torch.no_grad():
                generated = model.generate(input_ids=ids, attention_mask=(ids != pad).long(), num_beams=1,
                                           do_sample=False, no_repeat_ngram_size=3,
                                           max_new_tokens=min(args.max_new_tokens, model.config.max_position_embeddings - 2))
            for s, seq in zip(part, generated.tolist()):
                out.write(json.dumps({"sample_id": s["sample_id"], "user_id": str(s["user_id"]),
                                      "item_id": str(s["item_id"]),
                                      "explanation": tokenizer.decode(seq, skip_special_tokens=True).strip()},
                                     ensure_ascii=False) + "\n")
    print(f"bart zero-shot: {len(samples)} explanations -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
