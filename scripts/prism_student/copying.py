"""The copying student: BART whose next-token distribution mixes generating and copying input tokens
(a pointer-generator, See et al. 2017), so that a small student trained from scratch can write the titles,
names and genres its input shows instead of recalling popular ones.

The contract (Sources/BART/COPYING.md; Swift: `BartModel.mixCopies`), for each decoder row at each step:

    h    = the final decoder state (what lm_head reads);  e_j = the encoder's output at position j
    a_j  = softmax_j( (copy_query(h) · copy_key(e_j)) / sqrt(d_model) )   over the unpadded positions
    (g_gen, g_copy, g_twin) = softmax(copy_gate(h))
    p(w) = g_gen · softmax(lm_head(h) + final_logits_bias)_w
           + g_copy · Σ_{j : x_j = w} a_j  +  g_twin · Σ_{j : twin(x_j) = w} a_j
    logits(w) = log(max(p(w), FLT_MIN))

`x` are the encoder input ids. `twin(t)` is the token spelling t without its leading space ("ĠRiver" →
"River"; t itself when there is no such token): the input shows a title after a space, a golden often
starts with it. The returned "logits" are log probabilities, so greedy, beam search (log_softmax leaves
them unchanged), sampling and every logits processor work on them as on ordinary logits. The pointer has
its own single-head attention (not the decoder's cross-attention), so any attention implementation serves
the layers. config.json marks such a model with `"prism_copy": "pointer-generator/1"`; model.safetensors
holds `copy_query.{weight,bias}` `[d_model, d_model]`/`[d_model]`, `copy_key.{weight,bias}` likewise,
`copy_gate.{weight,bias}` `[3, d_model]`/`[3]` and `copy_twins` (int64 `[vocab_size]`).
"""
import math

import torch
from torch import nn
from transformers import BartForConditionalGeneration
from transformers.modeling_outputs import Seq2SeqLMOutput
from transformers.models.bart.modeling_bart import shift_tokens_right

COPY_FORMAT = "pointer-generator/1"
FLT_MIN = torch.finfo(torch.float32).tiny
SPACE = "\u0120"  # byte-level BPE's mark of a leading space


def copy_twins(tokenizer, vocab_size):
    """twin(t) for every id: the id of t's spelling without its leading space, else t (COPYING.md)."""
    twins = list(range(vocab_size))
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    for token, i in vocab.items():
        if i < vocab_size and token.startswith(SPACE) and len(token) > 1 and token[1:] in vocab:
            twins[i] = vocab[token[1:]]
    return torch.tensor(twins, dtype=torch.long)


def is_copying(config):
    return getattr(config, "prism_copy", None) == COPY_FORMAT


def pointer_attention(query, keys, source_mask):
    """`query` [B, T, d], `keys` [B, S, d], `source_mask` [B, S] (1 = real) → a [B, T, S]."""
    scores = torch.matmul(query, keys.transpose(1, 2)) / math.sqrt(query.shape[-1])
    scores = scores.masked_fill(source_mask[:, None, :] == 0, float("-inf"))
    return torch.softmax(scores.float(), dim=-1)


def mixed_log_probs(logits, gate, attention, source_ids, twins):
    """log p of the contract: `logits` [B, T, V], `gate` [B, T, 3] (pre-softmax), `attention` [B, T, S],
    `source_ids` [B, S], `twins` [V]."""
    g = torch.softmax(gate.float(), dim=-1)
    p = torch.softmax(logits.float(), dim=-1) * g[:, :, :1]
    for k, ids in ((1, source_ids), (2, twins[source_ids])):
        index = ids[:, None, :].expand(-1, attention.shape[1], -1)
        p = p.scatter_add(2, index, attention * g[:, :, k:k + 1])
    return torch.log(p.clamp_min(FLT_MIN))


def target_log_probs(logits, gate, attention, source_ids, twins, labels):
    """log p(labels) under the same mixture, without building it over the vocabulary (training: the
    generated part is a log-softmax gather, each copied part a sum over the input positions that give the
    label). `labels` [B, T] (-100 = ignored, returned as 0)."""
    target = labels.clamp_min(0)
    log_gen = torch.log_softmax(logits.float(), dim=-1).gather(2, target[:, :, None])[:, :, 0]
    copied = (attention * (source_ids[:, None, :] == target[:, :, None])).sum(-1)
    twinned = (attention * (twins[source_ids][:, None, :] == target[:, :, None])).sum(-1)
    g = torch.softmax(gate.float(), dim=-1)
    p = g[:, :, 0] * torch.exp(log_gen) + g[:, :, 1] * copied + g[:, :, 2] * twinned
    return torch.log(p.clamp_min(FLT_MIN)).masked_fill(labels == -100, 0.0)


class CopyingBart(BartForConditionalGeneration):
    """BartForConditionalGeneration with a pointer; `forward` needs `copy_source_ids` (the encoder ids)."""

    def __init__(self, config):
        super().__init__(config)
        d = config.d_model
        self.copy_query = nn.Linear(d, d)
        self.copy_key = nn.Linear(d, d)
        self.copy_gate = nn.Linear(d, 3)
        # Filled from the tokenizer by `set_copy_twins` (training) or from model.safetensors (loading).
        self.register_buffer("copy_twins", torch.arange(config.vocab_size, dtype=torch.long))
        with torch.no_grad():
            for layer in (self.copy_query, self.copy_key, self.copy_gate):
                layer.weight.normal_(0.0, config.init_std)
                layer.bias.zero_()

    def set_copy_twins(self, tokenizer):
        with torch.no_grad():
            self.copy_twins.copy_(copy_twins(tokenizer, self.config.vocab_size))

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, labels=None, use_cache=None, copy_source_ids=None, **kwargs):
        if copy_source_ids is None:
            copy_source_ids = input_ids
        if copy_source_ids is None:
            raise ValueError("a copying student needs copy_source_ids (the encoder input ids)")
        if labels is not None and decoder_input_ids is None:
            decoder_input_ids = shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)
            use_cache = False
        for unused in ("output_attentions", "output_hidden_states", "return_dict"):
            kwargs.pop(unused, None)
        out = self.model(
            input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask, encoder_outputs=encoder_outputs,
            use_cache=use_cache, return_dict=True, **kwargs)
        h = out.last_hidden_state
        source_mask = attention_mask if attention_mask is not None else torch.ones_like(copy_source_ids)
        a = pointer_attention(self.copy_query(h), self.copy_key(out.encoder_last_hidden_state), source_mask)
        logits = self.lm_head(h) + self.final_logits_bias.to(h.device)
        gate = self.copy_gate(h)
        if labels is not None:
            # Training: only the labels' probabilities are needed (the full mixture is ~10x the work).
            log_p = target_log_probs(logits, gate, a, copy_source_ids, self.copy_twins, labels)
            loss = -log_p.sum() / (labels != -100).sum().clamp_min(1)
            return Seq2SeqLMOutput(loss=loss, encoder_last_hidden_state=out.encoder_last_hidden_state)
        log_p = mixed_log_probs(logits, gate, a, copy_source_ids, self.copy_twins)
        # The decoder cache is `cache` in current transformers, `past_key_values` before.
        field = "cache" if "cache" in Seq2SeqLMOutput.__dataclass_fields__ else "past_key_values"
        return Seq2SeqLMOutput(logits=log_p, encoder_last_hidden_state=out.encoder_last_hidden_state,
                               **{field: getattr(out, field)})
