"""PEPLER (Li, Zhang, Chen: "Personalized Prompt Learning for Explainable Recommendation", ACM TOIS 2023),
the continuous-prompt variant.

- A GPT-2 architecture (transformers' GPT2LMHeadModel) reads two continuous prompt vectors, the user's
  and the item's embeddings (each n_embd wide), before the explanation's word embeddings:
  [u, i, <s>, w_1, …, w_n]; the loss is the language-modelling loss of w_1 … </s> only.
- PEPLER's rating regularisation (its "MF" variant): the predicted rating is u·i, trained with a mean
  squared error weighted by `rating_weight` next to the text loss.
- No pretrained GPT-2 can be had offline here: the model starts from a small config with random init and
  every parameter is trained together (PEPLER's "sequential tuning" first freezes a pretrained LM, which
  has no meaning for a random one). Row 0 of the user and item tables (unknown) stays the zero vector.
"""
import torch
from torch import nn

from prism_student.tokenizer import BOS, EOS, PAD

from .decoding import pick


class Pepler(nn.Module):
    def __init__(self, n_users, n_items, vocab_size, d_model=128, layers=4, heads=4, max_target_tokens=96,
                 dropout=0.1):
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel
        config = GPT2Config(vocab_size=vocab_size, n_positions=max_target_tokens + 2, n_embd=d_model, n_layer=layers,
                            n_head=heads, n_inner=4 * d_model, resid_pdrop=dropout, embd_pdrop=dropout,
                            attn_pdrop=dropout, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
        config._attn_implementation = "eager"
        self.lm = GPT2LMHeadModel(config)
        self.users = nn.Embedding(n_users, d_model, padding_idx=0)
        self.items = nn.Embedding(n_items, d_model, padding_idx=0)
        with torch.no_grad():  # PEPLER's initialisation of the prompt tables
            for table in (self.users, self.items):
                table.weight.uniform_(-0.1, 0.1)
                table.weight[0].zero_()

    def prompt(self, users, items):
        return torch.stack([self.users(users), self.items(items)], dim=1)  # [B, 2, d]

    def rating(self, users, items):
        """PEPLER-MF's rating prediction: the dot product of the two prompt vectors."""
        return (self.users(users) * self.items(items)).sum(-1)

    def forward(self, users, items, ids, mask):
        """Logits [B, T - 1, V] predicting ids[:, 1:] from the prompt and ids[:, :-1] ([B, T] with `<s>` first)."""
        embeds = torch.cat([self.prompt(users, items), self.lm.transformer.wte(ids)], dim=1)
        full_mask = torch.cat([torch.ones_like(mask[:, :2]), mask], dim=1)
        logits = self.lm(inputs_embeds=embeds, attention_mask=full_mask).logits
        # Position 2 holds <s>: its logits predict ids[:, 1]; the last position predicts nothing.
        return logits[:, 2:-1]

    @torch.no_grad()
    def generate(self, users, items, max_new_tokens, no_repeat_ngram_size=3):
        """Greedy ids [B, <= max_new_tokens] after `<s>`; rows end at `</s>` (pad after it). Each step runs the
        whole sequence again (no cache: at these lengths and widths it is cheap, and exactly the training
        computation)."""
        ids = torch.full((users.shape[0], 1), BOS, dtype=torch.long, device=users.device)
        done = torch.zeros(users.shape[0], dtype=torch.bool, device=users.device)
        generated, out = [[BOS] for _ in range(users.shape[0])], []
        prompt = self.prompt(users, items)
        for _ in range(min(max_new_tokens, self.lm.config.n_positions - 3)):
            embeds = torch.cat([prompt, self.lm.transformer.wte(ids)], dim=1)
            token = pick(self.lm(inputs_embeds=embeds).logits[:, -1], generated, done, no_repeat_ngram_size)
            out.append(token)
            if bool(done.all()):
                break
            ids = torch.cat([ids, token.unsqueeze(1)], dim=1)
        return torch.stack(out, dim=1)
