"""Att2Seq (Dong, Huang, Wei, Lapata, Zhou, Xu: "Learning to Generate Product Reviews from Attributes",
EACL 2017), as the explainable-recommendation literature uses it as a baseline.

- Attribute encoder: one vector per attribute — user, item and rating embeddings g_1..g_3 — and the
  initial hidden state of every decoder layer l computed from all of them: h_0^l = tanh(H^l [g_1; g_2; g_3] + b^l)
  (cell states start at zero).
- Decoder: an L-layer LSTM over word embeddings (teacher forcing in training, greedy at test time).
- Attention over the attribute vectors at every step: weights a_i ∝ exp(v^T tanh(W [g_i; h_t])) from the
  top layer's h_t, context c_t = Σ a_i g_i, output distribution softmax(W_o tanh(W_c [c_t; h_t])).
"""
import torch
from torch import nn

from prism_student.tokenizer import BOS, PAD

from .decoding import pick


class Att2Seq(nn.Module):
    def __init__(self, n_users, n_items, vocab_size, n_ratings=6, attribute_dim=64, hidden=256, layers=2, dropout=0.2):
        super().__init__()
        self.layers, self.hidden = layers, hidden
        # Row 0 (unknown user, item or rating) stays the zero vector: padding_idx keeps its gradient at 0.
        self.users = nn.Embedding(n_users, attribute_dim, padding_idx=0)
        self.items = nn.Embedding(n_items, attribute_dim, padding_idx=0)
        self.ratings = nn.Embedding(n_ratings, attribute_dim, padding_idx=0)
        self.initial = nn.Linear(3 * attribute_dim, layers * hidden)
        self.words = nn.Embedding(vocab_size, hidden, padding_idx=PAD)
        self.lstm = nn.LSTM(hidden, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.score = nn.Linear(attribute_dim + hidden, hidden)
        self.score_v = nn.Linear(hidden, 1, bias=False)
        self.combine = nn.Linear(attribute_dim + hidden, hidden)
        self.out = nn.Linear(hidden, vocab_size)
        self.drop = nn.Dropout(dropout)

    def attributes(self, users, items, ratings):
        """[B, 3, attribute_dim]: the user, item and rating vectors."""
        return torch.stack([self.users(users), self.items(items), self.ratings(ratings)], dim=1)

    def initial_state(self, attrs):
        h = torch.tanh(self.initial(attrs.flatten(1)))  # [B, layers * hidden]
        h = h.view(attrs.shape[0], self.layers, self.hidden).transpose(0, 1).contiguous()
        return h, torch.zeros_like(h)

    def attend(self, attrs, states):
        """(logits [B, T, V], attention weights [B, T, 3]) from the top layer's states [B, T, hidden]."""
        b, t, _ = states.shape
        k = attrs.shape[1]
        pairs = torch.cat([attrs.unsqueeze(1).expand(b, t, k, attrs.shape[-1]),
                           states.unsqueeze(2).expand(b, t, k, states.shape[-1])], dim=-1)
        weights = torch.softmax(self.score_v(torch.tanh(self.score(pairs))).squeeze(-1), dim=-1)
        context = torch.bmm(weights, attrs)  # [B, T, attribute_dim]
        mixed = torch.tanh(self.combine(torch.cat([context, states], dim=-1)))
        return self.out(self.drop(mixed)), weights

    def forward(self, users, items, ratings, inputs):
        """Logits [B, T, V] for every next token of `inputs` [B, T] (the target shifted right)."""
        attrs = self.attributes(users, items, ratings)
        states, _ = self.lstm(self.drop(self.words(inputs)), self.initial_state(attrs))
        return self.attend(attrs, states)[0]

    @torch.no_grad()
    def generate(self, users, items, ratings, max_new_tokens, no_repeat_ngram_size=3):
        """Greedy ids [B, <= max_new_tokens] after `<s>`; rows end at `</s>` (pad after it)."""
        attrs = self.attributes(users, items, ratings)
        state = self.initial_state(attrs)
        token = torch.full((users.shape[0],), BOS, dtype=torch.long, device=users.device)
        done = torch.zeros_like(token, dtype=torch.bool)
        generated, out = [[BOS] for _ in range(users.shape[0])], []
        for _ in range(max_new_tokens):
            states, state = self.lstm(self.words(token).unsqueeze(1), state)
            token = pick(self.attend(attrs, states)[0][:, -1], generated, done, no_repeat_ngram_size)
            out.append(token)
            if bool(done.all()):
                break
        return torch.stack(out, dim=1)
