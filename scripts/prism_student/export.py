"""Writes the folder the Swift runtime loads (and infer.py reloads):

    config.json                  BartConfig + generation defaults (num_beams, max_length, no_repeat_ngram_size,
                                 forced_bos_token_id, forced_eos_token_id, ...), as published BART checkpoints do
    model.safetensors            fp32, Hugging Face tensor names; tied embeddings stored once as
                                 model.shared.weight (no lm_head / encoder / decoder embed_tokens copies)
    tokenizer.json               byte-level BPE, RoBERTa post-processor
    user_embeddings.safetensors  tensor "user_embeddings" [num_users + 1, d_model], row 0 = zeros (absent for
                                 the --no-user ablation: Swift then treats every user as cold)
    users.json                   {external user id: row >= 1} (absent for the ablation)
    words.txt                    the distinct whitespace-separated pieces of the training goldens, one per line:
                                 with the catalog, the words the serving guard lets an explanation use
                                 (Swift: WordVocabulary.load)
    prism.json                   manifest: input format, token budgets, data hashes, ablation flag, summary
"""
import json
import os

import torch
from safetensors.torch import save_file

from .input_format import FORMAT_NAME

TIED_COPIES = ("lm_head.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight")


def generation_defaults(max_target_tokens, num_beams=1, no_repeat_ngram_size=3):
    return {
        "num_beams": num_beams,
        # max_length counts the decoder start token: start + up to max_target_tokens (<s> ... </s>).
        "max_length": max_target_tokens + 1,
        "min_length": 0,
        "no_repeat_ngram_size": no_repeat_ngram_size,
        "length_penalty": 1.0,
        "early_stopping": True,
        "decoder_start_token_id": 2,
        "forced_bos_token_id": 0,
        "forced_eos_token_id": 2,
    }


def write_json(path, obj, **kw):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, **kw)
        f.write("\n")


def golden_words(texts):
    """words.txt's lines: every distinct whitespace-separated piece of `texts`, sorted. The reader folds each
    piece into words itself (punctuation, case, apostrophes), so nothing here has to agree with its rules."""
    return sorted({piece for text in texts for piece in text.split()})


def export(student, tokenizer, rows, folder, *, max_input_tokens, max_target_tokens, manifest_extra=None,
           num_beams=1, no_repeat_ngram_size=3, goldens=None):
    os.makedirs(folder, exist_ok=True)
    bart = student.bart
    config = bart.config
    config.to_json_file(os.path.join(folder, "config.json"))
    with open(os.path.join(folder, "config.json")) as f:
        written = json.load(f)
    written.pop("_attn_implementation", None)
    gen = generation_defaults(max_target_tokens, num_beams, no_repeat_ngram_size)
    written.update(gen)
    write_json(os.path.join(folder, "config.json"), written, indent=2, sort_keys=True)

    tie = bool(getattr(config, "tie_word_embeddings", True))
    state = {}
    for k, v in bart.state_dict().items():
        if tie and k in TIED_COPIES:
            continue
        # Integer tables (a copying student's copy_twins, COPYING.md) stay int64; weights are fp32.
        dtype = torch.int64 if not v.is_floating_point() else torch.float32
        state[k] = v.detach().to(dtype).cpu().contiguous()
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save(os.path.join(folder, "tokenizer.json"))

    words_path = os.path.join(folder, "words.txt")
    if goldens is not None:
        with open(words_path, "w", encoding="utf-8") as f:
            f.writelines(w + "\n" for w in golden_words(goldens))
    elif os.path.exists(words_path):
        os.remove(words_path)

    for name in ("user_embeddings.safetensors", "users.json"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            os.remove(path)
    table = student.user_table()
    if table is not None:
        assert torch.count_nonzero(table[0]) == 0, "row 0 (unknown user) must be zero"
        assert table.shape[0] == len(rows) + 1
        save_file({"user_embeddings": table.contiguous()}, os.path.join(folder, "user_embeddings.safetensors"))
        write_json(os.path.join(folder, "users.json"), rows, indent=1, sort_keys=True)

    manifest = {
        "format": "prism-student/1",
        "input_format": {"name": FORMAT_NAME, "version": 1,
                         "length": "tokenizer ids with special tokens", "drop": "oldest history items, whole"},
        "max_input_tokens": max_input_tokens,
        "max_target_tokens": max_target_tokens,
        "with_user_embeddings": table is not None,
        "num_users": len(rows) if table is not None else 0,
        "user_formula": "h0_i = LayerNormEmbedding(Embed(x_i) * embed_scale + U[row(user)] + Pos(i)); row 0 = zeros",
        "generation": gen,
    }
    manifest.update(manifest_extra or {})
    write_json(os.path.join(folder, "prism.json"), manifest, indent=2, sort_keys=True)
    return folder
