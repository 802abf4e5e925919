"""The student input text, byte for byte as `Sources/PrismData/INPUT_FORMAT.md` ("student-input/1").

`clean`, `render_item` and `student_input` are the reference of INPUT_FORMAT.md verbatim. `fit_student_input`
adds the token budget used for training and serving: `length = number of tokenizer ids` (special tokens
`<s>` ... `</s>` included), oldest history items dropped whole until the text fits. It gives exactly the text
of `student_input(sample, catalog, budget, length)` (the linear scan) but usually tokenizes only twice; see
its doc comment. No torch needed.
"""
import re

FORMAT_NAME = "student-input/1"

_WS = re.compile(r"[ \t\n\r\x0b\x0c]+")


def clean(s):
    return _WS.sub(" ", s or "").strip(" ")


def render_item(item, max_genres=3, max_directors=2, max_actors=3):
    title = clean(item.get("title")) or clean(item["id"])

    def first(values, n):
        return ", ".join([v for v in (clean(x) for x in values or []) if v][:n])

    parts = []
    if item.get("year") is not None:
        parts.append(str(item["year"]))
    if g := first(item.get("genres"), max_genres):
        parts.append(g)
    if d := first(item.get("directors"), max_directors):
        parts.append("dir. " + d)
    if a := first(item.get("actors"), max_actors):
        parts.append("with " + a)
    return f"{title} ({'; '.join(parts)})" if parts else title


def student_input(sample, catalog, budget=None, length=len):
    def item(i):
        return render_item(catalog.get(i, {"id": i, "title": i}))

    history = [item(i) for i in sample["history"]]
    target = item(sample["item_id"])

    def compose(dropped):
        kept = history[dropped:]
        return "History: " + (" | ".join(kept) if kept else "(none)") + "\nRecommended: " + target

    for dropped in range(len(history) + 1):
        text = compose(dropped)
        if budget is None or length(text) <= budget:
            return text
    return compose(len(history))


# ---------------------------------------------------------------------------------------------------------
# Token budget


def token_length(tokenizer):
    """`length` for a `tokenizers.Tokenizer`: number of ids of the text WITH special tokens (`<s>`, `</s>`)."""
    def length(text):
        return len(tokenizer.encode(text, add_special_tokens=True).ids)
    return length


class FittedInput:
    __slots__ = ("text", "dropped", "kept", "length")

    def __init__(self, text, dropped, kept, length):
        self.text, self.dropped, self.kept, self.length = text, dropped, kept, length

    def __repr__(self):
        return f"FittedInput(dropped={self.dropped}, kept={self.kept}, length={self.length})"


def fit_student_input(sample, catalog, tokenizer, budget):
    """The student input under a token budget: the same text as
    `student_input(sample, catalog, budget, token_length(tokenizer))`, with how many history items were dropped.

    Fast path: with a byte-level BPE tokenizer, BPE never merges across pre-tokens and every history item
    starts a new pre-token (" Title", after ": " or " | "), so the length of the text with `d` items dropped is
    `L(d) = L(all) - sum over the first d items of (tokens of " " + item, plus " |")`. That estimate picks the
    first `d` with `L(d) <= budget`; the real tokenizer then confirms `L(d) <= budget` and `L(d-1) > budget`.
    When the estimate is not confirmed (an unusual tokenizer), it falls back to the reference linear scan.
    """
    def item(i):
        return render_item(catalog.get(i, {"id": i, "title": i}))

    history = [item(i) for i in sample["history"]]
    target = item(sample["item_id"])

    def compose(dropped):
        kept = history[dropped:]
        return "History: " + (" | ".join(kept) if kept else "(none)") + "\nRecommended: " + target

    length = token_length(tokenizer)
    full = compose(0)
    full_len = length(full)
    if budget is None or full_len <= budget:
        return FittedInput(full, 0, len(history), full_len)
    n = len(history)
    # Per-item token counts, encoded in one batch (each as it appears after a space).
    pieces = tokenizer.encode_batch([" " + h for h in history] + [" |"], add_special_tokens=False)
    sep = len(pieces[-1].ids)
    est = full_len
    guess = n
    for d in range(1, n + 1):
        if d < n:
            est -= len(pieces[d - 1].ids) + sep
        if d == n or est <= budget:
            guess = d
            break
    text = compose(guess)
    actual = length(text)
    previous = length(compose(guess - 1))
    if (actual <= budget or guess == n) and previous > budget:
        return FittedInput(text, guess, n - guess, actual)
    # Fallback: the reference linear scan.
    for dropped in range(n + 1):
        text = compose(dropped)
        value = length(text)
        if value <= budget:
            return FittedInput(text, dropped, n - dropped, value)
    text = compose(n)
    return FittedInput(text, n, 0, length(text))

