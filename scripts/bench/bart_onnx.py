"""The export behind `prism bench bart`'s ONNX Runtime int8 reference (bart_reference.py runs it): the
random BART as two graphs, dynamically quantized (`onnxruntime.quantization.quantize_dynamic`, int8
weights, activations quantized at run time), for greedy decoding driven from Python:

- `encoder.onnx`: input ids + mask → the cross-attention keys and values of every decoder layer,
  `[layers, 2, batch, heads, length, head_dim]`, computed once per request;
- `decoder.onnx`: one step — the previous token, its position, the self-attention cache so far and the
  cross keys/values → next-token logits and the cache with this step appended (decoder with past:
  each step costs one token's work, as in optimum's exports).

The step is written out with the model's own modules (BART: post-layer-norm, learned positions with an
offset of 2, scaled queries) so that the export needs no Cache objects.
"""
import os

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        hidden = self.model.model.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        b, s, _ = hidden.shape
        cross = []
        for layer in self.model.model.decoder.layers:
            attn = layer.encoder_attn
            k = attn.k_proj(hidden).view(b, s, attn.num_heads, attn.head_dim).transpose(1, 2)
            v = attn.v_proj(hidden).view(b, s, attn.num_heads, attn.head_dim).transpose(1, 2)
            cross.append(torch.stack([k, v]))
        return torch.stack(cross)


class DecoderStep(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    @staticmethod
    def attend(q, k, v, bias=None):
        scores = q @ k.transpose(-1, -2)
        if bias is not None:
            scores = scores + bias
        return torch.softmax(scores, dim=-1) @ v

    def forward(self, tokens, position, past, cross, attention_mask):
        decoder = self.model.model.decoder
        b = tokens.shape[0]
        x = decoder.embed_tokens(tokens)  # [b, 1, d]; scale_embedding is off (and applied inside when on)
        x = x + decoder.embed_positions.weight[position + 2]
        x = decoder.layernorm_embedding(x)
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        caches = []
        for i, layer in enumerate(decoder.layers):
            sa = layer.self_attn
            heads, dim = sa.num_heads, sa.head_dim

            def split(t):
                return t.view(b, 1, heads, dim).transpose(1, 2)

            q = split(sa.q_proj(x) * sa.scaling)
            k = torch.cat([past[i, 0], split(sa.k_proj(x))], dim=2)
            v = torch.cat([past[i, 1], split(sa.v_proj(x))], dim=2)
            caches.append(torch.stack([k, v]))
            a = self.attend(q, k, v).transpose(1, 2).reshape(b, 1, heads * dim)
            x = layer.self_attn_layer_norm(x + sa.out_proj(a))
            ca = layer.encoder_attn
            q = ca.q_proj(x).mul(ca.scaling).view(b, 1, heads, dim).transpose(1, 2)
            a = self.attend(q, cross[i, 0], cross[i, 1], mask_bias).transpose(1, 2).reshape(b, 1, heads * dim)
            x = layer.encoder_attn_layer_norm(x + ca.out_proj(a))
            h = layer.fc2(layer.activation_fn(layer.fc1(x)))
            x = layer.final_layer_norm(x + h)
        logits = self.model.lm_head(x)[:, 0, :] + self.model.final_logits_bias
        return logits, torch.stack(caches)


def export(model, config, folder, quantize=True):
    """Writes encoder_int8.onnx and decoder_int8.onnx into `folder` (the float32 exports are removed), or
    with `quantize=False` the float32 encoder.onnx and decoder.onnx (tests)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    layers, heads = config.decoder_layers, config.decoder_attention_heads
    dim = config.d_model // heads
    ids = torch.randint(4, config.vocab_size, (2, 8))
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        cross = Encoder(model)(ids, mask)
    past = torch.zeros(layers, 2, 2, heads, 3, dim)
    tokens = torch.full((2, 1), 2, dtype=torch.long)
    position = torch.tensor(3, dtype=torch.long)
    enc32, dec32 = os.path.join(folder, "encoder.onnx"), os.path.join(folder, "decoder.onnx")
    with torch.inference_mode():
        torch.onnx.export(
            Encoder(model), (ids, mask), enc32, dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["cross"],
            dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                          "cross": {2: "batch", 4: "length"}})
        torch.onnx.export(
            DecoderStep(model), (tokens, position, past, cross, mask), dec32, dynamo=False, opset_version=17,
            input_names=["tokens", "position", "past", "cross", "attention_mask"], output_names=["logits", "cache"],
            dynamic_axes={"tokens": {0: "batch"}, "past": {2: "batch", 4: "steps"}, "cross": {2: "batch", 4: "length"},
                          "attention_mask": {0: "batch", 1: "length"}, "logits": {0: "batch"},
                          "cache": {2: "batch", 4: "steps_plus_one"}})
    if not quantize:
        return
    for name in ("encoder", "decoder"):
        source = os.path.join(folder, name + ".onnx")
        quantize_dynamic(source, os.path.join(folder, name + "_int8.onnx"), weight_type=QuantType.QInt8)
        os.remove(source)
        data = source + ".data"
        if os.path.exists(data):
            os.remove(data)
