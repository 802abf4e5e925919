"""Grounding marks, as `Sources/PrismGrounding/GROUNDING.md` ("grounding-marks/1") defines them.

The Swift definition is `GroundingMarks` / `AllowedForms` (Sources/PrismGrounding/GroundingMarks.swift) and
`EntityConstraints` (Sources/Generation/EntityConstraints.swift); both sides check the shared vectors in
Tests/Fixtures/grounding/marks-vectors.json. `strip`, `spans` and `allowed_forms` need no torch;
`GroundedLogitsProcessor` is the PyTorch twin of the Swift constrained decoding.
"""
from .input_format import clean

FORMAT_NAME = "grounding-marks/1"
KINDS = ("item", "title", "person", "genre", "era")
OPENS = tuple(f"<e:{k}>" for k in KINDS)
CLOSE = "</e>"
MARKS = OPENS + (CLOSE,)
IGNORED_GENRES = {"unknown", "(no genres listed)"}


def strip(marked):
    """The plain text of a marked text: every mark string removed."""
    for mark in MARKS:
        marked = marked.replace(mark, "")
    return marked


def spans(marked):
    """[(kind, form)] of a marked text in order (form without its leading space; an unclosed span runs to the end)."""
    out, rest = [], marked
    while True:
        i = rest.find("<e:")
        if i < 0:
            return out
        rest = rest[i + 3:]
        gt = rest.find(">")
        kind = rest[:gt] if gt >= 0 else None
        if kind not in KINDS:
            continue
        body = rest[gt + 1:]
        end = body.find(CLOSE)
        out.append((kind, (body if end < 0 else body[:end]).lstrip(" ")))
        rest = "" if end < 0 else body[end + len(CLOSE):]


def _person_name(credited):
    name = credited.split("(", 1)[0]
    return name.strip(" \t")


def people(item):
    """Directors, actors and writers (role notes cut), each once, as `EntityLexicon.people(of:)`."""
    names = []
    for name in list(item.get("directors") or []) + list(item.get("actors") or []) + \
            [_person_name(w) for w in item.get("writers") or []]:
        if name and name not in names:
            names.append(name)
    return names


def title(item):
    return clean(item.get("title")) or clean(item["id"])


def allowed_forms(history, item):
    """{kind: [form]} for the history items the input shows (oldest first) and the recommended item."""
    forms = {k: [] for k in KINDS}

    def add(kind, form):
        form = clean(form)
        if form and form not in forms[kind]:
            forms[kind].append(form)

    add("item", title(item))
    for film in history:
        add("title", title(film))
    for name in people(item):
        add("person", name)
    for genre in item.get("genres") or []:
        if genre.lower() not in IGNORED_GENRES:
            add("genre", genre.lower())
            add("genre", genre)
    if item.get("year") is not None:
        add("era", str(item["year"]))
        add("era", f"{item['year'] // 10 * 10}s")
    return forms


def mark_ids(tokenizer):
    """[open ids in KINDS order..., close id], or None when the tokenizer lacks a mark."""
    ids = [tokenizer.token_to_id(m) for m in MARKS]
    return None if any(i is None for i in ids) else ids


# ---------------------------------------------------------------------------------------------------------
# Constrained decoding (PyTorch)


class Trie:
    """A prefix trie of token-id sequences: nested dicts, END marks a complete sequence."""
    END = -1

    def __init__(self, sequences):
        self.root = {}
        for seq in sequences:
            if not seq:
                continue
            node = self.root
            for t in seq:
                node = node.setdefault(t, {})
            node[self.END] = True

    def empty(self):
        return not self.root

    def walk(self, tokens):
        node = self.root
        for t in tokens:
            node = node.get(t)
            if node is None:
                return None
        return node


def constraints_for(tokenizer, history, item):
    """The per-request tries: each allowed form tokenized without and with one leading space."""
    forms = allowed_forms(history, item)
    return [Trie([tokenizer.encode(f, add_special_tokens=False).ids for f in forms[k]] +
                 [tokenizer.encode(" " + f, add_special_tokens=False).ids for f in forms[k]]) for k in KINDS]


def _no_repeat_banned(history, n):
    """Tokens that would repeat an earlier n-gram (HF's NoRepeatNGramLogitsProcessor)."""
    length = len(history)
    if n <= 0 or length < n:
        return []
    prefix = history[length + 1 - n:]
    return [history[s + n - 1] for s in range(length - n + 1) if history[s:s + n - 1] == prefix]


def GroundedLogitsProcessor(marks, tries_per_item, eos, no_repeat_ngram_size, num_beams=1, max_length=None,
                            forced_eos=True):
    """A `transformers` LogitsProcessor with the rules of GROUNDING.md ("Decoding under the marks").

    Pass `no_repeat_ngram_size=0` to `generate` and the real size here: inside a span no-repeat does not apply.
    `tries_per_item[b]` (None: unconstrained row, plain no-repeat) serves rows b*num_beams ... . At the forced
    end of sequence (length == max_length - 1 with forced_eos) the row is left as the forced-EOS processor set it.
    """
    import torch
    from transformers import LogitsProcessor

    opens, close = list(marks[:-1]), marks[-1]
    required = KINDS.index("item")

    class _Processor(LogitsProcessor):
        def __call__(self, input_ids, scores):
            length = input_ids.shape[1]
            if forced_eos and max_length is not None and length == max_length - 1:
                return scores
            neg = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
            for r in range(input_ids.shape[0]):
                history = input_ids[r].tolist()
                tries = tries_per_item[r // num_beams]
                if tries is None:
                    for t in _no_repeat_banned(history, no_repeat_ngram_size):
                        scores[r, t] = neg
                    continue
                open_kind, span_start, cited = -1, 0, False
                for p in range(1, length):
                    t = history[p]
                    if t == close:
                        if open_kind == required:
                            cited = True
                        open_kind = -1
                    elif t in opens:
                        open_kind, span_start = opens.index(t), p + 1
                if open_kind >= 0:
                    trie = tries[open_kind]
                    node = None if trie.empty() else trie.walk(history[span_start:])
                    keep = [close] if node is None else [t for t in node if t != Trie.END] + \
                        ([close] if Trie.END in node else [])
                    row = torch.full_like(scores[r], float("-inf"))
                    index = torch.tensor(keep, dtype=torch.long, device=scores.device)
                    row[index] = scores[r, index]
                    scores[r] = row
                    continue
                for t in _no_repeat_banned(history, no_repeat_ngram_size):
                    scores[r, t] = neg
                scores[r, close] = neg
                for k, t in enumerate(opens):
                    if tries[k].empty():
                        scores[r, t] = neg
                if not cited and not tries[required].empty():
                    scores[r, eos] = neg
            return scores

    return _Processor()
