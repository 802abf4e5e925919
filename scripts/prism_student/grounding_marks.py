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


def drop_unclosed_span(ids, marks):
    """Generated ids without a span the length limit left open, from its opening mark on (the mark sits
    before the name's space). `marks`: [open ids..., close id]. The same rule as the Swift worker's
    GroundedDecoding.droppingUnclosedSpan (GROUNDING.md)."""
    opens, close = set(marks[:-1]), marks[-1]
    last_open = max((i for i, t in enumerate(ids) if t in opens), default=None)
    if last_open is None or close in ids[last_open:]:
        return list(ids)
    return list(ids[:last_open])


def mark_ids(tokenizer):
    """[open ids in KINDS order..., close id], or None when the tokenizer lacks a mark."""
    ids = [tokenizer.token_to_id(m) for m in MARKS]
    return None if any(i is None for i in ids) else ids


# ---------------------------------------------------------------------------------------------------------
# Constrained decoding (PyTorch)


#: Kinds whose forms a constrained explanation writes at most once (all but people).
WRITTEN_ONCE = tuple(k != "person" for k in KINDS)
USABLE = 1 << 63  # the bit of forms 63 and above: never counted as used


def form_bit(f):
    return 1 << min(f, 63)


class Trie:
    """A prefix trie of token-id sequences grouped into forms (a form's variants share its id), as Swift's
    `TokenTrie`: `node.children` {token: node}, `node.form` the form a sequence ending here writes (-1: none),
    `node.forms` the bit set of the forms below."""

    class Node:
        __slots__ = ("children", "form", "forms")

        def __init__(self):
            self.children, self.form, self.forms = {}, -1, 0

    def __init__(self, forms):
        self.root = self.Node()
        for f, variants in enumerate(forms):
            for seq in variants:
                if not seq:
                    continue
                node = self.root
                for t in seq:
                    node = node.children.setdefault(t, self.Node())
                if node.form < 0:
                    node.form = f

        def fill(node):
            node.forms = form_bit(node.form) if node.form >= 0 else 0
            for child in node.children.values():
                node.forms |= fill(child)
            return node.forms
        fill(self.root)

    def empty(self):
        return not self.root.children

    def walk(self, tokens):
        node = self.root
        for t in tokens:
            node = node.children.get(t)
            if node is None:
                return None
        return node


def constraints_for(tokenizer, history, item):
    """The per-request tries: each allowed form, tokenized without and with one leading space, is one form."""
    forms = allowed_forms(history, item)
    return [Trie([[tokenizer.encode(f, add_special_tokens=False).ids, tokenizer.encode(" " + f, add_special_tokens=False).ids]
                  for f in forms[k]]) for k in KINDS]


def word_shapes(tokenizer):
    """(capitalised ids, sentence-end flags, ignored flags) of GROUNDING.md's capitalisation rule, as Swift's
    `GroundedDecoding.shapes`."""
    vocab = tokenizer.get_vocab_size()
    specials = {i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}
    capitalised, ends, ignored = [], [False] * vocab, [False] * vocab
    for i in range(vocab):
        if i in specials:
            ignored[i] = True
            continue
        text = tokenizer.decode([i], skip_special_tokens=False)
        first = text[1:2] if text[:1] == " " else text[:1]
        if first and "A" <= first <= "Z":
            capitalised.append(i)
        stripped = text.rstrip(" ")
        if stripped and stripped[-1] in ".!?":
            ends[i] = True
    return capitalised, ends, ignored


def _used_forms(trie, history, end, open_id, close, opens):
    used, node = 0, -1  # -1: outside a span of this kind; None: a span that left the trie
    for p in range(1, end):
        t = history[p]
        if t == open_id:
            node = trie.root
        elif t == close:
            if node not in (-1, None) and node.form >= 0:
                used |= form_bit(node.form)
            node = -1
        elif t in opens:
            node = -1
        elif node not in (-1, None):
            node = node.children.get(t)
    return used


def _at_sentence_start(history, length, ends, ignored):
    for p in range(length - 1, 0, -1):
        t = history[p]
        if 0 <= t < len(ignored) and not ignored[t]:
            return ends[t]
    return True


def _no_repeat_banned(history, n):
    """Tokens that would repeat an earlier n-gram (HF's NoRepeatNGramLogitsProcessor)."""
    length = len(history)
    if n <= 0 or length < n:
        return []
    prefix = history[length + 1 - n:]
    return [history[s + n - 1] for s in range(length - n + 1) if history[s:s + n - 1] == prefix]


def GroundedLogitsProcessor(marks, tries_per_item, eos, no_repeat_ngram_size, num_beams=1, max_length=None,
                            forced_eos=True, shapes=None):
    """A `transformers` LogitsProcessor with the rules of GROUNDING.md ("Decoding under the marks").

    Pass `no_repeat_ngram_size=0` to `generate` and the real size here: inside a span no-repeat does not apply.
    `tries_per_item[b]` (None: unconstrained row, plain no-repeat) serves rows b*num_beams ... . At the forced
    end of sequence (length == max_length - 1 with forced_eos) the row is left as the forced-EOS processor set it.
    `shapes`: `word_shapes(tokenizer)` for the capitalisation rule (None: off).
    """
    import torch
    from transformers import LogitsProcessor

    opens, close = list(marks[:-1]), marks[-1]
    required = KINDS.index("item")
    capitalised = torch.tensor(shapes[0], dtype=torch.long) if shapes else None

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
                    if node is None:
                        keep = [close]
                    else:
                        used = _used_forms(trie, history, span_start - 1, opens[open_kind], close, opens) \
                            if WRITTEN_ONCE[open_kind] else 0
                        free = ~(used & ~USABLE)
                        mask = -1 if node.forms & free == 0 else free
                        keep = [t for t, child in node.children.items() if child.forms & mask]
                        if node.form >= 0 and form_bit(node.form) & mask:
                            keep.append(close)
                    row = torch.full_like(scores[r], float("-inf"))
                    index = torch.tensor(sorted(keep), dtype=torch.long, device=scores.device)
                    row[index] = scores[r, index]
                    scores[r] = row
                    continue
                for t in _no_repeat_banned(history, no_repeat_ngram_size):
                    scores[r, t] = neg
                scores[r, close] = neg
                for k, t in enumerate(opens):
                    exhausted = tries[k].empty() or (WRITTEN_ONCE[k] and tries[k].root.forms & ~(
                        _used_forms(tries[k], history, length, t, close, opens) & ~USABLE) == 0)
                    if exhausted:
                        scores[r, t] = neg
                if not cited and not tries[required].empty():
                    scores[r, eos] = neg
                if shapes and not _at_sentence_start(history, length, shapes[1], shapes[2]):
                    scores[r, capitalised] = neg
            return scores

    return _Processor()
