#!/usr/bin/env python3
"""Train the Prism student (user-aware BART) on distilled goldens and export the folder the Swift worker loads.

    /work/venv-train/bin/python scripts/train_student.py \
        --distilled /tmp/pd/distill/distilled.jsonl --catalog /tmp/pd/data/catalog.jsonl \
        --output /tmp/pd/student --from-scratch --max-minutes 6 \
        --d-model 128 --encoder-layers 2 --decoder-layers 2 --ffn 512 --vocab-size 2048 --max-input-tokens 128

(a smaller model than the defaults, d_model 256 / 3+3 layers / FFN 1024 / 256 input tokens, so that a few minutes
on 2 shared CPU cores get somewhere; add --resume to continue from OUTPUT/checkpoints/last.pt).

Needs torch, transformers, safetensors, tokenizers (scripts/setup-python.sh --train). Run with --help for all
options. The code lives in scripts/prism_student/ (input_format, tokenizer, data, model, train, export, infer).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from prism_student.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
