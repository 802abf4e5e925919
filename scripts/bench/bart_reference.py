#!/usr/bin/env python3
"""References for `prism bench bart`: the same measurement with transformers (eager fp32 on CPU), with
CTranslate2 float32 or int8 (`--engine ctranslate2`, `ctranslate2-int8`: the same random model converted
to a temporary folder), or with ONNX Runtime int8 (`--engine onnxruntime-int8`, bart_onnx.py: encoder and
decoder-with-past graphs, dynamically quantized).

Random BART-base weights (nothing downloaded), a 400-token encoder input, exactly 40 greedy tokens
(EOS banned via min_new_tokens, no forced EOS), batch sizes 1 and 16; prints median latency,
explanations/s and peak RSS, like the Swift benchmark. A converted engine runs in a fresh process of
its own (`--prepared DIR`) that never imports torch, so its peak RSS is the engine's alone.

Usage: .venv/bin/python scripts/bench/bart_reference.py [--engine torch|ctranslate2|ctranslate2-int8|onnxruntime-int8]
           [--threads 1] [--runs 3] [--batch 1 16]
Prints `unavailable: ...` and exits 0 when the engine is not installed.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ENGINES = ["torch", "ctranslate2", "ctranslate2-int8", "onnxruntime-int8"]
VOCAB = 50265


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def inputs(batch, length, vocab, seed):
    ids = np.random.default_rng(seed).integers(4, vocab, (batch, length), dtype=np.int64)
    ids[:, 0] = 0
    ids[:, -1] = 2
    return ids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=ENGINES, default="torch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--input-length", type=int, default=400)
    parser.add_argument("--new-tokens", type=int, default=40)
    parser.add_argument("--beams", type=int, default=1)
    parser.add_argument("--prepared", help="(internal) run the engine on the model converted into this folder")
    args = parser.parse_args()
    if args.prepared:
        if args.engine == "onnxruntime-int8":
            run_onnxruntime(args, args.prepared)
        else:
            run_ctranslate2(args, args.prepared, "int8" if args.engine.endswith("int8") else "float32")
        return

    try:
        if args.engine.startswith("ctranslate2"):
            import ctranslate2  # noqa: F401
        elif args.engine == "onnxruntime-int8":
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
    except ImportError as error:
        print(f"unavailable: {error}")
        return
    if args.engine == "onnxruntime-int8" and args.beams != 1:
        print("unavailable: the ONNX Runtime reference decodes greedily")
        return
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=VOCAB, d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
        decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024,
        activation_function="gelu", scale_embedding=False, forced_eos_token_id=None,
    )
    config._attn_implementation = "eager"
    model = BartForConditionalGeneration(config).eval().float()
    if args.engine == "torch":
        run_torch(args, config, model)
        return
    work = tempfile.mkdtemp(prefix="bart-reference-")
    try:
        if args.engine == "onnxruntime-int8":
            from bart_onnx import export
            export(model, config, work)
        else:
            convert_ctranslate2(model, config, work, "int8" if args.engine.endswith("int8") else "float32")
        del model
        sys.stdout.flush()
        subprocess.run([sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--prepared", work], check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_torch(args, config, model):
    import torch

    print(f"torch {torch.__version__}, {args.threads} thread(s), input {args.input_length}, "
          f"{args.new_tokens} tokens, {args.beams} beam(s)")
    print("batch  median_s  explanations/s  peak_rss_MiB")
    for batch in args.batch:
        ids = torch.from_numpy(inputs(batch, args.input_length, config.vocab_size, batch))
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


def dummy_tokens(vocab_size):
    """`<s> <pad> </s> <unk> t4 … <mask>`: token strings for a vocabulary of ids (the converter needs
    strings, and the benchmark feeds ids as those strings)."""
    return ["<s>", "<pad>", "</s>", "<unk>"] + [f"t{i}" for i in range(4, vocab_size - 1)] + ["<mask>"]


def convert_ctranslate2(model, config, folder, compute_type):
    from ctranslate2.converters import TransformersConverter
    from transformers import BartTokenizer

    hf = os.path.join(folder, "hf")
    # transformers 5 dropped these BART config fields; the converter still reads them.
    model.config.normalize_before = False
    model.config.normalize_embedding = True
    model.save_pretrained(hf)
    vocab = {token: i for i, token in enumerate(dummy_tokens(config.vocab_size))}
    with open(os.path.join(hf, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(hf, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    BartTokenizer(os.path.join(hf, "vocab.json"), os.path.join(hf, "merges.txt")).save_pretrained(hf)
    TransformersConverter(hf).convert(os.path.join(folder, "ct2"), quantization=compute_type)
    shutil.rmtree(hf)


def run_ctranslate2(args, folder, compute_type):
    import ctranslate2

    translator = ctranslate2.Translator(
        os.path.join(folder, "ct2"), device="cpu", compute_type=compute_type, inter_threads=1,
        intra_threads=args.threads)
    tokens = dummy_tokens(VOCAB)
    print(f"ctranslate2 {ctranslate2.__version__} {compute_type}, {args.threads} thread(s), input "
          f"{args.input_length}, {args.new_tokens} tokens, {args.beams} beam(s)")
    print("batch  median_s  explanations/s  peak_rss_MiB")
    for batch in args.batch:
        ids = inputs(batch, args.input_length, VOCAB, batch)
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


def ort_greedy(encoder, decoder, ids, mask, new_tokens, ban_eos, eos=2):
    """Greedy tokens `[batch, new_tokens]` from bart_onnx.py's two graphs: the encoder once, then one
    decoder step per token with the self-attention cache fed back (decoder start = EOS, as BART's)."""
    cross = encoder.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    layers, _, batch, heads, _, dim = cross.shape
    past = np.zeros((layers, 2, batch, heads, 0, dim), dtype=np.float32)
    token = np.full((batch, 1), eos, dtype=np.int64)
    produced = []
    for step in range(new_tokens):
        logits, past = decoder.run(None, {"tokens": token, "position": np.array(step, dtype=np.int64),
                                          "past": past, "cross": cross, "attention_mask": mask})
        if ban_eos:
            logits[:, eos] = -np.inf  # exactly new_tokens tokens, as min_new_tokens asks the others
        token = logits.argmax(axis=-1).astype(np.int64)[:, None]
        produced.append(token)
    return np.concatenate(produced, axis=1)


def run_onnxruntime(args, folder):
    """Times greedy generation with the int8 graphs in `folder` (a fresh process: its RSS is the engine's)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    encoder = ort.InferenceSession(os.path.join(folder, "encoder_int8.onnx"), options, providers=providers)
    decoder = ort.InferenceSession(os.path.join(folder, "decoder_int8.onnx"), options, providers=providers)
    print(f"onnxruntime {ort.__version__} int8 (dynamic quantization), {args.threads} thread(s), input "
          f"{args.input_length}, {args.new_tokens} tokens, greedy")
    print("batch  median_s  explanations/s  peak_rss_MiB")
    for batch in args.batch:
        ids = inputs(batch, args.input_length, VOCAB, batch)
        mask = np.ones_like(ids)
        times = []
        for run in range(args.warmup + args.runs):
            start = time.perf_counter()
            produced = ort_greedy(encoder, decoder, ids, mask, args.new_tokens, ban_eos=True)
            elapsed = time.perf_counter() - start
            assert produced.shape == (batch, args.new_tokens), produced.shape
            if run >= args.warmup:
                times.append(elapsed)
        median = statistics.median(times)
        print(f"{batch:5d}  {median:8.3f}  {batch / median:14.2f}  {peak_rss_mib():12.0f}", flush=True)


if __name__ == "__main__":
    main()
