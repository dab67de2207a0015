"""The static model is loaded from its files as model2vec would, without model2vec's hub layer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from model2vec import StaticModel

from mirix_desktop.memory.embedder import StaticEmbedder, load_static_model
from tests.conftest import MODELS_DIR, REPO

TEXTS = [
    "Edited the Q3 budget table in LibreOffice",
    "git rebase --onto main feature",
    "",
    "ünïcödé and emoji 🙂 in a window title",
    "word " * 2000,  # longer than the model's max_length of tokens
]


def test_vectors_are_those_of_model2vecs_own_loader(embedder: StaticEmbedder) -> None:
    ours = load_static_model(embedder.directory)
    theirs = StaticModel.from_pretrained(str(embedder.directory))
    assert (ours.normalize, ours.max_length) == (theirs.normalize, theirs.max_length)
    assert ours.embedding.dtype == theirs.embedding.dtype
    np.testing.assert_array_equal(ours.encode(TEXTS), theirs.encode(TEXTS))
    assert embedder.embed(TEXTS).shape == (len(TEXTS), embedder.dim)


def test_loading_does_not_import_the_hub_client(embedder: StaticEmbedder) -> None:
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from mirix_desktop.memory.embedder import StaticEmbedder\n"
        f"StaticEmbedder(Path({str(MODELS_DIR)!r})).embed(['warm up'])\n"
        "print('\\n'.join(sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    modules = set(result.stdout.split())
    assert "model2vec" in modules
    assert not {"huggingface_hub", "httpx", "rich", "torch"} & modules
