"""Greedy decoding shared by the baselines, with the student's default: no repeated trigram
(`no_repeat_ngram_size` 3, as the exported student's config.json and the Swift runtime decode)."""
import torch

from prism_student.tokenizer import EOS, PAD


def banned_tokens(row, n):
    """Tokens that would repeat an n-gram already in `row` (the ids generated so far after `<s>`... incl. it)."""
    if n <= 0 or len(row) < n - 1:
        return set()
    prefix = tuple(row[len(row) - (n - 1):]) if n > 1 else ()
    return {row[k + n - 1] for k in range(len(row) - n + 1) if tuple(row[k:k + n - 1]) == prefix}


def pick(logits, generated, done, no_repeat_ngram_size):
    """The next greedy token per row ([B]) from logits [B, V]; `generated` holds each row's ids so far
    (lists, `<s>` first); finished rows get padding. Updates `generated` and `done` in place."""
    logits = logits.clone()
    for b, row in enumerate(generated):
        banned = banned_tokens(row, no_repeat_ngram_size)
        if banned:
            logits[b, list(banned)] = float("-inf")
    token = logits.argmax(-1)
    token = torch.where(done, torch.full_like(token, PAD), token)
    for b, t in enumerate(token.tolist()):
        if not bool(done[b]):
            generated[b].append(t)
    done |= token == EOS
    return token
