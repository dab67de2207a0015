"""The static embedding model, distilled from the shipped MiniLM with numpy alone.

This is model2vec's `distill(model, pca_dims=None)` (model2vec 0.10, the
settings `static-minilm-384` has always used) without torch or transformers:

1. The vocabulary is MiniLM's WordPiece vocabulary without the `[unusedN]`
   tokens and without the added tokens other than the pad and unknown tokens
   (`[CLS]`, `[SEP]`, `[MASK]` go); the rest keep their order, renumbered.
2. Each token goes through the transformer alone, as `[CLS] token [SEP]`, and
   its vector is the mean of the three output states (mean pooling).
3. Each vector is scaled by its SIF weight, `1e-4 / (1e-4 + p)`, where `p` is
   the token's probability under Zipf's law by its rank in the vocabulary
   (WordPiece vocabularies list frequent tokens first). No PCA: 384 dimensions
   scored best (README).
4. The vectors are stored as float16 in model2vec's folder layout, so
   model2vec and sentence-transformers can load the result too.

`tests/integration/test_static_model_build.py` checks this against
model2vec's own distillation, token by token.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]

SIF_COEFFICIENT = 1e-4
MAX_LENGTH = 512
# model2vec's default pattern: BERT's placeholder tokens carry no meaning.
_REMOVED_TOKENS = re.compile(r"\[unused\d+\]")
# Token sequences per forward batch: 3 positions each, so ~18 MB for the
# widest activation (the 1536-wide feed-forward layer).
_BATCH = 1024


def static_tokenizer(source: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The static model's tokenizer (as tokenizer.json data) and, for each of
    its tokens in order, the token's id in the source tokenizer."""
    model = source["model"]
    if model.get("type") != "WordPiece":
        raise ValueError(f"expected a WordPiece tokenizer, found {model.get('type')!r}")
    padding = source.get("padding") or {}
    unk_token: str = model["unk_token"]
    pad_token: str = padding.get("pad_token", "[PAD]")
    # Added tokens the static model has no use for: it adds no [CLS]/[SEP].
    dropped = {
        added["content"]
        for added in source.get("added_tokens", [])
        if added["content"] not in (unk_token, pad_token)
    }
    ordered = sorted(model["vocab"].items(), key=lambda item: item[1])
    kept = [
        (token, old_id)
        for token, old_id in ordered
        if token not in dropped and not _REMOVED_TOKENS.match(token)
    ]
    vocab = {token: new_id for new_id, (token, _) in enumerate(kept)}
    added_tokens = [
        {
            "id": vocab[added["content"]],
            "content": added["content"],
            "single_word": added.get("single_word", False),
            "lstrip": added.get("lstrip", False),
            "rstrip": added.get("rstrip", False),
            "normalized": added.get("normalized", False),
            "special": added.get("special", True),
        }
        for added in source.get("added_tokens", [])
        if added["content"] not in dropped and added["content"] in vocab
    ]
    tokenizer = {
        "version": source.get("version", "1.0"),
        "truncation": {
            "direction": "Right",
            "max_length": MAX_LENGTH,
            "strategy": "LongestFirst",
            "stride": 0,
        },
        # Padding to a fixed length of 0 is no padding (as model2vec leaves it).
        "padding": {
            "strategy": {"Fixed": 0},
            "direction": "Right",
            "pad_to_multiple_of": None,
            "pad_id": vocab.get(pad_token, 0),
            "pad_type_id": 0,
            "pad_token": pad_token,
        },
        "added_tokens": added_tokens,
        "normalizer": source.get("normalizer"),
        "pre_tokenizer": source.get("pre_tokenizer"),
        "post_processor": None,
        "decoder": source.get("decoder"),
        "model": {**model, "vocab": vocab},
    }
    return tokenizer, [old_id for _, old_id in kept]


def _special_id(source: dict[str, Any], token: str) -> int:
    special = (source.get("post_processor") or {}).get("special_tokens", {})
    if token in special:
        return int(special[token]["ids"][0])
    return int(source["model"]["vocab"][token])


def _layer_norm(x: Floats, weight: Floats, bias: Floats, eps: float) -> Floats:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    out: Floats = centred / np.sqrt(variance + eps) * weight + bias
    return out


def _gelu(x: Floats) -> Floats:
    """BERT's exact (erf) GELU, in place on `x`. scipy is imported here, on the one
    build, not where the app starts (it is a default dependency anyway)."""
    from scipy.special import erf

    half = erf(x * np.float32(1.0 / math.sqrt(2.0)))
    half += 1.0
    half *= 0.5
    x *= half
    return x


class _Bert:
    """BERT's encoder in numpy, for inputs without padding (one token type)."""

    def __init__(self, tensors: dict[str, Any], config: dict[str, Any]) -> None:
        self.t = {name: np.asarray(value, dtype=np.float32) for name, value in tensors.items()}
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {config.get('hidden_act')!r}")
        # Linear layers as x @ W.T: transpose once, contiguous for BLAS.
        for name in list(self.t):
            if name.endswith(".weight") and self.t[name].ndim == 2 and ".layer." in name:
                self.t[name] = np.ascontiguousarray(self.t[name].T)

    def _linear(self, x: Floats, prefix: str) -> Floats:
        out: Floats = x @ self.t[f"{prefix}.weight"] + self.t[f"{prefix}.bias"]
        return out

    def mean_states(self, ids: npt.NDArray[np.int64]) -> Floats:
        """The mean of the last hidden states over each row of `ids` (batch, length)."""
        t = self.t
        batch, length = ids.shape
        hidden = t["embeddings.word_embeddings.weight"].shape[1]
        head = hidden // self.heads
        scale = np.float32(1.0 / math.sqrt(head))
        x = (
            t["embeddings.word_embeddings.weight"][ids]
            + t["embeddings.position_embeddings.weight"][:length][None, :, :]
            + t["embeddings.token_type_embeddings.weight"][0][None, None, :]
        ).reshape(batch * length, hidden)
        x = _layer_norm(
            x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], self.eps
        )

        # Activations stay 2-D (batch * length, width): numpy hands a 2-D matmul
        # to BLAS whole, but loops over the batch for a 3-D one (~15x slower).
        def heads(y: Floats) -> Floats:
            out: Floats = y.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)
            return out

        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q = heads(self._linear(x, f"{p}.attention.self.query"))
            k = heads(self._linear(x, f"{p}.attention.self.key"))
            v = heads(self._linear(x, f"{p}.attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = np.ascontiguousarray((probs @ v).transpose(0, 2, 1, 3)).reshape(
                batch * length, hidden
            )
            attended = _layer_norm(
                self._linear(context, f"{p}.attention.output.dense") + x,
                t[f"{p}.attention.output.LayerNorm.weight"],
                t[f"{p}.attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(self._linear(attended, f"{p}.intermediate.dense"))
            x = _layer_norm(
                self._linear(inner, f"{p}.output.dense") + attended,
                t[f"{p}.output.LayerNorm.weight"],
                t[f"{p}.output.LayerNorm.bias"],
                self.eps,
            )
        out: Floats = x.reshape(batch, length, hidden).mean(axis=1)
        return out


def sif_weights(count: int, coefficient: float = SIF_COEFFICIENT) -> npt.NDArray[np.float64]:
    """Zipf's-law SIF weights for a vocabulary listed most frequent first."""
    inverse_rank = 1.0 / np.arange(2, count + 2)
    probability = inverse_rank / inverse_rank.sum()
    out: npt.NDArray[np.float64] = coefficient / (coefficient + probability)
    return out


def static_vectors(source: Path) -> tuple[npt.NDArray[np.float16], dict[str, Any]]:
    """The static model's vectors (float16, one row per token) and its tokenizer data."""
    from safetensors.numpy import load_file

    tokenizer_source = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    tokenizer, source_ids = static_tokenizer(tokenizer_source)
    tensors = load_file(str(source / "model.safetensors"))
    # Some checkpoints name the BERT tensors "bert.embeddings...".
    tensors = {name.removeprefix("bert."): value for name, value in tensors.items()}
    bert = _Bert(tensors, config)
    ids = np.empty((len(source_ids), 3), dtype=np.int64)
    ids[:, 0] = _special_id(tokenizer_source, "[CLS]")
    ids[:, 1] = source_ids
    ids[:, 2] = _special_id(tokenizer_source, "[SEP]")
    vectors = np.empty((len(source_ids), int(config["hidden_size"])), dtype=np.float32)
    for start in range(0, len(ids), _BATCH):
        vectors[start : start + _BATCH] = bert.mean_states(ids[start : start + _BATCH])
    vectors = np.nan_to_num(vectors)
    weighted = vectors * sif_weights(len(vectors))[:, None]
    return weighted.astype(np.float16), tokenizer


def write_static_model(source: Path, target: Path) -> None:
    """Distils MiniLM at `source` into a model2vec folder at `target` (created)."""
    from safetensors.numpy import save_file

    vectors, tokenizer = static_vectors(source)
    target.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": np.ascontiguousarray(vectors)}, str(target / "model.safetensors"))
    (target / "tokenizer.json").write_text(
        json.dumps(tokenizer, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    config = {
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "tokenizer_name": str(source),
        "apply_pca": None,
        "sif_coefficient": SIF_COEFFICIENT,
        "hidden_dim": int(vectors.shape[1]),
        "seq_length": 1000000,
        "normalize": True,
        "pooling": "mean",
        "max_length": MAX_LENGTH,
        "embedding_dtype": "float16",
    }
    (target / "config.json").write_text(json.dumps(config, indent=4), encoding="utf-8")
    # sentence-transformers reads this to load the folder as a StaticEmbedding.
    modules = [
        {
            "idx": 0,
            "name": "0",
            "path": ".",
            "type": "sentence_transformers.models.StaticEmbedding",
        },
        {
            "idx": 1,
            "name": "1",
            "path": "1_Normalize",
            "type": "sentence_transformers.models.Normalize",
        },
    ]
    (target / "modules.json").write_text(json.dumps(modules, indent=4), encoding="utf-8")
    (target / "README.md").write_text(
        "# static-minilm-384\n\nA static (model2vec-format) embedding model distilled by "
        "mirix-desktop from all-MiniLM-L6-v2: mean-pooled per-token transformer outputs, "
        "SIF-weighted (1e-4), 384 dimensions, float16. Rebuilt on demand: safe to delete.\n",
        encoding="utf-8",
    )
