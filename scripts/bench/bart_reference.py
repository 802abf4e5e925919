#!/usr/bin/env python3
"""References for `prism bench bart`: the same measurement with transformers (eager fp32 on CPU) or with
CTranslate2 float32 (`--engine ctranslate2`, the same random model converted to a temporary folder).

Random BART-base weights (nothing downloaded), a 400-token encoder input, exactly 40 greedy tokens
(EOS banned via min_new_tokens, no forced EOS), batch sizes 1 and 16; prints median latency,
explanations/s and peak RSS, like the Swift benchmark.

Usage: /work/venv-train/bin/python scripts/bench/bart_reference.py [--engine torch|ctranslate2]
           [--threads 1] [--runs 3] [--batch 1 16]
Prints `unavailable: ...` and exits 0 when the engine is not installed.
"""
import argparse
import json
import os
import shutil
import tempfile
import resource
import statistics
import time

import torch
from transformers import BartConfig, BartForConditionalGeneration


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def inputs(batch, length, vocab, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, vocab, (batch, length), generator=g)
    ids[:, 0] = 0
    ids[:, -1] = 2
    return ids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["torch", "ctranslate2"], default="torch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--input-length", type=int, default=400)
    parser.add_argument("--new-tokens", type=int, default=40)
    parser.add_argument("--beams", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
        decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024,
        activation_function="gelu", scale_embedding=False, forced_eos_token_id=None,
    )
    config._attn_implementation = "eager"
    model = BartForConditionalGeneration(config).eval().float()
    if args.engine == "ctranslate2":
        run_ctranslate2(args, config, model)
    else:
        run_torch(args, config, model)


def run_torch(args, config, model):
    print(f"torch {torch.__version__}, {args.threads} thread(s), input {args.input_length}, "
          f"{args.new_tokens} tokens, {args.beams} beam(s)")
    print("batch  median_s  explanations/s  peak_rss_MiB")
    for batch in args.batch:
        ids = inputs(batch, args.input_length, config.vocab_size, batch)
        mask = torch.ones_like(ids)
        times = []
        for run in range(args.warmup + args.runs):
            start = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(
                    input_ids=ids, attention_mask=mask, do_sample=False, num_beams=args.beams,
                    max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                    forced_eos_token_id=None, forced_bos_token_id=None, no_repeat_ngram_size=0)
            elapsed = time.perf_counter() - start
            assert out.shape[1] == args.new_tokens + 1, out.shape
            if run >= args.warmup:
                times.append(elapsed)
        median = statistics.median(times)
        print(f"{batch:5d}  {median:8.3f}  {batch / median:14.2f}  {peak_rss_mib():12.0f}", flush=True)


def save_dummy_tokenizer(folder, vocab_size):
    """A byte-level BPE tokenizer whose vocabulary is just `<s> <pad> </s> <unk> t4 … <mask>`: the
    converter needs token strings, and the benchmark feeds ids as those strings."""
    from transformers import BartTokenizer
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(4, vocab_size - 1):
        vocab[f"t{i}"] = i
    vocab["<mask>"] = vocab_size - 1
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    BartTokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")).save_pretrained(folder)
    return [tok for tok, _ in sorted(vocab.items(), key=lambda kv: kv[1])]


def run_ctranslate2(args, config, model):
    try:
        import ctranslate2
        from ctranslate2.converters import TransformersConverter
    except ImportError as error:
        print(f"unavailable: {error}")
        return
    work = tempfile.mkdtemp(prefix="bart-ct2-")
    try:
        hf = os.path.join(work, "hf")
        # transformers 5 dropped these BART config fields; the converter still reads them.
        model.config.normalize_before = False
        model.config.normalize_embedding = True
        model.save_pretrained(hf)
        tokens = save_dummy_tokenizer(hf, config.vocab_size)
        out = os.path.join(work, "ct2")
        TransformersConverter(hf).convert(out, quantization="float32")
        del model
        translator = ctranslate2.Translator(
            out, device="cpu", compute_type="float32", inter_threads=1, intra_threads=args.threads)
        print(f"ctranslate2 {ctranslate2.__version__} float32, {args.threads} thread(s), input "
              f"{args.input_length}, {args.new_tokens} tokens, {args.beams} beam(s)")
        print("batch  median_s  explanations/s  peak_rss_MiB")
        for batch in args.batch:
            ids = inputs(batch, args.input_length, config.vocab_size, batch)
            source = [[tokens[i] for i in row] for row in ids.tolist()]
            times = []
            for run in range(args.warmup + args.runs):
                start = time.perf_counter()
                results = translator.translate_batch(
                    source, beam_size=args.beams, max_batch_size=batch, max_decoding_length=args.new_tokens,
                    min_decoding_length=args.new_tokens, return_end_token=True)
                elapsed = time.perf_counter() - start
                produced = [len(r.hypotheses[0]) for r in results]
                assert all(n == args.new_tokens for n in produced), produced
                if run >= args.warmup:
                    times.append(elapsed)
            median = statistics.median(times)
            print(f"{batch:5d}  {median:8.3f}  {batch / median:14.2f}  {peak_rss_mib():12.0f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
