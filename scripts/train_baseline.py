#!/usr/bin/env python3
"""Train a Table 3 baseline on the Prism student's goldens and write its test-split explanations.

    .venv/bin/python scripts/train_baseline.py --model att2seq --distilled out/table3/distill/distilled.jsonl \
        --samples out/table3/data/samples.jsonl --output out/table3/att2seq --max-minutes 5 --max-train-samples 20000

--model att2seq: Att2Seq (Dong et al. 2017), user/item/rating attributes -> 2-layer LSTM with attention.
--model pepler:  PEPLER (Li et al. 2023), GPT-2 architecture with continuous user and item prompts (random init).
Needs torch, transformers, tokenizers (scripts/setup-python.sh --train). Code: scripts/baselines/.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from baselines.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
