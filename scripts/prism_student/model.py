"""The user-aware BART student (PyTorch + transformers).

Encoder input for token x_i at position i of a request from user row u (what Sources/BART implements):

    h0_i = LayerNormEmbedding( Embed(x_i) * embed_scale + U[u] + Pos(i) )

In code: `inputs_embeds = encoder.embed_tokens(input_ids) + U[row][:, None, :]` (transformers 5's
BartScaledWordEmbedding already multiplies by embed_scale), then BartEncoder adds the positions and applies
layernorm_embedding. Row 0 of U is the unknown user and stays exactly zero (nn.Embedding padding_idx=0: zero at
init and no gradient; decoupled weight decay keeps zero at zero). The decoder has no user term.

A copying student (`--copy`) is a `CopyingBart` (copying.py): the same model plus a pointer over the input.
"""
import torch
from torch import nn
from transformers import BartConfig, BartForConditionalGeneration

from .copying import COPY_FORMAT, CopyingBart, is_copying
from .tokenizer import BOS, EOS, PAD


def small_config(vocab_size, d_model=256, encoder_layers=3, decoder_layers=3, heads=4, ffn=1024,
                 max_positions=256, dropout=0.1, copy=False):
    config = BartConfig(
        vocab_size=vocab_size, d_model=d_model, encoder_layers=encoder_layers, decoder_layers=decoder_layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
        max_position_embeddings=max_positions, activation_function="gelu", scale_embedding=False,
        dropout=dropout, attention_dropout=0.0, activation_dropout=0.0,
        pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, decoder_start_token_id=EOS,
        forced_bos_token_id=BOS, forced_eos_token_id=EOS, tie_word_embeddings=True,
    )
    config._attn_implementation = "sdpa"  # training speed; inference (load_bart) uses eager, as the goldens do
    if copy:
        config.prism_copy = COPY_FORMAT  # copying.py
    return config


class PrismStudent(nn.Module):
    def __init__(self, bart, num_users, with_users=True, init_std=0.02):
        super().__init__()
        self.bart = bart
        self.with_users = with_users
        if with_users:
            self.users = nn.Embedding(num_users + 1, bart.config.d_model, padding_idx=0)
            with torch.no_grad():
                self.users.weight.normal_(0.0, init_std)
                self.users.weight[0].zero_()
        else:
            self.users = None

    @property
    def config(self):
        return self.bart.config

    @property
    def copying(self):
        return is_copying(self.bart.config)

    def _copy_kwargs(self, input_ids):
        return {"copy_source_ids": input_ids} if self.copying else {}

    def user_table(self):
        """`[num_users + 1, d_model]` float32 (row 0 zero), or None for the ablation."""
        return None if self.users is None else self.users.weight.detach().float().cpu()

    def encoder_embeds(self, input_ids, user_rows=None):
        embeds = self.bart.model.encoder.embed_tokens(input_ids)
        if self.users is not None and user_rows is not None:
            embeds = embeds + self.users(user_rows)[:, None, :]
        return embeds

    def encode(self, input_ids, attention_mask, user_rows=None):
        return self.bart.model.encoder(
            inputs_embeds=self.encoder_embeds(input_ids, user_rows), attention_mask=attention_mask, return_dict=True)

    def forward(self, input_ids, attention_mask, labels, user_rows=None):
        """Loss over `labels` (pad = -100); decoder inputs are labels shifted right after `</s>` (BART)."""
        enc = self.encode(input_ids, attention_mask, user_rows)
        return self.bart(encoder_outputs=enc, attention_mask=attention_mask, labels=labels, return_dict=True,
                         **self._copy_kwargs(input_ids))

    @torch.no_grad()
    def generate(self, input_ids, attention_mask, user_rows=None, **kwargs):
        enc = self.encode(input_ids, attention_mask, user_rows)
        return self.bart.generate(encoder_outputs=enc, attention_mask=attention_mask, **self._copy_kwargs(input_ids),
                                  **kwargs)


def new_bart(config, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return (CopyingBart if is_copying(config) else BartForConditionalGeneration)(config)


def load_bart(folder, copy=False):
    """The HF folder's model; `copy` adds a new pointer (copying.py) to a folder that has none (fine-tuning it)."""
    config = BartConfig.from_pretrained(folder)
    if copy:
        config.prism_copy = COPY_FORMAT
    cls = CopyingBart if is_copying(config) else BartForConditionalGeneration
    return cls.from_pretrained(folder, config=config, attn_implementation="eager")
