#!/usr/bin/env python3
"""Train the Prism student (user-aware BART) on distilled goldens and export the folder the Swift worker loads.

    /work/venv-train/bin/python scripts/train_student.py \
        --distilled /tmp/pd/distill/distilled.jsonl --catalog /tmp/pd/data/catalog.jsonl \
        --output /tmp/pd/student --from-scratch --max-minutes 6

Needs torch, transformers, safetensors, tokenizers (scripts/setup-python.sh --train). Run with --help for all
options. The code lives in scripts/prism_student/ (input_format, tokenizer, data, model, train, export, infer).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from prism_student.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
