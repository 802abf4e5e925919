#!/usr/bin/env python3
"""Writes a T5 v1.1 / FLAN-T5 folder of a full-size architecture with random BF16 weights (no model hub
here), for `prism bench t5`: config.json and model.safetensors with Hugging Face's tensor names.

    .venv/bin/python scripts/bench/random_t5.py --size large --output /tmp/t5-large
    .build/release/prism bench t5 --model /tmp/t5-large

Sizes follow google/flan-t5-{base,large,xl}'s configs (gated GELU, untied lm_head, vocab 32128).
Tensors are made one at a time in BF16, so the script needs about the file's size in memory.
"""
import argparse
import json
import os

import torch
from safetensors.torch import save_file

SIZES = {
    "base": dict(d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_heads=12),
    "large": dict(d_model=1024, d_kv=64, d_ff=2816, num_layers=24, num_heads=16),
    "xl": dict(d_model=2048, d_kv=64, d_ff=5120, num_layers=24, num_heads=32),
}
VOCAB = 32128


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    s = SIZES[args.size]
    d, inner, ff, layers = s["d_model"], s["num_heads"] * s["d_kv"], s["d_ff"], s["num_layers"]
    config = {
        "model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "vocab_size": VOCAB, "d_model": d,
        "d_kv": s["d_kv"], "d_ff": ff, "num_layers": layers, "num_decoder_layers": layers, "num_heads": s["num_heads"],
        "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128, "dropout_rate": 0.1,
        "layer_norm_epsilon": 1e-6, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False,
        "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0,
    }
    torch.manual_seed(0)
    tensors = {}

    def add(name, *shape, scale=0.05):
        tensors[name] = (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.bfloat16)

    add("shared.weight", VOCAB, d, scale=1.0)
    add("lm_head.weight", VOCAB, d)
    for stack in ("encoder", "decoder"):
        add(f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight", 32, s["num_heads"])
        add(f"{stack}.final_layer_norm.weight", d, scale=1.0)
        for i in range(layers):
            p = f"{stack}.block.{i}.layer"
            attentions = ["0.SelfAttention"] + (["1.EncDecAttention"] if stack == "decoder" else [])
            for a in attentions:
                for proj in "qkv":
                    add(f"{p}.{a}.{proj}.weight", inner, d)
                add(f"{p}.{a}.o.weight", d, inner)
            ffn = "2" if stack == "decoder" else "1"
            add(f"{p}.{ffn}.DenseReluDense.wi_0.weight", ff, d)
            add(f"{p}.{ffn}.DenseReluDense.wi_1.weight", ff, d)
            add(f"{p}.{ffn}.DenseReluDense.wo.weight", d, ff)
            for n in range(int(ffn) + 1):
                add(f"{p}.{n}.layer_norm.weight", d, scale=1.0)
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_file(tensors, os.path.join(args.output, "model.safetensors"), metadata={"format": "pt"})
    params = sum(t.numel() for t in tensors.values())
    print(f"{args.size}: {params / 1e6:.0f}M parameters, {params * 2 / 2**30:.2f} GiB of BF16 in {args.output}")


if __name__ == "__main__":
    main()
