"""The ONNX Runtime reference of `prism bench bart` decodes what transformers decodes: the exported
encoder and decoder-with-past graphs (float32, before quantization) give HF `generate`'s greedy tokens
on a small random BART, padded batch included; the int8 graphs run and mostly agree."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
from transformers import BartConfig, BartForConditionalGeneration  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
from bart_onnx import export  # noqa: E402
from bart_reference import ort_greedy  # noqa: E402


def small_model():
    torch.manual_seed(3)
    config = BartConfig(
        vocab_size=300, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=64,
        forced_eos_token_id=None)
    config._attn_implementation = "eager"
    return config, BartForConditionalGeneration(config).eval()


def sessions(folder, suffix):
    return [ort.InferenceSession(os.path.join(folder, f"{name}{suffix}.onnx"), providers=["CPUExecutionProvider"])
            for name in ("encoder", "decoder")]


def test_exported_graphs_decode_like_transformers(tmp_path):
    config, model = small_model()
    ids = np.random.default_rng(0).integers(4, config.vocab_size, (3, 12), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, 8:] = 0  # a padded request
    ids[1, 8:] = config.pad_token_id
    with torch.inference_mode():
        expected = model.generate(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), do_sample=False, num_beams=1,
            max_new_tokens=10, min_new_tokens=10, forced_bos_token_id=None, no_repeat_ngram_size=0)[:, 1:].numpy()
    export(model, config, str(tmp_path), quantize=False)
    encoder, decoder = sessions(tmp_path, "")
    actual = ort_greedy(encoder, decoder, ids, mask, 10, ban_eos=True)
    np.testing.assert_array_equal(actual, expected)


def test_int8_graphs_run(tmp_path):
    config, model = small_model()
    export(model, config, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["decoder_int8.onnx", "encoder_int8.onnx"]
    encoder, decoder = sessions(tmp_path, "_int8")
    ids = np.random.default_rng(1).integers(4, config.vocab_size, (2, 12), dtype=np.int64)
    tokens = ort_greedy(encoder, decoder, ids, np.ones_like(ids), 6, ban_eos=True)
    assert tokens.shape == (2, 6)
    assert (tokens != 2).all()
