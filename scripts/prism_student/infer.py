"""PyTorch reference for an exported student folder (parity with the Swift worker).

    /work/venv-train/bin/python -m prism_student.infer FOLDER --user 42 --text "History: ...\nRecommended: ..."
    /work/venv-train/bin/python -m prism_student.infer FOLDER --distilled d.jsonl --catalog c.jsonl --split test -n 5

(run from scripts/, or with PYTHONPATH=scripts). Greedy by default: the folder's generation defaults
(config.json) with num_beams forced to 1 unless --num-beams is given.
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file

from .model import PrismStudent, load_bart
from . import grounding_marks as G
from .tokenizer import load_tokenizer

GENERATION_KEYS = ("num_beams", "max_length", "min_length", "no_repeat_ngram_size", "length_penalty",
                   "early_stopping", "decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id")


class Student:
    """An exported folder loaded with transformers: model, tokenizer, user rows, manifest."""

    def __init__(self, folder, device="cpu"):
        self.folder = folder
        self.device = torch.device(device)
        bart = load_bart(folder).eval()
        # Generation settings are passed explicitly (generation_kwargs); don't inherit config.json's defaults.
        from transformers import GenerationConfig
        bart.generation_config = GenerationConfig(
            pad_token_id=bart.config.pad_token_id, bos_token_id=bart.config.bos_token_id,
            eos_token_id=bart.config.eos_token_id, decoder_start_token_id=bart.config.decoder_start_token_id)
        with open(os.path.join(folder, "config.json")) as f:
            self.config_json = json.load(f)
        manifest_path = os.path.join(folder, "prism.json")
        self.manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
        self.rows = {}
        table_path = os.path.join(folder, "user_embeddings.safetensors")
        table = load_file(table_path)["user_embeddings"] if os.path.exists(table_path) else None
        users_path = os.path.join(folder, "users.json")
        if table is not None and os.path.exists(users_path):
            self.rows = {str(k): int(v) for k, v in json.load(open(users_path)).items()}
        self.model = PrismStudent(bart, (table.shape[0] - 1) if table is not None else 0, with_users=table is not None)
        if table is not None:
            with torch.no_grad():
                self.model.users.weight.copy_(table)
        self.model.to(self.device).eval()
        self.tokenizer = load_tokenizer(folder)
        self.max_input_tokens = self.manifest.get("max_input_tokens")
        from . import grounding_marks as G
        self.marks = G.mark_ids(self.tokenizer) if (self.manifest.get("grounding") or {}).get("format") == G.FORMAT_NAME \
            else None

    def word_shapes(self):
        if getattr(self, "_shapes", None) is None:
            from .grounding_marks import word_shapes
            self._shapes = word_shapes(self.tokenizer)
        return self._shapes

    def constraints(self, history, item):
        """The tries of one request (GROUNDING.md): `history` the catalog records the input shows, oldest first."""
        from .grounding_marks import constraints_for
        return constraints_for(self.tokenizer, history, item)

    def generation_kwargs(self, **overrides):
        args = {k: self.config_json[k] for k in GENERATION_KEYS if k in self.config_json}
        args.update({"do_sample": False, "num_beams": 1, "pad_token_id": self.config_json.get("pad_token_id", 1),
                     "bos_token_id": self.config_json.get("bos_token_id", 0),
                     "eos_token_id": self.config_json.get("eos_token_id", 2)})
        args.update(overrides)
        if args.get("num_beams", 1) == 1:
            args.pop("early_stopping", None)  # beam-search only (transformers warns otherwise)
        return args

    def row(self, user_id):
        return self.rows.get(str(user_id), 0) if user_id is not None else 0

    def encode_text(self, text):
        ids = self.tokenizer.encode(text, add_special_tokens=True).ids
        if self.max_input_tokens and len(ids) > self.max_input_tokens:
            ids = ids[: self.max_input_tokens - 1] + [ids[-1]]
        return ids

    def generate_ids(self, inputs, users, return_scores=False, constraints=None, **overrides):
        """Batched generation for token id lists `inputs` (right-padded) and user ids `users` (None = unknown).
        Returns the generated sequences (decoder start token included), trailing pads removed.
        `constraints`: per input, the tries of `constraints()` (None: that row is unconstrained); needs marks."""
        pad = self.config_json.get("pad_token_id", 1)
        length = max(len(x) for x in inputs)
        ids = torch.full((len(inputs), length), pad, dtype=torch.long)
        mask = torch.zeros((len(inputs), length), dtype=torch.long)
        for i, x in enumerate(inputs):
            ids[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        rows = torch.tensor([self.row(u) for u in users], dtype=torch.long)
        kwargs = self.generation_kwargs(**overrides)
        extra = {}
        if constraints is not None:
            if self.marks is None:
                raise ValueError(f"{self.folder} was not trained with grounding marks")
            from transformers import LogitsProcessorList
            from .grounding_marks import GroundedLogitsProcessor
            processor = GroundedLogitsProcessor(
                self.marks, constraints, eos=kwargs["eos_token_id"], no_repeat_ngram_size=kwargs.get("no_repeat_ngram_size", 0),
                num_beams=kwargs.get("num_beams", 1), max_length=kwargs.get("max_length"),
                forced_eos=kwargs.get("forced_eos_token_id") is not None, shapes=self.word_shapes())
            kwargs = dict(kwargs, no_repeat_ngram_size=0)
            extra["logits_processor"] = LogitsProcessorList([processor])
        out = self.model.generate(ids.to(self.device), mask.to(self.device), rows.to(self.device),
                                  return_dict_in_generate=True, output_scores=return_scores, **kwargs, **extra)
        seqs = []
        for seq in out.sequences.tolist():
            while len(seq) > 1 and seq[-1] == pad:
                seq.pop()
            seqs.append(seq)
        if return_scores:
            return seqs, out.scores, kwargs
        return seqs

    def decode(self, ids):
        """Plain text: special tokens and grounding marks left out, and a span the length limit cut."""
        if self.marks is not None:
            ids = G.drop_unclosed_span(list(ids), self.marks)
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def decode_marked(self, ids):
        """The text with its grounding marks (and no <s>, </s>, <pad>)."""
        keep = [i for i in ids if i not in (0, 1, 2)]
        return self.tokenizer.decode(keep, skip_special_tokens=False)

    def explain(self, user_id, text, **overrides):
        """Greedy explanation for (user, student input text): (token ids, decoded text)."""
        seq = self.generate_ids([self.encode_text(text)], [user_id], **overrides)[0]
        return seq, self.decode(seq)

    def render(self, sample, catalog):
        from .input_format import fit_student_input
        return fit_student_input(sample, catalog, self.tokenizer, self.max_input_tokens).text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--user", default=None)
    ap.add_argument("--text", default=None, help="student input text (\\n for the line break)")
    ap.add_argument("--distilled")
    ap.add_argument("--catalog")
    ap.add_argument("--split", default="test")
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--num-beams", type=int, default=1)
    args = ap.parse_args(argv)
    student = Student(args.folder)
    if args.text is not None:
        ids, text = student.explain(args.user, args.text.replace("\\n", "\n"), num_beams=args.num_beams)
        print(json.dumps({"user": args.user, "row": student.row(args.user), "ids": ids, "text": text}))
        return 0
    if not (args.distilled and args.catalog):
        ap.error("give --text or --distilled and --catalog")
    from .data import load_catalog, read_jsonl
    catalog = load_catalog(args.catalog)
    samples = [s for s in read_jsonl(args.distilled) if s.get("split") == args.split][: args.n]
    for s in samples:
        text = student.render(s, catalog)
        _, out = student.explain(s["user_id"], text, num_beams=args.num_beams)
        print(json.dumps({"sample_id": s["sample_id"], "user": s["user_id"], "row": student.row(s["user_id"]),
                          "generated": out, "golden": s["explanation"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
