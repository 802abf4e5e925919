"""A BART-style byte-level BPE tokenizer trained with Hugging Face `tokenizers` (no torch needed).

Same construction as Tests/Fixtures/tokenizers/bpe.json (which the Swift `Tokenizers` module loads):
no normalizer, ByteLevel pre-tokenizer (add_prefix_space=false, GPT-2 regex), ByteLevel decoder, special
tokens `<s>`=0 `<pad>`=1 `</s>`=2 `<unk>`=3 `<mask>`=4, and the RoBERTa post-processor (`<s> A </s>`).
"""
import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402

BOS, PAD, EOS, UNK, MASK = 0, 1, 2, 3, 4
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_bpe(texts, vocab_size=4096, min_frequency=2, marks=False):
    """Trains on an iterable of strings. Deterministic for the same texts (training is single-threaded when
    RAYON_NUM_THREADS=1). `marks`: add the grounding marks of GROUNDING.md as special tokens (ids 5-10)."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = [
        AddedToken("<s>", special=True, normalized=False),
        AddedToken("<pad>", special=True, normalized=False),
        AddedToken("</s>", special=True, normalized=False),
        AddedToken("<unk>", special=True, normalized=False),
        AddedToken("<mask>", special=True, normalized=False, lstrip=True),
    ]
    if marks:
        from .grounding_marks import MARKS
        specials += [AddedToken(m, special=True, normalized=False) for m in MARKS]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    for i, name in enumerate(SPECIALS):
        assert tok.token_to_id(name) == i, (name, tok.token_to_id(name))
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", EOS), ("<s>", BOS), trim_offsets=True, add_prefix_space=False)
    return tok


def load_tokenizer(folder):
    """`tokenizer.json` of a folder; for a Hugging Face BART folder without it (vocab.json + merges.txt),
    the fast tokenizer that transformers builds from those files."""
    path = os.path.join(folder, "tokenizer.json")
    if os.path.exists(path):
        return Tokenizer.from_file(path)
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(folder).backend_tokenizer


def special_ids(tok):
    ids = {name: tok.token_to_id(name) for name in SPECIALS}
    missing = [k for k, v in ids.items() if v is None and k != "<mask>"]
    if missing:
        raise ValueError(f"tokenizer lacks special tokens {missing}")
    return ids
