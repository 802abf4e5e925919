"""Prism student: data rendering, tokenizer, user-aware BART training, export and PyTorch inference.

Modules that need no torch: `input_format`, `tokenizer`, `data` (rendering part).
Modules that need torch + transformers: `model`, `train`, `export`, `infer`.
"""
INPUT_FORMAT = "student-input/1"
